"""Seconds a data scientist waits for `s2i build`: pip against uv, cold and incremental, same run.

    make bench-build      # or: .venv/bin/python tests/benchmark/bench_build.py --runs 3

Builds the identity sample (tests/samples/python/model: no requirements) and the scikit-learn
sample (tests/samples/python/sklearn-iris) with the real s2i CLI from the default python builder,
once with PIP_INSTALLER=pip and once with PIP_INSTALLER=uv: a cold build (no previous image),
then `s2i build --incremental` on top of it (the saved package cache, nothing changed); and uv
repeating a build with its cache in a host folder mounted with `s2i build -v`. Each build runs
--runs times; the table gives the median. Writes reports/benchmark-build.md.

With --baseline REF, the python builder as it was at git REF is built too (from that tree, by its
own build tool, under the namespace bench-baseline-<sha>, so this tree's tags stay as they are)
and the same samples are built with it, in the same run: pip's path before uv came (REF f6be9e2)
beside both of today's.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_wrappers import ROOT, extract, short_sha, write_report

from s2ibuilders import config, tools

SAMPLES = ROOT / "tests" / "samples" / "python"
INSTALLERS = ("pip", "uv")


def timed_build(s2i: Path, source: Path, builder: str, image: str, *extra: str) -> float:
    command = [str(s2i), "build", str(source), builder, image, "--pull-policy", "never", *extra]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return seconds


def remove_image(image: str) -> None:
    subprocess.run(["docker", "rmi", "-f", image], capture_output=True, check=False)


def measure(s2i: Path, builder: str, sample: str, name: str, runs: int, *chosen: str) -> tuple[float, float]:
    """Median seconds of a cold build and of an incremental one after it, both with the s2i
    arguments `chosen` (a builder from before uv takes no PIP_INSTALLER)."""
    image = f"bench/build-{sample}-{name}:latest"
    cold, incremental = [], []
    for _ in range(runs):
        remove_image(image)
        cold.append(timed_build(s2i, SAMPLES / sample, builder, image, *chosen))
        incremental.append(timed_build(s2i, SAMPLES / sample, builder, image, "--incremental", *chosen))
    remove_image(image)
    return statistics.median(cold), statistics.median(incremental)


def measure_host_cache(s2i: Path, builder: str, sample: str, runs: int) -> float:
    """Median seconds of a repeated uv build with its cache mounted from the host (the image's
    usage: `s2i build -v <dir>:/opt/app-root/.cache/uv`), after a first build filled it."""
    image = f"bench/build-{sample}-host-cache:latest"
    with tempfile.TemporaryDirectory(prefix="uv-cache-") as cache:
        os.chmod(cache, 0o777)  # the builder's user fills it
        mount = ("-v", f"{cache}:/opt/app-root/.cache/uv")
        timed_build(s2i, SAMPLES / sample, builder, image, *mount)
        repeated = []
        for _ in range(runs):
            remove_image(image)
            repeated.append(timed_build(s2i, SAMPLES / sample, builder, image, *mount))
        # uv wrote the cache as the builder's user: make it this process's to delete.
        subprocess.run(["docker", "run", "--rm", "-u", "0", "-v", f"{cache}:/c", "--entrypoint", "chmod",
                        builder, "-R", "a+rwX", "/c"], check=False, capture_output=True)  # fmt: skip
    remove_image(image)
    return statistics.median(repeated)


def baseline_builder(ref: str, cell: config.ImageVersion, ca_bundle: str) -> str:
    """The builder `cell` names as it was at git `ref`, built by that tree's own tool (reused
    while its image exists): the tree's versions.yaml gets a namespace of its own, nothing else."""
    sha = short_sha(ref)
    namespace = f"bench-baseline-{sha}"
    reference = f"{namespace}/{cell.family.image}:{cell.tags[0]}"
    if subprocess.run(["docker", "image", "inspect", reference], capture_output=True).returncode == 0:
        return reference
    print(f"building {reference} from the tree at {ref} ({sha})")
    with tempfile.TemporaryDirectory(prefix="bench-baseline-tree-") as folder:
        extract(sha, ".", folder)
        versions = Path(folder) / "versions.yaml"
        versions.write_text(re.sub(r"(?m)^namespace:\s*\S+", f"namespace: {namespace}", versions.read_text(), count=1))
        build = [sys.executable, "-m", "s2ibuilders", "build", "--family", cell.family.name, "--version", cell.version]
        build += ["--jobs", "1", *(("--ca-bundle", ca_bundle) if ca_bundle else ())]
        subprocess.run(build, cwd=folder, env={**os.environ, "PYTHONPATH": f"{folder}/scripts"}, check=True)
    return reference


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="builds of each kind; the median is reported")
    parser.add_argument("--baseline", metavar="REF", help="also build with the python builder as it was at git REF")
    parser.add_argument("--ca-bundle", default="", help="extra CAs the baseline builder trusts (make's CA_BUNDLE)")
    args = parser.parse_args()
    cfg = config.load(ROOT / "versions.yaml")
    s2i = tools.ensure_s2i(cfg.tools["s2i"])
    family = cfg.families["python"]
    cell = family.versions[family.default_version]
    baseline = baseline_builder(args.baseline, cell, args.ca_bundle) if args.baseline else ""
    before = f"pip at {short_sha(args.baseline)}" if baseline else ""
    lines = [
        "| sample | build | pip s | uv s | pip / uv |" + (f" {before} s | {before} / uv |" if baseline else ""),
        "|---|---|---:|---:|---:|" + ("---:|---:|" if baseline else ""),
    ]
    for sample in ("model", "sklearn-iris"):
        seconds = {
            installer: measure(s2i, cell.reference, sample, installer, args.runs, "-e", f"PIP_INSTALLER={installer}")
            for installer in INSTALLERS
        }
        (pip_cold, pip_incremental), (uv_cold, uv_incremental) = seconds["pip"], seconds["uv"]
        host_cache = measure_host_cache(s2i, cell.reference, sample, args.runs)
        old_cold, old_incremental = measure(s2i, baseline, sample, "baseline", args.runs) if baseline else (0, 0)
        rows = [
            ("cold", pip_cold, uv_cold, old_cold),
            ("incremental", pip_incremental, uv_incremental, old_incremental),
            # each installer's fastest way to repeat a build
            ("repeated: pip incremental, uv cache on the host", pip_incremental, host_cache, old_incremental),
        ]
        for kind, pip, uv, old in rows:
            line = f"| {sample} | {kind} | {pip:.1f} | {uv:.1f} | {pip / uv:.1f}x |"
            lines.append(line + (f" {old:.1f} | {old / uv:.1f}x |" if baseline else ""))
    header = (
        f"`s2i build` from {cell.reference}, median of {args.runs} runs each; "
        "incremental: `--incremental` on the cold build's image, source unchanged; "
        "cache on the host: `-v <dir>:/opt/app-root/.cache/uv`, filled by an earlier build"
    )
    if baseline:
        header += f"; {before}: {baseline}, the builder as it was at {args.baseline}, in the same run"
    write_report("benchmark-build.md", header + "\n\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
