"""Helpers the image, s2i and contract tests share: real s2i builds and running containers."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import grpc
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from s2ibuilders import config  # noqa: E402

# The container ports every image serves (versions.yaml), published on random loopback ports.
PORTS = config.load(ROOT / "versions.yaml").ports
SAMPLES = ROOT / "tests" / "samples"
S2I = Path(os.environ.get("S2I", ROOT / ".tools" / "bin" / "s2i"))


def free_port() -> int:
    """A port for a server this test starts on the host. Chosen below the kernel's ephemeral
    range: a port the kernel hands out (bind to 0) may be handed again -- to a client socket or
    to docker-proxy publishing a container -- before our server binds it."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        port = random.randrange(10000, low)
        with socket.socket() as sock:
            try:
                sock.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port


@functools.cache
def selected_cells() -> list[config.ImageVersion]:
    """The matrix under test: versions.yaml narrowed like `make images` by FAMILY and VERSION
    (ALL_VERSIONS=1 takes every version). Loaded once: pytest groups module-scoped fixtures by
    parameter identity."""
    cfg = config.load(ROOT / "versions.yaml")
    return cfg.matrix(
        os.environ.get("FAMILY") or None,
        os.environ.get("VERSION") or None,
        all_versions=os.environ.get("ALL_VERSIONS") == "1",
    )


@dataclass
class S2IBuild:
    image: str
    output: str
    seconds: float
    returncode: int


def s2i_build(source: Path, builder: str, image: str, *extra: str, timeout: int = 900) -> S2IBuild:
    """`s2i build` with the real CLI; the source is copied first so that it is never a git
    work tree (s2i would clone the repository's last commit instead of the folder)."""
    if not S2I.exists():
        raise RuntimeError(f"s2i is not installed at {S2I}: run `make s2i`")
    with tempfile.TemporaryDirectory(prefix="s2i-src-") as tmp:
        copy = Path(tmp) / source.name
        shutil.copytree(source, copy)
        cmd = [str(S2I), "build", str(copy), builder, image, "--pull-policy", "never", *extra]
        started = time.monotonic()
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return S2IBuild(image, result.stdout + result.stderr, time.monotonic() - started, result.returncode)


LOCKS = ROOT / "build" / "test-locks"
SHARED_PREFIX = "s2i-shared"  # sample images built once a run and shared by every test process


def shared_sample_image(client: docker.DockerClient, cell: config.ImageVersion, source: Path) -> str:
    """The image s2i builds from `source` with the cell's builder, built once however many test
    files and test processes (pytest-xdist) ask for it: its tag names the builder image's id and
    the source's digest, so an image found under it was built from exactly these, and a file lock
    makes the others wait for the first build. A failed build fails every test that asked."""
    builder_id = client.images.get(cell.reference).id.split(":")[-1][:12]
    image = f"{SHARED_PREFIX}/{cell.family.name}-{source.name}:{cell.version}-{builder_id}-{tree_digest(source)}"
    LOCKS.mkdir(parents=True, exist_ok=True)
    with (LOCKS / f"{cell.slug}-{source.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        try:
            client.images.get(image)
            return image
        except docker.errors.ImageNotFound:
            pass
        build = s2i_build(source, cell.reference, image)
        if build.returncode != 0:
            raise RuntimeError(f"s2i build of {source.relative_to(ROOT)} with {cell.reference} failed:\n{build.output}")
        record_build(cell, source.name, "shared", build.seconds)
        return image


def tree_digest(source: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def remove_shared_images(client: docker.DockerClient) -> None:
    """After the run: the shared sample images are this run's, not a cache for the next."""
    for image in client.images.list(name=f"{SHARED_PREFIX}/*"):
        for tag in image.tags:
            with contextlib.suppress(docker.errors.APIError):
                client.images.remove(tag, force=True)


@dataclass
class RunningModel:
    container: docker.models.containers.Container
    http: str
    grpc: str

    def logs(self) -> str:
        return self.container.logs().decode(errors="replace")

    def logs_once_they_show(self, text: str, count: int = 1, within: float = 10) -> str:
        """The logs once `text` is in them `count` times, or as they are after `within` seconds:
        the engine hands a container's output to `docker logs` a moment after it is written."""
        deadline = time.monotonic() + within
        while (logs := self.logs()).count(text) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        return logs

    def stop(self, timeout: int = 15) -> int:
        self.container.stop(timeout=timeout)
        return int(self.container.wait(timeout=timeout + 5)["StatusCode"])


def run_model(
    client: docker.DockerClient,
    image: str,
    *,
    user: str | None = None,
    env: dict[str, str] | None = None,
    mem_limit: str | None = None,
    wait: bool = True,
) -> RunningModel:
    """Start `image` with its ports published on random loopback ports; wait until it answers
    (unless not asked to: then the caller waits, with wait_ready, and removes it if that fails)."""
    container = client.containers.run(
        image,
        detach=True,
        user=user,
        environment=env or {},
        mem_limit=mem_limit,
        memswap_limit=mem_limit,  # no swap beyond the limit: a leak meets the OOM killer
        ports={f"{port}/tcp": ("127.0.0.1", None) for port in PORTS.values()},
    )
    container.reload()
    published = container.attrs["NetworkSettings"]["Ports"]

    def host_port(name: str) -> str:
        return published[f"{PORTS[name]}/tcp"][0]["HostPort"]

    model = RunningModel(
        container,
        http=f"http://127.0.0.1:{host_port('http')}",
        grpc=f"127.0.0.1:{host_port('grpc')}",
    )
    if not wait:
        return model
    # The Open Inference Protocol alone has its own health path.
    try:
        wait_ready(model, ready_path="/v2/health/ready" if (env or {}).get("PROTOCOL") == "v2" else "/health/ping")
    except BaseException:
        remove_container(model)  # the caller never gets it to remove: it would outlive the run
        raise
    return model


def wait_ready(model: RunningModel, timeout: float = 60, ready_path: str = "/health/ping") -> None:
    """Until REST answers ready_path and the gRPC port completes an HTTP/2 handshake."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        model.container.reload()
        if model.container.status == "exited":
            raise RuntimeError(f"the model container exited:\n{model.logs()}")
        try:
            if requests.get(f"{model.http}{ready_path}", timeout=1).status_code == 200:
                break
        except requests.RequestException:  # refused, or accepted but not answered yet (a JVM starting)
            pass
        time.sleep(0.2)
    else:
        raise RuntimeError(f"the model did not answer {ready_path} within {timeout}s:\n{model.logs()}")
    with grpc.insecure_channel(model.grpc) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=max(1.0, deadline - time.monotonic()))
        except grpc.FutureTimeoutError:
            raise RuntimeError(f"the model's gRPC port did not come up within {timeout}s:\n{model.logs()}") from None


def remove_container(model: RunningModel) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        model.container.remove(force=True)


BUILD_REPORT = ROOT / "reports" / "s2i-builds.jsonl"


def record_build(cell: config.ImageVersion, sample: str, kind: str, seconds: float) -> None:
    """One s2i build's seconds into reports/, for the closing notes."""
    BUILD_REPORT.parent.mkdir(exist_ok=True)
    with BUILD_REPORT.open("a") as out:
        entry = {"image": cell.slug, "sample": sample, "build": kind, "seconds": round(seconds, 1)}
        out.write(json.dumps(entry) + "\n")


def source_tree(parent: Path, files: dict[str, str]) -> Path:
    """A model source folder with these files (name -> text) under a fresh name in parent."""
    source = parent / f"src-{uuid.uuid4().hex[:6]}"
    for name, text in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
    return source


def run_to_exit(client: docker.DockerClient, image: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run a model image that is expected to stop by itself: (exit status, logs)."""
    container = client.containers.run(image, detach=True, environment=env or {})
    try:
        status = container.wait(timeout=60)["StatusCode"]
        return status, container.logs().decode()
    finally:
        container.remove(force=True)


_END_OF_OUTPUT = "-- end of output --"


def command_output(client: docker.DockerClient, image: str, command: list[str], **run_args: object) -> str:
    """The standard output of `command`, run to its end in a new container of image (through sh,
    which every image has). It is read from the engine's log of the container once that holds
    the line written after the command: just after a container exits its log may not be whole
    yet, and the docker SDK's own gathering once gave an empty output for a command that had
    printed its line. A non-zero exit fails the test with the command's standard error."""
    wrapped = ["sh", "-c", f'"$@"; status=$?; echo "{_END_OF_OUTPUT}"; exit $status', "sh", *command]
    container = client.containers.run(image, wrapped, detach=True, **run_args)
    try:
        status = container.wait(timeout=120)["StatusCode"]
        deadline = time.monotonic() + 10
        out = container.logs(stdout=True, stderr=False).decode()
        while not out.endswith(_END_OF_OUTPUT + "\n") and time.monotonic() < deadline:
            time.sleep(0.1)
            out = container.logs(stdout=True, stderr=False).decode()
        errors = container.logs(stdout=False, stderr=True).decode()
        assert status == 0, f"{command} exited {status}: {errors[-2000:]}"
        assert out.endswith(_END_OF_OUTPUT + "\n"), f"{command}: its output never came whole: {out[-2000:]!r}"
        return out[: -len(_END_OF_OUTPUT) - 1]
    finally:
        container.remove(force=True)


# The iris samples every family has: two rows of the data set and the classes they belong to.
IRIS_CLASSES = ["setosa", "versicolor", "virginica"]
IRIS_ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]  # a setosa and a virginica


def predicted_classes(reply: dict) -> list[str]:
    """The classes an iris model's answer picks: probabilities named by class, summing to 1."""
    assert reply["data"]["names"] == IRIS_CLASSES, reply
    probabilities = reply["data"]["ndarray"]
    assert all(abs(sum(row) - 1) < 1e-6 for row in probabilities)
    return [IRIS_CLASSES[max(range(3), key=row.__getitem__)] for row in probabilities]
