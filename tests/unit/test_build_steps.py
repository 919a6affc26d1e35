"""Counting the steps a build ran, from the build log of Docker's builder and of podman's."""

import pytest

from s2ibuilders.build import StepCount

DOCKER_WARM = """\
Step 1/5 : FROM debian:trixie-slim
 ---> 1c2b3a
Step 2/5 : RUN apt-get update
 ---> Using cache
 ---> 4d5e6f
Step 3/5 : USER 1001
 ---> Using cache
 ---> 7a8b9c
Step 4/5 : LABEL io.seldon.s2i.versions-digest=abc
 ---> Running in 0f1e2d
Step 5/5 : LABEL org.opencontainers.image.revision=def
 ---> Running in 3c4b5a
Successfully built 6d7e8f"""

DOCKER_CHANGED = DOCKER_WARM.replace(
    "Step 3/5 : USER 1001\n ---> Using cache", "Step 3/5 : USER 1001\n ---> Running in 9a8b7c"
)

PODMAN_COLD = """\
[1/2] STEP 1/3: FROM debian:trixie-slim AS grpc-front
[1/2] STEP 2/3: RUN apt-get update
--> 3704b5612cc
[1/2] STEP 3/3: COPY wrappers/grpc-front/ /src/grpc-front/
--> 790f05f2ced
[2/2] STEP 1/4: FROM debian:trixie-slim
[2/2] STEP 2/4: COPY --from=grpc-front /seldon-grpc-front /usr/local/bin/
--> Using cache 6f1e2d3c4b5a
--> 6f1e2d3c4b5
[2/2] STEP 3/4: LABEL "io.seldon.s2i.versions-digest"="abc"
--> 1a2b3c4d5e6
[2/2] STEP 4/4: LABEL "org.opencontainers.image.revision"="def"
--> 7f8e9d0c1b2"""


@pytest.mark.parametrize(
    ("log", "total", "run"),
    [(DOCKER_WARM, 2, 0), (DOCKER_CHANGED, 2, 1), (PODMAN_COLD, 3, 2)],
    ids=["docker warm", "docker one step changed", "podman cold"],
)
def test_steps_run_leave_out_from_and_the_engines_label_steps(log, total, run):
    steps = StepCount(engine_labels=2)
    for line in log.splitlines():
        steps.feed(line)
    steps.close()
    assert (steps.total, steps.run) == (total, run)
