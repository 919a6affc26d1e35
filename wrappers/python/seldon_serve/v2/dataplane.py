"""The Open Inference Protocol's endpoints over the Seldon protocol's Microservice, whichever
transport asked: server and model metadata, readiness, and inference.

A request's input tensors become the X and feature names the model's predict (transform_input,
transform_output or route, by SERVICE_TYPE) takes: one input is X as it came, its shape and
dtype kept; several inputs of one column each (shape [n] or [n, 1]) are X's columns, named by
the inputs. What the model returns is one output tensor of the result's dtype, named as the
model's metadata names its output (else OUTPUT_NAME); several when the metadata declares
several outputs and the model returns a dict of them by name, or a tuple of as many arrays.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import orjson

from .. import payload
from ..errors import BadRequest, SeldonMicroserviceException
from ..microservice import Microservice
from . import binary
from .codec import DATATYPES, array_from_json, json_output

OUTPUT_NAME = "output-0"
SERVER_NAME = "seldon-serve"


class NotFound(SeldonMicroserviceException):
    """No such model, version or endpoint: HTTP 404, gRPC NOT_FOUND (not Seldon's UNIMPLEMENTED)."""

    grpc_code = "NOT_FOUND"

    def __init__(self, message: str):
        super().__init__(message, status_code=404)


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


class Output(NamedTuple):
    """An output tensor of an answer."""

    name: str
    array: np.ndarray
    parameters: dict[str, str]


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


class OpenInference:
    """The v2 endpoints of one model; both transports call into here."""

    def __init__(self, service: Microservice, server_version: str):
        self.service = service
        self.server_version = server_version
        self.name = service.open_inference_name
        self.versions = service.model_metadata["versions"]
        declared = [t["name"] for t in service.model_metadata["outputs"] if _is_tensor_metadata(t)]
        self.output_names = declared or [OUTPUT_NAME]

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
        return {"name": SERVER_NAME, "version": self.server_version, "extensions": [binary.EXTENSION]}

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
        self, name: str, version: str | None, inputs: list[tuple[str, np.ndarray]], requested: list[str]
    ) -> list[Output]:
        """The answer's outputs: those `requested` by name, else all the model gives."""
        self.check_model(name, version)
        unknown = [output for output in requested if output not in self.output_names]
        if unknown:
            answered = ", ".join(repr(output) for output in self.output_names)
            raise BadRequest(f"no output {unknown[0]!r}: this model answers {answered}")
        x, names = features(inputs)
        outputs = self.outputs(self.service.infer(x, names))
        return [output for output in outputs if output.name in requested] if requested else outputs

    def outputs(self, result: Any) -> list[Output]:
        """The model's answer as output tensors, named as its metadata declares them."""
        declared = self.output_names
        if isinstance(result, dict) and result and all(key in declared for key in result):
            return [Output(key, *as_array(result[key])) for key in declared if key in result]
        if isinstance(result, tuple) and 1 < len(declared) == len(result):
            return [Output(key, *as_array(value)) for key, value in zip(declared, result, strict=True)]
        return [Output(declared[0], *as_array(result))]

    def infer_json(self, name: str, version: str | None, body: binary.Body) -> dict[str, Any] | binary.WithBinary:
        self.check_model(name, version)  # a request to another model is a 404, whatever it holds
        request = body.message
        inputs = _inputs(request, "inputs", body.binary)
        outputs = request.get("outputs") or []
        if not isinstance(outputs, list) or not all(isinstance(o, dict) and "name" in o for o in outputs):
            raise BadRequest("outputs must be a list of objects with a name")
        answer = self.infer(name, version, inputs, [o["name"] for o in outputs])
        return self._response(answer, version, request)

    def route_json(self, name: str, version: str | None, body: binary.Body) -> dict[str, Any]:
        """POST /v2/models/<name>/route, as Seldon's executor calls a router in a v2 graph: the
        child to route to, as a SeldonMessage (the form the executor reads a route from)."""
        self.check_model(name, version)
        x, names = features(_inputs(body.message, "inputs", body.binary))
        branch = np.asarray(self.service.infer(x, names, verb="route"))
        return {"data": {"names": [], "ndarray": branch.tolist()}}

    def aggregate_json(self, name: str, version: str | None, body: binary.Body) -> dict[str, Any] | binary.WithBinary:
        """POST /v2/models/<name>/aggregate, as Seldon's executor calls a combiner in a v2 graph:
        a list of its children's answers (their outputs, or inputs), one v2 answer."""
        self.check_model(name, version)
        if not isinstance(body.message, list) or not body.message:
            raise BadRequest("aggregate needs a non-empty list of inference responses (or requests)")
        reader = binary.BinaryInputs(body.binary)
        children = [features(_tensors(child, _tensors_key(child), reader)) for child in body.message]
        reader.finish()
        xs, names = [x for x, _ in children], [n for _, n in children]
        return self._response(self.outputs(self.service.aggregate_tensors(xs, names)), version, {})

    def _response(
        self, outputs: list[Output], version: str | None, request: dict[str, Any]
    ) -> dict[str, Any] | binary.WithBinary:
        """The answer's JSON; with the outputs the request asks for in binary after it."""
        response: dict[str, Any] = {"model_name": self.name, "outputs": []}
        if self.versions:
            response["model_version"] = version or self.versions[0]
        if isinstance(request.get("id"), str):
            response["id"] = request["id"]
        contents = []
        for output in outputs:
            if binary.wanted(request, output.name):
                tensor, raw = binary.binary_output(*output)
                contents.append(raw)
            else:
                tensor = json_output(*output)
            response["outputs"].append(tensor)
        return binary.WithBinary(response, contents) if contents else response


def _tensors_key(child: Any) -> str:
    """A child's answer holds outputs; a child that answered its request as it came, inputs."""
    return "outputs" if isinstance(child, dict) and "outputs" in child else "inputs"


def _inputs(message: Any, key: str, binary_part: memoryview | None) -> list[tuple[str, np.ndarray]]:
    """A request's tensors under `key`, decoded from its JSON or its binary part."""
    reader = binary.BinaryInputs(binary_part)
    tensors = _tensors(message, key, reader)
    reader.finish()
    return tensors


def _tensors(message: Any, key: str, reader: binary.BinaryInputs) -> list[tuple[str, np.ndarray]]:
    """A message's tensors under `key` (a request's inputs; a child's answer's outputs), decoded."""
    what = "an inference request" if key == "inputs" else "an inference response"
    if not isinstance(message, dict):
        raise BadRequest(f"{what} must be a JSON object with {key}")
    tensors = message.get(key)
    if not isinstance(tensors, list):
        raise BadRequest(f"{what} needs {key}: a list of tensors")
    return [
        array_from_json(tensor) if (size := binary.binary_size(tensor)) is None else reader.array(tensor, size)
        for tensor in tensors
    ]


def _is_tensor_metadata(item: dict[str, Any]) -> bool:
    return isinstance(item.get("name"), str) and item.get("datatype") in DATATYPES


def _tensor_metadata(item: dict[str, Any]) -> dict[str, Any]:
    return {"name": item["name"], "datatype": item["datatype"], "shape": [int(d) for d in item.get("shape", [])]}
