"""The Open Inference Protocol ("v2": KServe, Seldon Core 2, MLServer, Triton) over the same
Microservice the Seldon protocol uses, so the model's code does not change.

A request's input tensors become the X and feature names the model's predict (transform_input,
transform_output or route, by SERVICE_TYPE) takes: one input is X as it came, its shape and
dtype kept; several inputs of one column each (shape [n] or [n, 1]) are X's columns, named by
the inputs. What the model returns is one output tensor, OUTPUT_NAME, of the result's dtype.

Datatypes map to numpy one to one: BOOL bool, INT8..INT64 int8..int64, UINT8..UINT64
uint8..uint64, FP16/FP32/FP64 float16/32/64, and BYTES an object array of str (of bytes when a
gRPC element is not UTF-8).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import orjson

from . import payload
from .errors import INTERNAL_ERROR, BadRequest, MethodNotAllowed, SeldonMicroserviceException
from .microservice import Microservice

OUTPUT_NAME = "output-0"
SERVER_NAME = "seldon-serve"

DATATYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(object),
}
_DATATYPE_BY_DTYPE = {dtype: name for name, dtype in DATATYPES.items() if name != "BYTES"}
# The numpy kinds a JSON array may hold for each datatype (JSON has no unsigned or small ints).
_ACCEPTED_KINDS = {"BOOL": "b", "FP16": "iuf", "FP32": "iuf", "FP64": "iuf"}
_KIND_WORDS = {"b": "true/false", "iu": "integers", "iuf": "numbers"}


class NotFound(SeldonMicroserviceException):
    """No such model, version or endpoint: HTTP 404, gRPC NOT_FOUND (not Seldon's UNIMPLEMENTED)."""

    grpc_code = "NOT_FOUND"

    def __init__(self, message: str):
        super().__init__(message, status_code=404)


def datatype_of(array: np.ndarray) -> str:
    if array.dtype.kind in "OUS":
        return "BYTES"
    if array.dtype not in _DATATYPE_BY_DTYPE:
        raise SeldonMicroserviceException(
            f"the model answered {array.dtype} values, which no Open Inference Protocol datatype holds",
            status_code=500,
            reason=INTERNAL_ERROR,
        )
    return _DATATYPE_BY_DTYPE[array.dtype]


def _check_datatype(name: str, datatype: Any) -> np.dtype[Any]:
    if datatype not in DATATYPES:
        raise BadRequest(f"input {name!r}: datatype {datatype!r} is not one of {', '.join(DATATYPES)}")
    return DATATYPES[datatype]


def _check_shape(name: str, shape: Any) -> list[int]:
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise BadRequest(f"input {name!r}: shape must be a list of non-negative integers, got {shape!r}")
    return shape


def _fit(name: str, array: np.ndarray, shape: list[int]) -> np.ndarray:
    expected = math.prod(shape)
    if array.size != expected:
        raise BadRequest(f"input {name!r}: shape {shape} holds {expected} elements, the data {array.size}")
    return array.reshape(shape)


def _in_range(name: str, values: np.ndarray, dtype: np.dtype[Any], datatype: str) -> None:
    if values.size and dtype.kind in "iu":
        info = np.iinfo(dtype)
        if int(values.min()) < info.min or int(values.max()) > info.max:
            raise BadRequest(f"input {name!r}: a value is outside {datatype}'s range [{info.min}, {info.max}]")


def _text(value: Any) -> Any:
    """A BYTES element as the model sees it: str when it is UTF-8, bytes otherwise."""
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode()
        except UnicodeDecodeError:
            return bytes(value)
    return value


def array_from_json(tensor: Any) -> tuple[str, np.ndarray]:
    """An input tensor of the JSON form: {"name", "shape", "datatype", "data"}."""
    if not isinstance(tensor, dict):
        raise BadRequest("each input must be an object with name, shape, datatype and data")
    name = tensor.get("name")
    if not isinstance(name, str) or not name:
        raise BadRequest("each input needs a name")
    datatype = tensor.get("datatype")
    dtype = _check_datatype(name, datatype)
    shape = _check_shape(name, tensor.get("shape"))
    if "data" not in tensor:
        raise BadRequest(f"input {name!r} has no data (the binary tensor extension is not supported)")
    data = tensor["data"]
    try:
        if datatype == "BYTES":
            flat = np.asarray(data, dtype=object).ravel()
            if not all(isinstance(v, str) for v in flat):
                raise BadRequest(f"input {name!r}: BYTES data must be strings")
            return name, _fit(name, flat, shape)
        parsed = np.asarray(data)
    except ValueError as exc:  # ragged nesting
        raise BadRequest(f"input {name!r}: data is not a regular array: {exc}") from None
    accepted = _ACCEPTED_KINDS.get(datatype, "iu")  # integer datatypes take JSON integers only
    if dtype.kind in "iu" and parsed.dtype.kind in "fO":
        parsed = _whole_numbers(name, datatype, data)  # past int64 (UINT64's top half) numpy guesses float
    elif parsed.size and parsed.dtype.kind not in accepted:
        raise BadRequest(f"input {name!r}: {datatype} data must be {_KIND_WORDS[accepted]}")
    _in_range(name, parsed, dtype, datatype)
    return name, _fit(name, parsed.astype(dtype), shape)


def _whole_numbers(name: str, datatype: str, data: Any) -> np.ndarray:
    values = np.asarray(data, dtype=object)
    if not all(type(v) is int for v in values.ravel()):
        raise BadRequest(f"input {name!r}: {datatype} data must be integers")
    return values


def features(inputs: list[tuple[str, np.ndarray]]) -> tuple[np.ndarray, list[str]]:
    """The model's X and feature names for a request's inputs."""
    if not inputs:
        raise BadRequest("a request needs at least one input")
    if len(inputs) == 1:
        return inputs[0][1], []
    rows = {array.shape[0] if array.ndim else -1 for _, array in inputs}
    if len(rows) != 1 or any(array.ndim not in (1, 2) or array.size != array.shape[0] for _, array in inputs):
        shapes = ", ".join(f"{name} {list(array.shape)}" for name, array in inputs)
        raise BadRequest(f"several inputs must each be one column ([n] or [n, 1]) of the same length; got {shapes}")
    return np.column_stack([array.reshape(-1) for _, array in inputs]), [name for name, _ in inputs]


def as_array(result: Any) -> tuple[np.ndarray, dict[str, str]]:
    """The model's answer as the output tensor's values, and the tensor's parameters."""
    if isinstance(result, payload.Table):
        result = result.values
    if isinstance(result, dict):
        return np.array([orjson.dumps(result).decode()], dtype=object), {"content_type": "application/json"}
    if isinstance(result, str | bytes | bytearray):
        return np.array([result], dtype=object), {}
    array = np.asarray(result)
    return (array.reshape(1) if array.ndim == 0 else array), {}


def json_output(name: str, array: np.ndarray, parameters: dict[str, str]) -> dict[str, Any]:
    datatype = datatype_of(array)
    data = [_json_text(v) for v in array.ravel().tolist()] if datatype == "BYTES" else array.ravel().tolist()
    output = {"name": name, "datatype": datatype, "shape": list(array.shape), "data": data}
    if parameters:
        output["parameters"] = parameters
    return output


def _json_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode()
        except UnicodeDecodeError:
            raise SeldonMicroserviceException(
                "the answer holds bytes that are not UTF-8, which JSON cannot carry: ask over gRPC",
                status_code=500,
                reason=INTERNAL_ERROR,
            ) from None
    return str(value)


class OpenInference:
    """The v2 endpoints of one model; both transports call into here."""

    def __init__(self, service: Microservice, server_version: str):
        self.service = service
        self.server_version = server_version
        self.name = service.model_metadata["name"]
        self.versions = service.model_metadata["versions"]

    def check_model(self, name: str, version: str | None) -> None:
        if name != self.name:
            raise NotFound(f"no model {name!r}: this server serves {self.name!r}")
        if version and version not in self.versions:
            served = ", ".join(self.versions) or "no versions"
            raise NotFound(f"model {name!r} has no version {version!r} ({served})")

    def ready(self) -> bool:
        try:
            self.service.health_status()
        except SeldonMicroserviceException:
            return False
        return True

    def server_metadata(self) -> dict[str, Any]:
        return {"name": SERVER_NAME, "version": self.server_version, "extensions": []}

    def model_metadata(self, name: str, version: str | None) -> dict[str, Any]:
        self.check_model(name, version)
        metadata = self.service.model_metadata
        return {
            "name": self.name,
            "versions": self.versions,
            "platform": metadata["platform"],
            "inputs": [_tensor_metadata(t) for t in metadata["inputs"] if _is_tensor_metadata(t)],
            "outputs": [_tensor_metadata(t) for t in metadata["outputs"] if _is_tensor_metadata(t)],
        }

    def infer(
        self, name: str, version: str | None, inputs: list[tuple[str, np.ndarray]], requested: Iterable[str]
    ) -> tuple[np.ndarray, dict[str, str]]:
        """The output tensor's values and parameters."""
        self.check_model(name, version)
        unknown = [output for output in requested if output != OUTPUT_NAME]
        if unknown:
            raise BadRequest(f"no output {unknown[0]!r}: this model answers one output, {OUTPUT_NAME!r}")
        x, names = features(inputs)
        return as_array(self.service.infer(x, names))

    def infer_json(self, name: str, version: str | None, body: Any) -> dict[str, Any]:
        self.check_model(name, version)  # a request to another model is a 404, whatever it holds
        if not isinstance(body, dict):
            raise BadRequest("an inference request must be a JSON object with inputs")
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            raise BadRequest("an inference request needs inputs: a list of tensors")
        outputs = body.get("outputs") or []
        if not isinstance(outputs, list) or not all(isinstance(o, dict) and "name" in o for o in outputs):
            raise BadRequest("outputs must be a list of objects with a name")
        array, parameters = self.infer(
            name, version, [array_from_json(t) for t in inputs], (o["name"] for o in outputs)
        )
        response: dict[str, Any] = {"model_name": self.name, "outputs": [json_output(OUTPUT_NAME, array, parameters)]}
        if self.versions:
            response["model_version"] = version or self.versions[0]
        if isinstance(body.get("id"), str):
            response["id"] = body["id"]
        return response


def _is_tensor_metadata(item: dict[str, Any]) -> bool:
    return isinstance(item.get("name"), str) and item.get("datatype") in DATATYPES


def _tensor_metadata(item: dict[str, Any]) -> dict[str, Any]:
    return {"name": item["name"], "datatype": item["datatype"], "shape": [int(d) for d in item.get("shape", [])]}


# ---- REST ----------------------------------------------------------------------------------

RestAnswer = tuple[int, Any]


def rest(api: OpenInference, method: bytes, path: str, body: Callable[[], Any]) -> RestAnswer:
    """Answer one /v2 request: (HTTP status, JSON body). body() parses the request body."""
    parts = [part for part in path.split("/") if part][1:]  # after "v2"
    if not parts:
        return _get(method, api.server_metadata)
    if parts[0] == "health" and len(parts) == 2 and parts[1] in ("live", "ready"):
        ready = parts[1] == "live" or api.ready()
        return _get(method, lambda: {parts[1]: ready}, 200 if ready else 503)
    if parts[0] != "models" or len(parts) < 2:
        raise NotFound(f"no endpoint {path}")
    name, rest_of_path, version = parts[1], parts[2:], None
    if rest_of_path[:1] == ["versions"] and len(rest_of_path) >= 2:
        version, rest_of_path = rest_of_path[1], rest_of_path[2:]
    if not rest_of_path:
        return _get(method, lambda: api.model_metadata(name, version))
    if rest_of_path == ["ready"]:
        api.check_model(name, version)
        ready = api.ready()
        return _get(method, lambda: {"name": name, "ready": ready}, 200 if ready else 503)
    if rest_of_path == ["infer"]:
        if method != b"POST":
            raise MethodNotAllowed(method.decode(errors="replace"), ("POST",))
        api.check_model(name, version)
        return 200, api.infer_json(name, version, body())
    raise NotFound(f"no endpoint {path}")


def _get(method: bytes, answer: Callable[[], Any], status: int = 200) -> RestAnswer:
    if method not in (b"GET", b"HEAD"):
        raise MethodNotAllowed(method.decode(errors="replace"), ("GET", "HEAD"))
    return status, answer()


def error_body(message: str) -> dict[str, str]:
    return {"error": message}


# ---- gRPC ----------------------------------------------------------------------------------

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


def array_from_proto(tensor: Any, raw: bytes | None) -> tuple[str, np.ndarray]:
    """An InferInputTensor, its elements in its contents or in raw (raw_input_contents)."""
    name, datatype = tensor.name, tensor.datatype
    dtype = _check_datatype(name, datatype)
    shape = [int(d) for d in tensor.shape]
    _check_shape(name, shape)
    if raw is not None:
        if datatype == "BYTES":
            return name, _fit(name, np.array([_text(v) for v in unpack_bytes(name, raw)], dtype=object), shape)
        if len(raw) % dtype.itemsize:
            raise BadRequest(f"input {name!r}: raw contents of {len(raw)} bytes are not whole {datatype} elements")
        return name, _fit(name, np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype), shape)
    if datatype not in CONTENTS_FIELD:
        raise BadRequest(f"input {name!r}: {datatype} elements travel in raw_input_contents only")
    values = list(getattr(tensor.contents, CONTENTS_FIELD[datatype]))
    if datatype == "BYTES":
        return name, _fit(name, np.array([_text(v) for v in values], dtype=object), shape)
    parsed = np.array(values, dtype=np.float64 if dtype.kind == "f" else np.uint64 if datatype == "UINT64" else None)
    _in_range(name, parsed, dtype, datatype)
    return name, _fit(name, parsed.astype(dtype), shape)


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
        return b"".join(struct.pack("<I", len(b)) + b for b in (_as_bytes(v) for v in array.ravel().tolist()))
    return np.ascontiguousarray(array, dtype=DATATYPES[datatype].newbyteorder("<")).tobytes()


def _as_bytes(value: Any) -> bytes:
    return bytes(value) if isinstance(value, bytes | bytearray) else str(value).encode()


def fill_output(tensor: Any, array: np.ndarray, parameters: dict[str, str], *, raw: bool) -> bytes | None:
    """Set an InferOutputTensor from the model's answer; its raw contents when raw."""
    datatype = datatype_of(array)
    tensor.name, tensor.datatype = OUTPUT_NAME, datatype
    tensor.shape.extend(array.shape)
    for key, value in parameters.items():
        tensor.parameters[key].string_param = value
    if raw:
        return pack(array, datatype)
    values = array.ravel().tolist()
    field = getattr(tensor.contents, CONTENTS_FIELD[datatype])
    field.extend([_as_bytes(v) for v in values] if datatype == "BYTES" else values)
    return None


def grpc_methods(api: OpenInference) -> dict[str, tuple[type, Callable[[Any], Any]]]:
    """Full method name -> (request class, answer) for inference.GRPCInferenceService."""
    from .proto import open_inference_pb2 as pb

    def model_ready(request: Any) -> Any:
        api.check_model(request.name, request.version or None)
        return pb.ModelReadyResponse(ready=api.ready())

    def model_metadata(request: Any) -> Any:
        metadata = api.model_metadata(request.name, request.version or None)
        response = pb.ModelMetadataResponse(
            name=metadata["name"], versions=metadata["versions"], platform=metadata["platform"]
        )
        for key in ("inputs", "outputs"):
            for tensor in metadata[key]:
                getattr(response, key).add(**tensor)
        return response

    def model_infer(request: Any) -> Any:
        api.check_model(request.model_name, request.model_version or None)
        raw_inputs = list(request.raw_input_contents)
        if raw_inputs and len(raw_inputs) != len(request.inputs):
            raise BadRequest(f"raw_input_contents has {len(raw_inputs)} entries for {len(request.inputs)} inputs")
        inputs = [array_from_proto(t, raw_inputs[i] if raw_inputs else None) for i, t in enumerate(request.inputs)]
        version = request.model_version or None
        array, parameters = api.infer(request.model_name, version, inputs, (o.name for o in request.outputs))
        response = pb.ModelInferResponse(model_name=api.name, id=request.id)
        if api.versions:
            response.model_version = version or api.versions[0]
        # FP16 has no contents field; raw answers raw, as a client sending raw contents expects
        raw = bool(raw_inputs) or datatype_of(array) == "FP16"
        contents = fill_output(response.outputs.add(), array, parameters, raw=raw)
        if contents is not None:
            response.raw_output_contents.append(contents)
        return response

    answers: dict[str, tuple[type, Callable[[Any], Any]]] = {
        "ServerLive": (pb.ServerLiveRequest, lambda _r: pb.ServerLiveResponse(live=True)),
        "ServerReady": (pb.ServerReadyRequest, lambda _r: pb.ServerReadyResponse(ready=api.ready())),
        "ModelReady": (pb.ModelReadyRequest, model_ready),
        "ServerMetadata": (pb.ServerMetadataRequest, lambda _r: pb.ServerMetadataResponse(**api.server_metadata())),
        "ModelMetadata": (pb.ModelMetadataRequest, model_metadata),
        "ModelInfer": (pb.ModelInferRequest, model_infer),
    }
    service = pb.DESCRIPTOR.services_by_name["GRPCInferenceService"]
    return {f"/{service.full_name}/{name}": answer for name, answer in answers.items()}
