"""Prometheus: the user's metrics() and feedback, exposed on the metrics port.

With several workers each process writes its values to files under PROMETHEUS_MULTIPROC_DIR
(set by the supervisor before it forks) and the supervisor serves their sum; with one worker
the process serves its own registry. Health probes never touch these (unlike Seldon's wrapper).
"""

from __future__ import annotations

import logging
import os
import re
import socketserver
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .contract import METRICS
from .errors import INTERNAL_ERROR, SeldonMicroserviceException

log = logging.getLogger(__name__)

METRIC_TYPES = ("COUNTER", "GAUGE", "TIMER")
_INVALID_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_]")
# Where this unit sits in a Seldon deployment; every metric carries these as labels.
_IDENTITY_LABELS = {
    "deployment_name": "SELDON_DEPLOYMENT_ID",
    "predictor_name": "PREDICTOR_ID",
    "model_name": "PREDICTIVE_UNIT_ID",
    "model_image": "PREDICTIVE_UNIT_IMAGE",
}


def prometheus_name(key: str) -> str:
    """A user's metric key or tag as a name Prometheus can parse (`model-version` ->
    `model_version`): one such name must not make the whole scrape unreadable."""
    name = _INVALID_NAME_CHARS.sub("_", key)
    return f"_{name}" if name[:1].isdigit() else name


class BadMetrics(SeldonMicroserviceException):
    def __init__(self, message: str):
        super().__init__(f"metrics() returned {message}", status_code=500, reason=INTERNAL_ERROR)


def validate(metrics: Any) -> list[dict[str, Any]]:
    """The user's metrics() result, checked, in the form meta.metrics carries."""
    if not isinstance(metrics, list):
        raise BadMetrics(f"{type(metrics).__name__}; expected a list of {{key, type, value[, tags]}}")
    checked = []
    for metric in metrics:
        if not isinstance(metric, dict) or not isinstance(metric.get("key"), str):
            raise BadMetrics(f"{metric!r}: each metric needs a string key")
        kind = metric.get("type", "COUNTER")
        if kind not in METRIC_TYPES:
            raise BadMetrics(f"{metric['key']!r} with type {kind!r}; use one of {', '.join(METRIC_TYPES)}")
        value = metric.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadMetrics(f"{metric['key']!r} with value {value!r}; values are numbers")
        tags = metric.get("tags") or {}
        if not isinstance(tags, dict):
            raise BadMetrics(f"{metric['key']!r} with tags {tags!r}; tags are a mapping")
        entry = {"key": metric["key"], "type": kind, "value": float(value)}
        if tags:
            entry["tags"] = {str(k): str(v) for k, v in tags.items()}
        checked.append(entry)
    return checked


def _identity() -> dict[str, str]:
    return {label: os.environ.get(env, "") for label, env in _IDENTITY_LABELS.items()}


def worker_restarts() -> Any:
    """The supervisor's count of workers started again after one died while serving."""
    import prometheus_client as prom

    identity = _identity()
    return prom.Counter(
        "seldon_api_worker_restarts", "Workers restarted after dying while serving", list(identity)
    ).labels(**identity)


def spans_dropped() -> Any:
    """Spans the tracing exporter could not deliver (tracing.py), while tracing is on."""
    import prometheus_client as prom

    identity, dropped = _identity(), METRICS["spans_dropped"]
    return prom.Counter(dropped["name"], dropped["help"], list(identity)).labels(**identity)


class Metrics:
    def __init__(self) -> None:
        import prometheus_client as prom

        self._prom = prom
        self.identity = _identity()
        names = list(self.identity)
        # Children made now, so a scrape shows 0 before the first feedback rather than nothing.
        feedback, reward = METRICS["feedback"], METRICS["reward"]
        self.feedback = prom.Counter(feedback["name"], feedback["help"], names).labels(**self.identity)
        self.reward = prom.Counter(reward["name"], reward["help"], names).labels(**self.identity)
        self._user: dict[tuple[str, str], tuple[Any, tuple[str, ...]]] = {}
        self._lock = threading.Lock()

    def record_feedback(self, reward: float) -> None:
        self.feedback.inc()
        if reward:  # a reward of 0 is a feedback counted above, with nothing to add
            self.reward.inc(reward)

    def record_user(self, metrics: list[dict[str, Any]]) -> None:
        for metric in metrics:
            prom_metric, labelnames = self._user_metric(metric)
            labels = {**self.identity, **{prometheus_name(k): v for k, v in metric.get("tags", {}).items()}}
            child = prom_metric.labels(*(labels.get(name, "") for name in labelnames))
            if metric["type"] == "COUNTER":
                child.inc(metric["value"])
            elif metric["type"] == "GAUGE":
                child.set(metric["value"])
            else:
                child.observe(metric["value"] / 1000)  # TIMER values are milliseconds

    def _user_metric(self, metric: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:
        key = (metric["key"], metric["type"])
        found = self._user.get(key)
        if found is not None:
            return found
        with self._lock:
            if key not in self._user:
                name = prometheus_name(metric["key"])
                # A metric's label names are fixed by its first use; later tags fill those names.
                tags = {prometheus_name(tag) for tag in metric.get("tags", {})}
                labelnames = tuple(self.identity) + tuple(sorted(tags - set(self.identity)))
                prom = self._prom
                if metric["type"] == "COUNTER":
                    created = prom.Counter(name, f"user counter {metric['key']}", labelnames)
                elif metric["type"] == "GAUGE":
                    created = prom.Gauge(
                        name, f"user gauge {metric['key']}", labelnames, multiprocess_mode="mostrecent"
                    )
                else:
                    created = prom.Histogram(name, f"user timer {metric['key']} (seconds)", labelnames)
                self._user[key] = (created, labelnames)
            return self._user[key]


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(host: str, port: int, path: str, *, multiprocess: bool) -> WSGIServer:
    """Expose the registry at http://host:port/path from a daemon thread."""
    import prometheus_client as prom
    from prometheus_client import multiprocess as prom_multiprocess

    registry = prom.REGISTRY
    if multiprocess:
        registry = prom.CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry)
    metrics_app = prom.make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").rstrip("/") != path.rstrip("/"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [f"metrics are at {path}\n".encode()]
        return metrics_app(environ, start_response)

    server = make_server(host, port, app, server_class=_Server, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
