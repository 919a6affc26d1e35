"""The contract suite's fixtures: each family's samples built with real s2i, then run.

Every family provides samples of the same names and behaviour under tests/samples/<family>/
(model, model-with-extras, raw-model, router, combiner, transformer, output-transformer);
the tests only speak HTTP and gRPC to the running containers, so they apply unchanged to
every language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from harness import SAMPLES, RunningModel, remove_container, run_model, shared_sample_image


@pytest.fixture(scope="module")
def sample_image(cell, builder_image, docker_client) -> Callable[[str], str]:
    """sample name -> the model image s2i built from tests/samples/<family>/<sample>, built once a
    run and shared by every test file and test process that asks (harness.shared_sample_image)."""

    def build(sample: str) -> str:
        source = SAMPLES / cell.family.contract_samples / sample
        if not source.is_dir():
            pytest.fail(f"family {cell.family.name} has no {sample} sample at {source}: the contract needs one")
        return shared_sample_image(docker_client, cell, source)

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
