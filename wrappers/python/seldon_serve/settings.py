"""Command line and environment, as Seldon's `seldon-core-microservice` reads them."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from . import tracing
from .contract import SERVICE_TYPES, setting
from .endpoints import PROTOCOLS

# The defaults are the contract's (wrappers/proto/contract.yaml), as Java's are.
DEFAULT_MAX_BODY_BYTES: int = setting("REST_MAX_BODY_BYTES").default
DEFAULT_REQUEST_TIMEOUT_SECONDS: int = setting("REQUEST_TIMEOUT_SECONDS").default


@dataclass(frozen=True)
class Settings:
    interface: str
    service_type: str
    parameters: str | None
    host: str
    http_port: int
    grpc_port: int
    metrics_port: int
    metrics_path: str
    workers: int
    grace_seconds: float
    max_message_bytes: int
    log_level: str
    log_format: str = "text"  # LOG_FORMAT: text, or one JSON object a line
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT_SECONDS
    load_timeout: float = 0  # MODEL_LOAD_TIMEOUT_SECONDS (0: no limit)
    protocol: str = "seldon"
    pidfile: str | None = None
    access_log: bool = False
    tracing: bool = False  # TRACING, --tracing or an OTLP endpoint (tracing.wanted)
    payload_passthrough: bool = False
    max_requests: int = 0  # a worker serving this many requests is replaced (0: never)
    max_requests_jitter: int = 0
    keepalive_seconds: float = setting("HTTP_KEEPALIVE_SECONDS").default  # 0: idle connections stay open
    max_connections: int = setting("HTTP_MAX_CONNECTIONS").default
    max_url_bytes: int = setting("HTTP_MAX_URL_BYTES").default
    max_header_bytes: int = setting("HTTP_MAX_HEADER_BYTES").default
    compress_min_bytes: int = setting("REST_COMPRESS_MIN_BYTES").default  # 0: answers never compressed
    # Seldon's thread settings given more than 1, which change nothing here: "GUNICORN_THREADS=8"
    unused_thread_settings: tuple[str, ...] = ()

    def thread_settings_warning(self) -> str | None:
        """What a Seldon user who asked for threads is told at start, or None."""
        if not self.unused_thread_settings:
            return None
        return (
            f"{', '.join(self.unused_thread_settings)}: no effect here -- a worker serves one call at a time, "
            f"REST and gRPC alike, on one thread; calls are served side by side by the workers "
            f"(GUNICORN_WORKERS or --workers, {self.workers} now)"
        )


# Seldon's operator writes the pod's annotations here (the downward API); two of them tune
# the serving: seldon.io/rest-timeout (milliseconds) and seldon.io/grpc-max-message-size.
ANNOTATIONS_FILE = "/etc/podinfo/annotations"
REST_TIMEOUT_ANNOTATION = "seldon.io/rest-timeout"
GRPC_MAX_MESSAGE_ANNOTATION = "seldon.io/grpc-max-message-size"


def annotations(path: str = ANNOTATIONS_FILE) -> dict[str, str]:
    """The pod's annotations, `key="value"` a line; none when the file is absent."""
    found = {}
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return {}
    for line in lines:
        key, equals, value = line.partition("=")
        if equals:
            found[key.strip()] = value.strip().strip('"')
    return found


def _annotated_int(notes: dict[str, str], key: str) -> int | None:
    value = notes.get(key)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        raise SystemExit(f"the pod annotation {key}={value!r} is not a number") from None


def cpu_quota(cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """CPUs this container may use: the cgroup quota when one is set, else the visible CPUs."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = (cgroup_root / "cpu.max").read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


# Seldon's settings for threads in a worker and for gRPC's own processes: flag, variable.
SELDON_THREAD_SETTINGS = (
    ("--threads", "GUNICORN_THREADS"),
    ("--grpc-workers", "GRPC_WORKERS"),
    ("--grpc-threads", "GRPC_THREADS"),
)


def _env_int(name: str, default: int) -> int:
    """A whole-number setting of this wrapper's own (not the contract's)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r} is not a whole number") from None


def _keepalive_default() -> int:
    """HTTP_KEEPALIVE_SECONDS, else Seldon's GUNICORN_KEEPALIVE (which Seldon defaults to 2 s,
    we to the contract's default: README, differences from Seldon)."""
    if os.environ.get("HTTP_KEEPALIVE_SECONDS", "").strip() or not os.environ.get("GUNICORN_KEEPALIVE", "").strip():
        return int(setting("HTTP_KEEPALIVE_SECONDS").read())
    return _env_int("GUNICORN_KEEPALIVE", 0)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seldon-core-microservice",
        description="Serve a Python class over the Seldon microservice API and the Open Inference Protocol.",
        epilog="example: seldon-core-microservice MyModel --service-type MODEL",
    )
    p.add_argument("interface", help="MyModel (MyModel.py defines class MyModel) or package.module.Class")
    p.add_argument("api_type", nargs="?", help=argparse.SUPPRESS)  # Seldon's old positional REST|GRPC: ignored
    p.add_argument("--service-type", type=str.upper, choices=SERVICE_TYPES, default=setting("SERVICE_TYPE").read())
    p.add_argument(
        "--parameters", default=os.environ.get("PREDICTIVE_UNIT_PARAMETERS"), help="JSON list of {name, value, type}"
    )
    p.add_argument(
        "--log-level",
        type=str.upper,
        default=setting("LOG_LEVEL").read(),
        choices=setting("LOG_LEVEL").type,
        help="SELDON_LOG_LEVEL, when set, wins (as in Seldon's wrapper)",
    )
    p.add_argument(
        "--protocol",
        type=str.lower,
        choices=PROTOCOLS,
        default=setting("PROTOCOL").read(),
        help="seldon (Seldon Core 1), v2 (the Open Inference Protocol), or both on the same ports",
    )
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--http-port", type=int, default=setting("PREDICTIVE_UNIT_HTTP_SERVICE_PORT").read())
    p.add_argument("--grpc-port", type=int, default=setting("PREDICTIVE_UNIT_GRPC_SERVICE_PORT").read())
    p.add_argument("--metrics-port", type=int, default=setting("PREDICTIVE_UNIT_METRICS_SERVICE_PORT").read())
    p.add_argument(
        "--workers",
        type=int,
        default=_env_int("GUNICORN_WORKERS", 0),
        help="worker processes (default: the container's CPU quota)",
    )
    p.add_argument(
        "--max-requests",
        type=int,
        default=_env_int("GUNICORN_MAX_REQUESTS", 0),
        help="replace a worker after it served this many requests (0: never)",
    )
    p.add_argument(
        "--max-requests-jitter",
        type=int,
        default=_env_int("GUNICORN_MAX_REQUESTS_JITTER", 0),
        help="up to this many more, at random, so workers are not replaced together",
    )
    p.add_argument(
        "--access-log", nargs="?", const="true", default=os.environ.get("GUNICORN_ACCESS_LOG", ""),
        help="a log line per request (GUNICORN_ACCESS_LOG)",
    )  # fmt: skip
    p.add_argument(
        "--debug", nargs="?", const="true", default=os.environ.get("SELDON_DEBUG", ""),
        help="log at DEBUG, with an access log line per request (SELDON_DEBUG)",
    )  # fmt: skip
    p.add_argument(
        "--keepalive", type=int, default=_keepalive_default(),
        help="close an idle REST connection after this many seconds (HTTP_KEEPALIVE_SECONDS, GUNICORN_KEEPALIVE)",
    )  # fmt: skip
    # Seldon's flags, accepted so its commands and manifests work unchanged. Threads and a
    # separate pool of gRPC workers have no meaning for a single-threaded event-loop worker that
    # serves both transports (--single-threaded is what it always is): asked for, they are named
    # in a warning at start (unused_thread_settings).
    for flag, variable in SELDON_THREAD_SETTINGS:
        p.add_argument(flag, type=int, default=_env_int(variable, 1), help=argparse.SUPPRESS)
    p.add_argument("--single-threaded", help=argparse.SUPPRESS)
    p.add_argument("--persistence", nargs="?", help=argparse.SUPPRESS)
    p.add_argument(
        "--tracing", nargs="?", const="1", default="",
        help="OpenTelemetry tracing, exported over OTLP (TRACING=1; on too when OTEL_EXPORTER_OTLP_ENDPOINT is set)",
    )  # fmt: skip
    p.add_argument("--pidfile", help="write the server's process id to this file")
    p.add_argument("--grace-seconds", type=float, default=float(setting("GRACEFUL_SHUTDOWN_SECONDS").read()))  # type: ignore[arg-type]
    p.add_argument("--max-message-bytes", type=int, default=setting("GRPC_MAX_MESSAGE_BYTES").read())
    return p


def truthy(value: str | None) -> bool:
    """A boolean setting as Seldon reads them: 1, true, t or yes, in any case."""
    return (value or "").strip().lower() in ("1", "true", "t", "yes")


def from_args(argv: list[str] | None = None, annotations_file: str = ANNOTATIONS_FILE) -> Settings:
    args = parser().parse_args(argv)
    if args.protocol not in PROTOCOLS:  # argparse checks a flag's value, not its default from PROTOCOL=
        raise SystemExit(f"PROTOCOL={args.protocol!r} is not one of {', '.join(PROTOCOLS)}")
    debug = truthy(args.debug)
    log_level = os.environ.get("SELDON_LOG_LEVEL", "").strip().upper() or ("DEBUG" if debug else args.log_level)
    if log_level not in setting("LOG_LEVEL").type:
        raise SystemExit(f"SELDON_LOG_LEVEL={log_level!r} is not one of {', '.join(setting('LOG_LEVEL').type)}")
    notes = annotations(annotations_file)
    # An explicit setting wins over the deployment's annotation, which wins over the default.
    rest_timeout_ms = _annotated_int(notes, REST_TIMEOUT_ANNOTATION)
    request_timeout: int = setting("REQUEST_TIMEOUT_SECONDS").read()
    if rest_timeout_ms is not None and "REQUEST_TIMEOUT_SECONDS" not in os.environ:
        request_timeout = max(1, rest_timeout_ms // 1000)
    max_message = _annotated_int(notes, GRPC_MAX_MESSAGE_ANNOTATION)
    if (
        max_message is not None
        and "GRPC_MAX_MESSAGE_BYTES" not in os.environ
        and "--max-message-bytes" not in (argv or sys.argv)
    ):
        args.max_message_bytes = max_message
    return Settings(
        interface=args.interface,
        service_type=args.service_type,
        parameters=args.parameters,
        host=args.host,
        http_port=args.http_port,
        grpc_port=args.grpc_port,
        metrics_port=args.metrics_port,
        metrics_path=setting("PREDICTIVE_UNIT_METRICS_ENDPOINT").read(),
        workers=args.workers if args.workers > 0 else cpu_quota(),
        grace_seconds=args.grace_seconds,
        max_message_bytes=args.max_message_bytes,
        log_level=log_level,
        log_format=setting("LOG_FORMAT").read(),
        max_body_bytes=setting("REST_MAX_BODY_BYTES").read(),
        request_timeout=request_timeout,
        load_timeout=max(0, setting("MODEL_LOAD_TIMEOUT_SECONDS").read()),
        protocol=args.protocol,
        pidfile=args.pidfile,
        access_log=debug or truthy(args.access_log) or truthy(setting("ACCESS_LOG").read()),
        tracing=tracing.wanted(truthy(args.tracing)),
        payload_passthrough=truthy(os.environ.get("PAYLOAD_PASSTHROUGH")),
        max_requests=max(0, args.max_requests),
        max_requests_jitter=max(0, args.max_requests_jitter),
        keepalive_seconds=max(0, args.keepalive),
        max_connections=_positive("HTTP_MAX_CONNECTIONS"),
        max_url_bytes=_positive("HTTP_MAX_URL_BYTES"),
        max_header_bytes=_positive("HTTP_MAX_HEADER_BYTES"),
        compress_min_bytes=max(0, setting("REST_COMPRESS_MIN_BYTES").read()),
        unused_thread_settings=_unused_thread_settings(args, sys.argv[1:] if argv is None else argv),
    )


def _unused_thread_settings(args: argparse.Namespace, argv: list[str]) -> tuple[str, ...]:
    """Each of Seldon's thread settings above 1, as it was given: the flag, else the variable."""
    unused = []
    for flag, variable in SELDON_THREAD_SETTINGS:
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value > 1:
            given = any(word == flag or word.startswith(flag + "=") for word in argv)
            unused.append(f"{flag} {value}" if given else f"{variable}={value}")
    return tuple(unused)


def _positive(name: str) -> int:
    value: int = setting(name).read()
    if value < 1:
        raise SystemExit(f"{name}={value} must be at least 1")
    return value
