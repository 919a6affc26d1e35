"""The gRPC side: the services of wrappers/proto/prediction.proto on grpc.aio.

It runs in the same event loop and process as the REST server, over the same Microservice,
so the model is loaded once per worker whichever transport a request takes.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc
from google.protobuf import json_format
from grpc_reflection.v1alpha import reflection

from . import payload, tftensor
from .errors import SeldonMicroserviceException
from .microservice import Microservice
from .proto import prediction_pb2 as pb
from .proto import prediction_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

# Seldon's wrapper lets every exception become UNKNOWN; a client deserves the real category.
_CODE_BY_HTTP_STATUS = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.UNIMPLEMENTED,
    409: grpc.StatusCode.ABORTED,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    501: grpc.StatusCode.UNIMPLEMENTED,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}


def grpc_code(http_status: int) -> grpc.StatusCode:
    if http_status in _CODE_BY_HTTP_STATUS:
        return _CODE_BY_HTTP_STATUS[http_status]
    return grpc.StatusCode.INTERNAL if http_status >= 500 else grpc.StatusCode.FAILED_PRECONDITION


class ProtoIncoming:
    """A request as gRPC receives it, decoded straight from the proto (no JSON detour)."""

    __slots__ = ("_proto",)

    def __init__(self, proto: pb.SeldonMessage):
        self._proto = proto

    def message(self) -> dict[str, Any]:
        return json_format.MessageToDict(self._proto)

    def request(self) -> payload.Request:
        proto = self._proto
        meta = json_format.MessageToDict(proto.meta) if proto.HasField("meta") else {}
        which = proto.WhichOneof("data_oneof")
        if which == "data":
            data = proto.data
            kind = data.WhichOneof("data_oneof")
            names = list(data.names)
            if kind == "tensor":
                tensor = {"shape": list(data.tensor.shape), "values": list(data.tensor.values)}
                return payload.Request("tensor", payload.tensor_to_numpy(tensor), names, meta)
            if kind == "ndarray":
                values = json_format.MessageToDict(data.ndarray)
                return payload.Request("ndarray", payload.ndarray_to_numpy(values), names, meta)
            if kind == "tftensor":
                return payload.Request("tftensor", tftensor.to_numpy(data.tftensor), names, meta)
            raise payload.BadRequest("data must hold one of ndarray, tensor or tftensor")
        if which == "jsonData":
            return payload.Request("jsonData", json_format.MessageToDict(proto.jsonData), [], meta)
        if which == "strData":
            return payload.Request("strData", proto.strData, [], meta)
        if which == "binData":
            return payload.Request("binData", proto.binData, [], meta)
        raise payload.BadRequest("a SeldonMessage needs one of data, jsonData, strData or binData")


def to_proto(message: dict[str, Any]) -> pb.SeldonMessage:
    try:
        return json_format.ParseDict(message, pb.SeldonMessage(), ignore_unknown_fields=False)
    except (json_format.ParseError, TypeError, ValueError) as exc:
        raise SeldonMicroserviceException(f"the response is not a SeldonMessage: {exc}", status_code=500) from None


async def _abort(context: grpc.aio.ServicerContext, exc: SeldonMicroserviceException) -> None:
    await context.abort(grpc_code(exc.status_code), exc.message)


class _Servicer:
    """Each RPC: decode, call the verb, encode, and turn Seldon errors into status codes."""

    def __init__(self, service: Microservice):
        self.service = service

    async def _call(self, verb: Any, incoming: Any, context: grpc.aio.ServicerContext) -> pb.SeldonMessage:
        try:
            return to_proto(verb(incoming))
        except SeldonMicroserviceException as exc:
            await _abort(context, exc)
        except Exception as exc:
            log.exception("unexpected error in a gRPC call")
            await context.abort(grpc.StatusCode.INTERNAL, f"{type(exc).__name__}: {exc}")
        raise AssertionError("context.abort returned")  # pragma: no cover

    async def Predict(self, request: pb.SeldonMessage, context: grpc.aio.ServicerContext) -> pb.SeldonMessage:
        return await self._call(self.service.predict, ProtoIncoming(request), context)


class ModelServicer(_Servicer, pb_grpc.ModelServicer):
    pass


class SeldonServicer(_Servicer, pb_grpc.SeldonServicer):
    pass


def service_names() -> list[str]:
    return [service.full_name for service in pb.DESCRIPTOR.services_by_name.values()]


async def serve(service: Microservice, host: str, port: int, max_message_bytes: int) -> grpc.aio.Server:
    options = [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.so_reuseport", 1),
    ]
    server = grpc.aio.server(options=options)
    pb_grpc.add_ModelServicer_to_server(ModelServicer(service), server)
    pb_grpc.add_SeldonServicer_to_server(SeldonServicer(service), server)
    reflection.enable_server_reflection([*service_names(), reflection.SERVICE_NAME], server)
    if server.add_insecure_port(f"{host}:{port}") == 0:
        raise OSError(f"cannot bind gRPC port {port}")
    await server.start()
    return server
