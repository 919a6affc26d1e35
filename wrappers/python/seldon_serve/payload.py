"""SeldonMessage (its JSON form) <-> the values user code receives and returns.

Requests decode into a `Request`: the features in the form user code expects (a numpy array
for `data`, the value itself for jsonData/strData/binData), the names, the meta, and which kind
of payload it was, because the response mirrors that kind (tensor stays tensor, ...).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from google.protobuf import json_format

from . import tftensor
from .errors import INTERNAL_ERROR, BadRequest, SeldonMicroserviceException
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


# The fields of Meta the wrapper reads, and the JSON type each must have (prediction.proto).
_META_FIELDS = {"puid": (str, "a string"), "tags": (dict, "a JSON object"), "routing": (dict, "a JSON object")}


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
    raise BadRequest("data must hold one of ndarray, tensor or tftensor")


def ndarray_to_numpy(values: Any) -> np.ndarray:
    if not isinstance(values, list):
        raise BadRequest("data.ndarray must be a (nested) list")
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


def encode(result: Any, request: Request | None, names: list[str] | None, meta: dict[str, Any]) -> dict[str, Any]:
    """The response message for `result`, mirroring the request's payload kind."""
    if isinstance(result, Table):
        names = result.names if names is None else names
        result = result.values
    if isinstance(result, dict):
        return {"jsonData": result, "meta": meta}
    if isinstance(result, bytes | bytearray):
        return {"binData": base64.b64encode(result).decode(), "meta": meta}
    if isinstance(result, str):
        return {"strData": result, "meta": meta}
    array = np.asarray(result)
    if array.ndim == 0:
        array = array.reshape(1)
    if names is None:
        names = [f"t:{i}" for i in range(array.shape[1])] if array.ndim > 1 else []
    kind = request.kind if request is not None and request.kind in DATA_KINDS else "ndarray"
    return {"data": {"names": names, kind: encode_array(array, kind)}, "meta": meta}


def encode_array(array: np.ndarray, kind: str) -> Any:
    if kind == "tensor":
        try:
            values = array.astype(np.float64).ravel().tolist()
        except (ValueError, TypeError):
            raise SeldonMicroserviceException(
                "the model returned non-numeric values for a tensor request; tensors carry numbers only",
                status_code=500,
                reason=INTERNAL_ERROR,
            ) from None
        return {"shape": list(array.shape), "values": values}
    if kind == "tftensor":
        return json_format.MessageToDict(tftensor.from_numpy(array))
    return array.tolist()


def response_meta(request_meta: dict[str, Any], tags: dict[str, Any], metrics: list[dict[str, Any]]) -> dict[str, Any]:
    """puid round-trips (or is made up); user tags update the request's tags."""
    meta: dict[str, Any] = {"puid": request_meta.get("puid") or uuid.uuid4().hex}
    request_tags = request_meta.get("tags")
    if request_tags or tags:
        meta["tags"] = {**(request_tags or {}), **tags}
    if metrics:
        meta["metrics"] = metrics
    return meta
