"""`seldon-core-microservice`: load the user's class once per worker, serve REST and gRPC.

Processes: with one worker, this process serves; with more, it forks the workers and serves
their summed Prometheus metrics. gRPC is served by the Go front (wrappers/grpc-front, in every
image as `seldon-grpc-front`) talking to the workers over a Unix socket, or -- where the front
is not installed or SELDON_GRPC_FRONT=off -- by grpc.aio inside each worker.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import __version__, component, endpoints, microservice, settings
from .errors import StartupError
from .microservice import Microservice

log = logging.getLogger("seldon_serve")
LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"


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


def find_front() -> str | None:
    choice = os.environ.get("SELDON_GRPC_FRONT", "")
    if choice.lower() in ("off", "none", "false", "0"):
        return None
    return choice or shutil.which("seldon-grpc-front")


def load_service(config: settings.Settings) -> Microservice:
    from .metrics import Metrics

    cls = component.import_class(config.interface)
    user = component.construct(cls, component.parse_parameters(config.parameters))
    if callable(getattr(user, "load", None)):
        try:
            user.load()
        except Exception as exc:
            raise StartupError(f"{cls.__name__}.load() failed: {type(exc).__name__}: {exc}") from exc
    return Microservice(user, config.service_type, model_name=cls.__name__, metrics=Metrics())


async def serve_worker(plan: Plan, stop: asyncio.Event) -> int:
    # Imported here so a supervising parent never initialises gRPC before it forks.
    from . import grpc_server, metrics, rest

    config = plan.config
    service = load_service(config)
    microservice.watch_deadlines(config.request_timeout)  # after load(), which may rightly take long
    served = endpoints.for_protocol(service, config.protocol, __version__)
    if plan.metrics_in_worker:
        metrics.serve(config.host, config.metrics_port, config.metrics_path, multiprocess=False)
    budget = None
    if config.max_requests > 0:
        budget = rest.RequestBudget(config.max_requests + random.randint(0, config.max_requests_jitter), stop.set)
    http, http_state = await rest.serve(
        served, config.host, config.http_port, max_body_bytes=config.max_body_bytes, access_log=config.access_log,
        budget=budget, payload_passthrough=config.payload_passthrough,
    )  # fmt: skip
    if plan.bridge is not None:
        bridge, bridge_state = await rest.serve_bridge(served, plan.bridge, config.max_message_bytes, budget)
        grpc_via = "the gRPC front"
    else:
        aio = await grpc_server.serve(served, config.host, config.grpc_port, config.max_message_bytes)
        grpc_via = "grpc.aio"
    log.info(
        "serving %s as %s (protocol %s): REST :%d, gRPC :%d (%s), metrics :%d%s",
        config.interface, config.service_type, config.protocol, config.http_port, config.grpc_port, grpc_via,
        config.metrics_port, config.metrics_path,
    )  # fmt: skip
    await stop.wait()
    log.info("shutting down: finishing requests in progress")
    plan.recycled = budget is not None and budget.left <= 0
    closing = [rest.shutdown(http, http_state, config.grace_seconds)]
    if plan.bridge is not None:
        closing.append(rest.shutdown(bridge, bridge_state, config.grace_seconds))
    else:
        closing.append(aio.stop(config.grace_seconds))
    await asyncio.gather(*closing)
    return EXIT_RECYCLED if plan.recycled else 0


def run_worker(plan: Plan, on_ready: Callable[[], None] | None = None) -> int:
    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if on_ready is not None:
            loop.call_soon(on_ready)
        return await serve_worker(plan, stop)

    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    return uvloop.run(main())


def start_front(plan: Plan) -> subprocess.Popen[bytes]:
    config = plan.config
    assert plan.front is not None
    cmd = [
        plan.front, "-listen", f"{config.host}:{config.grpc_port}", "-backend", plan.bridge_path,
        "-max-message-bytes", str(config.max_message_bytes), "-grace", f"{config.grace_seconds}s",
    ]  # fmt: skip
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


def bind_bridge(plan: Plan) -> None:
    if plan.front is None:
        return
    bridge = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bridge.bind(plan.bridge_path)
    bridge.listen(1024)
    plan.bridge = bridge


def serve_single(plan: Plan) -> int:
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


def _worker_entry(plan: Plan) -> None:
    logging.basicConfig(level=plan.config.log_level, format=LOG_FORMAT)
    plan.metrics_in_worker = False
    sys.exit(guarded(run_worker, plan))


# A worker that dies while serving is restarted; one that dies this often this quickly is not
# going to get better, so the whole service stops (non-zero) and Kubernetes' back-off takes over.
RESTARTS_ALLOWED = 5
RESTART_WINDOW_SECONDS = 60.0
# A worker that served its --max-requests exits with this status, and is replaced without
# counting as a death.
EXIT_RECYCLED = 75


def supervise(plan: Plan) -> int:
    """Fork the workers, start the front, serve the summed metrics; pass SIGTERM on; restart a
    worker that dies while serving; exit with the first failure or 0."""
    config = plan.config
    # Workers write metric values here; prometheus_client reads the variable when first imported.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(plan.runtime_dir, "metrics")
    os.mkdir(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    bind_bridge(plan)
    context = multiprocessing.get_context("fork")

    def start_worker(slot: int) -> multiprocessing.process.BaseProcess:
        worker = context.Process(target=_worker_entry, args=(plan,), name=f"worker-{slot}")
        worker.start()
        return worker

    workers = [start_worker(slot) for slot in range(config.workers)]
    front = start_front(plan) if plan.front else None
    stopping = threading.Event()

    def forward(signum: int, _frame: object = None) -> None:
        stopping.set()
        for worker in workers:
            if worker.is_alive() and worker.pid:
                os.kill(worker.pid, signum)
        if front is not None and front.poll() is None:
            front.send_signal(signum)

    failures: list[int] = []

    def stop_all(code: int) -> None:
        failures.append(code)
        forward(signal.SIGTERM)

    if front is not None:
        watch_front(front, stopping, stop_all)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    from . import metrics

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
            if worker.exitcode == 2 or _restarting_too_often(recent):  # 2: could not load the model
                log.error("%s exited (%s): stopping", worker.name, _how(worker.exitcode))
                stop_all(worker.exitcode or 1)
                break
            log.error("%s died while serving (%s): starting a new one", worker.name, _how(worker.exitcode))
            restarts.inc()
            workers[slot] = start_worker(slot)
    for worker in workers:
        worker.join()
        if worker.exitcode and worker.exitcode != EXIT_RECYCLED and not failures:
            failures.append(worker.exitcode)
    stop_front(front, config.grace_seconds)
    return failures[0] if failures else 0


def _restarting_too_often(recent: list[float]) -> bool:
    now = time.monotonic()
    recent[:] = [t for t in recent if now - t < RESTART_WINDOW_SECONDS] + [now]
    return len(recent) > RESTARTS_ALLOWED


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"killed by {signal.Signals(-exitcode).name}"
    return f"exit status {exitcode}"


def guarded(fn: Callable[[Plan], int], plan: Plan) -> int:
    try:
        return fn(plan)
    except StartupError as exc:
        log.error("cannot start (%s): %s", exc.reason, exc)
        return 2
    except OSError as exc:
        log.error("cannot start: %s", exc)
        return 2


def main(argv: list[str] | None = None) -> None:
    config = settings.from_args(argv)
    logging.basicConfig(level=config.log_level, format=LOG_FORMAT)
    if config.pidfile:
        with open(config.pidfile, "w") as pidfile:
            pidfile.write(f"{os.getpid()}\n")
    front = find_front()
    if front is not None and not os.access(front, os.X_OK):
        log.error(
            "cannot start: SELDON_GRPC_FRONT=%s is not an executable (set it to off to serve gRPC in-process)", front
        )
        sys.exit(2)
    runtime_dir = tempfile.mkdtemp(prefix="seldon-serve-")
    plan = Plan(config, runtime_dir, front)
    try:
        if config.workers == 1 and config.max_requests == 0:  # recycling a worker needs a supervisor
            sys.exit(guarded(serve_single, plan))
        log.info("starting %d workers", config.workers)
        sys.exit(supervise(plan))
    finally:
        shutil.rmtree(runtime_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
