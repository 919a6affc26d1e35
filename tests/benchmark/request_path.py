"""Microseconds per request of the wrapper's paths in-process, with no socket or load generator
to add their noise. Run by a venv's python (bench_wrappers.py runs it for this tree and for
--baseline alternately); prints one line a path, its name and the best of 7 runs:
- REST: HTTP parsing, the Seldon router, the identity model and the answer's encoding, 20,000
  pipelined requests on one connection;
- gRPC: what a worker does with a call the front hands it (grpc_server.answer_bytes: the
  SeldonMessage decoded, the identity model, the reply encoded), 20,000 calls of the same 1x4
  ndarray, and 2,000 of a 100x4 one (a batch of rows);
- v2 gRPC: the same for an Open Inference Protocol ModelInfer call with a [1, 4] FP64 tensor
  (the four floats of the load's call) in its contents field (not raw), answered in kind,
  20,000 calls; and with a [64, 256] FP32 tensor, 500 calls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from google.protobuf import json_format

from seldon_serve import grpc_server, http_server, rest
from seldon_serve.endpoints import Endpoints
from seldon_serve.microservice import Microservice

BODY = b'{"data": {"names": ["a", "b", "c", "d"], "ndarray": [[1.0, 2.0, 3.0, 4.0]]}}'
REQUEST = (
    b"POST /api/v1.0/predictions HTTP/1.1\r\nHost: model\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
)
RUNS, REQUESTS = 7, 20_000
PREDICT = "/seldon.protos.Model/Predict"
MODEL_INFER = "/inference.GRPCInferenceService/ModelInfer"


class Identity:
    def predict(self, X: Any, names: Any) -> Any:
        return X


class CountingTransport(asyncio.Transport):
    """A connection that keeps nothing but the number of answers written."""

    def __init__(self) -> None:
        super().__init__()
        self.answers = 0

    def write(self, data: Any) -> None:
        self.answers += 1

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def best_of_runs(call: Callable[[], Any], requests: int) -> float:
    runs = []
    for _ in range(RUNS):
        started = time.perf_counter()
        for _ in range(requests):
            call()
        runs.append((time.perf_counter() - started) / requests * 1e6)
    return min(runs)


async def measure_rest() -> float:
    router = rest.router(Endpoints(Microservice(Identity()), None))
    protocol = http_server.HttpProtocol(router, http_server.ServerState(1 << 20, "REST_MAX_BODY_BYTES"))
    transport = CountingTransport()
    protocol.connection_made(transport)
    best = best_of_runs(lambda: protocol.data_received(REQUEST), REQUESTS)
    if transport.answers != RUNS * REQUESTS:
        raise SystemExit(f"{transport.answers} answers to {RUNS * REQUESTS} requests")
    return best


def measure_grpc(rows: int, requests: int) -> float:
    from seldon_serve.proto import prediction_pb2

    table = grpc_server.methods(Endpoints(Microservice(Identity()), None))
    ndarray = [[float(row * 4 + column) for column in range(4)] for row in range(rows)]
    message = {"data": {"names": ["a", "b", "c", "d"], "ndarray": ndarray}}
    body = json_format.ParseDict(message, prediction_pb2.SeldonMessage()).SerializeToString()
    answer = grpc_server.answer_bytes(table, PREDICT, body)
    reply = prediction_pb2.SeldonMessage.FromString(answer[1:])
    if answer[0] != 0 or json_format.MessageToDict(reply.data)["ndarray"] != ndarray:
        raise SystemExit(f"the gRPC path did not answer the {rows}x4 ndarray with itself: {answer[:200]!r}")
    return best_of_runs(lambda: grpc_server.answer_bytes(table, PREDICT, body), requests)


def measure_v2_grpc_contents(datatype: str, shape: tuple[int, int], requests: int) -> float:
    from seldon_serve.proto import open_inference_pb2
    from seldon_serve.v2.dataplane import OpenInference

    api = OpenInference(Microservice(Identity()), "bench")
    table = grpc_server.methods(Endpoints(None, api))
    values = [float(i % 1000) / 8 for i in range(shape[0] * shape[1])]
    request = open_inference_pb2.ModelInferRequest(model_name=api.name)
    tensor = request.inputs.add(name="x", datatype=datatype, shape=shape)
    contents = tensor.contents.fp32_contents if datatype == "FP32" else tensor.contents.fp64_contents
    contents.extend(values)
    body = request.SerializeToString()
    answer = grpc_server.answer_bytes(table, MODEL_INFER, body)
    reply = open_inference_pb2.ModelInferResponse.FromString(answer[1:])
    output = reply.outputs[0].contents
    if answer[0] != 0 or list(output.fp32_contents if datatype == "FP32" else output.fp64_contents) != values:
        raise SystemExit(f"the v2 gRPC path did not answer the {list(shape)} tensor with itself: {answer[:200]!r}")
    return best_of_runs(lambda: grpc_server.answer_bytes(table, MODEL_INFER, body), requests)


if __name__ == "__main__":
    print(f"REST-1x4 {asyncio.run(measure_rest()):.2f}")
    print(f"gRPC-1x4 {measure_grpc(1, REQUESTS):.2f}")
    print(f"gRPC-100x4 {measure_grpc(100, REQUESTS // 10):.2f}")
    print(f"v2-gRPC-1x4-FP64 {measure_v2_grpc_contents('FP64', (1, 4), REQUESTS):.2f}")
    print(f"v2-gRPC-64x256-FP32 {measure_v2_grpc_contents('FP32', (64, 256), 500):.2f}")
