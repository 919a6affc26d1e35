"""Values between the wrapper (numpy arrays, str, bytes, JSON values) and R.

Into R: 2-D data becomes a data.frame whose columns are named by the request's names (or
t:0, t:1, ... like the wrapper's default names); 1-D data a vector; more dimensions an array;
strData a string, binData a raw vector, jsonData nested lists (jsonlite, simplifyVector = FALSE).
Out of R: seldon_flatten() reduces any result to a few plain kinds, read by from_flat().
"""

from __future__ import annotations

import functools
import json
import numbers
from typing import Any, NamedTuple

import numpy as np

from seldon_serve.errors import BadRequest
from seldon_serve.payload import Table

from . import capi, runtime


def to_r(value: Any, names: list[str] | None = None) -> Any:
    ri = runtime.session()
    if value is None:
        return ri.NULL
    if isinstance(value, str):
        return ri.StrSexpVector([value])
    if isinstance(value, bytes | bytearray):
        return ri.ByteSexpVector(bytes(value))
    if isinstance(value, dict | list):
        return json_to_r(value)
    array = np.asarray(value)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim == 1:
        return vector_to_r(array)
    if array.ndim == 2:
        return frame_to_r(array, names or [])
    return runtime.function("seldon_array")(vector_to_r(array.ravel(order="F")), ri.IntSexpVector(array.shape))


def json_to_r(value: Any) -> Any:
    return runtime.function("seldon_from_json")(runtime.session().StrSexpVector([json.dumps(value)]))


def frame_to_r(array: np.ndarray, names: list[str]) -> Any:
    ri = runtime.session()
    parts = numeric_frame_parts(array, names)
    if parts is not None:
        return runtime.function("seldon_numeric_frame")(
            ri.FloatSexpVector.from_memoryview(memoryview(parts.values)), parts.attributes, parts.rows
        )
    rows, columns = array.shape
    r_columns = ri.ListSexpVector([vector_to_r(array[:, j]) for j in range(columns)])
    attributes, _names = _frame_attributes(tuple(_names_for(array, names)), rows)
    return runtime.function("seldon_frame")(r_columns, attributes)


class FrameParts(NamedTuple):
    """A 2-D numeric request as seldon_numeric_frame(values, attributes, rows) takes it: its
    numbers as one float64 vector, column after column, which R cuts into the columns (one
    conversion instead of one a column), the data.frame's attributes and the row count as R
    values, the names as R holds them (in the attributes) and in Python."""

    values: np.ndarray
    attributes: Any
    rows: Any
    names: Any
    labels: list[str]


def numeric_frame_parts(value: Any, names: list[str]) -> FrameParts | None:
    """The parts of a 2-D numeric request; None for other data."""
    if not isinstance(value, np.ndarray) or value.ndim != 2 or value.dtype.kind not in "iuf" or not value.size:
        return None
    names = _names_for(value, names)
    values = np.ascontiguousarray(np.asarray(value, dtype=np.float64).ravel(order="F"))
    attributes, r_names = _frame_attributes(tuple(names), value.shape[0])
    return FrameParts(values, attributes, _rows(value.shape[0]), r_names, names)


def _names_for(array: np.ndarray, names: list[str]) -> list[str]:
    columns = array.shape[1]
    if not names:
        return [f"t:{i}" for i in range(columns)]
    if len(names) != columns:
        raise BadRequest(f"data.names has {len(names)} names for {columns} columns")
    return names


# A service's requests mostly repeat their names and row count: made into R once each.
@functools.lru_cache(maxsize=256)
def _frame_attributes(names: tuple[str, ...], rows: int) -> tuple[Any, Any]:
    """seldon_frame_attributes(names, rows), and the names vector in it (as a SEXP)."""
    ri = runtime.session()
    attributes = runtime.function("seldon_frame_attributes")(
        ri.StrSexpVector([str(name) for name in names]), _rows(rows)
    )
    return attributes, capi.element(capi.cdata(attributes), 0)


@functools.lru_cache(maxsize=256)
def _rows(rows: int) -> Any:
    return runtime.session().IntSexpVector([rows])


def vector_to_r(array: np.ndarray) -> Any:
    ri = runtime.session()
    kind = array.dtype.kind
    if kind == "b":
        return ri.BoolSexpVector(array.tolist())
    if kind in "iuf" and array.size == 0:
        return ri.FloatSexpVector([])  # rpy2 cannot take an empty memoryview
    if kind in "iuf":
        return ri.FloatSexpVector.from_memoryview(memoryview(np.ascontiguousarray(array, dtype=np.float64)))
    if kind in "US":
        return ri.StrSexpVector([str(item) for item in array.tolist()])
    items = array.tolist()  # object arrays: mixed JSON values
    if all(isinstance(item, numbers.Real) and not isinstance(item, bool) for item in items):
        return ri.FloatSexpVector([float(item) for item in items])
    if all(isinstance(item, bool) for item in items):
        return ri.BoolSexpVector(items)
    return ri.StrSexpVector([ri.NA_Character if item is None else _text(item) for item in items])


def _text(item: Any) -> str:
    return item if isinstance(item, str) else json.dumps(item)


def from_flat(flat: list[Any]) -> Any:
    """What seldon_flatten() made of a result, as capi.read gave it (a list, by position),
    as the wrapper's payload encoder takes it."""
    kind = flat[0][0]
    if kind == "null":
        return None
    if kind == "bytes":
        return flat[1]
    if kind == "json":
        return json.loads(flat[1][0])
    if kind == "vector":
        return as_array(flat[1])
    if kind == "array":
        array = as_array(flat[1]).reshape(tuple(int(d) for d in flat[2]), order="F")
        return Table(array, _names(flat[3])) if flat[3] is not None else array
    if kind == "numeric_table":  # every column double: one vector, column after column
        names = _names(flat[2])
        return Table(flat[1].reshape((len(names), -1)).T, names)
    return Table(_stack([as_array(column) for column in flat[1]]), _names(flat[2]))


def as_array(values: Any) -> np.ndarray:
    """A vector as capi.read gave it, as an array: strings (NA as None) as objects."""
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, bytes):
        return np.frombuffer(values, dtype=np.uint8).astype(np.int64)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _stack(columns: list[np.ndarray]) -> np.ndarray:
    if not columns:
        return np.empty((0, 0))
    if all(column.dtype != object for column in columns):
        return np.column_stack(columns)
    table = np.empty((len(columns[0]), len(columns)), dtype=object)
    for j, column in enumerate(columns):
        table[:, j] = column.tolist()
    return table


def _names(names: list[str | None]) -> list[str]:
    return ["NA" if name is None else name for name in names]
