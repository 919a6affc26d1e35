"""Seconds a data scientist waits for `s2i build`: pip against uv, cold and incremental, same run.

    make bench-build      # or: .venv/bin/python tests/benchmark/bench_build.py --runs 3

Builds the identity sample (tests/samples/python/model: no requirements) and the scikit-learn
sample (tests/samples/python/sklearn-iris) with the real s2i CLI from the default python builder,
once with PIP_INSTALLER=pip and once with PIP_INSTALLER=uv: a cold build (no previous image),
then `s2i build --incremental` on top of it (the saved package cache, nothing changed); and uv
repeating a build with its cache in a host folder mounted with `s2i build -v`. Each build runs
--runs times; the table gives the median. Writes reports/benchmark-build.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_wrappers import ROOT, write_report

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


def measure(s2i: Path, builder: str, sample: str, installer: str, runs: int) -> tuple[float, float]:
    """Median seconds of a cold build and of an incremental one after it."""
    image = f"bench/build-{sample}-{installer}:latest"
    chosen = ("-e", f"PIP_INSTALLER={installer}")
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="builds of each kind; the median is reported")
    args = parser.parse_args()
    cfg = config.load(ROOT / "versions.yaml")
    s2i = tools.ensure_s2i(cfg.tools["s2i"])
    family = cfg.families["python"]
    builder = family.versions[family.default_version].reference
    lines = [
        "| sample | build | pip s | uv s | pip / uv |",
        "|---|---|---:|---:|---:|",
    ]
    for sample in ("model", "sklearn-iris"):
        seconds = {installer: measure(s2i, builder, sample, installer, args.runs) for installer in INSTALLERS}
        (pip_cold, pip_incremental), (uv_cold, uv_incremental) = seconds["pip"], seconds["uv"]
        host_cache = measure_host_cache(s2i, builder, sample, args.runs)
        rows = [
            ("cold", pip_cold, uv_cold),
            ("incremental", pip_incremental, uv_incremental),
            # each installer's fastest way to repeat a build
            ("repeated: pip incremental, uv cache on the host", pip_incremental, host_cache),
        ]
        lines += [f"| {sample} | {kind} | {pip:.1f} | {uv:.1f} | {pip / uv:.1f}x |" for kind, pip, uv in rows]
    header = (
        f"`s2i build` from {builder}, median of {args.runs} runs each; "
        "incremental: `--incremental` on the cold build's image, source unchanged; "
        "cache on the host: `-v <dir>:/opt/app-root/.cache/uv`, filled by an earlier build"
    )
    write_report("benchmark-build.md", header + "\n\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
