"""SeldonMessage (its JSON form) <-> the values user code receives and returns.

Requests decode into a `Request`: the features in the form user code expects (a numpy array
for `data`, the value itself for jsonData/strData/binData), the names, the meta, and which kind
of payload it was, because the response mirrors that kind (tensor stays tensor, ...).
"""

from __future__ import annotations

import base64
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from google.protobuf import any_pb2, json_format

from . import tftensor
from .errors import BadRequest
from .metrics import METRIC_TYPES
from .proto import tf_tensor_pb2

DATA_KINDS = ("ndarray", "tensor", "tftensor")


@dataclass(slots=True)
class Request:
    kind: str  # one of DATA_KINDS, or jsonData / strData / binData
    features: Any
    names: list[str]
    meta: dict[str, Any]


@dataclass(slots=True)
class Table:
    """A result whose columns are named, such as an R data.frame: the names answer as data.names
    (unless the component's class_names() says otherwise)."""

    values: Any
    names: list[str]


class JsonIncoming:
    """A request as REST receives it: the JSON form, decoded only when a verb asks."""

    __slots__ = ("_message",)

    def __init__(self, message: Any):
        self._message = message

    def message(self) -> Any:
        return self._message

    def proto(self) -> None:
        return None  # came as JSON: *_raw methods get the JSON form, as in Seldon

    def request(self) -> Request:
        return decode(self._message)


def decode(message: Any) -> Request:
    if not isinstance(message, dict):
        raise BadRequest(f"a SeldonMessage must be a JSON object, got {type(message).__name__}")
    meta = message.get("meta")
    if meta is None:
        meta = {}
    else:
        check_meta(meta)
    if "data" in message:
        return _decode_data(message["data"], meta)
    if "jsonData" in message:
        return Request("jsonData", message["jsonData"], [], meta)
    if "strData" in message:
        if not isinstance(message["strData"], str):
            raise BadRequest("strData must be a string")
        return Request("strData", message["strData"], [], meta)
    if "binData" in message:
        return Request("binData", _b64decode(message["binData"]), [], meta)
    raise BadRequest("a SeldonMessage needs one of data, jsonData, strData or binData")


# The fields of Meta the wrapper reads or carries into its answer, and the JSON type each must
# have (prediction.proto).
_META_FIELDS = {
    "puid": (str, "a string"),
    "tags": (dict, "a JSON object"),
    "routing": (dict, "a JSON object"),
    "requestPath": (dict, "a JSON object"),
    "metrics": (list, "a list"),
}


def check_meta(meta: Any) -> None:
    if not isinstance(meta, dict):
        raise BadRequest("meta must be a JSON object")
    for field, (kind, words) in _META_FIELDS.items():
        value = meta.get(field)
        if value is not None and not isinstance(value, kind):
            raise BadRequest(f"meta.{field} must be {words}, not {type(value).__name__}")
    for unit, branch in (meta.get("routing") or {}).items():
        if isinstance(branch, bool) or not isinstance(branch, int):
            raise BadRequest(f"meta.routing[{unit!r}] must be a whole number, not {branch!r}")
    for unit, image in (meta.get("requestPath") or {}).items():
        if not isinstance(image, str):
            raise BadRequest(f"meta.requestPath[{unit!r}] must be a string (an image), not {image!r}")
    for metric in meta.get("metrics") or []:
        _check_metric(metric)


def _check_metric(metric: Any) -> None:
    """A metric a request carries, which its answer carries on: prediction.proto's Metric."""
    if not isinstance(metric, dict) or not isinstance(metric.get("key"), str):
        raise BadRequest(f"meta.metrics: {metric!r} is not a metric (key, type, value)")
    if metric.get("type", "COUNTER") not in METRIC_TYPES:
        raise BadRequest(f"meta.metrics: {metric['key']!r} has type {metric.get('type')!r}, not one of {METRIC_TYPES}")
    value = metric.get("value", 0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"meta.metrics: {metric['key']!r} has value {value!r}, not a number")
    if not isinstance(metric.get("tags", {}), dict):
        raise BadRequest(f"meta.metrics: {metric['key']!r} has tags that are not an object")


def _decode_data(data: Any, meta: dict[str, Any]) -> Request:
    if not isinstance(data, dict):
        raise BadRequest("data must be a JSON object")
    names = data.get("names") or []
    if not isinstance(names, list):
        raise BadRequest("data.names must be a list of strings")
    if "ndarray" in data:
        return Request("ndarray", ndarray_to_numpy(data["ndarray"]), names, meta)
    if "tensor" in data:
        return Request("tensor", tensor_to_numpy(data["tensor"]), names, meta)
    if "tftensor" in data:
        try:
            proto = json_format.ParseDict(data["tftensor"], tf_tensor_pb2.TensorProto())
        except (json_format.ParseError, TypeError, AttributeError) as exc:
            raise BadRequest(f"data.tftensor is not a TensorProto: {exc}") from None
        return Request("tftensor", tftensor.to_numpy(proto), names, meta)
    return Request("ndarray", np.array([]), names, meta)  # data with no values: Seldon's empty X


def ndarray_to_numpy(values: Any) -> np.ndarray:
    if isinstance(values, str | int | float | bool):
        return np.asarray(values)  # a scalar, which Seldon takes too
    if not isinstance(values, list):
        raise BadRequest("data.ndarray must be a (nested) list or a scalar")
    try:
        return np.asarray(values)
    except ValueError:
        # Ragged rows or mixed nesting: keep them as Python objects, as older numpy did.
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array


def tensor_to_numpy(tensor: Any) -> np.ndarray:
    if not isinstance(tensor, dict) or "values" not in tensor:
        raise BadRequest("data.tensor needs shape and values")
    values, shape = tensor["values"], tensor.get("shape") or [len(tensor["values"])]
    try:
        return np.asarray(values, dtype=np.float64).reshape(shape)
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"data.tensor values do not fit shape {shape}: {exc}") from None


def _b64decode(value: Any) -> bytes:
    if not isinstance(value, str):
        raise BadRequest("binData must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as exc:  # binascii.Error, or a character outside ASCII
        raise BadRequest(f"binData is not valid base64: {exc}") from None


def encode(
    result: Any, request: Request | None, names: Callable[[], Any] | list[str] | None, meta: dict[str, Any]
) -> dict[str, Any]:
    """The response message for `result`, by Seldon's rules: a dict answers jsonData, bytes
    binData, a str strData; numbers answer in the request's data kind (tensor when the request
    had no data); anything else as ndarray. `names` (class_names) names the columns of a 2-D
    result; without it they are t:0, t:1, ..."""
    if isinstance(result, Table):
        names = result.names if names is None else names
        result = result.values
    if isinstance(result, dict):
        return {"jsonData": result, "meta": meta}
    if isinstance(result, bytes | bytearray):
        return {"binData": base64.b64encode(result).decode(), "meta": meta}
    if isinstance(result, str):
        return {"strData": result, "meta": meta}
    if isinstance(result, any_pb2.Any):
        return {"customData": result, "meta": meta}  # gRPC's customData, answered as it came
    array = np.asarray(result)
    if array.ndim > 1:
        given = names() if callable(names) else names
        column_names = list(given) if given is not None else [f"t:{i}" for i in range(array.shape[1])]
    else:
        column_names = []
    kind = request.kind if request is not None and request.kind in DATA_KINDS else "tensor"
    if array.dtype.kind not in _NUMBER_KINDS:
        kind = "ndarray"
    return {"data": {"names": column_names, kind: encode_array(array, kind)}, "meta": meta}


# np.issubdtype(dtype, np.number) by the dtype's kind, at a tenth of its cost: integers (timedelta64
# is one), unsigned integers, floats and complex numbers; not bool, datetime64, text or objects.
_NUMBER_KINDS = frozenset("iumfc")


def encode_array(array: np.ndarray, kind: str) -> Any:
    if kind == "tensor":
        return {"shape": list(array.shape), "values": array.astype(np.float64).ravel().tolist()}
    if kind == "tftensor":
        return json_format.MessageToDict(tftensor.from_numpy(array))
    return array.tolist()


@functools.cache
def unit_request_path() -> dict[str, str]:
    """This unit's entry in meta.requestPath, {unit id: image}, when Seldon names the unit."""
    unit = os.environ.get("PREDICTIVE_UNIT_ID")
    if not unit:
        return {}
    return {unit: os.environ.get("PREDICTIVE_UNIT_IMAGE", "NOT_IMPLEMENTED:NOT_IMPLEMENTED")}


_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant


class _MadeUpIds:
    """Request ids made 256 at a time from one 4 KiB read of os.urandom, where each request made
    a system call: 0.75 us an id against 0.86 (timeit, one CPU). list.pop is atomic, so threads
    never take the same id; a forked child starts afresh, so workers never share ids."""

    BATCH = 256

    def __init__(self) -> None:
        self.forget()
        os.register_at_fork(after_in_child=self.forget)

    def forget(self) -> None:
        self.ready: list[str] = []

    def take(self) -> str:
        try:
            return self.ready.pop()
        except IndexError:
            pool = os.urandom(16 * self.BATCH)
            self.ready = [_uuid4_hex(pool[at : at + 16]) for at in range(0, len(pool), 16)]
            return self.ready.pop()


def _uuid4_hex(random: bytes) -> str:
    """uuid.UUID(bytes=random, version=4).hex, without the UUID object."""
    return "%032x" % (int.from_bytes(random, "big") & _UUID4_CLEAR | _UUID4_SET)


_made_up_ids = _MadeUpIds()


def new_puid() -> str:
    """A new request id as Seldon's wrapper makes one, uuid.uuid4().hex."""
    return _made_up_ids.take()


def response_meta(
    request_meta: dict[str, Any], tags: dict[str, Any], metrics: list[dict[str, Any]], *, carry: bool = True
) -> dict[str, Any]:
    """The puid round-trips (or is made up). With `carry`, the request's tags (updated by the
    model's), metrics (followed by the model's) and requestPath (after this unit's entry) are
    carried into the answer, as Seldon does for every verb but route and feedback."""
    meta: dict[str, Any] = {"puid": request_meta.get("puid") or new_puid()}
    request_tags = request_meta.get("tags") if carry else None
    if request_tags or tags:
        meta["tags"] = {**(request_tags or {}), **tags}
    carried = list(request_meta.get("metrics") or []) if carry else []
    if carried or metrics:
        meta["metrics"] = carried + metrics
    path = {**unit_request_path(), **((request_meta.get("requestPath") or {}) if carry else {})}
    if path:
        meta["requestPath"] = path
    return meta


def merge_metas(metas: list[dict[str, Any]]) -> dict[str, Any]:
    """The meta an aggregate's answer carries: every message's tags, requestPath and metrics."""
    tags: dict[str, Any] = {}
    path: dict[str, str] = {}
    metrics: list[dict[str, Any]] = []
    for meta in metas:
        tags.update(meta.get("tags") or {})
        path.update(meta.get("requestPath") or {})
        metrics.extend(meta.get("metrics") or [])
    return {"tags": tags, "requestPath": path, "metrics": metrics}


def feedback_proto(feedback: dict[str, Any]) -> Any:
    """A Feedback message from its JSON form (what Seldon hands send_feedback_raw)."""
    from .proto import prediction_pb2

    try:
        return json_format.ParseDict(feedback, prediction_pb2.Feedback())
    except (json_format.ParseError, TypeError, ValueError) as exc:
        raise BadRequest(f"feedback is not a Feedback message: {exc}") from None
