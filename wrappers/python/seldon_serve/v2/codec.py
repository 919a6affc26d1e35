"""Open Inference Protocol tensors in JSON (the REST form) <-> numpy arrays, and the checks both
transports make of a tensor: its datatype, shape and values.

Datatypes map to numpy one to one: BOOL bool, INT8..INT64 int8..int64, UINT8..UINT64
uint8..uint64, FP16/FP32/FP64 float16/32/64, and BYTES an object array of str (of bytes when a
gRPC element is not UTF-8). JSON has no FP16 of its own: its numbers are read as float16.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import INTERNAL_ERROR, BadRequest, SeldonMicroserviceException

DATATYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(object),
}
DATATYPE_BY_DTYPE = {dtype: name for name, dtype in DATATYPES.items() if name != "BYTES"}
# The numpy kinds a JSON array may hold for each datatype (JSON has no unsigned or small ints).
_ACCEPTED_KINDS = {"BOOL": "b", "FP16": "iuf", "FP32": "iuf", "FP64": "iuf"}
_KIND_WORDS = {"b": "true/false", "iu": "integers", "iuf": "numbers"}


def datatype_of(array: np.ndarray) -> str:
    if array.dtype.kind in "OUS":
        return "BYTES"
    if array.dtype not in DATATYPE_BY_DTYPE:
        raise SeldonMicroserviceException(
            f"the model answered {array.dtype} values, which no Open Inference Protocol datatype holds",
            status_code=500,
            reason=INTERNAL_ERROR,
        )
    return DATATYPE_BY_DTYPE[array.dtype]


def check_datatype(name: str, datatype: Any) -> np.dtype[Any]:
    if datatype not in DATATYPES:
        raise BadRequest(f"input {name!r}: datatype {datatype!r} is not one of {', '.join(DATATYPES)}")
    return DATATYPES[datatype]


def check_shape(name: str, shape: Any) -> list[int]:
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise BadRequest(f"input {name!r}: shape must be a list of non-negative integers, got {shape!r}")
    return shape


def fit(name: str, array: np.ndarray, shape: list[int]) -> np.ndarray:
    """The input's elements in its declared shape, which must hold exactly as many."""
    expected = math.prod(shape)
    if array.size != expected:
        raise BadRequest(f"input {name!r}: shape {shape} holds {expected} elements, the data {array.size}")
    return array.reshape(shape)


def check_range(name: str, values: np.ndarray, dtype: np.dtype[Any], datatype: str) -> None:
    if values.size and dtype.kind in "iu":
        info = np.iinfo(dtype)
        if int(values.min()) < info.min or int(values.max()) > info.max:
            raise BadRequest(f"input {name!r}: a value is outside {datatype}'s range [{info.min}, {info.max}]")


def as_text(value: Any) -> Any:
    """A BYTES element as the model sees it: str when it is UTF-8, bytes otherwise."""
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode()
        except UnicodeDecodeError:
            return bytes(value)
    return value


def array_from_json(tensor: Any) -> tuple[str, np.ndarray]:
    """An input tensor of the JSON form: {"name", "shape", "datatype", "data"}."""
    if not isinstance(tensor, dict):
        raise BadRequest("each input must be an object with name, shape, datatype and data")
    name = tensor.get("name")
    if not isinstance(name, str) or not name:
        raise BadRequest("each input needs a name")
    datatype = tensor.get("datatype")
    dtype = check_datatype(name, datatype)
    shape = check_shape(name, tensor.get("shape"))
    if "data" not in tensor:
        raise BadRequest(f"input {name!r} has no data (the binary tensor extension is not supported)")
    data = tensor["data"]
    try:
        if datatype == "BYTES":
            flat = np.asarray(data, dtype=object).ravel()
            if not all(isinstance(v, str) for v in flat):
                raise BadRequest(f"input {name!r}: BYTES data must be strings")
            return name, fit(name, flat, shape)
        parsed = np.asarray(data)
    except ValueError as exc:  # ragged nesting
        raise BadRequest(f"input {name!r}: data is not a regular array: {exc}") from None
    accepted = _ACCEPTED_KINDS.get(datatype, "iu")  # integer datatypes take JSON integers only
    if dtype.kind in "iu" and parsed.dtype.kind in "fO":
        parsed = _whole_numbers(name, datatype, data)  # past int64 (UINT64's top half) numpy guesses float
    elif parsed.size and parsed.dtype.kind not in accepted:
        raise BadRequest(f"input {name!r}: {datatype} data must be {_KIND_WORDS[accepted]}")
    check_range(name, parsed, dtype, datatype)
    return name, fit(name, parsed.astype(dtype), shape)


def _whole_numbers(name: str, datatype: str, data: Any) -> np.ndarray:
    values = np.asarray(data, dtype=object)
    if not all(type(v) is int for v in values.ravel()):
        raise BadRequest(f"input {name!r}: {datatype} data must be integers")
    return values


def json_output(name: str, array: np.ndarray, parameters: dict[str, str]) -> dict[str, Any]:
    datatype = datatype_of(array)
    data = [_json_text(v) for v in array.ravel().tolist()] if datatype == "BYTES" else array.ravel().tolist()
    output = {"name": name, "datatype": datatype, "shape": list(array.shape), "data": data}
    if parameters:
        output["parameters"] = parameters
    return output


def _json_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode()
        except UnicodeDecodeError:
            raise SeldonMicroserviceException(
                "the answer holds bytes that are not UTF-8, which JSON cannot carry: ask over gRPC",
                status_code=500,
                reason=INTERNAL_ERROR,
            ) from None
    return str(value)
