"""The commonest SeldonMessage answer -- data.names with an ndarray or a tensor, and a meta
holding only the puid -- written from its JSON form straight to the bytes protobuf would
serialize (fields in number order, lengths as varints), without building the message first:
building it cost more than the model call of a small request. Any other answer is None here,
and the caller builds the message (grpc_server.to_proto), so its values and its errors stay
protobuf's own. The layout is prediction.proto's (wrappers/proto)."""

from __future__ import annotations

import struct
from typing import Any

from . import list_values
from .list_values import field

# Field keys (field number << 3 | wire type 2, length-delimited) of the messages written here.
_META, _DATA = b"\x12", b"\x1a"  # SeldonMessage.meta = 2, .data = 3
_PUID = b"\x0a"  # Meta.puid = 1
_NAME, _TENSOR, _NDARRAY = b"\x0a", b"\x12", b"\x1a"  # DefaultData.names = 1, .tensor = 2, .ndarray = 3
_SHAPE, _VALUES = b"\x0a", b"\x12"  # Tensor.shape = 1, .values = 2 (both packed)
_INT32_LIMIT = 1 << 31
_MESSAGE_KEYS, _DATA_KEYS, _PUID_ONLY = frozenset({"data", "meta"}), frozenset({"names", "ndarray", "tensor"}), {"puid"}


def answer(message: dict[str, Any]) -> bytes | None:
    """to_proto(message).SerializeToString() for the answers it writes; None for the others."""
    if type(message) is not dict or not message.keys() <= _MESSAGE_KEYS:
        return None
    data, meta = message.get("data"), message.get("meta")
    if type(data) is not dict or not data.keys() <= _DATA_KEYS or len(data) - ("names" in data) != 1:
        return None
    names = _names(data.get("names") or [])
    values = data.get("ndarray")
    body = _ndarray(values) if values is not None else _tensor(data.get("tensor"))
    if names is None or body is None:
        return None
    if not meta:
        return field(_DATA, names + body)
    if type(meta) is not dict or meta.keys() != _PUID_ONLY or type(meta["puid"]) is not str or not meta["puid"]:
        return None  # to_proto marks meta present even for an empty puid
    return field(_META, field(_PUID, meta["puid"].encode())) + field(_DATA, names + body)


def _names(names: Any) -> bytes | None:
    """The names' fields. A model answers with the same names call after call: they are
    written once (a few hundred lists are kept)."""
    if type(names) is not list:
        return None
    try:
        key = tuple(names)
        return _written_names[key]
    except TypeError:  # a name that is not hashable: protobuf refuses it
        return None
    except KeyError:
        pass
    if any(type(name) is not str for name in names):
        return None
    if len(_written_names) >= _NAMES_KEPT:
        _written_names.clear()
    written = _written_names[key] = b"".join(field(_NAME, name.encode()) for name in names)
    return written


_written_names: dict[tuple[Any, ...], bytes] = {}
_NAMES_KEPT = 256


def _ndarray(values: Any) -> bytes | None:
    if type(values) is not list:
        return None
    try:
        encoded = list_values.encode(values)
    except list_values.Unencodable:
        return None
    return field(_NDARRAY, encoded)


def _tensor(tensor: Any) -> bytes | None:
    """Tensor {shape, values}, each packed, for a non-empty shape of int32s and non-empty floats."""
    if type(tensor) is not dict or tensor.keys() != {"shape", "values"}:
        return None
    shape, values = tensor["shape"], tensor["values"]
    if type(shape) is not list or type(values) is not list or not shape or not values:
        return None
    if any(type(size) is not int or not 0 <= size < _INT32_LIMIT for size in shape):
        return None
    if any(type(value) is not float for value in values):
        return None
    sizes = b"".join(map(list_values.varint, shape))
    doubles = struct.pack(f"<{len(values)}d", *values)
    return field(_TENSOR, field(_SHAPE, sizes) + field(_VALUES, doubles))
