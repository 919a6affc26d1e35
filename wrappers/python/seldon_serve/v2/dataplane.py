"""The Open Inference Protocol's endpoints over the Seldon protocol's Microservice, whichever
transport asked: server and model metadata, readiness, and inference.

A request's input tensors become the X and feature names the model's predict (transform_input,
transform_output or route, by SERVICE_TYPE) takes: one input is X as it came, its shape and
dtype kept; several inputs of one column each (shape [n] or [n, 1]) are X's columns, named by
the inputs. What the model returns is one output tensor, OUTPUT_NAME, of the result's dtype.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import orjson

from .. import payload
from ..errors import BadRequest, SeldonMicroserviceException
from ..microservice import Microservice
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
