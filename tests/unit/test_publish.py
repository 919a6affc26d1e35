"""`make push`: what it would push, and every reason it refuses."""

import json
import re

import docker.errors
import pytest

from s2ibuilders import config, publish, testresults
from s2ibuilders.revision import Revision

from harness import ROOT

CFG = config.load(ROOT / "versions.yaml")
CELLS = CFG.matrix("python", all_versions=True)
CLEAN = Revision("0123abcd", dirty=False)


class FakeImages:
    """The engine's images: reference -> id."""

    def __init__(self, ids: dict[str, str]):
        self.ids = ids

    def get(self, reference):
        if reference not in self.ids:
            raise docker.errors.ImageNotFound(reference)
        return type("Image", (), {"id": self.ids[reference], "attrs": {"Size": 256_000_000}})()


class FakeClient:
    def __init__(self, ids):
        self.images = FakeImages(ids)


def image_id(cell):
    return "sha256:" + cell.slug.encode().hex().ljust(64, "0")


def results_file(tmp_path, *, revision="0123abcd", totals=None, cells=CELLS):
    """A test-results.json as the suite writes it, every cell passed unless overridden."""
    results = testresults.Results(revision=revision, selection={})
    results.totals.update(totals or {"passed": 10})
    for cell in cells:
        entry = testresults.CellResults(cell.reference, image_id(cell))
        for tier in ("unit", "image", "s2i", "contract"):
            entry.count(tier, "passed")
        results.cells[cell.slug] = entry
    path = tmp_path / "test-results.json"
    results.write(path)
    return path


def plan(tmp_path, results, *, source=CLEAN, ids=None, registry="quay.io", namespace="acme"):
    client = FakeClient(ids if ids is not None else {c.reference: image_id(c) for c in CELLS})
    return publish.plan(CELLS, client, registry=registry, namespace=namespace, results=results, source=source)


def test_a_tested_image_goes_out_under_every_tag_versions_yaml_gives_it(tmp_path):
    pushes = plan(tmp_path, results_file(tmp_path))
    assert [p.refused for p in pushes] == ["", ""]
    default = next(p for p in pushes if p.cell.version == CFG.families["python"].default_version)
    repository = f"quay.io/acme/{default.cell.family.image}"
    assert default.targets == [f"{repository}:{tag}" for tag in default.cell.tags]
    assert {f"{repository}:latest", f"{repository}:{CFG.release}"} <= set(default.targets)
    listing = publish.describe(pushes, dry_run=True)
    assert listing.count("would push") == 2
    assert all(target in listing for p in pushes for target in p.targets)


def test_registry_and_namespace_default_to_versions_yaml():
    cell = CELLS[0]
    assert publish.target_repository(cell, CFG.registry, CFG.namespace) == f"docker.io/seldonio/{cell.family.image}"
    assert publish.target_repository(cell, "localhost:5000/", "") == f"localhost:5000/{cell.family.image}"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("dirty tree", "uncommitted changes"),
        ("no results", "run `make test` first"),
        ("other revision", "at revision feedbeef, not 0123abcd"),
        ("a failure elsewhere", "had 1 failed test(s)"),
        ("not tested", "did not test this image"),
        ("rebuilt since", "rebuilt after the last test run"),
        ("image tests failed", "no image test passed"),
        ("not built", "is not built"),
    ],
)
def test_an_image_not_tested_at_this_clean_revision_is_refused(tmp_path, case, expected):
    cell = CELLS[0]
    results = results_file(tmp_path)
    source, ids = CLEAN, None
    if case == "dirty tree":
        source = Revision("0123abcd", dirty=True)
    elif case == "no results":
        results = tmp_path / "absent.json"
    elif case == "other revision":
        results = results_file(tmp_path, revision="feedbeef")
    elif case == "a failure elsewhere":
        results = results_file(tmp_path, totals={"passed": 9, "failed": 1})
    elif case == "not tested":
        results = results_file(tmp_path, cells=CELLS[1:])
    elif case == "rebuilt since":
        ids = {c.reference: image_id(c)[::-1] if c is cell else image_id(c) for c in CELLS}
    elif case == "image tests failed":
        doc = json.loads(results.read_text())
        doc["cells"][cell.slug]["tiers"]["image"] = {"failed": 1}
        results.write_text(json.dumps(doc))
    elif case == "not built":
        ids = {c.reference: image_id(c) for c in CELLS[1:]}
    pushes = plan(tmp_path, results, source=source, ids=ids)
    assert expected in pushes[0].refused
    assert f"REFUSED {cell.reference}" in publish.describe(pushes, dry_run=True)
    with pytest.raises(publish.PushError, match=re.escape(expected)):
        publish.execute(pushes, client=None)
