import copy
from pathlib import Path

import pytest
import yaml

from s2ibuilders import config

from harness import ROOT

# The parser's tests read a frozen versions file, so bumping a version in the live one breaks none.
FIXTURE = Path(__file__).parent / "fixtures" / "versions.yaml"
REAL = yaml.safe_load(FIXTURE.read_text())


def parse(doc):
    return config.parse(doc)


def test_the_repository_versions_file_loads():
    """The live file parses, whatever it pins; its facts are the fixture's tests' business."""
    cfg = config.load(ROOT / "versions.yaml")
    assert cfg.matrix(), "versions.yaml builds no image by default"
    assert len(cfg.digest) == 64


def test_a_versions_file_loads_with_its_bases_and_the_contracts_ports():
    cfg = config.load(FIXTURE)
    python = cfg.families["python"]
    assert {v: c.base.suite for v, c in python.versions.items()} == {"3.11": "bookworm", "3.13": "trixie"}
    assert cfg.bases["bookworm"].image == "debian:bookworm-slim"
    assert cfg.ports == {"http": 9000, "grpc": 5000, "metrics": 6000}  # wrappers/proto/contract.yaml


def test_only_the_default_version_gets_latest_and_the_release_tag():
    cfg = parse(REAL)
    default = cfg.families["python"].default_version
    for cell in cfg.matrix("python", all_versions=True):
        assert cell.tags[:2] == [f"{cell.version}-{cfg.release}", cell.version]
        assert ("latest" in cell.tags) == (cell.version == default)
        assert (cfg.release in cell.tags) == (cell.version == default)


def mutated(change):
    doc = copy.deepcopy(REAL)
    change(doc)
    return doc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(colour="blue"), "versions.yaml: unknown key(s) colour"),
        (lambda d: d.pop("user"), "versions.yaml: missing key(s) user"),
        (lambda d: d.update(ports={"http": 9000}), "versions.yaml: unknown key(s) ports"),
        (lambda d: d["families"]["python"].pop("image"), "families.python: missing key(s) image"),
        (
            lambda d: d["families"]["python"]["versions"].update({"3.x": {"base": "trixie"}}),
            "families.python.versions.3.x",
        ),
        (lambda d: d["families"]["python"]["versions"].update({3.1: {"base": "trixie"}}), "must be a quoted string"),
        (lambda d: d["families"]["python"]["versions"]["3.11"].update(base="jessie"), "versions.3.11.base: 'jessie'"),
        (lambda d: d["families"]["python"]["versions"]["3.11"].update(extra=1), "versions.3.11: unknown key(s) extra"),
        (lambda d: d["families"]["python"].update(default_version="2.7"), "default_version: '2.7' is not one of"),
        (lambda d: d["families"]["python"]["packages"].update(numpy="latest"), "families.python.packages.numpy"),
        (lambda d: d["user"].update(uid=0), "must not run as root"),
        (lambda d: d["tools"].update(s2i="1.5"), "tools.s2i: '1.5' is not a valid version"),
        (lambda d: d.update(release=1.0), "release: 1.0 must be a quoted string"),
        (lambda d: d["families"]["java"].update(extends="cobol"), "families.java.extends: 'cobol' is not a family"),
        (lambda d: d["families"]["python"].update(extends="spark"), "families.python.extends: 'spark' is not"),
        (
            lambda d: d["families"]["python"].update(system_packages=["libgomp1; rm -rf /"]),
            "families.python.system_packages: expected a list of Debian package names",
        ),
    ],
)
def test_a_bad_versions_file_is_refused_naming_the_key(change, message):
    with pytest.raises(config.ConfigError) as excinfo:
        parse(mutated(change))
    assert message in str(excinfo.value)


def test_unreadable_and_invalid_yaml_are_clear_errors(tmp_path):
    with pytest.raises(config.ConfigError, match="cannot read"):
        config.load(tmp_path / "missing.yaml")
    bad = tmp_path / "versions.yaml"
    bad.write_text("families: [unclosed")
    with pytest.raises(config.ConfigError, match="not valid YAML"):
        config.load(bad)


def test_matrix_selection_mirrors_make_variables():
    doc = mutated(lambda d: d["families"]["python"]["versions"]["3.11"].update(default=False))
    cfg = parse(doc)
    assert [c.slug for c in cfg.matrix() if c.family.name == "python"] == ["python-3.13"]
    assert [c.version for c in cfg.matrix("python", all_versions=True)] == ["3.11", "3.13"]
    assert {c.family.name for c in cfg.matrix()} == set(cfg.families)  # every family by default
    assert [c.version for c in cfg.matrix("python", "3.11")] == ["3.11"]  # naming a version builds it
    with pytest.raises(config.ConfigError, match="unknown family 'cobol'"):
        cfg.matrix("cobol")
    with pytest.raises(config.ConfigError, match=r"no version '2\.7'"):
        cfg.matrix("python", "2.7")
