"""The process tree: one worker in this process, or forked workers restarted when they die and
replaced when they recycle (--max-requests), and the gRPC front beside them.

What a worker does is not known here: cli hands over run_worker, which serves in the calling
process until told to stop and returns its exit status.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.synchronize
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from . import logs, settings, tracing
from .errors import EXIT_CANNOT_START, StartupError

log = logging.getLogger("seldon_serve")


@dataclass
class Plan:
    """What this process tree serves, decided once before any worker starts."""

    config: settings.Settings
    runtime_dir: str
    front: str | None  # the gRPC front's executable, or None for grpc.aio in the workers
    bridge: socket.socket | None = None  # the Unix socket the front calls the workers on
    metrics_in_worker: bool = True
    recycled: bool = False  # this worker stopped after --max-requests

    @property
    def bridge_path(self) -> str:
        return os.path.join(self.runtime_dir, "grpc.sock")


class RunWorker(Protocol):
    """Serve as one worker in this process until SIGTERM or SIGINT; on_ready is called once it
    runs its event loop. The exit status: 0, EXIT_RECYCLED, or a failure."""

    def __call__(self, plan: Plan, on_ready: Callable[[], None] | None = None) -> int: ...


# A worker that dies while serving is restarted; one that dies this often this quickly is not
# going to get better, so the whole service stops (non-zero) and Kubernetes' back-off takes over.
RESTARTS_ALLOWED = 5
RESTART_WINDOW_SECONDS = 60.0
# A worker that served its --max-requests exits with this status, and is replaced without
# counting as a death.
EXIT_RECYCLED = 75


# ---- the gRPC front ------------------------------------------------------------------------


def bind_bridge(plan: Plan) -> None:
    if plan.front is None:
        return
    bridge = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bridge.bind(plan.bridge_path)
    bridge.listen(1024)
    plan.bridge = bridge


def start_front(plan: Plan) -> subprocess.Popen[bytes]:
    config = plan.config
    assert plan.front is not None
    cmd = [
        plan.front, "-listen", f"{config.host}:{config.grpc_port}", "-backend", plan.bridge_path,
        "-max-message-bytes", str(config.max_message_bytes), "-grace", f"{config.grace_seconds}s",
        "-workers", str(config.workers),
    ]  # fmt: skip
    if config.tracing:  # the workers continue a call's trace from its metadata
        cmd += ["-pass-headers", ",".join(tracing.propagated_headers())]
    return subprocess.Popen(cmd)


def watch_front(front: subprocess.Popen[bytes], stopping: threading.Event, stop_all: Callable[[int], None]) -> None:
    """A gRPC front that dies while serving takes the service down with it (exit status
    non-zero), so Kubernetes restarts the pod; one that exits because we are stopping is fine."""

    def wait() -> None:
        code = front.wait()
        if not stopping.is_set():
            log.error("the gRPC front exited (%d): stopping", code)
            stop_all(code or 1)

    threading.Thread(target=wait, name="grpc-front", daemon=True).start()


def stop_front(front: subprocess.Popen[bytes] | None, grace: float) -> None:
    if front is None or front.poll() is not None:
        return
    front.terminate()
    try:
        front.wait(timeout=grace + 5)
    except subprocess.TimeoutExpired:
        front.kill()


# ---- one worker, in this process -----------------------------------------------------------


def serve_single(plan: Plan, run_worker: RunWorker) -> int:
    """One worker in this process, plus the gRPC front when there is one."""
    bind_bridge(plan)
    front: subprocess.Popen[bytes] | None = None
    front_failed = threading.Event()
    stopping = threading.Event()

    def stop_all(_code: int) -> None:
        front_failed.set()
        os.kill(os.getpid(), signal.SIGTERM)

    def launch_front() -> None:
        nonlocal front
        if plan.front is not None:
            front = start_front(plan)
            watch_front(front, stopping, stop_all)

    try:
        status = run_worker(plan, on_ready=launch_front)
    finally:
        stopping.set()
        stop_front(front, plan.config.grace_seconds)
    return 1 if front_failed.is_set() else status


# ---- forked workers --------------------------------------------------------------------------


def _worker_entry(plan: Plan, run_worker: RunWorker, loaded: multiprocessing.synchronize.Event) -> None:
    logs.configure(plan.config.log_level, plan.config.log_format)
    plan.metrics_in_worker = False
    sys.exit(guarded(functools.partial(run_worker, on_ready=loaded.set), plan))


def supervise(plan: Plan, run_worker: RunWorker) -> int:
    """Fork the workers, start the front, serve the summed metrics; pass SIGTERM on; restart a
    worker that dies while serving; exit with the first failure or 0."""
    config = plan.config
    # Workers write metric values here; prometheus_client reads the variable when first imported.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(plan.runtime_dir, "metrics")
    os.mkdir(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    bind_bridge(plan)
    context = multiprocessing.get_context("fork")
    loaded = context.Event()  # set by the first worker to have loaded the model

    def start_worker(slot: int) -> multiprocessing.process.BaseProcess:
        worker = context.Process(target=_worker_entry, args=(plan, run_worker, loaded), name=f"worker-{slot}")
        worker.start()
        return worker

    workers = [start_worker(slot) for slot in range(config.workers)]
    fronts: list[subprocess.Popen[bytes]] = []  # the front, once started
    stopping = threading.Event()

    def forward(signum: int, _frame: object = None) -> None:
        stopping.set()
        for worker in workers:
            if worker.is_alive() and worker.pid:
                os.kill(worker.pid, signum)
        for front in fronts:
            if front.poll() is None:
                front.send_signal(signum)

    failures: list[int] = []

    def stop_all(code: int) -> None:
        failures.append(code)
        forward(signal.SIGTERM)

    launcher = threading.Thread(target=_launch_front, args=(plan, loaded, stopping, fronts, stop_all), daemon=True)
    launcher.start()
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    _watch_workers(plan, workers, start_worker, stopping, stop_all)
    for worker in workers:
        worker.join()
        if worker.exitcode and worker.exitcode != EXIT_RECYCLED and not failures:
            failures.append(worker.exitcode)
    launcher.join()
    stop_front(fronts[0] if fronts else None, config.grace_seconds)
    return failures[0] if failures else 0


def _launch_front(
    plan: Plan,
    loaded: multiprocessing.synchronize.Event,
    stopping: threading.Event,
    fronts: list[subprocess.Popen[bytes]],
    stop_all: Callable[[int], None],
) -> None:
    """Start the gRPC front once a worker has loaded the model: until then the gRPC port stays
    closed, as the REST port does, for a TCP readiness probe (Seldon's operator's default)."""
    if plan.front is None:
        return
    while not loaded.wait(0.2):
        if stopping.is_set():
            return
    if not stopping.is_set():
        front = start_front(plan)
        fronts.append(front)
        watch_front(front, stopping, stop_all)


def _watch_workers(
    plan: Plan,
    workers: list[multiprocessing.process.BaseProcess],
    start_worker: Callable[[int], multiprocessing.process.BaseProcess],
    stopping: threading.Event,
    stop_all: Callable[[int], None],
) -> None:
    """Serve the summed metrics and replace workers as they exit, until the service stops."""
    from . import metrics

    config = plan.config
    restarts = metrics.worker_restarts()
    metrics.serve(config.host, config.metrics_port, config.metrics_path, multiprocess=True)
    recent: list[float] = []
    while not stopping.is_set():
        multiprocessing.connection.wait([worker.sentinel for worker in workers])
        for slot, worker in enumerate(workers):
            if worker.exitcode is None or stopping.is_set():
                continue
            if worker.exitcode == EXIT_RECYCLED:
                log.info("%s served its --max-requests: starting a new one", worker.name)
                workers[slot] = start_worker(slot)
                continue
            if worker.exitcode == EXIT_CANNOT_START or _restarting_too_often(recent):
                log.error("%s exited (%s): stopping", worker.name, _how(worker.exitcode))
                stop_all(worker.exitcode or 1)
                break
            log.error("%s died while serving (%s): starting a new one", worker.name, _how(worker.exitcode))
            restarts.inc()
            workers[slot] = start_worker(slot)


def _restarting_too_often(recent: list[float]) -> bool:
    now = time.monotonic()
    recent[:] = [t for t in recent if now - t < RESTART_WINDOW_SECONDS] + [now]
    return len(recent) > RESTARTS_ALLOWED


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"killed by {signal.Signals(-exitcode).name}"
    return f"exit status {exitcode}"


def guarded(fn: Callable[[Plan], int], plan: Plan) -> int:
    """fn(plan), a failure to start being exit status 2 (a supervisor does not restart it)."""
    try:
        return fn(plan)
    except StartupError as exc:
        log.error("cannot start (%s): %s", exc.reason, exc)
        return EXIT_CANNOT_START
    except OSError as exc:
        log.error("cannot start: %s", exc)
        return EXIT_CANNOT_START
