"""The builder image under test, running idle, for testinfra."""

from __future__ import annotations

import pytest
import testinfra


@pytest.fixture(scope="module")
def container(builder_image, docker_client):
    running = docker_client.containers.run(builder_image, command=["sleep", "infinity"], detach=True)
    yield running
    running.remove(force=True)


@pytest.fixture(scope="module")
def host(container):
    return testinfra.get_host(f"docker://{container.id}")


@pytest.fixture(scope="module")
def image_config(builder_image, docker_client):
    return docker_client.images.get(builder_image).attrs["Config"]
