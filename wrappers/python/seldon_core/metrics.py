"""`seldon_core.metrics`: the custom-metric helpers of Seldon's wrapper.

As Seldon 1.18.2: the COUNTER / GAUGE / TIMER type strings, the *_METRIC_METHOD_TAG values,
create_counter / create_gauge / create_timer, validate_metrics, split_image_tag, DEFAULT_LABELS
(read from the environment at import, as Seldon reads them) and SeldonMetrics with update,
update_reward, collect, generate_metrics and clear, giving the same Prometheus exposition.

One difference: Seldon's SeldonMetrics keeps its values in a multiprocessing Manager (a server
process) shared by its gunicorn workers; this one keeps them in the process that made it, so it
starts nothing. seldon_serve does not read it: the metrics a model's metrics() returns are
counted and exposed on the metrics port by seldon_serve itself, as Seldon's wrapper does.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .env_utils import get_deployment_name, get_image_name, get_model_name, get_predictor_name, get_predictor_version

logger = logging.getLogger(__name__)

FEEDBACK_KEY = "seldon_api_model_feedback"
FEEDBACK_REWARD_KEY = "seldon_api_model_feedback_reward"

COUNTER = "COUNTER"
GAUGE = "GAUGE"
TIMER = "TIMER"

# A TIMER's histogram buckets: 0, then 50 spread logarithmically from 1 ms to 30 s, then +Inf.
BINS = [0, *np.logspace(-3, np.log10(30), 50), np.inf]

FEEDBACK_METRIC_METHOD_TAG = "feedback"
PREDICT_METRIC_METHOD_TAG = "predict"
INPUT_TRANSFORM_METRIC_METHOD_TAG = "inputtransform"
OUTPUT_TRANSFORM_METRIC_METHOD_TAG = "outputtransform"
ROUTER_METRIC_METHOD_TAG = "router"
AGGREGATE_METRIC_METHOD_TAG = "aggregate"
HEALTH_METRIC_METHOD_TAG = "health"


def split_image_tag(tag: str) -> tuple[str, str]:
    """`seldonio/sklearn-iris:0.1` -> (`seldonio/sklearn-iris`, `0.1`): split at the last colon."""
    *name_parts, version = tag.split(":")
    return ":".join(name_parts), version


model_image, model_version = split_image_tag(get_image_name())
legacy_mode = os.environ.get("SELDON_EXECUTOR_ENABLED", "true").lower() == "false"

DEFAULT_LABELS = {
    "deployment_name": get_deployment_name(),
    "model_name": get_model_name(),
    "model_image": model_image,
    "model_version": model_version,
    "predictor_name": get_predictor_name(),
    "predictor_version": get_predictor_version(),
}
# The label names Seldon used before 1.3, which it still adds.
DEFAULT_LABELS["seldon_deployment_name"] = DEFAULT_LABELS["deployment_name"]
DEFAULT_LABELS["image_name"] = DEFAULT_LABELS["model_image"]
DEFAULT_LABELS["image_version"] = DEFAULT_LABELS["model_version"]


class SeldonMetrics:
    """Custom metrics by worker, by (type, key, tags): counters add, gauges keep the last value,
    timers (milliseconds) fill a histogram in seconds."""

    def __init__(
        self, worker_id_func: Callable[[], Any] = os.getpid, extra_default_labels: dict[str, str] | None = None
    ):
        self._lock = threading.Lock()
        self.data: dict[Any, dict[tuple[str, str, str], dict[str, Any]]] = {}
        self.worker_id_func = worker_id_func
        self._extra_default_labels = extra_default_labels or {}

    def update_reward(self, reward: float) -> None:
        """Count a feedback and add its reward (nothing for a zero reward, or in legacy mode)."""
        if not reward or legacy_mode:
            return
        self.update([{"type": COUNTER, "key": FEEDBACK_KEY, "value": 1}], FEEDBACK_METRIC_METHOD_TAG)
        self.update([{"type": COUNTER, "key": FEEDBACK_REWARD_KEY, "value": reward}], FEEDBACK_METRIC_METHOD_TAG)

    def update(self, custom_metrics: list[dict[str, Any]], method: str) -> None:
        """Record metrics as created by create_counter / create_gauge / create_timer, tagged with
        the method (one of the *_METRIC_METHOD_TAG values) that produced them."""
        with self._lock:
            worker_data = self.data.setdefault(self.worker_id_func(), {})
            for metric in custom_metrics:
                kind = metric.get("type", COUNTER)
                tags = {**metric.get("tags", {}), "method": method}
                key = (kind, metric["key"], self._generate_tags_key(tags))
                if kind == COUNTER:
                    value = worker_data.get(key, {}).get("value", 0)
                    worker_data[key] = {"value": value + metric["value"], "tags": tags}
                elif kind == TIMER:
                    counts, total = worker_data.get(key, {}).get("value", ([0.0] * (len(BINS) - 1), 0))
                    worker_data[key] = {"value": self._update_hist(metric["value"] / 1000, counts, total), "tags": tags}
                elif kind == GAUGE:
                    worker_data[key] = {"value": metric["value"], "tags": tags}
                else:
                    logger.error(f"Unknown metrics type: {kind}")

    def collect(self) -> Iterator[Any]:
        """prometheus_client's collector protocol: one metric family per recorded metric."""
        with self._lock:
            data = {worker: dict(values) for worker, values in self.data.items()}
        for worker_id, worker_data in data.items():
            for (kind, name, _), item in worker_data.items():
                label_names, label_values = self._merge_labels(str(worker_id), item["tags"])
                if kind == GAUGE:
                    yield self._expose_gauge(name, item["value"], label_names, label_values)
                elif kind == COUNTER:
                    yield self._expose_counter(name, item["value"], label_names, label_values)
                elif kind == TIMER:
                    yield self._expose_histogram(name, item["value"], label_names, label_values)

    def generate_metrics(self) -> tuple[str, str]:
        """The Prometheus text exposition of these metrics, and its content type."""
        from prometheus_client import exposition
        from prometheus_client.core import CollectorRegistry

        registry = CollectorRegistry()
        registry.register(self)
        return exposition.generate_latest(registry).decode("utf-8"), exposition.CONTENT_TYPE_LATEST

    def clear(self) -> None:
        """Forget the metrics of the current worker."""
        with self._lock:
            self.data.pop(self.worker_id_func(), None)

    def _merge_labels(self, worker: str, tags: dict[str, str]) -> tuple[list[str], list[str]]:
        labels = {**tags, **DEFAULT_LABELS, **self._extra_default_labels, "worker_id": str(worker)}
        return list(labels), list(labels.values())

    @staticmethod
    def _generate_tags_key(tags: dict[str, str]) -> str:
        return "_".join("-".join(item) for item in sorted(tags.items()))

    @staticmethod
    def _update_hist(x: float, counts: list[float], total: float) -> tuple[list[float], float]:
        return list(np.array(counts) + np.histogram([x], BINS)[0]), total + x

    @staticmethod
    def _expose_gauge(name: str, value: float, label_names: list[str], label_values: list[str]) -> Any:
        from prometheus_client.core import GaugeMetricFamily

        metric = GaugeMetricFamily(name, "", labels=label_names)
        metric.add_metric(label_values, value)
        return metric

    @staticmethod
    def _expose_counter(name: str, value: float, label_names: list[str], label_values: list[str]) -> Any:
        from prometheus_client.core import CounterMetricFamily

        metric = CounterMetricFamily(name, "", labels=label_names)
        metric.add_metric(label_values, value)
        return metric

    @staticmethod
    def _expose_histogram(
        name: str, value: tuple[list[float], float], label_names: list[str], label_values: list[str]
    ) -> Any:
        from prometheus_client.core import HistogramMetricFamily
        from prometheus_client.utils import floatToGoString

        counts, total = value
        buckets = [[floatToGoString(bound), count] for count, bound in zip(np.cumsum(counts), BINS[1:], strict=False)]
        metric = HistogramMetricFamily(name, "", labels=label_names)
        metric.add_metric(label_values, buckets, sum_value=total)
        return metric


def _metric(key: str, kind: str, value: float) -> dict[str, Any]:
    _ = value + 1  # a TypeError for a value that is not a number, as Seldon's helpers raise
    return {"key": key, "type": kind, "value": value}


def create_counter(key: str, value: float) -> dict[str, Any]:
    return _metric(key, COUNTER, value)


def create_gauge(key: str, value: float) -> dict[str, Any]:
    return _metric(key, GAUGE, value)


def create_timer(key: str, value: float) -> dict[str, Any]:
    """A timer: `value` is in milliseconds."""
    return _metric(key, TIMER, value)


def validate_metrics(metrics: Any) -> bool:
    """True for a list of dicts that each have a key, a COUNTER/GAUGE/TIMER type and a value
    that adds to a number; anything else (a tuple too) is False."""
    if not isinstance(metrics, list):
        return False
    for metric in metrics:
        if not ("key" in metric and "value" in metric and "type" in metric):
            return False
        if metric["type"] not in (COUNTER, GAUGE, TIMER):
            return False
        try:
            metric["value"] + 1
        except TypeError:
            return False
    return True
