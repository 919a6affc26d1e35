"""Build and tag one image per matrix cell with the Docker SDK, streaming the build log."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors

from . import revision
from .config import ImageVersion
from .render import CA_DIR, dockerfile, render

# Passed through to RUN steps when set; Docker does not persist these build args in the image.
PROXY_BUILD_ARGS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
LABEL_PREFIX = "io.seldon.s2i"


class BuildError(RuntimeError):
    pass


# A step's header as Docker's builder ("Step 3/27 : RUN ...") and buildah's, for podman
# ("[2/2] STEP 3/23: RUN ..."; stages numbered).
_STEP = re.compile(r"^(?:Step (\d+)/(\d+) :|(?:\[(\d+)/(\d+)\] )?STEP (\d+)/(\d+):) (\w+)")


@dataclass
class StepCount:
    """Dockerfile steps of one build, every stage's, FROM aside. A warm cache runs none."""

    total: int = 0
    run: int = 0  # steps the engine ran rather than took from its cache
    engine_labels: int = 0  # LABEL steps the engine appends for the build's labels: not the Dockerfile's
    _open: bool = False  # a counted step whose outcome is not seen yet
    _cached: bool = False

    def feed(self, line: str) -> None:
        header = _STEP.match(line)
        if header:
            self.close()
            number, steps = (int(n) for n in (header.group(1) or header.group(5), header.group(2) or header.group(6)))
            last_stage = header.group(3) == header.group(4)  # Docker's builder numbers steps across stages
            appended = last_stage and number > steps - self.engine_labels
            self._open = header.group(7).upper() != "FROM" and not appended
            self.total += self._open
            self._cached = False
        elif "Using cache" in line:
            self._cached = True

    def close(self) -> None:
        if self._open and not self._cached:
            self.run += 1
        self._open = False


@dataclass
class BuildResult:
    cell: ImageVersion
    ok: bool
    seconds: float
    size_bytes: int = 0
    image_id: str = ""
    error: str = ""
    layers: int = 0
    steps: StepCount = field(default_factory=StepCount)


def dynamic_labels(cell: ImageVersion) -> dict[str, str]:
    """Labels that change with every commit, added by the engine after the last step (no cache miss)."""
    return {
        "org.opencontainers.image.revision": str(revision.current()),
        f"{LABEL_PREFIX}.versions-digest": cell.family.config.digest,
    }


_PEM_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def add_ca_bundle(context: Path, ca_bundle: Path) -> None:
    """One file per certificate: update-ca-certificates (and the Java trust store it feeds)
    take each .crt file to be a single certificate."""
    try:
        text = ca_bundle.read_text()
    except OSError as exc:
        raise BuildError(f"CA_BUNDLE={ca_bundle}: {exc.strerror}") from None
    certificates = _PEM_CERTIFICATE.findall(text)
    if not certificates:
        raise BuildError(f"CA_BUNDLE={ca_bundle} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    for number, certificate in enumerate(certificates):
        (context / CA_DIR / f"extra-ca-{number:04d}.crt").write_text(certificate + "\n")


def build_context(cell: ImageVersion, ca_bundle: Path | None) -> Path:
    """The cell's context rendered, with the extra CAs it is to trust."""
    context = render(cell)
    if ca_bundle is not None:
        add_ca_bundle(context, ca_bundle)
    return context


def build(cell: ImageVersion, client: docker.DockerClient, *, ca_bundle: Path | None = None, say=print) -> BuildResult:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    try:
        context = build_context(cell, ca_bundle)
        steps = StepCount(engine_labels=len(dynamic_labels(cell)))
        image_id = _stream_build(cell, context, client, steps, say)
        for tag in cell.tags:
            client.api.tag(image_id, cell.repository, tag)
        attrs = client.images.get(image_id).attrs
        size, layers = attrs["Size"], len(attrs["RootFS"]["Layers"])
        say(f"built {cell.repository}:{{{','.join(cell.tags)}}} ({size / 1e6:.0f} MB, {steps.run} steps run)")
        return BuildResult(cell, True, time.monotonic() - started, size, image_id, layers=layers, steps=steps)
    except (BuildError, docker.errors.APIError) as exc:
        say(f"FAILED {cell.reference}: {exc}")
        return BuildResult(cell, False, time.monotonic() - started, error=str(exc).splitlines()[0])


def named_stages(text: str) -> dict[str, str]:
    """A Dockerfile's named stages (`FROM <image> AS <name>`), each with its instructions (the
    engine's cache ignores comments and blank lines, and so does the comparison)."""
    stages: dict[str, str] = {}
    name, lines = "", []
    for line in [*text.splitlines(), "FROM (end)"]:
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("FROM "):
            if name:
                stages[name] = "\n".join(lines)
            words = line.split()
            name = words[3] if len(words) == 4 and words[2].upper() == "AS" else ""
            lines = []
        lines.append(line)
    return stages


def shared_stages(cells: list[ImageVersion]) -> list[tuple[ImageVersion, str]]:
    """Stages that two or more cells' Dockerfiles hold word for word (the gRPC front's), each with
    the first cell holding it. Builds side by side would each run such a stage, none finding it
    in the cache yet: built once first, it is a cache hit for all of them."""
    holders: dict[str, list[tuple[ImageVersion, str]]] = {}
    for cell in cells:
        for name, text in named_stages(dockerfile(cell)).items():
            holders.setdefault(text, []).append((cell, name))
    return [holding[0] for holding in holders.values() if len(holding) > 1]


def build_stage(  # type: ignore[no-untyped-def]
    cell: ImageVersion, stage: str, client: docker.DockerClient, *, ca_bundle: Path | None = None, say=print
) -> None:
    """One stage of the cell's Dockerfile into the engine's cache, untagged. A failure is only
    said: the image builds after it meet it again and report it."""
    try:
        _stream_build(cell, build_context(cell, ca_bundle), client, StepCount(), say, stage=stage)
        say(f"built the stage {stage} that images share, once, from {cell.slug}")
    except (BuildError, docker.errors.APIError) as exc:
        say(f"the shared stage {stage} failed ({exc}); the images build it themselves")


def _stream_build(  # type: ignore[no-untyped-def]
    cell: ImageVersion, context: Path, client: docker.DockerClient, steps: StepCount, say, *, stage: str | None = None
) -> str:
    """Builds the cell's image, or only its `stage`: then nothing is tagged or labelled."""
    build_args = {name: os.environ[name] for name in PROXY_BUILD_ARGS if os.environ.get(name)}
    stream = client.api.build(
        path=str(context),
        tag=None if stage else cell.reference,
        target=stage,
        labels=None if stage else dynamic_labels(cell),
        buildargs=build_args,
        rm=True,
        forcerm=True,
        pull=False,
        decode=True,
    )
    image_id = ""
    for chunk in stream:
        if "stream" in chunk:
            for line in filter(str.strip, chunk["stream"].splitlines()):
                say(f"[{cell.slug}{f' {stage}' if stage else ''}] {line}")
                steps.feed(line)
        if "error" in chunk:
            raise BuildError(chunk["error"].strip())
        if "aux" in chunk and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
    steps.close()
    if not image_id:
        raise BuildError("the engine reported no image id")
    return image_id
