"""What the contract tests say to a running model: REST with requests, gRPC with the stubs
generated from wrappers/proto/prediction.proto."""

from __future__ import annotations

import base64
import json
from typing import Any

import grpc
import requests
from google.protobuf import json_format

from seldon_serve.proto import prediction_pb2 as pb
from seldon_serve.proto import prediction_pb2_grpc as pb_grpc

from harness import PORTS, RunningModel

TIMEOUT = 10
ENCODINGS = ("json-body", "form", "query", "multipart-json")


# Open Inference Protocol tensors' values by datatype that every family's types hold: 64-bit
# integers within 2**53 (R holds them as doubles).
OIP_DATA = {
    "BOOL": [True, False, False, True],
    "UINT8": [0, 255, 7, 1],
    "UINT16": [0, 65535, 7, 1],
    "UINT32": [0, 4294967295, 7, 1],
    "UINT64": [0, 2**53, 7, 1],
    "INT8": [-128, 127, 0, 1],
    "INT16": [-32768, 32767, 0, 1],
    "INT32": [-2147483648, 2147483647, 0, 1],
    "INT64": [-(2**53), 2**53, 0, 1],
    "FP16": [0.5, -2.0, 1024.0, 0.25],
    "FP32": [0.25, -1.5, 3.0, 0.125],
    "FP64": [0.1, -1e300, 3.0, 2.5],
    "BYTES": ["a", "héllo", "", "x"],
}
# The datatype a family's model answers each Open Inference Protocol datatype in, where it is
# not the same: R has no 64-bit integers, so an R model answers them as doubles (its README says).
ANSWER_DATATYPE = {"r": {"INT64": "FP64", "UINT64": "FP64"}}

# One row of two named columns: what the samples that take any row are sent.
ROW = {"data": {"names": ["a", "b"], "ndarray": [[1, 2]]}}


def post(
    model: RunningModel, path: str, body: Any, encoding: str = "json-body", client: Any = requests
) -> requests.Response:
    """Send `body` the way Seldon clients may: JSON body, form field, ?json= on GET, or multipart.
    `client`: requests itself (a connection per call) or a requests.Session (one kept open)."""
    url = model.http + path
    text = json.dumps(body)
    if encoding == "json-body":
        return client.post(url, data=text, headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    if encoding == "form":
        return client.post(url, data={"json": text}, timeout=TIMEOUT)
    if encoding == "query":
        return client.get(url, params={"json": text}, timeout=TIMEOUT)
    if encoding == "multipart-json":
        return client.post(url, files={"json": (None, text)}, timeout=TIMEOUT)
    raise ValueError(encoding)


def ok_json(response: requests.Response) -> Any:
    assert response.status_code == 200, f"{response.status_code}: {response.text}"
    return response.json()


def seldon_error(response: requests.Response, status: int, reason: str) -> str:
    """Assert Seldon's error body and HTTP status; return the message."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()["status"]
    assert body["status"] == 1 and body["code"] == -1 and body["reason"] == reason, body
    assert body["info"]
    return body["info"]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def channel(model: RunningModel) -> grpc.Channel:
    return grpc.insecure_channel(model.grpc)


def to_proto(message: dict[str, Any], kind: type = pb.SeldonMessage) -> Any:
    return json_format.ParseDict(message, kind())


def to_dict(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message)


def rpc(model: RunningModel, service: str, method: str, request: Any) -> Any:
    with channel(model) as ch:
        stub = getattr(pb_grpc, f"{service}Stub")(ch)
        return getattr(stub, method)(request, timeout=TIMEOUT)


def rpc_error(model: RunningModel, service: str, method: str, request: Any) -> grpc.RpcError:
    try:
        rpc(model, service, method, request)
    except grpc.RpcError as exc:
        return exc
    raise AssertionError(f"{service}/{method} succeeded; an error was expected")


def metrics_text(model: RunningModel) -> str:
    port = model.container.attrs["NetworkSettings"]["Ports"][f"{PORTS['metrics']}/tcp"][0]["HostPort"]
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return response.text


def metric_value(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    total, found = 0.0, False
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        metric, _, label_text = series.partition("{")
        if metric != name or not all(f'{k}="{v}"' in label_text for k, v in labels.items()):
            continue
        total, found = total + float(value), True
    assert found, f"no {name}{labels} in the metrics:\n{text[:2000]}"
    return total


__all__ = ["ENCODINGS", "pb"]
