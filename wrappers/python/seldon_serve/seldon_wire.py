"""The commonest SeldonMessage answer -- data.names with an ndarray or a tensor, and a meta
holding only the puid -- written from its JSON form straight to the bytes protobuf would
serialize (fields in number order, lengths as varints), without building the message first:
building it cost more than the model call of a small request. Any other answer is None here,
and the caller builds the message (grpc_server.to_proto), so its values and its errors stay
protobuf's own. The commonest request -- data.names and an ndarray of numbers, nothing else --
is read from its bytes the same way (request). The layout is prediction.proto's (wrappers/proto)."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from . import list_values
from .list_values import field, read_varint

# Field keys (field number << 3 | wire type 2, length-delimited) of the messages written here.
_META, _DATA = b"\x12", b"\x1a"  # SeldonMessage.meta = 2, .data = 3
_PUID = b"\x0a"  # Meta.puid = 1
_NAME, _TENSOR, _NDARRAY = b"\x0a", b"\x12", b"\x1a"  # DefaultData.names = 1, .tensor = 2, .ndarray = 3
_DATA_KEY, _NAME_KEY, _NDARRAY_KEY = _DATA[0], _NAME[0], _NDARRAY[0]
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


def request(body: bytes) -> tuple[list[str], np.ndarray] | None:
    """The names and the features of a SeldonMessage holding only data.names and data.ndarray,
    an ndarray of numbers (list_values.to_numbers): as protobuf would decode them. None for
    any other message, and for one whose bytes are not laid out as protobuf writes them
    (which protobuf then decodes, or refuses with its own error).

    A client sends the same request call after call but for the numbers: a request of a few
    numbers is kept, and one laid out as it was (the same bytes but for the doubles) is read
    with one check of those bytes."""
    known = _known
    if known is not None:
        features = list_values.read_few(body, known[1])
        if features is not None:
            return list(known[0]), features
    size = len(body)
    if size < 3 or body[0] != _DATA_KEY:
        return None
    length, at = read_varint(body, 1)
    if at + length != size:
        return None  # another field after data, or cut short
    start = at
    while at < size and body[at] == _NAME_KEY:
        length, at = read_varint(body, at + 1)
        if length < 0:
            return None
        at += length
    names = _read_names(body[start:at]) if at < size and body[at] == _NDARRAY_KEY else None
    if names is None:
        return None
    length, at = read_varint(body, at + 1)
    if at + length != size:
        return None
    features = list_values.numbers_in(body[at:])
    if features is None:
        return None
    if features.size <= list_values.FEW_NUMBERS:
        _remember(body, at, names)
    return list(names), features


_known: tuple[tuple[str, ...], list_values.FewNumbers] | None = None


def _remember(body: bytes, at: int, names: tuple[str, ...]) -> None:
    global _known
    layout = list_values.numbers_layout(body[at:])
    if layout is not None:
        _known = (names, list_values.few_numbers(body[:at], *layout))


def _read_names(run: bytes) -> tuple[str, ...] | None:
    """The names written in run (DefaultData.names fields, one after another). Clients send
    the same names call after call: a few hundred runs are kept."""
    names = _read_runs.get(run)
    if names is not None:
        return names
    found, at = [], 0
    while at < len(run):
        length, at = read_varint(run, at + 1)
        if length < 0 or at + length > len(run):
            return None
        try:
            found.append(run[at : at + length].decode())
        except UnicodeDecodeError:  # protobuf refuses it, with its own error
            return None
        at += length
    if len(_read_runs) >= _NAMES_KEPT:
        _read_runs.clear()
    names = _read_runs[run] = tuple(found)
    return names


_read_runs: dict[bytes, tuple[str, ...]] = {}
