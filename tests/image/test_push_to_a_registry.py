"""`make push` for real: a builder image pushed to a registry on loopback, every tag of it.

The registry is distribution's (Debian's docker-registry package); the engine pushes to
127.0.0.1 over plain HTTP without being told to.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import requests

from s2ibuilders import publish

from harness import free_port, selected_cells

REGISTRY_BINARY = "docker-registry"
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    binary = shutil.which(REGISTRY_BINARY)
    if binary is None:
        pytest.fail(f"{REGISTRY_BINARY} is not installed: apt-get install docker-registry (.ci/run does)")
    root = tmp_path_factory.mktemp("registry")
    address = f"127.0.0.1:{free_port()}"
    (root / "config.yml").write_text(
        f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        f"http:\n  addr: {address}\n"
    )
    server = subprocess.Popen([binary, "serve", str(root / "config.yml")], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://{address}/v2/", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail(f"the registry did not start: {server.stderr.read()}")
    yield address
    server.terminate()
    server.wait(10)


def test_push_sends_every_tag_and_the_registry_serves_the_same_digest(registry, docker_client):
    cell = selected_cells()[0]
    image = docker_client.images.get(cell.reference)
    repository = publish.target_repository(cell, registry, "ci")
    push = publish.ImagePush(cell, image.id, image.attrs["Size"], [f"{repository}:{tag}" for tag in cell.tags])
    try:
        publish.execute([push], docker_client, say=lambda _: None)
    finally:
        for target in push.targets:
            docker_client.images.remove(target, noprune=True)

    name = repository.split("/", 1)[1]
    listed = requests.get(f"http://{registry}/v2/{name}/tags/list", timeout=10).json()
    assert sorted(listed["tags"]) == sorted(cell.tags)
    for target, digest in push.digests.items():
        tag = target.rsplit(":", 1)[1]
        served = requests.head(
            f"http://{registry}/v2/{name}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES}, timeout=10
        )
        assert served.headers["Docker-Content-Digest"] == digest
    assert len(set(push.digests.values())) == 1, "every tag names the same manifest"
