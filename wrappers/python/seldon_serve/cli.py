"""`seldon-core-microservice`: load the user's class once per worker, serve REST and gRPC.

Processes (supervisor): with one worker, this process serves; with more, it forks the workers
and serves their summed Prometheus metrics. gRPC is served by the Rust front (wrappers/grpc-front,
in every image as `seldon-grpc-front`) talking to the workers over a Unix socket (bridge), or --
where the front is not installed or SELDON_GRPC_FRONT=off -- by grpc.aio inside each worker.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import shutil
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable

from . import (
    __version__,
    component,
    custom_service,
    deadlines,
    endpoints,
    http_server,
    liveness,
    logs,
    settings,
    tracing,
)
from .errors import EXIT_CANNOT_START, StartupError
from .microservice import Microservice
from .supervisor import EXIT_RECYCLED, Plan, guarded, serve_single, supervise

log = logging.getLogger("seldon_serve")


def find_front() -> str | None:
    choice = os.environ.get("SELDON_GRPC_FRONT", "")
    if choice.lower() in ("off", "none", "false", "0"):
        return None
    return choice or shutil.which("seldon-grpc-front")


def load_service(config: settings.Settings) -> Microservice:
    from .metrics import Metrics

    cls = component.import_class(config.interface)
    with deadlines.load_deadline(config.load_timeout, f"loading {cls.__name__} (its constructor and load())"):
        user = component.construct(cls, component.parse_parameters(config.parameters))
        if callable(getattr(user, "load", None)):
            try:
                user.load()
            except Exception as exc:
                raise StartupError(f"{cls.__name__}.load() failed: {type(exc).__name__}: {exc}") from exc
    return Microservice(user, config.service_type, model_name=cls.__name__, metrics=Metrics())


Stopper = Callable[[float], Awaitable[None]]  # stops a server, given the grace in seconds


async def serve_worker(plan: Plan, stop: asyncio.Event) -> int:
    # Imported here so a supervising parent never initialises gRPC before it forks.
    from . import metrics, rest

    config = plan.config
    # Before the model loads: a model's own spans, from load() on, go through the same provider.
    traced = tracing.start(_service_name(config), __version__) if config.tracing else None
    service = load_service(config)
    custom_service.start(service.user, plan.runtime_dir)  # Seldon's: once for the whole server
    if traced is not None:
        traced.instrument(service)
    deadlines.watch_deadlines(config.request_timeout)  # after load(), which may rightly take long
    served = endpoints.for_protocol(service, config.protocol, __version__)
    if plan.metrics_in_worker:
        metrics.serve(config.host, config.metrics_port, config.metrics_path, multiprocess=False)
    budget = _budget(config, stop)
    on_answered = budget.spend if budget is not None else None
    limits = http_server.Limits(
        config.keepalive_seconds, config.max_connections, config.max_url_bytes, config.max_header_bytes
    )
    state = http_server.ServerState(
        config.max_body_bytes, "REST_MAX_BODY_BYTES", limits=limits, compress_min_bytes=config.compress_min_bytes,
        access_log=config.access_log, on_answered=on_answered,
    )  # fmt: skip
    router = _traced(rest.router(served, config.payload_passthrough), traced)
    http = await http_server.serve(router, config.host, config.http_port, state)
    stop_watching = liveness.watching(http, router, state)
    grpc_via, stop_grpc = await _serve_grpc(plan, served, on_answered, traced)
    log.info(
        "serving %s as %s (protocol %s): REST :%d, gRPC :%d (%s), metrics :%d%s",
        config.interface, config.service_type, config.protocol, config.http_port, config.grpc_port, grpc_via,
        config.metrics_port, config.metrics_path,
    )  # fmt: skip
    await stop.wait()
    log.info("shutting down: finishing requests in progress")
    plan.recycled = budget is not None and budget.left <= 0
    stop_watching()
    await asyncio.gather(http_server.shutdown(http, state, config.grace_seconds), stop_grpc(config.grace_seconds))
    if traced is not None:
        traced.shutdown()  # the spans of the last requests
    return EXIT_RECYCLED if plan.recycled else 0


def _service_name(config: settings.Settings) -> str:
    """The traces' service.name unless OTEL_SERVICE_NAME says: the unit's id in its graph, else
    the model's class."""
    return os.environ.get("PREDICTIVE_UNIT_ID") or config.interface.rpartition(".")[2]


def _traced(handler: http_server.Handler, traced: tracing.Tracing | None) -> http_server.Handler:
    return handler if traced is None else traced.handler(handler)


def _budget(config: settings.Settings, stop: asyncio.Event) -> http_server.RequestBudget | None:
    """--max-requests (plus a random part of --max-requests-jitter, so that workers started
    together do not all make way at once): then the worker stops."""
    if config.max_requests <= 0:
        return None
    return http_server.RequestBudget(config.max_requests + random.randint(0, config.max_requests_jitter), stop.set)


async def _serve_grpc(
    plan: Plan, served: endpoints.Endpoints, on_answered: Callable[[], None] | None, traced: tracing.Tracing | None
) -> tuple[str, Stopper]:
    """gRPC for the front, over the bridge's socket, or on grpc.aio: (by what, how to stop it)."""
    from . import bridge, grpc_server

    config = plan.config
    if plan.bridge is not None:
        state = http_server.ServerState(
            config.max_message_bytes, "GRPC_MAX_MESSAGE_BYTES", access_log=config.access_log, on_answered=on_answered
        )
        server = await bridge.serve_link(_traced(bridge.Bridge(served), traced), plan.bridge, state)
        return "the gRPC front", functools.partial(http_server.shutdown, server, state)
    aio = await grpc_server.serve(served, config.host, config.grpc_port, config.max_message_bytes, traced)
    return "grpc.aio", aio.stop


def run_worker(plan: Plan, on_ready: Callable[[], None] | None = None) -> int:
    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if on_ready is not None:
            loop.call_soon(on_ready)
        if plan.front is not None:
            loop.call_soon(_leave_the_cpu_to_the_front)  # after on_ready: the front keeps its policy
        return await serve_worker(plan, stop)

    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    return uvloop.run(main())


def _leave_the_cpu_to_the_front() -> None:
    """SCHED_BATCH for this worker's main thread (and the threads it starts from now on): woken
    by the gRPC front's calls, it no longer takes the CPU from the front at once. On a CPU they
    share, the front then sends the answers and reads the calls it has in hand before the
    worker runs, and the worker answers more calls each time it wakes: about half the context
    switches a call, and 7-12% more gRPC calls a second on one CPU (the README's performance
    notes). REST is served as before; any policy but the default is left as the user set it."""
    try:
        if os.sched_getscheduler(0) == os.SCHED_OTHER:
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError) as exc:  # not Linux, or a seccomp profile that refuses it
        log.debug("the worker's scheduling policy stays as it is: %s", exc)


def main(argv: list[str] | None = None) -> None:
    config = settings.from_args(argv)
    logs.configure(config.log_level, config.log_format)
    if (unused := config.thread_settings_warning()) is not None:
        log.warning(unused)
    if config.tracing and (unread := tracing.unread_jaeger_settings()) is not None:
        log.warning(unread)
    if config.pidfile:
        with open(config.pidfile, "w") as pidfile:
            pidfile.write(f"{os.getpid()}\n")
    front = find_front()
    if front is not None and not os.access(front, os.X_OK):
        log.error(
            "cannot start: SELDON_GRPC_FRONT=%s is not an executable (set it to off to serve gRPC in-process)", front
        )
        sys.exit(EXIT_CANNOT_START)
    runtime_dir = tempfile.mkdtemp(prefix="seldon-serve-")
    plan = Plan(config, runtime_dir, front)
    try:
        if config.workers == 1 and config.max_requests == 0:  # recycling a worker needs a supervisor
            sys.exit(guarded(functools.partial(serve_single, run_worker=run_worker), plan))
        log.info("starting %d workers", config.workers)
        sys.exit(supervise(plan, run_worker))
    finally:
        shutil.rmtree(runtime_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
