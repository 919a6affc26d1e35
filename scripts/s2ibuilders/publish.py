"""Push the built images to a registry under every tag versions.yaml gives them.

An image is pushed only when the work tree is clean and the last test run, at this revision,
passed every test against that very image (reports/test-results.json). A dry run prints the
same plan and pushes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors

from . import revision, testresults
from .config import ImageVersion

Say = Callable[[str], None]


class PushError(RuntimeError):
    pass


@dataclass
class ImagePush:
    cell: ImageVersion
    image_id: str
    size_bytes: int
    targets: list[str]  # registry/namespace/image:tag, one per tag
    refused: str = ""  # why it may not be pushed
    digests: dict[str, str] = field(default_factory=dict)


def target_repository(cell: ImageVersion, registry: str, namespace: str) -> str:
    return "/".join(part for part in (registry.rstrip("/"), namespace, cell.family.image) if part)


def plan(
    cells: Sequence[ImageVersion],
    client: docker.DockerClient,
    *,
    registry: str,
    namespace: str,
    results: Path = testresults.RESULTS_FILE,
    source: revision.Revision | None = None,
) -> list[ImagePush]:
    source = source or revision.current()
    pushes = []
    for cell in cells:
        repository = target_repository(cell, registry, namespace)
        targets = [f"{repository}:{tag}" for tag in cell.tags]
        try:
            image = client.images.get(cell.reference)
        except docker.errors.ImageNotFound:
            pushes.append(ImagePush(cell, "", 0, targets, refused=f"{cell.reference} is not built"))
            continue
        push = ImagePush(cell, image.id, image.attrs["Size"], targets)
        if source.dirty:
            push.refused = "the git work tree has uncommitted changes: commit, then `make test` again"
        else:
            push.refused = testresults.why_untested(cell.slug, image.id, str(source), results) or ""
        pushes.append(push)
    return pushes


def describe(pushes: Sequence[ImagePush], *, dry_run: bool) -> str:
    lines = []
    for push in pushes:
        what = f"{push.cell.reference} ({push.image_id[7:19] or 'missing'}, {push.size_bytes / 1e6:.0f} MB)"
        if push.refused:
            lines.append(f"REFUSED {what}: {push.refused}")
            continue
        lines.append(f"{'would push' if dry_run else 'push'} {what} as")
        lines += [f"    {target}" for target in push.targets]
    return "\n".join(lines)


def execute(pushes: Sequence[ImagePush], client: docker.DockerClient, *, say: Say = print) -> None:
    for push in pushes:
        if push.refused:
            raise PushError(f"{push.cell.reference}: {push.refused}")
    for push in pushes:
        for target in push.targets:
            repository, tag = target.rsplit(":", 1)
            client.api.tag(push.image_id, repository, tag)
            push.digests[target] = _push_one(client, repository, tag)
            say(f"pushed {target} {push.digests[target]}")


def _push_one(client: docker.DockerClient, repository: str, tag: str) -> str:
    digest = ""
    for chunk in client.api.push(repository, tag=tag, stream=True, decode=True):
        if "error" in chunk:
            raise PushError(f"{repository}:{tag}: {chunk['error'].strip()}")
        digest = chunk.get("aux", {}).get("Digest", digest)
    if not digest:
        raise PushError(f"{repository}:{tag}: the registry reported no digest")
    return digest


def report(pushes: Sequence[ImagePush], path: Path) -> None:
    """What was pushed, by digest: the record a release note cites."""
    doc = [{"image": p.cell.reference, "image_id": p.image_id, "pushed": p.digests} for p in pushes]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
