"""An ndarray over gRPC is a google.protobuf.ListValue: these turn one into the Python list
json_format makes of it, and a list into one, without json_format's dispatch on every value
(which cost more than the model call of a small request). Anything off the common path (a
struct, a number JSON cannot carry, a type json_format refuses) is handed to json_format, so
its values and its errors stay exactly json_format's.
"""

from __future__ import annotations

import struct
from typing import Any

from google.protobuf import json_format, struct_pb2

_DOUBLE = struct.Struct("<d")
# A ListValue's element (field 1, length-delimited) holding a Value: its number (field 2, a
# fixed64), null (field 1, varint 0), bool (field 4, varint), string (field 3) or list (field 6).
_NUMBER_ITEM = b"\x0a\x09\x11"
_NULL_ITEM = b"\x0a\x02\x08\x00"
_BOOL_ITEMS = (b"\x0a\x02\x20\x00", b"\x0a\x02\x20\x01")
_ELEMENT, _STRING, _LIST = b"\x0a", b"\x1a", b"\x32"


class _Unusual(Exception):
    """A value the fast path leaves to json_format."""


def to_python(values: struct_pb2.ListValue) -> list[Any]:
    """MessageToDict(values), faster."""
    try:
        return _to_python(values)
    except _Unusual:
        return json_format.MessageToDict(values)  # type: ignore[no-any-return]


def _to_python(values: struct_pb2.ListValue) -> list[Any]:
    out: list[Any] = []
    append = out.append
    for value in values.values:
        kind = value.WhichOneof("kind")
        if kind == "number_value":
            number = value.number_value
            if number - number != 0.0:  # infinite or NaN: json_format refuses it
                raise _Unusual
            append(number)
        elif kind == "list_value":
            append(_to_python(value.list_value))
        elif kind == "string_value":
            append(value.string_value)
        elif kind == "bool_value":
            append(value.bool_value)
        elif kind is None or kind == "null_value":
            append(None)
        else:
            raise _Unusual
    return out


def fill(target: struct_pb2.ListValue, values: list[Any] | tuple[Any, ...]) -> None:
    """target.extend(values), faster: the list's wire form, merged in."""
    try:
        encoded = _encode(values)
    except (_Unusual, OverflowError, struct.error):  # a number too large for a double: extend says so
        target.extend(values)
        return
    target.MergeFromString(encoded)


def _encode(values: list[Any] | tuple[Any, ...]) -> bytes:
    parts = []
    for value in values:
        kind = type(value)
        if kind is float or kind is int:
            parts.append(_NUMBER_ITEM + _DOUBLE.pack(value))
        elif kind is list or kind is tuple:
            inner = _encode(value)
            parts.append(_element(_LIST + _varint(len(inner)) + inner))
        elif kind is str:
            text = value.encode()
            parts.append(_element(_STRING + _varint(len(text)) + text))
        elif kind is bool:
            parts.append(_BOOL_ITEMS[value])
        elif value is None:
            parts.append(_NULL_ITEM)
        else:  # numpy scalars, dicts, subclasses: json_format's rules
            raise _Unusual
    return b"".join(parts)


def _element(value: bytes) -> bytes:
    return _ELEMENT + _varint(len(value)) + value


def _varint(number: int) -> bytes:
    if number < 0x80:
        return bytes((number,))
    out = bytearray()
    while number > 0x7F:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)
