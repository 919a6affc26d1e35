"""One command line for the whole pipeline: versions.yaml -> contexts -> bases -> images.

python -m s2ibuilders list                     # the matrix, default cells marked
python -m s2ibuilders generate --family python # render build contexts into build/
python -m s2ibuilders base                     # make sure the Debian bases exist
python -m s2ibuilders build --ca-bundle /etc/ssl/certs/ca-certificates.crt --jobs 2
python -m s2ibuilders matrix --all             # JSON for CI's job matrix
python -m s2ibuilders push --registry quay.io --namespace myorg --dry-run
python -m s2ibuilders sbom                     # reports/sbom/<image>.spdx.json, listed by syft
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import base, build, config, docs, publish, render, report, sbom, tools
from .paths import REPORTS_DIR, ROOT, VERSIONS_FILE


def _client():  # type: ignore[no-untyped-def]
    import docker
    import docker.errors

    try:
        client = docker.from_env(timeout=600)
        client.ping()
        return client
    except docker.errors.DockerException as exc:
        raise SystemExit(f"cannot reach a Docker engine (DOCKER_HOST or /var/run/docker.sock): {exc}") from None


def _cells(args: argparse.Namespace) -> list[config.ImageVersion]:
    cfg = config.load(args.versions)
    return cfg.matrix(args.family or None, args.version or None, all_versions=args.all)


def cmd_list(args: argparse.Namespace) -> int:
    for cell in config.load(args.versions).matrix(args.family or None, all_versions=True):
        mark = "*" if cell.default else " "
        print(f"{mark} {cell.slug:<14} {cell.reference:<48} base {cell.base.image:<22} tags {','.join(cell.tags)}")
    print("(* built by default)")
    return 0


def cmd_matrix(args: argparse.Namespace) -> int:
    include = [
        {"family": c.family.name, "version": c.version, "image": c.repository, "tag": c.tags[0], "base": c.base.image}
        for c in _cells(args)
    ]
    print(json.dumps({"include": include}))
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    for cell in _cells(args):
        print(f"{cell.slug}: {render.render(cell)}")
    return 0


def _bases(cells: list[config.ImageVersion]) -> list[config.Base]:
    """The bases the cells build on, and the one whose Rust compiles the gRPC front."""
    needed = {cell.base.name: cell.base for cell in cells}
    if cells:
        front_builder = cells[0].family.config.front_builder
        needed.setdefault(front_builder.name, front_builder)
    return list(needed.values())


def cmd_base(args: argparse.Namespace) -> int:
    client = _client()
    for b in _bases(_cells(args)):
        base.ensure(b, client)
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    client = _client()
    cells = _cells(args)
    for b in _bases(cells):
        base.ensure(b, client)
    ca_bundle = Path(args.ca_bundle) if args.ca_bundle else None
    if args.jobs > 1:
        for cell, stage in build.shared_stages(cells):
            build.build_stage(cell, stage, client, ca_bundle=ca_bundle)
    # Independent images build side by side: a build waits on downloads as much as on a CPU.
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda cell: build.build(cell, client, ca_bundle=ca_bundle), cells))
    print()
    print(report.table(results))
    report.write_json(results, REPORTS_DIR / "images.json")
    return 0 if all(r.ok for r in results) else 1


def cmd_push(args: argparse.Namespace) -> int:
    cfg = config.load(args.versions)
    client = _client()
    pushes = publish.plan(
        _cells(args), client, registry=args.registry or cfg.registry, namespace=args.namespace or cfg.namespace
    )
    print(publish.describe(pushes, dry_run=args.dry_run))
    if any(p.refused for p in pushes):
        print("nothing pushed: every image must be built and tested at a clean, committed revision", file=sys.stderr)
        return 1
    if not args.dry_run:
        publish.execute(pushes, client)
        publish.report(pushes, REPORTS_DIR / "push.json")
    return 0


def cmd_sbom(args: argparse.Namespace) -> int:
    syft = tools.ensure_syft(config.load(args.versions).tools["syft"])
    for cell in _cells(args):
        print(sbom.write(cell, syft, REPORTS_DIR / "sbom").summary())
    return 0


def cmd_s2i(args: argparse.Namespace) -> int:
    print(tools.ensure_s2i(config.load(args.versions).tools["s2i"]))
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    """One value for shell scripts, e.g. `get tools.s2i`."""
    cfg = config.load(args.versions)
    value: object = {"tools": cfg.tools, "ports": cfg.ports, "release": cfg.release, "namespace": cfg.namespace}
    for part in args.key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise SystemExit(f"versions.yaml has no {args.key}")
        value = value[part]
    print(value)
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    stale = docs.update(config.load(args.versions), check=args.check)
    for path in stale:
        print(f"{'stale' if args.check else 'updated'}: {path.relative_to(ROOT)}")
    if args.check and stale:
        print("generated files are stale: run `make docs`", file=sys.stderr)
        return 1
    if not stale:
        print("generated files are current")
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "list": (cmd_list, "show the matrix"),
    "matrix": (cmd_matrix, "print the selected cells as JSON for a CI job matrix"),
    "generate": (cmd_generate, "render build contexts into build/"),
    "base": (cmd_base, "make sure the base images exist (present, pulled or debootstrapped)"),
    "build": (cmd_build, "build and tag the images, then print a summary table"),
    "push": (cmd_push, "push the tested images under all their tags (--dry-run: only list them)"),
    "sbom": (cmd_sbom, "write each built image's SBOM (SPDX JSON, by syft) into reports/sbom/"),
    "s2i": (cmd_s2i, "install the pinned s2i CLI into .tools/bin"),
    "docs": (cmd_docs, "rewrite the generated docs and manifests (--check: fail if any is stale)"),
    "get": (cmd_get, "print one value of versions.yaml (tools.s2i, ports.http, release, ...)"),
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m s2ibuilders", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--versions", default=str(VERSIONS_FILE), help="the versions file (default: %(default)s)")
    sub = p.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text)
        if name not in ("s2i", "get", "docs"):
            cmd.add_argument("--family", default="", help="only this family (python, r, java, spark)")
            cmd.add_argument("--version", default="", help="only this language version")
            cmd.add_argument("--all", action="store_true", help="every version, not only the default ones")
        if name == "build":
            cmd.add_argument("--ca-bundle", default="", help="PEM bundle of extra CAs to trust inside the images")
            cmd.add_argument("--jobs", type=int, default=2, help="images built at once (default: %(default)s)")
        if name == "push":
            cmd.add_argument("--registry", default="", help="registry host (default: versions.yaml's registry)")
            cmd.add_argument("--namespace", default="", help="namespace (default: versions.yaml's namespace)")
            cmd.add_argument("--dry-run", action="store_true", help="list what would be pushed, push nothing")
        if name == "get":
            cmd.add_argument("key")
        if name == "docs":
            cmd.add_argument("--check", action="store_true", help="only report which generated files are stale")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    handler, _ = COMMANDS[args.command]
    try:
        sys.exit(handler(args))
    except (config.ConfigError, base.BaseImageError, build.BuildError, publish.PushError, tools.ToolError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
