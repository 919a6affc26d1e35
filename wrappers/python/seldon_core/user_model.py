"""`seldon_core.user_model`: the base class, response wrapper and not-implemented error a Seldon
model uses, and the `client_*` helpers Seldon's wrapper calls a model through.

SeldonComponent, SeldonResponse and SeldonNotImplementedError are seldon_serve's own classes
(seldon_serve.user_model), so the wrapper recognises a model built on them. The helpers behave as
Seldon 1.18.2's: a hook that is absent or raises SeldonNotImplementedError gives Seldon's fallback.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from collections.abc import Iterable
from typing import Any

import numpy as np

from seldon_serve.errors import BAD_METRIC, SeldonMicroserviceException
from seldon_serve.user_model import SeldonComponent, SeldonNotImplementedError, SeldonResponse

from .metrics import validate_metrics

__all__ = [
    "INCLUDE_METRICS_IN_CLIENT_RESPONSE",
    "SeldonComponent",
    "SeldonNotImplementedError",
    "SeldonResponse",
    "client_aggregate",
    "client_class_names",
    "client_custom_metrics",
    "client_custom_tags",
    "client_feature_names",
    "client_health_status",
    "client_predict",
    "client_route",
    "client_send_feedback",
    "client_transform_input",
    "client_transform_output",
]

logger = logging.getLogger(__name__)

INCLUDE_METRICS_IN_CLIENT_RESPONSE = os.environ.get("INCLUDE_METRICS_IN_CLIENT_RESPONSE", "true").lower() == "true"


def client_custom_tags(user_model: Any) -> dict[str, Any]:
    """The model's tags(), or {}."""
    if hasattr(user_model, "tags"):
        try:
            return user_model.tags()
        except SeldonNotImplementedError:
            pass
    return {}


def client_class_names(user_model: Any, predictions: np.ndarray) -> Iterable[str]:
    """Names for a 2-D or deeper result's columns: class_names() (or a class_names attribute, the
    deprecated form), else t:0, t:1, ...; a 1-D result has none."""
    if len(predictions.shape) <= 1:
        return []
    if hasattr(user_model, "class_names"):
        if not inspect.ismethod(user_model.class_names):
            logger.warning("class_names attribute is deprecated. Please define a class_names method")
            return user_model.class_names
        try:
            return user_model.class_names()
        except SeldonNotImplementedError:
            pass
    return [f"t:{i}" for i in range(predictions.shape[1])]


def _call_with_meta(method: Any, features: Any, feature_names: Iterable[str], **kwargs: Any) -> Any:
    """Seldon's calling convention: with keyword arguments (meta=...), and again without them if
    that raised TypeError."""
    try:
        return method(features, feature_names, **kwargs)
    except TypeError:
        return method(features, feature_names)


def _optional(user_model: Any, name: str, fallback: Any, features: Any, names: Iterable[str], **kwargs: Any) -> Any:
    if hasattr(user_model, name):
        try:
            return SeldonResponse.create(_call_with_meta(getattr(user_model, name), features, names, **kwargs))
        except SeldonNotImplementedError:
            pass
    return SeldonResponse.create(fallback)


def client_predict(user_model: Any, features: Any, feature_names: Iterable[str], **kwargs: Any) -> SeldonResponse:
    """predict(), or an empty result."""
    return _optional(user_model, "predict", [], features, feature_names, **kwargs)


def client_transform_input(
    user_model: Any, features: Any, feature_names: Iterable[str], **kwargs: Any
) -> SeldonResponse:
    """transform_input(), or the features unchanged."""
    return _optional(user_model, "transform_input", features, features, feature_names, **kwargs)


def client_transform_output(
    user_model: Any, features: Any, feature_names: Iterable[str], **kwargs: Any
) -> SeldonResponse:
    """transform_output(), or the features unchanged."""
    return _optional(user_model, "transform_output", features, features, feature_names, **kwargs)


def client_custom_metrics(
    user_model: Any, seldon_metrics: Any, method: str, runtime_metrics: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Validate and record (seldon_metrics.update) the request's runtime metrics and the model's
    metrics(); return them for the answer's meta, or [] when INCLUDE_METRICS_IN_CLIENT_RESPONSE
    is not true. A bad metric is a SeldonMicroserviceException: 500, MICROSERVICE_BAD_METRIC."""
    runtime_metrics = [] if runtime_metrics is None else runtime_metrics

    def checked(metrics: Any) -> Any:
        if not validate_metrics(metrics):
            raise SeldonMicroserviceException(
                f"Bad metric created during request: {json.dumps(metrics)}",
                status_code=500,
                reason=BAD_METRIC,
            )
        return metrics

    seldon_metrics.update(checked(runtime_metrics), method)
    if hasattr(user_model, "metrics"):
        try:
            metrics = checked(user_model.metrics())
        except SeldonNotImplementedError:
            pass
        else:
            seldon_metrics.update(metrics, method)
            return metrics + runtime_metrics if INCLUDE_METRICS_IN_CLIENT_RESPONSE else []
    return runtime_metrics if INCLUDE_METRICS_IN_CLIENT_RESPONSE else []


def client_feature_names(user_model: Any, original: Iterable[str]) -> Iterable[str]:
    """feature_names(), or the names the request came with."""
    if hasattr(user_model, "feature_names"):
        try:
            return user_model.feature_names()
        except SeldonNotImplementedError:
            pass
    return original


def client_send_feedback(
    user_model: Any, features: Any, feature_names: Iterable[str], reward: float, truth: Any, routing: int | None
) -> SeldonResponse:
    """send_feedback(features, names, reward, truth, routing=...), or None."""
    if hasattr(user_model, "send_feedback"):
        try:
            response = user_model.send_feedback(features, feature_names, reward, truth, routing=routing)
            return SeldonResponse.create(response)
        except SeldonNotImplementedError:
            pass
    return SeldonResponse.create(None)


def client_route(user_model: Any, features: Any, feature_names: Iterable[str], **kwargs: Any) -> SeldonResponse:
    """route(); a model without one raises SeldonNotImplementedError."""
    if not hasattr(user_model, "route"):
        raise SeldonNotImplementedError("Route not defined")
    return SeldonResponse.create(_call_with_meta(user_model.route, features, feature_names, **kwargs))


def client_aggregate(user_model: Any, features_list: list[Any], feature_names_list: list[Any]) -> SeldonResponse:
    """aggregate(); a model without one raises SeldonNotImplementedError."""
    if not hasattr(user_model, "aggregate"):
        raise SeldonNotImplementedError("Aggregate not defined")
    return SeldonResponse.create(user_model.aggregate(features_list, feature_names_list))


def client_health_status(user_model: Any) -> Any:
    """health_status(); "healthy" without one, "not implemented - assuming healthy" when it
    raises SeldonNotImplementedError."""
    if not hasattr(user_model, "health_status"):
        return "healthy"
    try:
        return user_model.health_status()
    except SeldonNotImplementedError:
        return "not implemented - assuming healthy"
