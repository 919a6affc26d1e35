"""The types a model written for Seldon Core's python wrapper uses: its base class, its
response wrapper and the error its base class raises for a method it does not implement.

They live here, not only in the `seldon_core` compatibility package, so that the wrapper can
recognise them without importing that package; `seldon_core.user_model` re-exports them.
"""

from __future__ import annotations

from typing import Any

from .errors import SeldonMicroserviceException


class SeldonNotImplementedError(SeldonMicroserviceException):
    """Raised by SeldonComponent's methods: the model does not implement this one, so the
    wrapper answers as if the method were absent (identity, empty result, ...)."""

    def __init__(self, message: str):
        super().__init__(message, status_code=400)


class SeldonResponse:
    """What a model method may return instead of the bare data: the data, the tags to add to
    the answer's meta and the metrics of this one request."""

    def __init__(self, data: Any, tags: dict[str, Any] | None = None, metrics: list[dict[str, Any]] | None = None):
        self.data = data
        self.tags = tags if tags is not None else {}
        self.metrics = metrics if metrics is not None else []

    @classmethod
    def create(cls, data: Any) -> SeldonResponse:
        return data if isinstance(data, cls) else cls(data)


def _not_implemented(name: str) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise SeldonNotImplementedError(f"{name} is not implemented")

    method.__name__ = method.__qualname__ = name
    method.seldon_not_implemented = True  # type: ignore[attr-defined]
    return method


# Every hook Seldon's base class declares; a subclass that does not override one has not
# implemented it.
SELDON_COMPONENT_HOOKS = (
    "tags", "class_names", "predict", "predict_raw", "send_feedback", "send_feedback_raw",
    "transform_input", "transform_input_raw", "transform_output", "transform_output_raw",
    "metrics", "feature_names", "route", "route_raw", "aggregate", "aggregate_raw",
    "health_status", "health_status_raw", "metadata", "init_metadata",
)  # fmt: skip


class SeldonComponent:
    """Seldon's base class for a model. Subclasses override the hooks they implement."""

    def __init__(self, **kwargs: Any) -> None:
        pass

    def load(self) -> None:
        pass


for _hook in SELDON_COMPONENT_HOOKS:
    setattr(SeldonComponent, _hook, _not_implemented(_hook))


def implemented(method: Any) -> bool:
    """False for a hook inherited from SeldonComponent without an override."""
    return method is not None and not getattr(method, "seldon_not_implemented", False)
