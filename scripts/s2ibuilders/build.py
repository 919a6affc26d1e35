"""Build and tag one image per matrix cell with the Docker SDK, streaming the build log."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from . import revision
from .config import ImageVersion
from .render import CA_DIR, render

# Passed through to RUN steps when set; Docker does not persist these build args in the image.
PROXY_BUILD_ARGS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
LABEL_PREFIX = "io.seldon.s2i"


class BuildError(RuntimeError):
    pass


@dataclass
class BuildResult:
    cell: ImageVersion
    ok: bool
    seconds: float
    size_bytes: int = 0
    image_id: str = ""
    error: str = ""


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


def build(cell: ImageVersion, client: docker.DockerClient, *, ca_bundle: Path | None = None, say=print) -> BuildResult:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    try:
        context = render(cell)
        if ca_bundle is not None:
            add_ca_bundle(context, ca_bundle)
        image_id = _stream_build(cell, context, client, say)
        for tag in cell.tags:
            client.api.tag(image_id, cell.repository, tag)
        size = client.images.get(image_id).attrs["Size"]
        say(f"built {cell.repository}:{{{','.join(cell.tags)}}} ({size / 1e6:.0f} MB)")
        return BuildResult(cell, True, time.monotonic() - started, size, image_id)
    except (BuildError, docker.errors.APIError) as exc:
        say(f"FAILED {cell.reference}: {exc}")
        return BuildResult(cell, False, time.monotonic() - started, error=str(exc).splitlines()[0])


def _stream_build(cell: ImageVersion, context: Path, client: docker.DockerClient, say) -> str:  # type: ignore[no-untyped-def]
    build_args = {name: os.environ[name] for name in PROXY_BUILD_ARGS if os.environ.get(name)}
    stream = client.api.build(
        path=str(context),
        tag=cell.reference,
        labels=dynamic_labels(cell),
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
                say(f"[{cell.slug}] {line}")
        if "error" in chunk:
            raise BuildError(chunk["error"].strip())
        if "aux" in chunk and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
    if not image_id:
        raise BuildError("the engine reported no image id")
    return image_id
