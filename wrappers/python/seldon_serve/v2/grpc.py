"""The Open Inference Protocol's gRPC service (inference.GRPCInferenceService) over the
dataplane: its methods for grpc_server's table, and its tensors' contents fields.

Imported only when a worker serves v2 over gRPC, so the protobuf stubs load only then.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import list_values
from ..errors import BadRequest
from ..proto import open_inference_pb2 as pb
from . import wire
from .codec import DATATYPES, as_text, check_datatype, check_range, check_shape, datatype_of, fit
from .dataplane import OpenInference, Output
from .raw import array_from_raw, as_bytes, pack

# The contents field each datatype's elements travel in (FP16 has none: raw contents only).
CONTENTS_FIELD = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}
# FP32's and FP64's contents fields (6 and 7, packed: one length-delimited run of little-endian
# floats), read and written as numpy's bytes from MANY_FLOATS elements on: a list of Python
# floats cost a [64, 256] tensor 0.3-0.5 ms each way, numpy's bytes 4-5 us; below that, the
# list is the quicker.
PACKED_FLOATS = {
    datatype: (bytes([key]), DATATYPES[datatype].newbyteorder("<")) for datatype, key in wire.PACKED_KEYS.items()
}
MANY_FLOATS = 64


def array_from_proto(tensor: Any, raw: bytes | None) -> tuple[str, np.ndarray]:
    """An InferInputTensor, its elements in its contents or in raw (raw_input_contents)."""
    name, datatype = tensor.name, tensor.datatype
    dtype = check_datatype(name, datatype)
    shape = [int(d) for d in tensor.shape]
    check_shape(name, shape)
    if raw is not None:
        return name, array_from_raw(name, datatype, raw, shape)
    if datatype not in CONTENTS_FIELD:
        raise BadRequest(f"input {name!r}: {datatype} elements travel in raw_input_contents only")
    field = getattr(tensor.contents, CONTENTS_FIELD[datatype])
    if datatype in PACKED_FLOATS and len(field) >= MANY_FLOATS:
        floats = packed_floats(tensor.contents, datatype)
        if floats is not None:
            return name, fit(name, floats, shape)
    values = list(field)
    if datatype == "BYTES":
        return name, fit(name, np.array([as_text(v) for v in values], dtype=object), shape)
    parsed = np.array(values, dtype=np.float64 if dtype.kind == "f" else np.uint64 if datatype == "UINT64" else None)
    check_range(name, parsed, dtype, datatype)
    return name, fit(name, parsed.astype(dtype), shape)


def fill_output(tensor: Any, output: Output, *, raw: bool) -> bytes | None:
    """Set an InferOutputTensor from an output of the answer; its raw contents when raw."""
    _, array, parameters = output
    datatype = datatype_of(array)
    tensor.name, tensor.datatype = output.name, datatype
    tensor.shape.extend(array.shape)
    for key, value in parameters.items():
        tensor.parameters[key].string_param = value
    if raw:
        return pack(array, datatype)
    if datatype in PACKED_FLOATS and array.size >= MANY_FLOATS:
        key, dtype = PACKED_FLOATS[datatype]
        data = array.astype(dtype, copy=False).tobytes()
        tensor.contents.MergeFromString(list_values.field(key, data))
        return None
    values = array.ravel().tolist()
    field = getattr(tensor.contents, CONTENTS_FIELD[datatype])
    field.extend([as_bytes(v) for v in values] if datatype == "BYTES" else values)
    return None


def packed_floats(contents: Any, datatype: str) -> np.ndarray | None:
    """The FP32 or FP64 elements of an InferTensorContents holding only that field, from its
    wire bytes (a writable array of the datatype); None for anything else, read field by field."""
    key, dtype = PACKED_FLOATS[datatype]
    wire = contents.SerializeToString()
    if not wire.startswith(key):
        return None
    size, at = list_values.read_varint(wire, 1)
    if at + size != len(wire) or size % dtype.itemsize:
        return None
    return np.frombuffer(wire, dtype, offset=at).astype(dtype.newbyteorder("="))


Answer = tuple[type, Callable[[Any], Any]]


def grpc_methods(api: OpenInference) -> dict[str, Answer]:
    """Full method name -> (request class, answer) for inference.GRPCInferenceService."""
    answers: dict[str, Answer] = {
        "ServerLive": (pb.ServerLiveRequest, lambda _r: pb.ServerLiveResponse(live=True)),
        "ServerReady": (pb.ServerReadyRequest, lambda _r: pb.ServerReadyResponse(ready=api.ready())),
        "ModelReady": (pb.ModelReadyRequest, functools.partial(_model_ready, api)),
        "ServerMetadata": (pb.ServerMetadataRequest, lambda _r: pb.ServerMetadataResponse(**api.server_metadata())),
        "ModelMetadata": (pb.ModelMetadataRequest, functools.partial(_model_metadata, api)),
        "ModelInfer": (InferRequest, functools.partial(_model_infer, api)),
    }
    service = pb.DESCRIPTOR.services_by_name["GRPCInferenceService"]
    return {f"/{service.full_name}/{name}": answer for name, answer in answers.items()}


def _model_ready(api: OpenInference, request: Any) -> Any:
    api.check_model(request.name, request.version or None)
    return pb.ModelReadyResponse(ready=api.ready())


def _model_metadata(api: OpenInference, request: Any) -> Any:
    metadata = api.model_metadata(request.name, request.version or None)
    fields = {key: metadata[key] for key in ("name", "versions", "platform")}
    response = pb.ModelMetadataResponse(**fields)
    for key in ("inputs", "outputs"):
        for tensor in metadata[key]:
            getattr(response, key).add(**tensor)
    return response


class ProtoInfer:
    """A ModelInferRequest protobuf decoded."""

    __slots__ = ("_proto", "id", "model_name", "model_version", "outputs", "raw")

    def __init__(self, proto: Any):
        self._proto = proto
        self.model_name, self.model_version, self.id = proto.model_name, proto.model_version, proto.id
        self.outputs = [output.name for output in proto.outputs]
        self.raw = len(proto.raw_input_contents) > 0

    def arrays(self) -> list[tuple[str, np.ndarray]]:
        request = self._proto
        raw_inputs = list(request.raw_input_contents)
        if raw_inputs and len(raw_inputs) != len(request.inputs):
            raise BadRequest(f"raw_input_contents has {len(raw_inputs)} entries for {len(request.inputs)} inputs")
        return [array_from_proto(t, raw_inputs[i] if raw_inputs else None) for i, t in enumerate(request.inputs)]


class WireInfer:
    """The commonest ModelInferRequest as read from its bytes (wire.request): each input's
    elements, FP32/FP64 packed contents or raw contents, are the same little-endian run."""

    __slots__ = ("_body", "_inputs", "id", "model_name", "model_version", "outputs", "raw")

    def __init__(self, body: bytes, found: wire.WireRequest):
        self._body, self._inputs = body, found.inputs
        self.model_name, self.model_version, self.id = found.model_name, found.model_version, found.id
        self.outputs, self.raw = found.outputs, found.raw

    def arrays(self) -> list[tuple[str, np.ndarray]]:
        arrays = []
        for name, datatype, shape, start, stop in self._inputs:
            check_datatype(name, datatype)
            arrays.append((name, array_from_raw(name, datatype, self._body[start:stop], shape)))
        return arrays


class InferRequest:
    """How ModelInfer's request is decoded: the commonest read from its bytes, any other by
    protobuf (whose errors are a bad request's)."""

    @staticmethod
    def FromString(body: bytes) -> WireInfer | ProtoInfer:
        found = wire.request(body)
        return ProtoInfer(pb.ModelInferRequest.FromString(body)) if found is None else WireInfer(body, found)


def _model_infer(api: OpenInference, request: WireInfer | ProtoInfer) -> Any:
    api.check_model(request.model_name, request.model_version or None)
    inputs = request.arrays()
    version = request.model_version or None
    outputs = api.infer(request.model_name, version, inputs, request.outputs)
    answered_version = (version or api.versions[0]) if api.versions else ""
    # raw contents are all or none; FP16 has no contents field, and a client sending raw
    # contents expects them back
    raw = request.raw or any(datatype_of(output.array) == "FP16" for output in outputs)
    written = wire.response(api.name, answered_version, request.id, outputs, raw)
    if written is not None:
        return written
    response = pb.ModelInferResponse(model_name=api.name, model_version=answered_version, id=request.id)
    for output in outputs:
        contents = fill_output(response.outputs.add(), output, raw=raw)
        if contents is not None:
            response.raw_output_contents.append(contents)
    return response
