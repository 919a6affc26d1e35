"""Single-row latency of a Spark pipeline model: scored by the model alone against a Spark job.

    .venv/bin/python tests/benchmark/bench_spark.py [--seconds 10]

Builds the iris pipeline sample (tests/samples/spark/iris-pipeline with the saved model of
pipeline-only) with s2i from the default spark builder, runs it twice as a container on the host
network pinned to CPU 0 -- SPARK_LOCAL_SCORING=on (a VectorAssembler + LogisticRegression row
scored by the model in the driver, no job) and =off (a DataFrame and transform(), a Spark job per
request) -- and loads each with one connection of single-row requests from CPU 1 (wrk). Also
times `docker run` to the first answer. Writes reports/benchmark-spark.md.
"""

from __future__ import annotations

import argparse
import shutil
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per run")
    args = parser.parse_args()
    cfg = config.load(ROOT / "versions.yaml")
    image = build_image(cfg)
    lines = [
        "| scoring | req/s | p50 ms | p99 ms | errors | start-up to first answer |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for offset, scoring in enumerate(("on", "off")):
        http = 19500 + 10 * offset
        env = {"SPARK_LOCAL_SCORING": scoring}
        container, ready = start_container(image, http, http + 1, http + 2, env=env, request=ROW)
        try:
            rps, p50, p99, errors, *_ = wrk(http, args.seconds, request=ROW, connections=1)
        finally:
            subprocess.run(["docker", "rm", "-f", container], check=False, capture_output=True)
        name = "the model alone (on)" if scoring == "on" else "a Spark job (off)"
        lines.append(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {errors} | {ready:.1f} s |")
    header = f"one iris row a request, one connection, server on CPU 0, {args.seconds} s per run"
    write_report("benchmark-spark.md", header + "\n\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
