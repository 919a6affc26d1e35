"""What only the Java builder images promise, checked inside them with testinfra."""

from __future__ import annotations

import hashlib
import os
import re
import ssl
from pathlib import Path

import pytest

from harness import ROOT

FAMILIES = {"java"}
REPOSITORY = "/opt/app-root/src/.m2/repository"
WRAPPER_MODULES = ("seldon-serve", "seldon-serve-h2o")


def classpath(host) -> list[str]:
    return host.file("/opt/app-root/etc/seldon-classpath").content_string.strip().split(":")


def test_a_jdk_and_maven_build_models(host, cell):
    assert host.check_output("javac -version 2>&1").startswith(f"javac {cell.version}.")
    assert host.run("mvn -v").rc == 0


def test_the_wrapper_is_in_the_images_maven_repository_at_the_release(host, cell):
    release = cell.family.config.release
    for module in WRAPPER_MODULES:
        jar = f"{REPOSITORY}/io/seldon/s2i/{module}/{release}/{module}-{release}.jar"
        assert host.file(jar).is_file, jar
        assert jar in classpath(host)
    pom = host.file(f"{REPOSITORY}/io/seldon/s2i/seldon-serve-parent/{release}/seldon-serve-parent-{release}.pom")
    assert f"<version>{release}</version>" in pom.content_string  # flattened: no ${revision} left


def test_the_wrapper_class_path_is_complete(host):
    for jar in classpath(host):
        assert host.file(jar).is_file, jar
    result = host.run(f"java -cp {':'.join(classpath(host))} io.seldon.serve.Main")
    assert result.rc == 2 and "MODEL_NAME is not set" in result.stderr
    assert "Exception" not in result.stderr


def test_image_wrapper_matches_the_repository(host, cell):
    """A stale image (a wrapper class added or removed, image not rebuilt) fails here."""
    release = cell.family.config.release
    for module in WRAPPER_MODULES:
        sources = ROOT / "wrappers" / "java" / module / "src" / "main" / "java"
        expected = {str(p.relative_to(sources).with_suffix(".class")) for p in sources.rglob("*.java")}
        jar = f"{REPOSITORY}/io/seldon/s2i/{module}/{release}/{module}-{release}.jar"
        listed = set(host.check_output(f"cd /tmp && jar tf {jar}").split())
        assert expected <= listed, f"rebuild: {sorted(expected - listed)} missing from the image's {module}"


def test_the_shipped_repository_holds_no_build_tools_or_remote_markers(host):
    for unwanted in ("com/google/protobuf/protoc", "io/grpc/protoc-gen-grpc-java", "org/xolstice"):
        assert not host.file(f"{REPOSITORY}/{unwanted}").exists, unwanted
    # JUnit's BOM pom comes with the libraries' own BOMs; its jars would be test tools.
    assert host.check_output(f"find {REPOSITORY}/org/junit -name '*.jar' | wc -l") == "0"
    assert host.check_output(f"find {REPOSITORY} -name _remote.repositories | wc -l") == "0"


def test_the_maven_repository_is_group_writable_for_arbitrary_uids(host):
    directory = host.file(REPOSITORY)
    assert directory.gid == 0 and directory.mode & 0o070 == 0o070


def test_jmods_are_not_shipped(host, cell):
    assert host.check_output(f"ls -d /usr/lib/jvm/java-{cell.version}-openjdk-*/jmods 2>/dev/null || true") == ""


def test_java_trusts_every_certificate_of_the_extra_ca_bundle(host):
    """Maven and the model's own HTTPS calls use Java's trust store, not the PEM bundle."""
    ca_bundle = os.environ.get("CA_BUNDLE")
    if not ca_bundle:
        pytest.skip("no CA_BUNDLE was passed to this run, so none was built into the image")
    pems = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", Path(ca_bundle).read_text(), re.S)
    wanted = {hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper() for pem in pems}
    listing = host.check_output("keytool -list -cacerts -storepass changeit")
    trusted = {line.rsplit(" ", 1)[1].replace(":", "") for line in listing.splitlines() if "(SHA-256):" in line}
    assert wanted <= trusted, f"{len(wanted - trusted)} of {len(wanted)} certificates are not in Java's trust store"
