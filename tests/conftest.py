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

from harness import remove_shared_images, selected_cells  # noqa: E402


def _is_worker(config: pytest.Config) -> bool:
    """A pytest-xdist worker: the controller alone keeps the run's reports."""
    return hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    """The tests import the wrapper installed in .venv: one older than its source would test
    yesterday's code and pass, so it is refused. reports/ holds what this run measured."""
    stale = _stale_wrapper_files()
    if stale:
        pytest.exit(f"the installed wrapper is older than {', '.join(stale[:3])}: run `make venv`", returncode=2)
    if not _is_worker(session.config):
        for report in (ROOT / "reports").glob("*.jsonl"):
            report.unlink()


def _stale_wrapper_files() -> list[str]:
    import importlib.util

    pairs: list[tuple[Path, Path]] = []
    for package, folder in INSTALLED_PACKAGES.items():
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            return [f"{folder.relative_to(ROOT)} (not installed)"]
        installed = Path(spec.origin).parent
        pairs += [(path, installed / path.relative_to(folder)) for path in folder.rglob("*.py")]
        if package == "seldon_serve":  # the contract files the wheel carries beside its stubs
            pairs += [(ROOT / "wrappers" / "proto" / name, installed / "proto" / name) for name in CARRIED]
    return [str(mine.relative_to(ROOT)) for mine, theirs in pairs if not _same_file(mine, theirs)]


def _same_file(mine: Path, theirs: Path) -> bool:
    return theirs.exists() and theirs.read_bytes() == mine.read_bytes()


# The wrapper's packages make venv installs, by where their source is.
INSTALLED_PACKAGES = {
    "seldon_serve": ROOT / "wrappers" / "python" / "seldon_serve",
    "seldon_core": ROOT / "wrappers" / "python" / "seldon_core",
    "seldon_serve_spark": ROOT / "wrappers" / "spark" / "seldon_serve_spark",
}
CARRIED = ("contract.yaml", "openapi.yaml")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cell" in metafunc.fixturenames:
        families = getattr(metafunc.module, "FAMILIES", None)
        cells = [c for c in selected_cells() if families is None or c.family.name in families]
        metafunc.parametrize("cell", cells, ids=[c.slug for c in cells], scope="module")


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


_TIER_BY_DIRECTORY = {"unit": "unit", "image": "image", "s2i": "s2i", "contract": "contract"}
# A test's cell and tier travel on its report (xdist hands the controller reports, not items).
_CELL_AND_TIER = "cell-and-tier"
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
        slug = cell.slug if isinstance(cell, config.ImageVersion) else ""
        item.user_properties.append((_CELL_AND_TIER, f"{slug} {tier}"))


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`pytest -n N --dist loadscope` (make test): a test file's tests of one cell go to one
    process, since they share module-scoped containers, and the (file, cell) groups run side by
    side -- finer than pytest-xdist's own scope, the file, which would test every cell of a file
    in one process."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByFileAndCell(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return ByFileAndCell(config, log)


_SLUGS = sorted((c.slug for c in config.load(ROOT / "versions.yaml").matrix(all_versions=True)), key=len, reverse=True)


def scope_of(nodeid: str) -> str:
    """The file and the cell a test's id names ("tests/contract/test_model.py python-3.11"), or
    its file alone when it tests no cell."""
    path, _, rest = nodeid.partition("::")
    params = rest.partition("[")[2].removesuffix("]")
    for slug in _SLUGS:
        if params == slug or params.startswith(f"{slug}-") or params.endswith(f"-{slug}") or f"-{slug}-" in params:
            return f"{path} {slug}"
    return path


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or report.outcome != "passed":
        outcome = "error" if report.failed and report.when != "call" else report.outcome
        _RESULTS.totals[outcome] += 1
        slug, tier = next((v for k, v in report.user_properties if k == _CELL_AND_TIER), " other").split(" ")
        cell = next((c for c in selected_cells() if c.slug == slug), None)
        if cell is not None:
            results = _RESULTS.cells.setdefault(cell.slug, testresults.CellResults(cell.reference))
            results.count(tier, outcome)
        if report.failed:
            _RESULTS.failures.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _is_worker(session.config) or session.config.option.collectonly or not _RESULTS.totals:
        return
    if _RESULTS.cells:  # tests ran against images: the samples they shared are removed
        _remove_shared_sample_images()
    _RESULTS.revision = str(revision.current())
    for results in _RESULTS.cells.values():
        results.image_id = _image_id(results.reference)
    _RESULTS.write()


def _remove_shared_sample_images() -> None:
    import docker

    try:
        client = docker.from_env()
        remove_shared_images(client)
    except docker.errors.DockerException:
        return  # no engine: unit tests only, nothing was built
    client.close()


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
