"""The Seldon verbs over one user object, in the JSON form of SeldonMessage.

Both transports call into here: REST hands over the decoded JSON body, gRPC the message
decoded from protobuf, so a verb behaves the same whichever way it was asked. What the user's
class offers is looked up once, in __init__; a request only calls what was bound.
"""

from __future__ import annotations

import functools
import logging
import math
import os
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import orjson
from google.protobuf import json_format
from google.protobuf.message import Message as ProtoMessage

from . import contract, legacy_hooks, metadata, payload
from .component import bind_with_meta, routing_style
from .deadlines import call_user
from .errors import INTERNAL_ERROR, BadRequest, NotSupported, SeldonMicroserviceException
from .metrics import Metrics, validate
from .settings import truthy
from .user_model import SeldonNotImplementedError, SeldonResponse, implemented

log = logging.getLogger(__name__)

# The verb an Open Inference Protocol request (one message in, one out) calls, by service type.
INFER_VERB_BY_SERVICE_TYPE = contract.INFER_VERB


class Incoming(Protocol):
    """A request from either transport: the whole message for *_raw methods (its JSON form, or
    the protobuf it came as over gRPC), or decoded."""

    def message(self) -> Any: ...

    def proto(self) -> Any: ...

    def request(self) -> payload.Request: ...


# A hook the model does not implement: missing, SeldonComponent's own, or raising
# SeldonNotImplementedError. Every unit serves every verb, whatever SERVICE_TYPE it was built as
# (Seldon's operator never tells a container its role in the graph), and a verb whose hook is
# absent answers what Seldon's wrapper answers.
_ABSENT = object()


class Microservice:
    def __init__(self, user: Any, service_type: str = "MODEL", model_name: str = "", metrics: Metrics | None = None):
        self.user = user
        self.service_type = service_type
        self.metrics = metrics
        self.unit_id = os.environ.get("PREDICTIVE_UNIT_ID", "")
        self.include_metrics = truthy(os.environ.get("INCLUDE_METRICS_IN_CLIENT_RESPONSE", "true"))
        # Seldon hands *_raw methods the protobuf message over gRPC (its JSON form over REST);
        # another language's plugin takes the JSON form over both.
        self._raw_protos = not getattr(user, "raw_messages_as_json", False)
        bound = {name: self._bind(name) for name in ("predict", "transform_input", "transform_output", "route")}
        self._methods = bound
        raw_verbs = (*bound, "aggregate", "send_feedback")
        self._raw = {name: legacy_hooks.raw_hook(name, self._attr) for name in raw_verbs}
        for legacy in legacy_hooks.found(raw_verbs, self._attr):
            log.warning(
                "%s.%s is a hook Seldon deprecated (its wrapper asks for %s_raw); served as Seldon serves it",
                type(user).__name__, legacy, legacy.rsplit("_", 1)[0],
            )  # fmt: skip
        self._aggregate = self._attr("aggregate")
        self._send_feedback = self._attr("send_feedback")
        self._feedback_routing = routing_style(self._send_feedback) if self._send_feedback is not None else "no"
        self._class_names = self._names_hook()
        self._tags = self._attr("tags")
        self._metrics = self._attr("metrics")
        self._health_status = self._attr("health_status")
        self._health_status_raw = self._attr("health_status_raw")
        init_metadata = self._attr("init_metadata")
        user_metadata = self._optional(init_metadata) if init_metadata else None
        given = None if user_metadata is _ABSENT else user_metadata
        self.model_metadata = metadata.merge(model_name or type(user).__name__, given)
        self.open_inference_name = metadata.open_inference_name(given, model_name or type(user).__name__)

    def _attr(self, name: str) -> Callable[..., Any] | None:
        method = getattr(self.user, name, None)
        return method if callable(method) and implemented(method) else None

    def _bind(self, name: str) -> Callable[[Any, Any, dict[str, Any]], Any] | None:
        method = self._attr(name)
        return bind_with_meta(method) if method else None

    def _names_hook(self) -> Callable[[], Any] | None:
        """class_names: a method, or (Seldon's older form) a list attribute."""
        method = self._attr("class_names")
        if method is not None:
            return method
        names = getattr(self.user, "class_names", None)
        if isinstance(names, list | tuple):
            return lambda: list(names)
        return None

    def _not_defined(self, verb: str) -> BadRequest:
        """Seldon's answer to route or aggregate on a class without it: a 400."""
        return BadRequest(f"{type(self.user).__name__} defines neither {verb} nor {verb}_raw")

    @staticmethod
    def _optional(method: Callable[..., Any], *args: Any) -> Any:
        """call_user, where a SeldonNotImplementedError (what Seldon's base class raises for a
        method a model does not implement) means the method is absent: _ABSENT."""
        try:
            return call_user(method, *args)
        except SeldonNotImplementedError:
            return _ABSENT

    # ---- the verbs -----------------------------------------------------------------------

    def predict(self, incoming: Incoming) -> dict[str, Any]:
        return self._unary("predict", incoming, lambda request: [])  # Seldon answers an empty result

    def has_raw(self, verb: str) -> bool:
        return self._raw[verb] is not None

    def predict_passthrough(self, body: bytes) -> bytes:
        """PAYLOAD_PASSTHROUGH: predict_raw takes the request body's bytes, undecoded, and its
        answer (bytes, text or a message) is the response body (see has_raw)."""
        raw = self._raw["predict"]
        assert raw is not None
        answer = call_user(raw, body)
        if isinstance(answer, bytes | bytearray):
            return bytes(answer)
        if isinstance(answer, str):
            return answer.encode()
        return orjson.dumps(self._raw_answer(answer), option=orjson.OPT_SERIALIZE_NUMPY)

    def transform_input(self, incoming: Incoming) -> dict[str, Any]:
        return self._unary("transform_input", incoming, lambda request: request.features)  # the identity

    def transform_output(self, incoming: Incoming) -> dict[str, Any]:
        return self._unary("transform_output", incoming, lambda request: request.features)

    def route(self, incoming: Incoming) -> dict[str, Any]:
        answer = self._call_raw("route", incoming)
        if answer is not _ABSENT:
            return answer
        method = self._methods["route"]
        if method is None:
            raise self._not_defined("route")
        request = incoming.request()
        # A SeldonNotImplementedError from route() is an answer (400), as in Seldon.
        reply = SeldonResponse.create(call_user(method, request.features, request.names, request.meta))
        branch = np.array([[self._branch(reply.data)]])
        return self._respond(branch, request, reply, carry_meta=False)

    @staticmethod
    def _branch(branch: Any) -> int:
        if isinstance(branch, bool) or not isinstance(branch, int | np.integer):
            raise SeldonMicroserviceException(
                f"route() must return an int (the child to route to), not {type(branch).__name__}: {branch!r}",
                status_code=500,
                reason=INTERNAL_ERROR,
            )
        return int(branch)

    def aggregate(self, messages: Any, proto: Any = None) -> dict[str, Any]:
        """messages: {"seldonMessages": [...]} or the bare list Seldon's executor sends; proto:
        the SeldonMessageList when it came over gRPC."""
        sent = messages
        if isinstance(messages, dict) and "seldonMessages" in messages:
            messages = messages["seldonMessages"]
        if not isinstance(messages, list) or not messages:
            raise BadRequest('aggregate needs {"seldonMessages": [...]} or a non-empty list of SeldonMessages')
        raw = self._raw["aggregate"]
        if raw is not None:
            # As Seldon hands it over: the protobuf, or the JSON as sent (a bare list from its
            # executor); another language's plugin always takes {"seldonMessages": [...]}.
            given = (proto if proto is not None else sent) if self._raw_protos else {"seldonMessages": messages}
            answer = self._optional(raw, given)
            if answer is not _ABSENT:
                return self._raw_answer(answer)
        if self._aggregate is None:
            raise self._not_defined("aggregate")
        requests = [payload.decode(message) for message in messages]
        reply = SeldonResponse.create(
            call_user(self._aggregate, [r.features for r in requests], [r.names for r in requests])
        )
        merged = payload.merge_metas([r.meta for r in requests])
        first = payload.Request(requests[0].kind, None, [], {**merged, "puid": requests[0].meta.get("puid", "")})
        return self._respond(reply.data, first, reply)

    def send_feedback(self, feedback: Any, proto: Any = None) -> dict[str, Any]:
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
            # Seldon hands send_feedback_raw a Feedback protobuf over REST as well as gRPC.
            given = (proto or payload.feedback_proto(feedback)) if self._raw_protos else feedback
            answer = self._optional(raw, given)
            if answer is not _ABSENT:
                return self._raw_answer(answer)
        request = payload.decode(feedback.get("request") or {"data": {"ndarray": []}})
        result: Any = _ABSENT
        if self._send_feedback is not None:
            truth = payload.decode(feedback["truth"]).features if feedback.get("truth") else None
            args: list[Any] = [request.features, request.names, float(reward), truth]
            routing = (((feedback.get("response") or {}).get("meta") or {}).get("routing") or {}).get(
                self.unit_id or "0"
            )  # Seldon's default id
            if self._feedback_routing == "keyword":
                result = self._optional(functools.partial(self._send_feedback, routing=routing), *args)
            else:
                args += [routing] if self._feedback_routing == "positional" else []
                result = self._optional(self._send_feedback, *args)
        # Seldon's executor sends feedback to every unit of a graph: without a handler it is
        # counted and answered empty, not refused.
        reply = SeldonResponse.create([] if result is _ABSENT or result is None else result)
        if reply.data is None:
            reply.data = []
        return self._respond(reply.data, request, reply, carry_meta=False)

    def infer(self, features: Any, names: list[str], verb: str | None = None) -> Any:
        """The Open Inference Protocol's call (seldon_serve.v2): the unit's verb (`verb`, else
        its service type's) on X and its names, answering what the model returned, unencoded
        (its dtype is the answer's)."""
        verb = verb or INFER_VERB_BY_SERVICE_TYPE.get(self.service_type)
        if verb is None:
            raise NotSupported(
                f"a {self.service_type} aggregates several messages; an Open Inference Protocol request is one",
                status_code=400,
            )
        request = payload.Request("ndarray", features, names, {})
        raw, result = self._raw[verb], _ABSENT
        if raw is not None:
            reply = self._optional(raw, payload.encode(features, request, names or None, {}))
            if reply is not _ABSENT:
                result = payload.decode(self._raw_answer(reply)).features
        if result is _ABSENT and self._methods[verb] is not None:
            answer = self._optional(self._methods[verb], features, names, {})
            if answer is not _ABSENT:
                answer = SeldonResponse.create(answer)
                self._record(answer.metrics)
                result = answer.data
        if result is _ABSENT:
            if verb == "route":
                raise self._not_defined("route")
            result = [] if verb == "predict" else features
        if verb == "route" and raw is None:
            result = np.array([[self._branch(result)]])
        self._record(self._user_metrics())
        return result

    def aggregate_tensors(self, features: list[Any], names: list[list[str]]) -> Any:
        """aggregate on the Open Inference Protocol (Seldon's executor posts a combiner's
        children's answers to /v2/models/<name>/aggregate): the model's aggregate of their X and
        names, answering what it returned, unencoded."""
        raw = self._raw["aggregate"]
        if raw is not None:
            pairs = zip(features, names, strict=True)
            messages = [payload.encode(x, payload.Request("ndarray", x, n, {}), n or None, {}) for x, n in pairs]
            reply = self._optional(raw, {"seldonMessages": messages})
            if reply is not _ABSENT:
                return payload.decode(self._raw_answer(reply)).features
        if self._aggregate is None:
            raise self._not_defined("aggregate")
        answer = SeldonResponse.create(call_user(self._aggregate, features, names))
        self._record(answer.metrics)
        return answer.data

    def health_status(self) -> dict[str, Any]:
        if self._health_status_raw is not None:
            answer = self._optional(self._health_status_raw)
            if answer is not _ABSENT:
                return self._raw_answer(answer)
        status: Any = "healthy"
        if self._health_status is not None:
            status = self._optional(self._health_status)
        elif callable(getattr(self.user, "health_status", None)):  # SeldonComponent's, not overridden
            status = _ABSENT
        if status is _ABSENT:
            status = "not implemented - assuming healthy"  # Seldon's words
        return self._respond(status, payload.Request("", None, [], {}), None, carry_meta=False, count=False)

    # ---- shared steps ----------------------------------------------------------------------

    def _call_raw(self, verb: str, incoming: Incoming) -> Any:
        raw = self._raw[verb]
        if raw is None:
            return _ABSENT
        proto = incoming.proto() if self._raw_protos else None
        answer = self._optional(raw, proto if proto is not None else incoming.message())
        return answer if answer is _ABSENT else self._raw_answer(answer)

    def _raw_answer(self, answer: Any) -> Any:
        """A *_raw method's answer (a message as a dict or as protobuf) in the JSON form; the
        metrics in its meta go to Prometheus and, unless INCLUDE_METRICS_IN_CLIENT_RESPONSE is
        false, stay in the answer."""
        if isinstance(answer, ProtoMessage):
            answer = json_format.MessageToDict(answer)
        meta = answer.get("meta") if isinstance(answer, dict) else None
        if isinstance(meta, dict) and meta.get("metrics"):
            self._record(validate(meta["metrics"]))
            if not self.include_metrics:
                answer = {**answer, "meta": {k: v for k, v in meta.items() if k != "metrics"}}
        return answer

    def _unary(self, verb: str, incoming: Incoming, absent: Callable[[payload.Request], Any]) -> dict[str, Any]:
        answer = self._call_raw(verb, incoming)
        if answer is not _ABSENT:
            return answer
        method = self._methods[verb]
        request = incoming.request()
        result = self._optional(method, request.features, request.names, request.meta) if method else _ABSENT
        reply = SeldonResponse.create(absent(request) if result is _ABSENT else result)
        return self._respond(reply.data, request, reply)

    def _user_metrics(self) -> list[dict[str, Any]]:
        if self._metrics is None:
            return []
        metrics = self._optional(self._metrics)
        return [] if metrics is _ABSENT else validate(metrics)

    def _record(self, metrics: list[dict[str, Any]]) -> None:
        if metrics and self.metrics is not None:
            self.metrics.record_user(metrics)

    def _respond(
        self,
        result: Any,
        request: payload.Request,
        reply: SeldonResponse | None,
        *,
        carry_meta: bool = True,
        count: bool = True,
    ) -> dict[str, Any]:
        """The answer to `request`: the result encoded as Seldon would, with the request's meta
        carried (tags, metrics, requestPath; not for route and feedback, as in Seldon), the
        model's tags() and metrics(), and those the model returned in a SeldonResponse."""
        tags: dict[str, Any] = {}
        if self._tags is not None:
            tags = self._optional(self._tags)
            tags = {} if tags is _ABSENT else tags
            if not isinstance(tags, dict):
                raise SeldonMicroserviceException(
                    f"tags() must return a dict, not {type(tags).__name__}", status_code=500, reason=INTERNAL_ERROR
                )
        metrics: list[dict[str, Any]] = []
        if reply is not None:
            tags = {**tags, **(reply.tags or {})}
            metrics = validate(reply.metrics) if reply.metrics else []
        if count:
            metrics = self._user_metrics() + metrics
            self._record(metrics)
        if not self.include_metrics:
            metrics = []
        names = self._class_names
        meta = payload.response_meta(request.meta, tags, metrics, carry=carry_meta)
        return payload.encode(result, request, names, meta)
