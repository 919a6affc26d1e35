"""Fixtures shared by every test tier.

The matrix under test comes from versions.yaml, narrowed like `make images` by the FAMILY and
VERSION environment variables (ALL_VERSIONS=1 takes every version, as the nightly run does):
harness.selected_cells().
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from s2ibuilders import config, revision, testresults  # noqa: E402

from harness import selected_cells  # noqa: E402


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cell" in metafunc.fixturenames:
        families = getattr(metafunc.module, "FAMILIES", None)
        cells = [c for c in selected_cells() if families is None or c.family.name in families]
        metafunc.parametrize("cell", cells, ids=[c.slug for c in cells], scope="module")


@pytest.fixture(scope="session", autouse=True)
def fresh_reports() -> None:
    """reports/ holds what this run measured (build seconds), for the closing notes."""
    for report in (ROOT / "reports").glob("*.jsonl"):
        report.unlink()


@pytest.fixture(scope="session")
def docker_client() -> Iterator[object]:
    import docker

    try:
        client = docker.from_env(timeout=300)
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.fail(f"these tests need a Docker engine (DOCKER_HOST or /var/run/docker.sock): {exc}")
    yield client
    client.close()


@pytest.fixture(scope="module")
def builder_image(cell, docker_client) -> str:  # type: ignore[no-untyped-def]
    """The cell's builder image, which `make images` must have built."""
    import docker.errors

    try:
        docker_client.images.get(cell.reference)
    except docker.errors.ImageNotFound:
        pytest.fail(
            f"{cell.reference} is not built: run `make images FAMILY={cell.family.name} VERSION={cell.version}`"
        )
    return cell.reference


_TIER_BY_DIRECTORY = {"unit": "unit", "image": "image", "s2i": "s2i", "contract": "s2i"}
# nodeid -> (the cell it tests or None, its tier), for reports/test-results.json
_TESTED: dict[str, tuple[object, str]] = {}
_RESULTS = testresults.Results(
    revision="",
    selection={name: os.environ.get(name, "") for name in ("FAMILY", "VERSION", "ALL_VERSIONS")},
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its folder, so `pytest -m unit` runs exactly what needs no engine."""
    for item in items:
        tier = _TIER_BY_DIRECTORY.get(Path(item.fspath).parent.name, "other")
        if tier != "other":
            item.add_marker(getattr(pytest.mark, tier))
        callspec = getattr(item, "callspec", None)
        cell = callspec.params.get("cell") if callspec else None
        # A family FAMILY= leaves out has no cells: pytest parametrizes its tests with NOTSET (skipped).
        _TESTED[item.nodeid] = (cell if isinstance(cell, config.ImageVersion) else None, tier)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or report.outcome != "passed":
        outcome = "error" if report.failed and report.when != "call" else report.outcome
        _RESULTS.totals[outcome] += 1
        cell, tier = _TESTED.get(report.nodeid, (None, "other"))
        if cell is not None:
            results = _RESULTS.cells.setdefault(cell.slug, testresults.CellResults(cell.reference))
            results.count(tier, outcome)
        if report.failed:
            _RESULTS.failures.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if session.config.option.collectonly or not _RESULTS.totals:
        return
    _RESULTS.revision = str(revision.current())
    for results in _RESULTS.cells.values():
        results.image_id = _image_id(results.reference)
    _RESULTS.write()


def _image_id(reference: str) -> str:
    """The id of the image the tests ran against ("" with no engine: unit tests only)."""
    import docker

    try:
        client = docker.from_env()
    except docker.errors.DockerException:
        return ""
    try:
        return client.images.get(reference).id
    except docker.errors.DockerException:
        return ""
    finally:
        client.close()
