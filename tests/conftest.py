"""Fixtures shared by every test tier.

The matrix under test comes from versions.yaml, narrowed like `make images` by the FAMILY and
VERSION environment variables (ALL_VERSIONS=1 takes every version, as the nightly run does).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from s2ibuilders import config as config_module  # noqa: E402


@functools.cache
def selected_cells() -> list[config_module.ImageVersion]:
    """Loaded once: pytest groups module-scoped fixtures by parameter identity."""
    cfg = config_module.load(ROOT / "versions.yaml")
    return cfg.matrix(
        os.environ.get("FAMILY") or None,
        os.environ.get("VERSION") or None,
        all_versions=os.environ.get("ALL_VERSIONS") == "1",
    )


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its folder, so `pytest -m unit` runs exactly what needs no engine."""
    for item in items:
        tier = _TIER_BY_DIRECTORY.get(Path(item.fspath).parent.name)
        if tier:
            item.add_marker(getattr(pytest.mark, tier))
