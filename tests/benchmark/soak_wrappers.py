"""Soak every family's model image: minutes of steady REST and gRPC load, memory sampled.

    make soak            # or: .venv/bin/python tests/benchmark/soak_wrappers.py --minutes 3

Each family's `model` sample (identity), built with s2i from its default builder image, serves
on the host's network pinned to one CPU (as `make bench` runs it) while wrk (REST) and grpcload
(gRPC) take turns loading it from the other CPU, loopback only, for --round seconds each until
--minutes are spent. After every round the resident memory of the container's processes is
summed (`docker top`). Writes reports/soak.md; exits non-zero if any call failed or memory grew
by more than --max-growth after the warm-up: from the end of the first REST and gRPC rounds (each
protocol's code paths, caches and, on a JVM, compiled code and heap sized) to the last round.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "benchmark"))

import bench_wrappers  # noqa: E402

from s2ibuilders import config, tools  # noqa: E402


@dataclass
class Soak:
    rounds: list[tuple[str, float, int, float]] = field(default_factory=list)  # protocol, req/s, errors, RSS MiB

    @property
    def errors(self) -> int:
        return sum(errors for _, _, errors, _ in self.rounds)

    @property
    def growth(self) -> float:
        """RSS growth from the end of the warm-up (a round of each protocol) to the last round."""
        warm, last = self.rounds[min(1, len(self.rounds) - 1)][3], self.rounds[-1][3]
        return (last - warm) / warm


def resident_mib(container: str) -> float:
    """The summed RSS of the container's processes, as the host's ps sees them."""
    # docker top passes the options to ps, and needs a pid column in what ps prints
    top = subprocess.run(["docker", "top", container, "-o", "pid,rss"], capture_output=True, text=True, check=True)
    return sum(int(row.split()[1]) for row in top.stdout.splitlines()[1:]) / 1024


def soak(image: str, args: argparse.Namespace, port: int) -> Soak:
    container, _ = bench_wrappers.start_container(image, port, port + 1, port + 2)
    result = Soak()
    try:
        deadline = time.monotonic() + args.minutes * 60
        turn = 0
        while time.monotonic() < deadline:
            if turn % 2 == 0:
                rps, _, _, errors, *_ = bench_wrappers.wrk(port, args.round)
                protocol = "REST"
            else:
                rps, _, _, errors, *_ = bench_wrappers.grpc_load(args.grpcload, port + 1, args.round)
                protocol = "gRPC"
            result.rounds.append((protocol, rps, errors, resident_mib(container)))
            turn += 1
    finally:
        subprocess.run(["docker", "rm", "-f", container], check=False, capture_output=True)
    return result


def report(soaks: dict[str, Soak], args: argparse.Namespace) -> str:
    lines = [
        "| image | rounds | REST req/s (mean) | gRPC req/s (mean) | failed calls | RSS first → last round "
        "| growth after warm-up |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for name, run in soaks.items():
        rest = [rps for protocol, rps, _, _ in run.rounds if protocol == "REST"]
        grpc = [rps for protocol, rps, _, _ in run.rounds if protocol == "gRPC"]
        lines.append(
            f"| {name} | {len(run.rounds)} | {sum(rest) / max(1, len(rest)):,.0f} | "
            f"{sum(grpc) / max(1, len(grpc)):,.0f} | {run.errors} | "
            f"{run.rounds[0][3]:.1f} → {run.rounds[-1][3]:.1f} MiB | {run.growth:+.1%} |"
        )
    lines.append(f"\nRSS after each {args.round} s round (MiB):")
    for name, run in soaks.items():
        lines.append(f"- {name}: " + ", ".join(f"{rss:.1f}" for *_, rss in run.rounds))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0, help="load per family")
    parser.add_argument("--round", type=int, default=20, help="seconds of one protocol's load between samples")
    parser.add_argument("--max-growth", type=float, default=0.10, help="allowed RSS growth, first to last round")
    parser.add_argument("--family", action="append", help="only these families (default: every one)")
    args = parser.parse_args()
    cfg = config.load(ROOT / "versions.yaml")
    args.grpcload = tools.ensure_grpcload(ROOT / "tests" / "grpcload")
    bench_wrappers.ensure_wrk()
    images = bench_wrappers.every_family_image(cfg, args.family)
    soaks = {name: soak(image, args, 19500 + 10 * i) for i, (name, image) in enumerate(images.items())}
    header = (
        f"soak: each family's identity sample, {args.minutes:g} min of alternating {args.round} s REST (wrk) and "
        f"gRPC (grpcload) rounds, {bench_wrappers.CONNECTIONS} connections, server on CPU {bench_wrappers.SERVER_CPU}"
    )
    text = f"{header}\n\n{report(soaks, args)}\n"
    bench_wrappers.write_report("soak.md", text)
    failed = [name for name, run in soaks.items() if run.errors or run.growth > args.max_growth]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
