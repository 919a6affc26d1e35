"""Stages that images share (the gRPC front's) are built once before images build side by side."""

from s2ibuilders import render
from s2ibuilders.build import named_stages, shared_stages

from conftest import CELLS

DOCKERFILE = """\
# Generated from images/python/Dockerfile.j2
FROM debian:trixie-slim AS grpc-front
RUN apt-get update

# the next stage's comment
COPY wrappers/grpc-front/ /src/grpc-front/
FROM debian:bookworm-slim as rpy2
RUN make
FROM debian:bookworm-slim
COPY --from=grpc-front /seldon-grpc-front /usr/local/bin/
"""


def test_named_stages_keep_instructions_and_drop_comments_and_the_unnamed_stage():
    assert named_stages(DOCKERFILE) == {
        "grpc-front": "\n".join(
            [
                "FROM debian:trixie-slim AS grpc-front",
                "RUN apt-get update",
                "COPY wrappers/grpc-front/ /src/grpc-front/",
            ]
        ),
        "rpy2": "FROM debian:bookworm-slim as rpy2\nRUN make",
    }


def test_the_front_stage_is_shared_by_every_image_that_carries_it():
    """One build of it is a cache hit for all: the same instructions in every family's Dockerfile."""
    fronts = {cell.slug: named_stages(render.dockerfile(cell)).get("grpc-front") for cell in CELLS}
    carrying = {slug: stage for slug, stage in fronts.items() if stage}
    assert len(carrying) > 1 and len(set(carrying.values())) == 1, carrying.keys()
    shared = shared_stages(CELLS)
    assert [stage for _, stage in shared] == ["grpc-front"]
    assert shared[0][0].slug == next(iter(carrying))


def test_dockerfile_is_what_render_writes(tmp_path):
    cell = CELLS[0]
    assert render.dockerfile(cell) == (render.render(cell, tmp_path / "context") / "Dockerfile").read_text()
