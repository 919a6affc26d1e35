"""The python wrapper's supervisor (GUNICORN_WORKERS > 1), run on this host: a worker that dies
while serving is replaced and counted, and the service goes on answering."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from seldon_serve import supervisor

from harness import SAMPLES, free_port

pytestmark = pytest.mark.unit


def children(pid: int) -> set[int]:
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return {int(child) for task in tasks for child in (task / "children").read_text().split()}


def wait_for(condition, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := condition():
                return value
        except (requests.ConnectionError, FileNotFoundError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s")


def serve_identity(log: Path, *flags: str) -> tuple[subprocess.Popen[bytes], int, int]:
    """The identity sample served on this host with these flags (which come last, so they win):
    (server, REST port, metrics port)."""
    http, grpc, metrics = free_port(), free_port(), free_port()
    command = [
        str(Path(sys.executable).with_name("seldon-core-microservice")), "MyModel",
        "--http-port", str(http), "--grpc-port", str(grpc), "--metrics-port", str(metrics), *flags,
    ]  # fmt: skip
    env = {**os.environ, "SELDON_GRPC_FRONT": "off", "LOG_LEVEL": "INFO"}
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=SAMPLES / "python" / "model", env=env, stdout=out, stderr=out)
    return server, http, metrics


def test_a_worker_that_dies_is_replaced_and_counted(tmp_path):
    log = tmp_path / "log"
    server, http, metrics = serve_identity(log, "--workers", "2")
    predict = f"http://127.0.0.1:{http}/api/v1.0/predictions"
    try:
        wait_for(lambda: requests.post(predict, json={"data": {"ndarray": [[1.0]]}}, timeout=2).ok)
        workers = wait_for(lambda: len(children(server.pid)) == 2 and children(server.pid))
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        replaced = wait_for(lambda: len(children(server.pid)) == 2 and victim not in children(server.pid))
        assert replaced and server.poll() is None
        assert "died while serving (killed by SIGKILL): starting a new one" in log.read_text()
        scrape = f"http://127.0.0.1:{metrics}/metrics"
        wait_for(lambda: "seldon_api_worker_restarts_total{" in requests.get(scrape, timeout=2).text)
        rows = requests.get(scrape, timeout=2).text.splitlines()
        line = next(row for row in rows if row.startswith("seldon_api_worker_restarts_total{"))
        assert line.endswith(" 1.0")
        for _ in range(20):  # both workers answer again (the kernel spreads connections over them)
            assert requests.post(predict, json={"data": {"ndarray": [[1.0]]}}, timeout=2).ok
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, log.read_text()


def test_restarting_too_often_stops_the_service():
    recent: list[float] = []
    assert not any(supervisor._restarting_too_often(recent) for _ in range(supervisor.RESTARTS_ALLOWED))
    assert supervisor._restarting_too_often(recent)


def test_a_worker_that_served_max_requests_makes_way_for_a_new_one(tmp_path):
    """Seldon's --max-requests: a worker that answered that many requests (REST and gRPC) stops as
    gracefully as on SIGTERM and a new one takes its place, not counted as a death."""
    log = tmp_path / "log"
    server, http, _ = serve_identity(log, "--workers", "1", "--max-requests", "5", "--access-log")
    predict = f"http://127.0.0.1:{http}/api/v1.0/predictions"
    try:
        first = wait_for(lambda: children(server.pid))
        answered = 0
        while answered < 12:  # a request that meets a worker making way is sent again
            try:
                answered += requests.post(predict, json={"data": {"ndarray": [[1.0]]}}, timeout=2).ok
            except requests.ConnectionError:
                time.sleep(0.1)
        assert wait_for(lambda: children(server.pid) and not children(server.pid) & first)
        # Twelve answers, five a worker: two made way, the second maybe a moment ago.
        replaced = "served its --max-requests: starting a new one"
        try:
            wait_for(lambda: log.read_text().count(replaced) >= 2)
        except AssertionError:
            raise AssertionError(f"not two replacements: {log.read_text()}") from None
        text = log.read_text()
        assert "died while serving" not in text
        assert "POST /api/v1.0/predictions 200" in text  # --access-log
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, log.read_text()


def test_a_taken_grpc_port_stops_the_start_with_a_clear_message(tmp_path):
    """grpcio raises RuntimeError for a port it cannot bind; the service says which port, exit
    status 2 (a start that cannot succeed), no traceback."""
    log = tmp_path / "log"
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server, _http, _metrics = serve_identity(log, "--grpc-port", str(port))
        assert server.wait(timeout=30) == 2, log.read_text()
    assert f"cannot start: cannot bind gRPC port {port}" in log.read_text()
    assert "Traceback" not in log.read_text()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_load_past_model_load_timeout_seconds_ends_the_service_with_one_line(tmp_path, workers):
    (tmp_path / "SlowModel.py").write_text(
        "import time\n\nclass SlowModel:\n    def load(self):\n        time.sleep(60)\n\n"
        "    def predict(self, X, names):\n        return X\n"
    )
    command = [
        str(Path(sys.executable).with_name("seldon-core-microservice")), "SlowModel", "--workers", workers,
        "--http-port", str(free_port()), "--grpc-port", str(free_port()), "--metrics-port", str(free_port()),
    ]  # fmt: skip
    env = {**os.environ, "SELDON_GRPC_FRONT": "off", "MODEL_LOAD_TIMEOUT_SECONDS": "1"}
    began = time.monotonic()
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stderr
    assert time.monotonic() - began < 10
    lines = [line for line in done.stderr.splitlines() if "MODEL_LOAD_TIMEOUT_SECONDS" in line]
    assert 1 <= len(lines) <= int(workers), done.stderr  # a line from each worker that was still loading
    assert "loading SlowModel (its constructor and load()) did not finish within 1 s" in lines[0]
    assert "Traceback" not in done.stderr


def policy_in_a_thread(before: int) -> int:
    """The scheduling policy of a new thread that had `before` and then called
    cli._leave_the_cpu_to_the_front (a thread's own: the test's thread keeps its own)."""
    import threading

    from seldon_serve import cli

    found: list[int] = []

    def run() -> None:
        os.sched_setscheduler(0, before, os.sched_param(0))
        cli._leave_the_cpu_to_the_front()
        found.append(os.sched_getscheduler(0))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return found[0]


def test_a_worker_leaves_the_cpu_to_the_front_unless_its_policy_was_chosen():
    assert policy_in_a_thread(os.SCHED_OTHER) == os.SCHED_BATCH
    assert policy_in_a_thread(os.SCHED_IDLE) == os.SCHED_IDLE  # set by whoever started it: kept
