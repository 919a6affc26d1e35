"""The wrapper's log: a line per record on standard error, as text (LOG_FORMAT=text, the default)
or as one JSON object (LOG_FORMAT=json) with the same fields in every family -- time, level,
logger, pid, message, and on a request's line (the access log) its method, path or gRPC method,
status, bytes, latency and puid; an exception's traceback is the `exception` field, so a record
is always one line."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

# Every process of the tree logs in this form: the pid tells the workers' lines apart.
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"

# The fields a request's line carries besides the message (`extra=` of the access logger), in order.
REQUEST_FIELDS = ("method", "path", "grpc_method", "status", "bytes", "latency_ms", "puid")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for field in REQUEST_FIELDS:
            value = record.__dict__.get(field)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def _utc(created: float) -> str:
    """RFC 3339 in UTC to the millisecond, as the Java wrapper and the gRPC front write it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created % 1 * 1000):03d}Z"


def configure(level: str, log_format: str) -> None:
    """The root logger, for this process (each worker calls it after the fork)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
