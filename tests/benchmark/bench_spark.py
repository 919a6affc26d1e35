"""A Spark pipeline model's start-up and single-row latency.

    .venv/bin/python tests/benchmark/bench_spark.py [--seconds 10] [--starts 3]

Builds the iris pipeline sample (tests/samples/spark/iris-pipeline with the saved model of
pipeline-only) with s2i from the default spark builder and runs it as a container on the host
network pinned to CPU 0. Start-up: seconds from `docker run` to the first answer, the median of
--starts runs, as the image ships and with each start-up measure undone (the class-data archive,
the JIT's later C2), so that the before is measured in the same run. Latency: one connection of
single-row requests from CPU 1 (wrk), SPARK_LOCAL_SCORING=on (a VectorAssembler +
LogisticRegression row scored by the model in the driver, no job) against =off (a DataFrame and
transform(), a Spark job per request). Writes reports/benchmark-spark.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_wrappers import ROOT, s2i_build, start_container, write_report, wrk

from s2ibuilders import config

SAMPLES = ROOT / "tests" / "samples" / "spark"
ROW = {
    "data": {"names": ["sepal_length", "sepal_width", "petal_length", "petal_width"], "ndarray": [[5.1, 3.5, 1.4, 0.2]]}
}


def build_image(cfg: config.Config) -> str:
    family = cfg.families["spark"]
    cell = family.versions[family.default_version]
    image = f"bench/spark-iris:{cell.version}"
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "iris-pipeline"
        shutil.copytree(SAMPLES / "iris-pipeline", source)
        shutil.copytree(SAMPLES / "pipeline-only" / "model", source / "model")
        s2i_build(cfg, source, cell.reference, image)
    return image


# The JIT's default thresholds for its second tier, which the image raises (seldon_serve_spark.JIT_OPTIONS).
DEFAULT_JIT = (
    "-XX:Tier4InvocationThreshold=5000 -XX:Tier4MinInvocationThreshold=600"
    " -XX:Tier4CompileThreshold=15000 -XX:Tier4BackEdgeThreshold=40000"
)
STARTS = {
    "as the image ships": {},
    "without the class-data archive": {"SPARK_CLASS_ARCHIVE": "off"},
    "without the archive, the JIT's default C2 (before)": {
        "SPARK_CLASS_ARCHIVE": "off",
        "SPARK_DRIVER_JAVA_OPTIONS": DEFAULT_JIT,
    },
}


def start_up(image: str, runs: int) -> list[str]:
    """The start-up table: the median and the spread of `runs` starts of each STARTS row."""
    lines = ["| start | seconds to the first answer (median) | each run |", "|---|---:|---|"]
    for name, env in STARTS.items():
        seconds = []
        for _ in range(runs):
            container, ready = start_container(image, 19500, 19501, 19502, env=env, request=ROW)
            subprocess.run(["docker", "rm", "-f", container], check=False, capture_output=True)
            seconds.append(ready)
        each = ", ".join(f"{s:.1f}" for s in seconds)
        lines.append(f"| {name} | {statistics.median(seconds):.1f} s | {each} |")
    return lines


LATENCY_ROWS = {
    "the model alone (on)": {"SPARK_LOCAL_SCORING": "on"},
    "the model alone (on), the JIT's default C2": {
        "SPARK_LOCAL_SCORING": "on",
        "SPARK_DRIVER_JAVA_OPTIONS": DEFAULT_JIT,
    },
    "a Spark job (off)": {"SPARK_LOCAL_SCORING": "off"},
}


def latency(image: str, seconds: int) -> list[str]:
    """The latency table: a container a row, loaded from a second after its first answer."""
    lines = ["| scoring | req/s | p50 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|"]
    for offset, (name, env) in enumerate(LATENCY_ROWS.items()):
        http = 19500 + 10 * offset
        container, _ = start_container(image, http, http + 1, http + 2, env=env, request=ROW)
        try:
            rps, p50, p99, errors, *_ = wrk(http, seconds, request=ROW, connections=1)
        finally:
            subprocess.run(["docker", "rm", "-f", container], check=False, capture_output=True)
        lines.append(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {errors} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per latency run")
    parser.add_argument("--starts", type=int, default=3, help="starts measured per start-up row")
    args = parser.parse_args()
    cfg = config.load(ROOT / "versions.yaml")
    image = build_image(cfg)
    report = [
        f"From `docker run` to the first answer (SPARK_LOCAL_SCORING=on), server on CPU 0, {args.starts} starts a row",
        "",
        *start_up(image, args.starts),
        "",
        f"One iris row a request, one connection, server on CPU 0, {args.seconds} s per run",
        "",
        *latency(image, args.seconds),
    ]
    write_report("benchmark-spark.md", "\n".join(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
