"""The Seldon verbs over one user object, in the JSON form of SeldonMessage.

Both transports call into here: REST hands over the decoded JSON body, gRPC the message
decoded from protobuf, so a verb behaves the same whichever way it was asked. What the user's
class offers is looked up once, in __init__; a request only calls what was bound.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from . import metadata, payload
from .component import accepts_routing, bind_with_meta
from .errors import INTERNAL_ERROR, BadRequest, NotSupported, SeldonMicroserviceException
from .metrics import Metrics, validate

log = logging.getLogger(__name__)

# The verbs each service type answers, as Seldon's executor calls them (Seldon's own wrapper
# ignores --service-type and answers everything).
VERBS_BY_SERVICE_TYPE = {
    "MODEL": frozenset({"predict", "send_feedback"}),
    "ROUTER": frozenset({"route", "send_feedback"}),
    "TRANSFORMER": frozenset({"transform_input"}),
    "OUTPUT_TRANSFORMER": frozenset({"transform_output"}),
    "COMBINER": frozenset({"aggregate"}),
    "OUTLIER_DETECTOR": frozenset({"transform_input"}),
}


# The verb an Open Inference Protocol request (one message in, one out) calls, by service type.
INFER_VERB_BY_SERVICE_TYPE = {
    "MODEL": "predict",
    "ROUTER": "route",
    "TRANSFORMER": "transform_input",
    "OUTPUT_TRANSFORMER": "transform_output",
    "OUTLIER_DETECTOR": "transform_input",
}


class Incoming(Protocol):
    """A request from either transport: the whole message for *_raw methods, or decoded."""

    def message(self) -> Any: ...

    def request(self) -> payload.Request: ...


class UserCodeError(SeldonMicroserviceException):
    """An exception escaped the user's code: HTTP 500 with its message."""

    def __init__(self, exc: BaseException):
        # Errors from another language's code name their own kind (an R condition class).
        kind = getattr(exc, "error_class", None) or type(exc).__name__
        super().__init__(f"{kind}: {exc}", status_code=500, reason=INTERNAL_ERROR)


class RequestTimeout(SeldonMicroserviceException):
    """A call into the model ran past REQUEST_TIMEOUT_SECONDS: 504 (gRPC DEADLINE_EXCEEDED)."""

    def __init__(self, method: Callable[..., Any], seconds: float):
        name = getattr(method, "__qualname__", "the model")
        super().__init__(
            f"{name} did not return within {seconds:g} s (REQUEST_TIMEOUT_SECONDS)", status_code=504,
            reason=INTERNAL_ERROR,
        )  # fmt: skip


class _Deadline(BaseException):
    """Raised into the model's code by SIGALRM; a BaseException so the model's own
    `except Exception` cannot swallow it."""


# A call still running this long after SIGALRM was sent has not returned to Python (native
# code): the watchdog ends the worker's process, so a new worker (or container) serves instead
# of this one staying stuck; the status says why, like timeout(1)'s.
STUCK_GRACE_SECONDS = 10.0
EXIT_STUCK = 124


class _Deadlines:
    """The call into the model in progress (a number and when it began) and the watchdog thread
    that interrupts it with SIGALRM once it has run too long, and ends the process if even that
    does not stop it. Stamping a call costs two clock reads; an interval timer armed per call
    would cost two system calls (about 3 us here)."""

    def __init__(self) -> None:
        self.seconds = 0.0  # 0: calls are not timed (unit tests, the build-time check)
        self.main = threading.main_thread().ident
        self.call = 0  # the number of the latest call, odd while it runs
        self.began = 0.0
        self.target = -1  # the call the watchdog interrupted
        self.grace = STUCK_GRACE_SECONDS

    def start(self, seconds: float, grace: float = STUCK_GRACE_SECONDS) -> None:
        if seconds <= 0:
            return
        self.seconds = seconds
        self.grace = grace
        signal.signal(signal.SIGALRM, self._interrupt)
        threading.Thread(target=self._watch, name="request-deadlines", daemon=True).start()

    def _watch(self) -> None:
        tick = min(0.1, self.seconds / 10)
        while True:
            time.sleep(tick)
            call, began = self.call, self.began
            if not call % 2:
                continue
            running = time.monotonic() - began
            if call != self.target and running > self.seconds:
                self.target = call
                signal.pthread_kill(self.main, signal.SIGALRM)  # type: ignore[arg-type]
            elif call == self.target and running > self.seconds + self.grace:
                log.critical(
                    "a call into the model ran past %g s (REQUEST_TIMEOUT_SECONDS) and was still running %g s "
                    "after it was interrupted (stuck in native code?): ending this worker (exit status %d)",
                    self.seconds, self.grace, EXIT_STUCK,
                )  # fmt: skip
                os._exit(EXIT_STUCK)

    def _interrupt(self, _signum: int, _frame: Any) -> None:
        if self.call == self.target:  # not a later call that began meanwhile
            raise _Deadline


_deadlines = _Deadlines()


def watch_deadlines(seconds: float, grace: float = STUCK_GRACE_SECONDS) -> None:
    """From now on, a call into the model in this process's main thread that runs for more than
    `seconds` is interrupted: at its next Python bytecode, so code inside one long native call
    (a numpy kernel, an R function) is interrupted only if it returns to Python in time. One
    still running `grace` seconds later ends the process with EXIT_STUCK (native code holding
    the GIL stops the watchdog too: then only the liveness probe notices)."""
    _deadlines.start(seconds, grace)


def callee_enforces_deadline() -> None:
    """The call in progress enforces REQUEST_TIMEOUT_SECONDS itself (R's time limit): the
    watchdog sends it no SIGALRM, which would land in one of rpy2's callbacks and be lost there,
    but still ends the process if the call is stuck past the grace."""
    if threading.get_ident() == _deadlines.main and _deadlines.call % 2:
        _deadlines.target = _deadlines.call


def deadline_seconds() -> float:
    """REQUEST_TIMEOUT_SECONDS as this process enforces it (0: calls are not timed), for a
    language runtime that must enforce it itself (R)."""
    return _deadlines.seconds


def call_user(method: Callable[..., Any], *args: Any) -> Any:
    deadlines = _deadlines
    timed = deadlines.seconds > 0 and threading.get_ident() == deadlines.main
    try:
        if timed:
            deadlines.began = time.monotonic()
            deadlines.call += 1
        try:
            return method(*args)
        finally:
            if timed:
                deadlines.call += 1
    except _Deadline:
        name = getattr(method, "__qualname__", "the model")
        log.error("%s ran past %g s (REQUEST_TIMEOUT_SECONDS): interrupted", name, deadlines.seconds)
        raise RequestTimeout(method, deadlines.seconds) from None
    except SeldonMicroserviceException:
        raise
    except Exception as exc:
        log.error("user code raised:\n%s", traceback.format_exc())
        raise UserCodeError(exc) from exc


class Microservice:
    def __init__(self, user: Any, service_type: str = "MODEL", model_name: str = "", metrics: Metrics | None = None):
        self.user = user
        self.service_type = service_type
        self.verbs = VERBS_BY_SERVICE_TYPE[service_type]
        self.metrics = metrics
        self.unit_id = os.environ.get("PREDICTIVE_UNIT_ID", "")
        bound = {name: self._bind(name) for name in ("predict", "transform_input", "transform_output", "route")}
        self._methods = bound
        self._raw = {name: self._attr(f"{name}_raw") for name in (*bound, "aggregate", "send_feedback")}
        self._aggregate = self._attr("aggregate")
        self._send_feedback = self._attr("send_feedback")
        self._feedback_takes_routing = self._send_feedback is not None and accepts_routing(self._send_feedback)
        self._class_names = self._attr("class_names")
        self._tags = self._attr("tags")
        self._metrics = self._attr("metrics")
        self._health_status = self._attr("health_status")
        init_metadata = self._attr("init_metadata")
        self.model_metadata = metadata.merge(
            model_name or type(user).__name__, call_user(init_metadata) if init_metadata else None
        )

    def _attr(self, name: str) -> Callable[..., Any] | None:
        method = getattr(self.user, name, None)
        return method if callable(method) else None

    def _bind(self, name: str) -> Callable[[Any, Any, dict[str, Any]], Any] | None:
        method = self._attr(name)
        return bind_with_meta(method) if method else None

    def _require(self, verb: str) -> None:
        if verb not in self.verbs:
            served = ", ".join(sorted(self.verbs))
            raise NotSupported(f"{verb} is not served by a {self.service_type} (it serves {served})")

    # ---- the verbs -----------------------------------------------------------------------

    def predict(self, incoming: Incoming) -> dict[str, Any]:
        return self._unary("predict", incoming, missing="predict or predict_raw")

    def transform_input(self, incoming: Incoming) -> dict[str, Any]:
        return self._unary("transform_input", incoming)

    def transform_output(self, incoming: Incoming) -> dict[str, Any]:
        return self._unary("transform_output", incoming)

    def route(self, incoming: Incoming) -> dict[str, Any]:
        self._require("route")
        raw = self._raw["route"]
        if raw is not None:
            return call_user(raw, incoming.message())
        method = self._methods["route"]
        if method is None:
            raise NotSupported(f"{type(self.user).__name__} defines neither route nor route_raw", status_code=501)
        request = incoming.request()
        branch = self._branch(call_user(method, request.features, request.names, request.meta))
        return self._respond(np.array([[branch]]), request)

    @staticmethod
    def _branch(branch: Any) -> int:
        if isinstance(branch, bool) or not isinstance(branch, int | np.integer):
            raise SeldonMicroserviceException(
                f"route() must return an int (the child to route to), not {type(branch).__name__}: {branch!r}",
                status_code=500,
                reason=INTERNAL_ERROR,
            )
        return int(branch)

    def aggregate(self, messages: Any) -> dict[str, Any]:
        """messages: {"seldonMessages": [...]} or the bare list Seldon's executor sends."""
        self._require("aggregate")
        if isinstance(messages, dict) and "seldonMessages" in messages:
            messages = messages["seldonMessages"]
        if not isinstance(messages, list) or not messages:
            raise BadRequest('aggregate needs {"seldonMessages": [...]} or a non-empty list of SeldonMessages')
        raw = self._raw["aggregate"]
        if raw is not None:
            return call_user(raw, {"seldonMessages": messages})
        if self._aggregate is None:
            raise NotSupported(
                f"{type(self.user).__name__} defines neither aggregate nor aggregate_raw", status_code=501
            )
        requests = [payload.decode(message) for message in messages]
        result = call_user(self._aggregate, [r.features for r in requests], [r.names for r in requests])
        merged_meta = {"puid": requests[0].meta.get("puid", ""), "tags": {}}
        for request in requests:
            merged_meta["tags"].update(request.meta.get("tags") or {})
        first = payload.Request(requests[0].kind, None, [], merged_meta)
        return self._respond(result, first)

    def send_feedback(self, feedback: Any) -> dict[str, Any]:
        self._require("send_feedback")
        if not isinstance(feedback, dict):
            raise BadRequest("feedback must be a JSON object with request, response, reward and truth")
        for part in ("request", "response", "truth"):
            if feedback.get(part) is not None and not isinstance(feedback[part], dict):
                raise BadRequest(f"feedback {part} must be a SeldonMessage (a JSON object)")
        response_meta = (feedback.get("response") or {}).get("meta")
        if response_meta is not None:
            payload.check_meta(response_meta)  # its routing names the branch that earned the reward
        reward = feedback.get("reward", 0) or 0
        if isinstance(reward, bool) or not isinstance(reward, int | float):
            raise BadRequest(f"feedback reward must be a number, not {reward!r}")
        if not 0 <= reward < math.inf:  # also NaN, which a protobuf float can carry
            # It adds to the Prometheus counter seldon_api_model_feedback_reward, which cannot go down.
            raise BadRequest(f"feedback reward must be a finite number >= 0, not {reward!r}")
        if self.metrics is not None:
            self.metrics.record_feedback(float(reward))
        raw = self._raw["send_feedback"]
        if raw is not None:
            return call_user(raw, feedback)
        request = payload.decode(feedback.get("request") or {"data": {"ndarray": []}})
        if self._send_feedback is None:
            # Seldon's executor sends feedback to every unit of a graph: without a handler it is counted, not refused.
            return self._respond([], request)
        truth = payload.decode(feedback["truth"]).features if feedback.get("truth") else None
        args: list[Any] = [request.features, request.names, float(reward), truth]
        if self._feedback_takes_routing:
            routing = ((feedback.get("response") or {}).get("meta") or {}).get("routing") or {}
            args.append(routing.get(self.unit_id))
        result = call_user(self._send_feedback, *args)
        return self._respond([] if result is None else result, request)

    def infer(self, features: Any, names: list[str]) -> Any:
        """The Open Inference Protocol's call (seldon_serve.v2): the unit's verb on X and its
        names, answering what the model returned, unencoded (its dtype is the answer's)."""
        verb = INFER_VERB_BY_SERVICE_TYPE.get(self.service_type)
        if verb is None:
            raise NotSupported(
                f"a {self.service_type} aggregates several messages; an Open Inference Protocol request is one",
                status_code=400,
            )
        request = payload.Request("ndarray", features, names, {})
        raw = self._raw[verb]
        if raw is not None:
            reply = call_user(raw, payload.encode(features, request, names or None, {}))
            result = payload.decode(reply).features
        elif self._methods[verb] is not None:
            result = call_user(self._methods[verb], features, names, {})
        elif verb in ("transform_input", "transform_output"):
            result = features  # transformers default to the identity
        else:
            raise NotSupported(f"{type(self.user).__name__} defines neither {verb} nor {verb}_raw", status_code=501)
        if verb == "route" and raw is None:
            result = np.array([[self._branch(result)]])
        metrics = validate(call_user(self._metrics)) if self._metrics is not None else []
        if metrics and self.metrics is not None:
            self.metrics.record_user(metrics)
        return result

    def health_status(self) -> dict[str, Any]:
        if self._health_status is None:
            return {"status": {"status": "SUCCESS", "code": 200, "info": "healthy"}}
        return payload.encode(call_user(self._health_status), None, None, {})

    # ---- shared steps ----------------------------------------------------------------------

    def _unary(self, verb: str, incoming: Incoming, missing: str | None = None) -> dict[str, Any]:
        self._require(verb)
        raw = self._raw[verb]
        if raw is not None:
            return call_user(raw, incoming.message())
        method = self._methods[verb]
        request = incoming.request()
        if method is None:
            if missing:
                raise NotSupported(f"{type(self.user).__name__} defines neither {missing}", status_code=501)
            return self._respond(request.features, request)  # transformers default to the identity
        return self._respond(call_user(method, request.features, request.names, request.meta), request)

    def _respond(self, result: Any, request: payload.Request) -> dict[str, Any]:
        names = call_user(self._class_names) if self._class_names is not None else None
        tags = call_user(self._tags) if self._tags is not None else {}
        if not isinstance(tags, dict):
            raise SeldonMicroserviceException(
                f"tags() must return a dict, not {type(tags).__name__}", 500, INTERNAL_ERROR
            )
        metrics = validate(call_user(self._metrics)) if self._metrics is not None else []
        if metrics and self.metrics is not None:
            self.metrics.record_user(metrics)
        return payload.encode(result, request, names, payload.response_meta(request.meta, tags, metrics))
