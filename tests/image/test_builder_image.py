"""Inside each builder image, with testinfra's docker backend: what every family promises."""

from __future__ import annotations

import os

import pytest

from harness import command_output

S2I_SCRIPTS = ("assemble", "run", "save-artifacts", "usage")


def test_runs_as_the_numeric_non_root_user_in_group_0(host, image_config, cell):
    config = cell.family.config
    assert image_config["User"] == str(config.uid)
    assert host.check_output("id -u") == str(config.uid)
    assert host.check_output("id -g") == str(config.gid)


def test_s2i_labels_and_provenance(image_config, cell):
    labels = image_config["Labels"]
    ports = cell.family.config.ports
    assert labels["io.openshift.s2i.scripts-url"] == "image:///usr/libexec/s2i"
    assert labels["io.openshift.expose-services"] == f"{ports['http']}:http,{ports['grpc']}:grpc"
    assert labels["io.k8s.display-name"] == cell.display_name
    assert labels["io.k8s.description"] == cell.family.description
    assert set(cell.family.tags) <= set(labels["io.openshift.tags"].split(","))
    assert labels["io.seldon.s2i.language-version"] == cell.version
    assert labels["io.seldon.s2i.versions-digest"] == cell.family.config.digest
    assert labels["org.opencontainers.image.revision"]


def test_every_tag_points_at_the_same_image(docker_client, cell, builder_image):
    image_id = docker_client.images.get(builder_image).id
    for tag in cell.tags:
        assert docker_client.images.get(f"{cell.repository}:{tag}").id == image_id


def test_s2i_scripts_are_executable(host):
    for name in S2I_SCRIPTS:
        script = host.file(f"/usr/libexec/s2i/{name}")
        assert script.is_file and script.mode & 0o111, name


def test_tools_s2i_relies_on_are_present(host):
    assert host.file("/bin/sh").exists
    assert host.exists("tar")
    # s2i streams the sources in with `tar -C dir -xf -`
    assert host.run("tar -cf - -C /etc hostname | tar -C /tmp -xf - && test -f /tmp/hostname").rc == 0


# How each family's image reports its language version: (command, expected output prefix).
LANGUAGE_VERSION = {
    "python": ("python --version", "Python {version}."),
    "r": ("R --version", "R version {version}."),
    "java": ("java -version 2>&1", 'openjdk version "{version}.'),
    "spark": ("python -c 'import pyspark; print(pyspark.__version__)'", "{version}."),
}


def test_the_language_is_the_version_versions_yaml_names(host, cell):
    command, prefix = LANGUAGE_VERSION[cell.family.name]
    assert host.check_output(command).startswith(prefix.format(version=cell.version))


def test_app_root_is_group_writable_for_arbitrary_uids(host):
    for path in ("/opt/app-root", "/opt/app-root/src"):
        directory = host.file(path)
        assert directory.gid == 0 and directory.mode & 0o070 == 0o070, path


def test_an_arbitrary_uid_in_group_0_can_write_the_app_dir(docker_client, builder_image):
    out = command_output(docker_client, builder_image, ["sh", "-c", 'touch "$HOME/probe" && id -u'], user="123456:0")
    assert out.strip() == "123456"


def test_the_extra_ca_bundle_is_trusted_when_one_was_given(host):
    ca_bundle = os.environ.get("CA_BUNDLE")
    if not ca_bundle:
        pytest.skip("no CA_BUNDLE was passed to this run, so none was built into the image")
    from pathlib import Path

    first_cert = (
        Path(ca_bundle).read_text().split("-----END CERTIFICATE-----")[0].split("-----BEGIN CERTIFICATE-----")[1]
    )
    store = host.file("/etc/ssl/certs/ca-certificates.crt").content_string
    assert first_cert.strip() in store


def test_default_command_prints_usage(docker_client, builder_image, cell):
    default_command = docker_client.images.get(builder_image).attrs["Config"]["Cmd"]
    out = command_output(docker_client, builder_image, default_command)
    assert cell.reference in out
    assert f"s2i build ./my-model-src {cell.repository}:{cell.version} my-model" in out
    assert "MODEL_NAME" in out and "SERVICE_TYPE" in out


def test_image_scripts_match_the_templates(host, cell, tmp_path_factory):
    """A stale image (templates changed, image not rebuilt) fails here, not in a user's build."""
    from s2ibuilders import render

    context = render.render(cell, tmp_path_factory.mktemp("context") / cell.slug)
    for name in S2I_SCRIPTS:
        assert host.file(f"/usr/libexec/s2i/{name}").content_string == (context / "s2i" / "bin" / name).read_text()


def test_no_package_caches_are_left_in_the_image(host):
    # apt's partial/ folder is root's alone (and empty); the user may search everything else.
    found = host.run(
        "find /var/cache/apt /var/lib/apt/lists -type f -name '*.deb' -o -type f -name '*.bin' 2>/dev/null"
    )
    assert found.stdout.strip() == ""
    lists = host.run("ls /var/lib/apt/lists | grep -v -e '^lock$' -e '^partial$' || true")
    assert lists.stdout.strip() == ""


def test_an_sbom_lists_the_images_packages_at_their_versions(cell):
    """reports/sbom/<cell>.spdx.json, by syft: the Debian packages, and every package the family
    pins in versions.yaml (the python wrapper's on PyPI, the Java wrapper's own artifacts)."""
    import json

    from s2ibuilders import sbom, tools
    from s2ibuilders.paths import REPORTS_DIR

    listed = sbom.write(cell, tools.ensure_syft(cell.family.config.tools["syft"]), REPORTS_DIR / "sbom")
    assert listed.packages["deb"] > 50, listed.summary()
    found = sbom.packages(json.loads(listed.path.read_text()))
    assert "tar" in found and "bash" in found  # what s2i needs of a builder
    for name, pin in cell.family.packages.items():
        assert pin in found.get(name.lower(), set()), f"{name}=={pin} not in {listed.path}"
    if cell.family.name == "java":
        assert cell.family.config.release in found.get("seldon-serve", set()), listed.summary()
