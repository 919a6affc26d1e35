"""Values between the wrapper (numpy arrays, str, bytes, JSON values) and R.

Into R: 2-D data becomes a data.frame whose columns are named by the request's names (or
t:0, t:1, ... like the wrapper's default names); 1-D data a vector; more dimensions an array;
strData a string, binData a raw vector, jsonData nested lists (jsonlite, simplifyVector = FALSE).
Out of R: seldon_flatten() reduces any result to a few plain kinds, read by from_flat().
"""

from __future__ import annotations

import json
import numbers
from typing import Any

import numpy as np

from seldon_serve.errors import BadRequest
from seldon_serve.payload import Table

from . import runtime


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
    rows, columns = array.shape
    if not names:
        names = [f"t:{i}" for i in range(columns)]
    elif len(names) != columns:
        raise BadRequest(f"data.names has {len(names)} names for {columns} columns")
    r_names = ri.StrSexpVector([str(name) for name in names])
    if array.dtype.kind in "iuf" and array.size:
        # numbers cross as one vector, column after column, which R cuts into the columns: one
        # conversion instead of one a column (rpy2's per-object cost dominates a small request)
        values = ri.FloatSexpVector.from_memoryview(memoryview(np.asarray(array, dtype=np.float64).ravel(order="F")))
        return runtime.function("seldon_numeric_frame")(values, r_names, ri.IntSexpVector([rows]))
    r_columns = ri.ListSexpVector([vector_to_r(array[:, j]) for j in range(columns)])
    return runtime.function("seldon_frame")(r_columns, r_names, ri.IntSexpVector([rows]))


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


def from_flat(flattened: Any) -> Any:
    """What seldon_flatten() made of a result, as the wrapper's payload encoder takes it."""
    flat = runtime.fields(flattened)
    kind = flat["kind"][0]
    if kind == "null":
        return None
    if kind == "bytes":
        return bytes(flat["value"])
    if kind == "json":
        return json.loads(flat["value"][0])
    if kind == "vector":
        return vector_from_r(flat["value"])
    if kind == "array":
        dims = tuple(int(d) for d in flat["dim"])
        array = vector_from_r(flat["value"]).reshape(dims, order="F")
        return Table(array, _strings(flat["names"])) if flat["names"] is not runtime.session().NULL else array
    if kind == "numeric_table":  # every column double: one vector, column after column
        names = _strings(flat["names"])
        values = vector_from_r(flat["value"])
        return Table(values.reshape((len(names), -1)).T, names)
    columns = [vector_from_r(column) for column in flat["columns"]]
    return Table(_stack(columns), _strings(flat["names"]))


def vector_from_r(vector: Any) -> np.ndarray:
    ri = runtime.session()
    numeric = {ri.RTYPES.REALSXP: np.float64, ri.RTYPES.INTSXP: np.int64}.get(vector.typeof)
    if numeric is not None:
        # rpy2 cannot make a memoryview of an empty vector
        return np.array(vector.memoryview() if len(vector) else [], dtype=numeric)
    if vector.typeof == ri.RTYPES.LGLSXP:
        return np.array([bool(item) for item in vector], dtype=bool)
    items = [None if item is ri.NA_Character else str(item) for item in vector]
    array = np.empty(len(items), dtype=object)
    array[:] = items
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


def _strings(vector: Any) -> list[str]:
    return [str(item) for item in vector]
