"""The contract suite's fixtures: each family's samples built with real s2i, then run.

Every family provides samples of the same names and behaviour under tests/samples/<family>/
(model, model-with-extras, raw-model, router, combiner, transformer, output-transformer);
the tests only speak HTTP and gRPC to the running containers, so they apply unchanged to
every language.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import docker.errors
import pytest

from harness import SAMPLES, RunningModel, remove_container, run_model, s2i_build

_built: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="session")
def built_images(docker_client) -> Iterator[dict[tuple[str, str], str]]:
    yield _built
    for image in _built.values():
        with contextlib.suppress(docker.errors.APIError):
            docker_client.images.remove(image, force=True)


@pytest.fixture(scope="module")
def sample_image(cell, builder_image, built_images) -> Callable[[str], str]:
    """sample name -> the model image s2i built from tests/samples/<family>/<sample> (once a run)."""

    def build(sample: str) -> str:
        key = (cell.slug, sample)
        if key not in built_images:
            source = SAMPLES / cell.family.contract_samples / sample
            if not source.is_dir():
                pytest.fail(f"family {cell.family.name} has no {sample} sample at {source}: the contract needs one")
            image = f"s2i-contract/{cell.family.name}-{sample}:{cell.version}"
            build_result = s2i_build(source, builder_image, image)
            assert build_result.returncode == 0, build_result.output
            built_images[key] = image
        return built_images[key]

    return build


@pytest.fixture(scope="module")
def start(sample_image, docker_client) -> Iterator[Callable[..., RunningModel]]:
    """start(sample, env={...}) -> a running container of that sample, removed after the module."""
    running: list[RunningModel] = []

    def launch(
        sample: str, env: dict[str, str] | None = None, user: str | None = "123456:0", mem_limit: str | None = None
    ) -> RunningModel:
        model = run_model(docker_client, sample_image(sample), env=env, user=user, mem_limit=mem_limit)
        running.append(model)
        return model

    yield launch
    for model in running:
        remove_container(model)
