"""The benchmark's gRPC load generator (tests/grpcload) against grpc-python servers: it writes
gRPC's HTTP/2 framing itself, so what it counts -- calls, status codes, messages larger than a
frame -- is checked here against a server that knows gRPC."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from s2ibuilders import tools

ROOT = Path(__file__).resolve().parents[2]
METHOD = "/test.Echo/Call"


@pytest.fixture(scope="module")
def grpcload() -> Path:
    try:
        return tools.ensure_grpcload(ROOT / "tests" / "grpcload", say=lambda _: None)
    except tools.ToolError as exc:  # a machine without Go runs the other unit tests
        pytest.skip(f"the load generator cannot be built here: {exc}")


def handle(request: bytes, context: grpc.ServicerContext) -> bytes:
    """Echoes the request, but refuses one that starts with b"bad" (INVALID_ARGUMENT)."""
    if request.startswith(b"bad"):
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "a bad request")
    return request


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handlers = {"Call": grpc.unary_unary_rpc_method_handler(handle)}  # bytes in, bytes out
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Echo", handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield port
    server.stop(0)


def run(grpcload: Path, port: int, message: bytes, tmp_path: Path, method: str = METHOD) -> dict:
    request = tmp_path / "request.bin"
    request.write_bytes(message)
    out = subprocess.run(
        [str(grpcload), "-target", f"127.0.0.1:{port}", "-method", method, "-message", str(request),
         "-connections", "2", "-callers", "3", "-duration", "1s", "-warm-up", "0s"],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    return json.loads(out.stdout)


def test_counts_successful_calls(grpcload: Path, server: int, tmp_path: Path) -> None:
    report = run(grpcload, server, b"hello", tmp_path)
    assert set(report["codes"]) == {"OK"}
    assert report["calls"] > 100
    assert report["rps"] == pytest.approx(report["calls"] / report["seconds"])
    assert 0 < report["p50_ms"] <= report["p99_ms"]


def test_messages_larger_than_a_frame(grpcload: Path, server: int, tmp_path: Path) -> None:
    # 100 kB each way: several DATA frames, and more than HTTP/2's default windows over the run
    report = run(grpcload, server, b"x" * 100_000, tmp_path)
    assert set(report["codes"]) == {"OK"}
    assert report["calls"] > 10


def test_counts_error_statuses_by_name(grpcload: Path, server: int, tmp_path: Path) -> None:
    report = run(grpcload, server, b"bad request", tmp_path)
    assert set(report["codes"]) == {"InvalidArgument"}
    assert report["rps"] == 0
    assert report["first_error"] == "InvalidArgument: a bad request"


def test_unknown_method(grpcload: Path, server: int, tmp_path: Path) -> None:
    report = run(grpcload, server, b"hello", tmp_path, method="/test.Echo/Nothing")
    assert set(report["codes"]) == {"Unimplemented"}


def test_a_server_that_is_not_there(grpcload: Path, tmp_path: Path) -> None:
    request = tmp_path / "request.bin"
    request.write_bytes(b"hello")
    closed = subprocess.run(
        [str(grpcload), "-target", "127.0.0.1:1", "-method", METHOD, "-message", str(request), "-duration", "1s"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert closed.returncode == 2
    assert "connection refused" in closed.stderr
