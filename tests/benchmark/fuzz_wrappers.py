"""Fuzz every family's model image with tens of thousands of bad requests, REST and gRPC.

    make fuzz            # or: .venv/bin/python tests/benchmark/fuzz_wrappers.py --requests 10000

Each family's `model` sample (identity), built with s2i from its default builder image (the
spark image builds the python one), runs with PROTOCOL=both and a small REST_MAX_BODY_BYTES
(tests/fuzzing.py's FUZZ_ENV). Against it: schemathesis generates REST requests from the OpenAPI
document the model serves (/seldon.json), --parallel runs at a time with seeds counting up from
--seed, until --requests are sent; then the hand-written malformed requests and
--grpc-requests random or damaged protobuf messages spread over every gRPC method. Every answer
is judged by tests/fuzzing.py's rule (2xx, or 4xx with the protocol's error body, in time), and
afterwards the container must still be running and still answer. Writes reports/fuzz.md and
exits non-zero if anything broke the rule. The test suite runs a fast subset of the same
(tests/contract/test_fuzz.py).
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "benchmark"))

import bench_wrappers  # noqa: E402

from s2ibuilders import config  # noqa: E402

import fuzzing  # noqa: E402


@dataclass
class FamilyRun:
    image: str
    rest: int
    grpc: int
    problems: list[str]
    rss_before: str
    rss_after: str
    seconds: float


def memory(container: str) -> str:
    stats = ["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", container]
    return subprocess.run(stats, capture_output=True, text=True, check=False).stdout.split("/")[0].strip()


def running(container: str) -> bool:
    state = ["docker", "inspect", "--format", "{{.State.Running}} {{.RestartCount}}", container]
    return subprocess.run(state, capture_output=True, text=True, check=False).stdout.strip() == "true 0"


def schemathesis_until(http: str, model_name: str, args: argparse.Namespace) -> fuzzing.Findings:
    """schemathesis runs, --parallel at a time with seeds counting up from --seed, until
    --requests are sent. In parallel because generating cases is what takes the time (about
    15 a second per process), and one process keeps one core busy."""
    findings = fuzzing.Findings()
    seeds = itertools.count(args.seed)
    with ThreadPoolExecutor(args.parallel) as pool:
        while findings.requests < args.requests:
            runs = [
                pool.submit(fuzzing.schemathesis, http, max_examples=args.examples, seed=next(seeds),
                            model_name=model_name, workers=1)
                for _ in range(args.parallel)
            ]  # fmt: skip
            for run in runs:
                findings.add(run.result())
            print(f"  {findings.requests:,} schemathesis requests so far", flush=True)
    return findings


def fuzz_image(name: str, image: str, args: argparse.Namespace, port: int) -> FamilyRun:
    container, _ = bench_wrappers.start_container(image, port, port + 1, port + 2, env=fuzzing.FUZZ_ENV)
    http, target = f"http://127.0.0.1:{port}", f"127.0.0.1:{port + 1}"
    started = time.monotonic()
    findings = fuzzing.Findings()
    try:
        before = memory(container)
        model_name = requests.get(f"{http}/metadata", timeout=10).json()["name"]
        findings.add(schemathesis_until(http, model_name, args))
        findings.add(fuzzing.send_raw(http, fuzzing.raw_cases(model_name)))
        rest = findings.requests
        grpc_findings = fuzzing.fuzz_grpc(
            target, args.grpc_requests, args.seed, fuzzing.valid_grpc_messages(model_name)
        )
        findings.add(grpc_findings)
        for problem in (fuzzing.still_serving(http), None if running(container) else "the container restarted"):
            if problem:
                findings.problems.append(problem)
        after = memory(container)
    finally:
        subprocess.run(["docker", "rm", "-f", container], check=False, capture_output=True)
    seconds = time.monotonic() - started
    return FamilyRun(image, rest, grpc_findings.requests, findings.problems, before, after, seconds)


def report(runs: dict[str, FamilyRun]) -> str:
    lines = [
        "| image | REST requests | gRPC requests | broke the rule | memory before → after | seconds |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for name, run in runs.items():
        lines.append(
            f"| {name} | {run.rest:,} | {run.grpc:,} | {len(run.problems)} | {run.rss_before} → {run.rss_after} "
            f"| {run.seconds:.0f} |"
        )
    for name, run in runs.items():
        for problem in run.problems:
            lines.append(f"\n{name}: {problem}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000, help="REST requests schemathesis sends per family")
    parser.add_argument("--grpc-requests", type=int, default=5_000, help="damaged gRPC messages per family")
    parser.add_argument("--examples", type=int, default=170, help="schemathesis cases per operation and seed")
    parser.add_argument("--parallel", type=int, default=2, help="schemathesis processes at a time")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="the first seed (printed in the report)")
    parser.add_argument("--family", action="append", help="only these families (default: every one)")
    args = parser.parse_args()
    cfg = config.load(ROOT / "versions.yaml")
    images = bench_wrappers.every_family_image(cfg, args.family)
    runs = {name: fuzz_image(name, image, args, 19400 + 10 * i) for i, (name, image) in enumerate(images.items())}
    header = (
        f"fuzzing each family's identity sample (PROTOCOL=both, REST_MAX_BODY_BYTES={fuzzing.BODY_LIMIT}), "
        f"first seed {args.seed}"
    )
    text = f"{header}\n\n{report(runs)}\n"
    bench_wrappers.write_report("fuzz.md", text)
    return 1 if any(run.problems for run in runs.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
