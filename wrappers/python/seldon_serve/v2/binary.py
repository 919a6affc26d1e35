"""The binary tensor extension of the protocol's REST form (Triton's binary_tensor_data, which
tritonclient and KServe's REST client use by default): a JSON header, then tensors' raw bytes.

A request with an Inference-Header-Content-Length header holds that many bytes of JSON, then
the binary part: each input whose parameters give binary_data_size takes that many of its
bytes, in the order of the inputs, in the raw form gRPC's raw contents use (raw.py). An answer
carries an output that way when the request asks (parameters.binary_data_output for all, an
output's parameters.binary_data for one), with the header giving its JSON's length.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import orjson

from ..errors import BadRequest
from .codec import DATATYPES, check_datatype, check_shape, datatype_of
from .raw import array_from_raw, pack

EXTENSION = "binary_tensor_data"  # its name in the server metadata's extensions
HEADER = b"inference-header-content-length"
_PREFIX = "binary tensor extension: "


class BinaryError(BadRequest):
    def __init__(self, message: str):
        super().__init__(_PREFIX + message)


class Body(NamedTuple):
    """A request body: its JSON, and the binary part after it (None without the header)."""

    message: Any
    binary: memoryview | None


def split(body: bytes, header: bytes) -> Body:
    """A body whose first `header` bytes (the header's value) are JSON, the rest binary."""
    try:
        length = int(header)
    except ValueError:
        raise BinaryError(f"Inference-Header-Content-Length {header!r} is not a whole number") from None
    if not 0 <= length <= len(body):
        raise BinaryError(f"Inference-Header-Content-Length {length} is not within the body's {len(body)} bytes")
    try:
        message = orjson.loads(memoryview(body)[:length])
    except orjson.JSONDecodeError as exc:
        raise BinaryError(f"the first {length} bytes (Inference-Header-Content-Length) are not JSON: {exc}") from None
    return Body(message, memoryview(body)[length:])


def binary_size(tensor: Any) -> int | None:
    """An input's binary_data_size; None when its elements are in the JSON."""
    parameters = tensor.get("parameters") if isinstance(tensor, dict) else None
    if not isinstance(parameters, dict) or "binary_data_size" not in parameters:
        return None
    size = parameters["binary_data_size"]
    if type(size) is not int or size < 0:
        raise BinaryError(f"input {tensor.get('name')!r}: binary_data_size {size!r} is not a whole number of bytes")
    return size


class BinaryInputs:
    """The binary part of a request, read an input at a time in the order of the inputs."""

    def __init__(self, binary: memoryview | None):
        self.binary = binary
        self.offset = 0

    def array(self, tensor: dict[str, Any], size: int) -> tuple[str, np.ndarray]:
        """An input's elements from its `size` bytes of the binary part."""
        name = tensor.get("name")
        if not isinstance(name, str) or not name:
            raise BadRequest("each input needs a name")
        datatype = tensor.get("datatype")
        check_datatype(name, datatype)
        shape = check_shape(name, tensor.get("shape"))
        if "data" in tensor:
            raise BinaryError(f"input {name!r} has both data and binary_data_size")
        if self.binary is None:
            raise BinaryError(f"input {name!r} has binary_data_size, but no Inference-Header-Content-Length header")
        left = len(self.binary) - self.offset
        if size > left:
            raise BinaryError(f"input {name!r}: binary_data_size {size} runs past the body ({left} bytes left)")
        needed = math.prod(shape) * DATATYPES[datatype].itemsize  # BYTES elements have no fixed size
        if datatype != "BYTES" and size != needed:
            raise BinaryError(f"input {name!r}: {datatype} {shape} is {needed} bytes, binary_data_size says {size}")
        raw = bytes(self.binary[self.offset : self.offset + size])
        self.offset += size
        try:
            return name, array_from_raw(name, datatype, raw, shape)
        except BadRequest as exc:  # BYTES elements that do not fill the shape or the size
            raise BinaryError(exc.message) from None

    def finish(self) -> None:
        """Every byte of the binary part belongs to an input."""
        if self.binary is not None and self.offset < len(self.binary):
            raise BinaryError(f"{len(self.binary) - self.offset} bytes after the last input's binary data")


def wanted(request: Any, name: str) -> bool:
    """Whether the request asks for the output `name` in binary: its entry in outputs says so,
    else the request's binary_data_output."""
    for output in request.get("outputs") or ():
        if output.get("name") == name:
            parameters = output.get("parameters")
            if isinstance(parameters, dict) and "binary_data" in parameters:
                return parameters["binary_data"] is True
    parameters = request.get("parameters")
    return isinstance(parameters, dict) and parameters.get("binary_data_output") is True


def binary_output(name: str, array: np.ndarray, parameters: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """An output's JSON without its elements, and its elements' bytes."""
    datatype = datatype_of(array)
    contents = pack(array, datatype)
    output = {
        "name": name,
        "datatype": datatype,
        "shape": list(array.shape),
        "parameters": {**parameters, "binary_data_size": len(contents)},
    }
    return output, contents


class WithBinary(NamedTuple):
    """An answer some of whose outputs are binary: its JSON, then their bytes in order."""

    message: dict[str, Any]
    binary: list[bytes]

    def encode(self) -> tuple[bytes, tuple[tuple[bytes, bytes], ...]]:
        """The body, and the header giving its JSON's length."""
        head = orjson.dumps(self.message)
        return head + b"".join(self.binary), ((b"Inference-Header-Content-Length", b"%d" % len(head)),)
