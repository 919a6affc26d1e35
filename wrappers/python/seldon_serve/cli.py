"""`seldon-core-microservice`: load the user's class once per worker, serve REST and gRPC."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile

from . import component, settings
from .errors import StartupError
from .microservice import Microservice

log = logging.getLogger("seldon_serve")


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


async def serve_worker(config: settings.Settings, serves_metrics_elsewhere: bool = False) -> int:
    # Imported here so a supervising parent never initialises gRPC before it forks.
    from . import grpc_server, metrics, rest

    service = load_service(config)
    if not serves_metrics_elsewhere:
        metrics.serve(config.host, config.metrics_port, config.metrics_path, multiprocess=False)
    http, http_state = await rest.serve(service, config.host, config.http_port)
    grpc = await grpc_server.serve(service, config.host, config.grpc_port, config.max_message_bytes)
    log.info(
        "pid %d serving %s as %s: REST :%d, gRPC :%d, metrics :%d%s",
        os.getpid(),
        config.interface,
        config.service_type,
        config.http_port,
        config.grpc_port,
        config.metrics_port,
        config.metrics_path,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("pid %d shutting down: finishing requests in progress", os.getpid())
    await asyncio.gather(rest.shutdown(http, http_state, config.grace_seconds), grpc.stop(config.grace_seconds))
    return 0


def run_worker(config: settings.Settings, serves_metrics_elsewhere: bool = False) -> int:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(serve_worker(config, serves_metrics_elsewhere))
    return uvloop.run(serve_worker(config, serves_metrics_elsewhere))


def _worker_entry(config: settings.Settings) -> None:
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s")
    sys.exit(_guarded(lambda c: run_worker(c, serves_metrics_elsewhere=True), config))


def _guarded(fn, config: settings.Settings) -> int:  # type: ignore[no-untyped-def]
    try:
        return fn(config)
    except StartupError as exc:
        log.error("cannot start (%s): %s", exc.reason, exc)
        return 2
    except OSError as exc:
        log.error("cannot start: %s", exc)
        return 2


def supervise(config: settings.Settings) -> int:
    """Fork the workers and serve their summed metrics; pass SIGTERM on; exit with the first failure or 0."""
    # Workers write metric values here; prometheus_client reads the variable when first imported.
    multiproc_dir = tempfile.mkdtemp(prefix="seldon-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiproc_dir
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_worker_entry, args=(config,), name=f"worker-{i}") for i in range(config.workers)]
    for worker in workers:
        worker.start()

    def forward(signum: int, _frame: object) -> None:
        for worker in workers:
            if worker.is_alive() and worker.pid:
                os.kill(worker.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    from . import metrics

    metrics.serve(config.host, config.metrics_port, config.metrics_path, multiprocess=True)
    status = 0
    for worker in workers:
        worker.join()
        if worker.exitcode and not status:
            status = worker.exitcode
            forward(signal.SIGTERM, None)  # one worker could not run: stop the rest too
    shutil.rmtree(multiproc_dir, ignore_errors=True)
    return status


def main(argv: list[str] | None = None) -> None:
    config = settings.from_args(argv)
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s")
    if config.workers == 1:
        sys.exit(_guarded(run_worker, config))
    log.info("starting %d workers", config.workers)
    sys.exit(supervise(config))


if __name__ == "__main__":
    main()
