"""The commonest ModelInferRequest read straight from its bytes, and the commonest response
written straight to them, as seldon_wire does for the Seldon protocol: decoding a request with
protobuf and reading the elements out of the message, then building the response message, cost
more than the model call of a small request. The layout is open_inference.proto's (wrappers/proto).

A request read here has a model name, version and id, input tensors whose elements are FP32 or
FP64 contents (packed) or raw_input_contents, and requested outputs by name: no parameters. Any
other request, and bytes not laid out as protobuf writes them (fields out of number order, a
field twice, unpacked shapes), are None here and protobuf decodes them, so their values and
their errors stay protobuf's own.

A client sends the same request call after call but for the elements: when the elements of the
only input end the message, everything before them is kept, and a request with the same bytes
up to there and the same length is read without walking its fields again.

A response written here has outputs of numbers with no parameters, in raw_output_contents or,
for FP32 and FP64, in contents; the bytes are those protobuf serializes (fields in number order,
empty strings left out, lengths as varints). Any other is built as a message (v2.grpc).
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import numpy as np

from ..list_values import field, read_varint, varint
from .codec import DATATYPE_BY_DTYPE, DATATYPES

# One-byte keys (field number << 3 | 2): every field read here is length-delimited.
_MODEL_NAME, _MODEL_VERSION, _ID, _INPUTS, _OUTPUTS, _RAW = 0x0A, 0x12, 0x1A, 0x2A, 0x32, 0x3A  # ModelInferRequest
_NAME, _DATATYPE, _SHAPE, _CONTENTS = 0x0A, 0x12, 0x1A, 0x2A  # InferInputTensor (and the output's name)
_REQUEST_KEYS = frozenset({_MODEL_NAME, _MODEL_VERSION, _ID, _INPUTS, _OUTPUTS, _RAW})
_REPEATED = frozenset({_INPUTS, _OUTPUTS, _RAW})
_TENSOR_KEYS = frozenset({_NAME, _DATATYPE, _SHAPE, _CONTENTS})
# InferTensorContents' packed field of each datatype read here: fp32_contents = 6, fp64_contents = 7.
PACKED_KEYS = {"FP32": 0x32, "FP64": 0x3A}
_INT64_LIMIT = 1 << 63
# ModelInferResponse's outputs = 5 and raw_output_contents = 6; its strings and each
# InferOutputTensor's first fields are numbered as the request's.
_OUTPUT_TENSOR, _RAW_OUTPUT = b"\x2a", b"\x32"


class WireInput(NamedTuple):
    """An input tensor as read: its elements are body[start:stop], packed contents or raw."""

    name: str
    datatype: str
    shape: list[int]
    start: int
    stop: int


class WireRequest(NamedTuple):
    model_name: str
    model_version: str
    id: str
    inputs: list[WireInput]
    outputs: list[str]
    raw: bool  # the elements are raw_input_contents (else contents)


def request(body: bytes) -> WireRequest | None:
    """The request as protobuf would decode it, its elements left in body; None for any other."""
    known = _known
    if known is not None and len(body) == known[0] and body.startswith(known[1]):
        return known[2]
    found = _read(body)
    if found is not None and len(found.inputs) == 1 and found.inputs[0].stop == len(body):
        _remember(body, found)
    return found


_known: tuple[int, bytes, WireRequest] | None = None


def _remember(body: bytes, found: WireRequest) -> None:
    global _known
    _known = (len(body), body[: found.inputs[0].start], found)


def _read(body: bytes) -> WireRequest | None:
    fields = _fields(body, 0, len(body), _REQUEST_KEYS, _REPEATED)
    if fields is None:
        return None
    strings = {_MODEL_NAME: "", _MODEL_VERSION: "", _ID: ""}
    tensors, outputs, raw = [], [], []
    for key, start, stop in fields:
        if key == _INPUTS:
            tensors.append((start, stop))
        elif key == _OUTPUTS:
            name = _output_name(body, start, stop)
            if name is None:
                return None
            outputs.append(name)
        elif key == _RAW:
            raw.append((start, stop))
        else:
            text = _text(body, start, stop)
            if text is None:
                return None
            strings[key] = text
    if raw and len(raw) != len(tensors):
        return None  # protobuf's path says how many there are
    inputs = []
    for index, (start, stop) in enumerate(tensors):
        tensor = _input(body, start, stop, raw[index] if raw else None)
        if tensor is None:
            return None
        inputs.append(tensor)
    return WireRequest(strings[_MODEL_NAME], strings[_MODEL_VERSION], strings[_ID], inputs, outputs, bool(raw))


def _input(body: bytes, start: int, stop: int, raw: tuple[int, int] | None) -> WireInput | None:
    """An InferInputTensor with name, datatype, shape and either no contents (raw given) or
    contents holding only its datatype's packed floats."""
    fields = _fields(body, start, stop, _TENSOR_KEYS, frozenset())
    if fields is None:
        return None
    read = {key: (at, end) for key, at, end in fields}
    name, datatype = _text(body, *read.get(_NAME, (0, 0))), _text(body, *read.get(_DATATYPE, (0, 0)))
    shape = _shape(body, *read.get(_SHAPE, (0, 0)))
    if name is None or datatype is None or shape is None:
        return None
    if raw is not None:
        return None if _CONTENTS in read else WireInput(name, datatype, shape, *raw)
    if _CONTENTS not in read or datatype not in PACKED_KEYS:
        return None
    elements = _fields(body, *read[_CONTENTS], frozenset({PACKED_KEYS[datatype]}), frozenset())
    if not elements or len(elements) != 1 or (elements[0][2] - elements[0][1]) % DATATYPES[datatype].itemsize:
        return None
    return WireInput(name, datatype, shape, elements[0][1], elements[0][2])


def _fields(
    body: bytes, at: int, end: int, keys: frozenset[int], repeated: frozenset[int]
) -> list[tuple[int, int, int]] | None:
    """(key, start, stop) of each field of the message in body[at:end]; None unless every key
    is one of keys, in number order, and only a repeated field comes more than once."""
    found = []
    last = 0
    while at < end:
        key = body[at]
        if key not in keys or key < last or (key == last and key not in repeated):
            return None
        length, start = read_varint(body, at + 1)
        at = start + length
        if length < 0 or at > end:
            return None
        found.append((key, start, at))
        last = key
    return found


def _text(body: bytes, start: int, stop: int) -> str | None:
    try:
        return body[start:stop].decode()
    except UnicodeDecodeError:  # protobuf refuses it, with its own error
        return None


def _output_name(body: bytes, start: int, stop: int) -> str | None:
    """A requested output's name: an InferRequestedOutputTensor holding nothing else."""
    fields = _fields(body, start, stop, frozenset({_NAME}), frozenset())
    if fields is None:
        return None
    return _text(body, *fields[0][1:]) if fields else ""


def _shape(body: bytes, at: int, stop: int) -> list[int] | None:
    """A packed run of int64 dimensions, each one protobuf reads as non-negative."""
    shape = []
    while at < stop:
        size, at = read_varint(body, at)
        if size < 0 or size >= _INT64_LIMIT or at > stop:
            return None
        shape.append(size)
    return shape


def response(model_name: str, model_version: str, id: str, outputs: list[Any], raw: bool) -> bytes | None:
    """The serialized ModelInferResponse of outputs (name, array, parameters), each non-empty
    numbers with no parameters: raw contents when raw, else FP32 or FP64 contents; None for
    any other response."""
    head = _strings(model_name, model_version, id)
    if head is None:
        return None
    tensors, contents = [head], []
    for name, array, parameters in outputs:
        layout = None if parameters or not array.size else _tensor_head(name, array.dtype, array.shape, raw)
        if layout is None:
            return None
        tensor_head, dtype = layout
        elements = array.astype(dtype, copy=False).tobytes()
        if raw:
            tensors.append(field(_OUTPUT_TENSOR, tensor_head))
            contents.append(field(_RAW_OUTPUT, elements))
        else:
            tensors.append(_OUTPUT_TENSOR + varint(len(tensor_head) + len(elements)) + tensor_head + elements)
    return b"".join(tensors + contents)


@functools.lru_cache(maxsize=256)
def _strings(model_name: str, model_version: str, id: str) -> bytes | None:
    """The response's model_name, model_version and id fields (proto3 leaves out an empty one)."""
    written = ((_MODEL_NAME, model_name), (_MODEL_VERSION, model_version), (_ID, id))
    try:
        return b"".join(field(bytes([key]), text.encode()) for key, text in written if text)
    except UnicodeEncodeError:  # protobuf refuses it, with its own error
        return None


@functools.lru_cache(maxsize=256)
def _tensor_head(name: str, dtype: np.dtype[Any], shape: tuple[int, ...], raw: bool) -> tuple[bytes, Any] | None:
    """An InferOutputTensor's bytes up to its elements (its contents' keys and lengths too,
    when not raw) and the little-endian dtype of the elements; None for a datatype it leaves
    to protobuf."""
    datatype = DATATYPE_BY_DTYPE.get(dtype)
    if datatype is None or not (raw or datatype in PACKED_KEYS):
        return None
    try:
        head = field(bytes([_NAME]), name.encode()) if name else b""
    except UnicodeEncodeError:
        return None
    head += field(bytes([_DATATYPE]), datatype.encode())
    if shape:
        head += field(bytes([_SHAPE]), b"".join(map(varint, shape)))
    elements = DATATYPES[datatype].newbyteorder("<")
    if not raw:
        size = math.prod(shape) * elements.itemsize
        packed = bytes([PACKED_KEYS[datatype]]) + varint(size)
        head += bytes([_CONTENTS]) + varint(len(packed) + size) + packed
    return head, elements
