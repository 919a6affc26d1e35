"""`make images` on a warm cache rebuilds nothing: every Dockerfile step of every stage comes
from the engine's cache, and the image is the very one the tests run against."""

from __future__ import annotations

import os
from pathlib import Path

from s2ibuilders import build


def test_building_again_runs_no_step_and_gives_the_same_image(cell, builder_image, docker_client):
    before = docker_client.images.get(builder_image)
    ca_bundle = os.environ.get("CA_BUNDLE")
    result = build.build(cell, docker_client, ca_bundle=Path(ca_bundle) if ca_bundle else None, say=lambda _: None)
    assert result.ok, result.error
    assert result.steps.total > 10
    assert result.steps.run == 0, "a step ran again: something in its input changes from one build to the next"
    if (
        before.labels.get("org.opencontainers.image.revision")
        == build.dynamic_labels(cell)["org.opencontainers.image.revision"]
    ):
        assert result.image_id == before.id
