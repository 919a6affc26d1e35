"""The Seldon verbs over one user object, in the JSON form of SeldonMessage.

Both transports call into here: REST hands over the decoded JSON body, gRPC the message
converted to the same form, so a verb behaves the same whichever way it was asked.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any, Protocol

from . import payload
from .component import bind_with_meta
from .errors import INTERNAL_ERROR, NotSupported, SeldonMicroserviceException

log = logging.getLogger(__name__)

# The verbs each service type answers; --service-type is honoured, unlike Seldon's wrapper.
VERBS_BY_SERVICE_TYPE = {
    "MODEL": {"predict", "send_feedback"},
    "ROUTER": {"route", "send_feedback"},
    "TRANSFORMER": {"transform_input"},
    "OUTPUT_TRANSFORMER": {"transform_output"},
    "COMBINER": {"aggregate"},
    "OUTLIER_DETECTOR": {"transform_input"},
}


class Incoming(Protocol):
    """A request from either transport: the whole message for *_raw methods, or decoded."""

    def message(self) -> Any: ...

    def request(self) -> payload.Request: ...


class UserCodeError(SeldonMicroserviceException):
    """An exception escaped the user's code: HTTP 500 with its message."""

    def __init__(self, exc: BaseException):
        super().__init__(f"{type(exc).__name__}: {exc}", status_code=500, reason=INTERNAL_ERROR)


def call_user(method: Callable[..., Any], *args: Any) -> Any:
    try:
        return method(*args)
    except SeldonMicroserviceException:
        raise
    except Exception as exc:
        log.error("user code raised:\n%s", traceback.format_exc())
        raise UserCodeError(exc) from exc


class Microservice:
    def __init__(self, user: Any, service_type: str = "MODEL"):
        self.user = user
        self.service_type = service_type
        self.verbs = VERBS_BY_SERVICE_TYPE[service_type]
        self._predict = self._bind("predict")
        self._predict_raw = getattr(user, "predict_raw", None)
        self._class_names = getattr(user, "class_names", None)
        self._tags = getattr(user, "tags", None)
        self._metrics = getattr(user, "metrics", None)
        self._health_status = getattr(user, "health_status", None)

    def _bind(self, name: str) -> Callable[[Any, Any, dict[str, Any]], Any] | None:
        method = getattr(self.user, name, None)
        return bind_with_meta(method) if callable(method) else None

    def _require(self, verb: str) -> None:
        if verb not in self.verbs:
            raise NotSupported(
                f"{verb} is not served by a {self.service_type}; it serves {', '.join(sorted(self.verbs))}"
            )

    # ---- verbs -------------------------------------------------------------------------

    def predict(self, incoming: Incoming) -> dict[str, Any]:
        self._require("predict")
        if self._predict_raw is not None:
            return call_user(self._predict_raw, incoming.message())
        if self._predict is None:
            raise NotSupported(f"{type(self.user).__name__} defines neither predict nor predict_raw", status_code=501)
        request = incoming.request()
        result = call_user(self._predict, request.features, request.names, request.meta)
        return self._respond(result, request)

    def health_status(self) -> dict[str, Any]:
        if self._health_status is None:
            return {"status": {"status": "SUCCESS", "code": 200, "info": "healthy"}}
        return payload.encode(call_user(self._health_status), None, None, {})

    # ---- response --------------------------------------------------------------------------

    def _respond(self, result: Any, request: payload.Request) -> dict[str, Any]:
        names = call_user(self._class_names) if self._class_names is not None else None
        tags = call_user(self._tags) if self._tags is not None else {}
        metrics = call_user(self._metrics) if self._metrics is not None else []
        return payload.encode(result, request, names, payload.response_meta(request.meta, tags, metrics))
