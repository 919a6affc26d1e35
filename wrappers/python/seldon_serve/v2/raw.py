"""gRPC's raw tensor contents (raw_input_contents, raw_output_contents): a tensor's elements as
little-endian bytes, BYTES elements each behind a 4-byte little-endian length. The only form
FP16 travels in over gRPC, which has no contents field for it."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from ..errors import BadRequest
from .codec import DATATYPES, as_text, fit


def array_from_raw(name: str, datatype: str, raw: bytes, shape: list[int]) -> np.ndarray:
    """An input's elements from its raw contents, in its shape (its datatype already checked)."""
    dtype = DATATYPES[datatype]
    if datatype == "BYTES":
        return fit(name, np.array([as_text(v) for v in unpack_bytes(name, raw)], dtype=object), shape)
    if len(raw) % dtype.itemsize:
        raise BadRequest(f"input {name!r}: raw contents of {len(raw)} bytes are not whole {datatype} elements")
    return fit(name, np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype), shape)


def unpack_bytes(name: str, raw: bytes) -> list[bytes]:
    """BYTES elements of raw contents: each a 4-byte little-endian length, then the bytes."""
    elements, offset = [], 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise BadRequest(f"input {name!r}: raw BYTES contents end inside a length prefix")
        (length,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + length > len(raw):
            raise BadRequest(f"input {name!r}: a raw BYTES element runs past the end of the contents")
        elements.append(raw[offset : offset + length])
        offset += length
    return elements


def pack(array: np.ndarray, datatype: str) -> bytes:
    """An output's elements as raw contents."""
    if datatype == "BYTES":
        return b"".join(struct.pack("<I", len(b)) + b for b in (as_bytes(v) for v in array.ravel().tolist()))
    return np.ascontiguousarray(array, dtype=DATATYPES[datatype].newbyteorder("<")).tobytes()


def as_bytes(value: Any) -> bytes:
    """A BYTES element as gRPC carries it."""
    return bytes(value) if isinstance(value, bytes | bytearray) else str(value).encode()
