"""An ndarray over gRPC is a google.protobuf.ListValue: these turn one into the Python list
json_format makes of it, and a list into one, without json_format's dispatch on every value
(which cost more than the model call of a small request). Anything off the common path (a
struct, a number JSON cannot carry, a type json_format refuses) is handed to json_format, so
its values and its errors stay exactly json_format's. The commonest request, a vector or a
table of numbers, is read from its wire bytes into an array directly (to_numbers).
"""

from __future__ import annotations

import functools
import itertools
import operator
import struct
from typing import Any, NamedTuple

import numpy as np
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


class Unencodable(Exception):
    """A list encode leaves to protobuf (whose extend accepts or refuses it by its own rules)."""


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


def to_numbers(values: struct_pb2.ListValue) -> np.ndarray | None:
    """np.asarray(to_python(values)) for a list of finite numbers or a list of equally long
    such lists (a float64 array, 1-D or 2-D); None for anything else. Read from the list's wire
    bytes: every number is the same 11 bytes there, and every row the same head, so the layout
    is known from the first row and checked in every other (a 400-number table in a tenth of
    to_python's time)."""
    return numbers_in(values.SerializeToString())


def numbers_in(wire: bytes) -> np.ndarray | None:
    """to_numbers for a ListValue's wire bytes."""
    layout = numbers_layout(wire)
    if layout is None:
        return None
    head, rows, columns = layout
    if rows * columns <= FEW_NUMBERS:
        return read_few(wire, few_numbers(b"", head, rows, columns))
    numbers = _many_numbers(wire, head, rows, columns)
    if numbers is None:
        return None
    return numbers.reshape(columns) if not head else numbers.reshape(rows, columns)


_NUMBER_SIZE = len(_NUMBER_ITEM) + _DOUBLE.size
FEW_NUMBERS = 64  # up to here struct is quicker than numpy's fixed cost


def numbers_layout(wire: bytes) -> tuple[bytes, int, int] | None:
    """(a row's head, rows, columns) if the wire bytes are laid out as a vector (no head, one
    row) or a table of numbers; None when the first row shows they are not. The first number
    ends the head: a head's bytes cannot hold a number's three (a varint's only byte below 0x80
    is its last, and it is followed by 0x32 or by the number)."""
    start = wire.find(_NUMBER_ITEM)
    if start < 0:
        return None
    head = wire[:start]
    if not head:
        columns, extra = divmod(len(wire), _NUMBER_SIZE)
        return None if extra else (head, 1, columns)
    row = _row_shape(head)
    if row is None or len(wire) % row[0]:
        return None
    return head, len(wire) // row[0], row[1]


@functools.lru_cache(maxsize=256)
def _row_shape(head: bytes) -> tuple[int, int] | None:
    """(bytes, numbers) of a table's row that starts with head: a list element whose Value is a
    list_value of numbers; None for a head that is not one."""
    if not head.startswith(_ELEMENT):
        return None
    element, at = read_varint(head, 1)
    if head[at : at + 1] != _LIST:
        return None
    inner, end = read_varint(head, at + 1)
    columns, extra = divmod(inner, _NUMBER_SIZE)
    if end != len(head) or extra or not columns or element != end + inner - at:
        return None
    return end + inner, columns


def read_varint(wire: bytes, at: int) -> tuple[int, int]:
    """The varint at `at` and where it ends; -1 for one cut short."""
    if at < len(wire) and wire[at] < 0x80:  # one byte, as most lengths are: no loop
        return wire[at], at + 1
    number, shift = 0, 0
    for end in range(at, min(at + 10, len(wire))):
        number |= (wire[end] & 0x7F) << shift
        if wire[end] < 0x80:
            return number, end + 1
        shift += 7
    return -1, len(wire)


class FewNumbers(NamedTuple):
    """How to read a message laid out as one read before (prefix, then a ListValue of at most
    FEW_NUMBERS numbers), a Struct reading the doubles only (the rest skipped as padding),
    and what reads the rest (the prefix, each row's head, each number's 3 leading bytes) with
    what it must be."""

    size: int
    doubles: struct.Struct
    rest: Any
    expected: tuple[int, ...]
    shape: tuple[int, ...]


@functools.lru_cache(maxsize=256)
def few_numbers(prefix: bytes, head: bytes, rows: int, columns: int) -> FewNumbers:
    """The FewNumbers of prefix and then a ListValue of this layout (numbers_layout)."""
    row_size = len(head) + _NUMBER_SIZE * columns
    doubles = struct.Struct("<" + f"{len(prefix)}x" + (f"{len(head)}x" + f"{len(_NUMBER_ITEM)}xd" * columns) * rows)
    positions: list[int] = list(range(len(prefix)))
    expected: list[int] = list(prefix)
    for row in range(rows):
        at = len(prefix) + row * row_size
        positions += range(at, at + len(head))
        expected += head
        for number in range(columns):
            item = at + len(head) + _NUMBER_SIZE * number
            positions += range(item, item + len(_NUMBER_ITEM))
            expected += _NUMBER_ITEM
    shape = (rows, columns) if head else (columns,)
    return FewNumbers(doubles.size, doubles, operator.itemgetter(*positions), tuple(expected), shape)


def read_few(wire: bytes, layout: FewNumbers) -> np.ndarray | None:
    """The numbers (a float64 array) of a message laid out so; None for one that is not, or
    holds an infinity or a NaN (json_format refuses them)."""
    if len(wire) != layout.size or layout.rest(wire) != layout.expected:
        return None
    numbers = layout.doubles.unpack(wire)
    total = sum(numbers)
    if total - total != 0.0:  # an infinity or a NaN (or a sum past the largest double): not here
        return None
    return np.array(numbers, dtype=np.float64).reshape(layout.shape)


_NUMBER_DTYPE = np.dtype([("item", f"S{len(_NUMBER_ITEM)}"), ("value", "<f8")])


@functools.lru_cache(maxsize=256)
def _row_dtype(head_size: int, columns: int) -> np.dtype[Any]:
    numbers = ("numbers", _NUMBER_DTYPE, (columns,))
    return np.dtype([("head", f"S{head_size}"), numbers] if head_size else [numbers])


def _many_numbers(wire: bytes, head: bytes, rows: int, columns: int) -> np.ndarray | None:
    laid_out = np.frombuffer(wire, dtype=_row_dtype(len(head), columns))
    if head and not (laid_out["head"] == head).all():
        return None
    if not (laid_out["numbers"]["item"] == _NUMBER_ITEM).all():
        return None
    numbers = laid_out["numbers"]["value"]
    if not np.isfinite(numbers).all():
        return None
    return numbers.astype(np.float64).ravel()


def fill(target: struct_pb2.ListValue, values: list[Any] | tuple[Any, ...]) -> None:
    """target.extend(values), faster: the list's wire form, merged in."""
    try:
        encoded = encode(values)
    except Unencodable:
        target.extend(values)
        return
    target.MergeFromString(encoded)


def encode(values: list[Any] | tuple[Any, ...]) -> bytes:
    """The wire bytes of a ListValue extended with values; Unencodable for a value off the
    common path or one extend refuses (a number too large for a double: extend says so)."""
    try:
        return _encode_numbers(values) or _encode(values)
    except (_Unusual, OverflowError, struct.error):
        raise Unencodable from None


def _encode(values: list[Any] | tuple[Any, ...]) -> bytes:
    parts = []
    for value in values:
        kind = type(value)
        if kind is float or kind is int:
            parts.append(_NUMBER_ITEM + _DOUBLE.pack(value))
        elif kind is list or kind is tuple:
            inner = _encode(value)
            parts.append(field(_ELEMENT, _LIST + varint(len(inner)) + inner))
        elif kind is str:
            text = value.encode()
            parts.append(field(_ELEMENT, _STRING + varint(len(text)) + text))
        elif kind is bool:
            parts.append(_BOOL_ITEMS[value])
        elif value is None:
            parts.append(_NULL_ITEM)
        else:  # numpy scalars, dicts, subclasses: json_format's rules
            raise _Unusual
    return b"".join(parts)


def _encode_numbers(values: list[Any] | tuple[Any, ...]) -> bytes | None:
    """_encode(values) for a list of floats or a list of equally long such lists (what an
    answer's float array becomes), laid out in the rows to_numbers reads: by struct for a few
    numbers, whole by numpy for more; None for any other list."""
    if type(values) is not list or not values:
        return None
    rows, columns, numbers, head = 1, len(values), values, b""
    if type(values[0]) is list:  # a table: rows of as many numbers
        rows, columns = len(values), len(values[0])
        uneven = rows > 1 and (set(map(type, values)) != _LISTS or len(set(map(len, values))) != 1)
        if uneven or not columns:
            return None
        numbers, head = values[0] if rows == 1 else list(itertools.chain.from_iterable(values)), _row_head(columns)
    if set(map(type, numbers)) != _FLOATS:
        return None
    if rows * columns <= FEW_NUMBERS:
        writer, items = _few_writer(head, rows, columns)
        items = items.copy()
        items[1::2] = numbers
        return writer.pack(*items)
    table = np.empty(rows, dtype=_row_dtype(len(head), columns))
    if head:
        table["head"] = head
    table["numbers"]["item"] = _NUMBER_ITEM
    table["numbers"]["value"] = values if head else [values]
    return table.tobytes()


@functools.lru_cache(maxsize=256)
def _row_head(columns: int) -> bytes:
    """What comes before the numbers of a table's row: a list element holding a list_value."""
    head = _LIST + varint(columns * _NUMBER_SIZE)
    return _ELEMENT + varint(len(head) + columns * _NUMBER_SIZE) + head


@functools.lru_cache(maxsize=256)
def _few_writer(head: bytes, rows: int, columns: int) -> tuple[struct.Struct, list[Any]]:
    """For this layout: a Struct writing it, and the items it packs with every number's place
    empty. What comes before a number (a row's head and the number's 3 leading bytes, or
    those only) is one item, so the numbers are every other item."""
    first, item = f"{len(head) + len(_NUMBER_ITEM)}sd", f"{len(_NUMBER_ITEM)}sd"
    writer = struct.Struct("<" + (first + item * (columns - 1)) * rows)
    items = ([head + _NUMBER_ITEM, 0.0] + [_NUMBER_ITEM, 0.0] * (columns - 1)) * rows
    return writer, items


_LISTS, _FLOATS = {list}, {float}


def field(key: bytes, value: bytes) -> bytes:
    """A length-delimited protobuf field: its key, the value's length as a varint, the value."""
    return key + varint(len(value)) + value


def varint(number: int) -> bytes:
    if number < 0x80:
        return bytes((number,))
    out = bytearray()
    while number > 0x7F:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)
