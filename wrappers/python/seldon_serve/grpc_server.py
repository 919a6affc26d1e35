"""The gRPC side: the services of wrappers/proto/prediction.proto (the Seldon protocol) and of
open_inference.proto (v2), answered in the workers: for the gRPC front (answer_bytes) or on grpc.aio.

It runs in the same event loop and process as the REST server, over the same Microservice,
so the model is loaded once per worker whichever transport a request takes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import (
    any_pb2,
    descriptor_pb2,
    duration_pb2,
    json_format,
    symbol_database,
    timestamp_pb2,
    wrappers_pb2,
)
from google.protobuf.message import DecodeError
from grpc_reflection.v1alpha import reflection

from . import contract, list_values, payload, seldon_wire, tftensor
from .endpoints import Endpoints
from .errors import INTERNAL_ERROR, BadRequest, SeldonMicroserviceException
from .microservice import Microservice
from .proto import prediction_pb2 as pb

if TYPE_CHECKING:
    from .tracing import Tracing

log = logging.getLogger(__name__)

# protobuf's well-known types, registered so that a customData (an Any) holding one has a JSON
# form, for the wrapper and for a model's json_format calls alike.
WELL_KNOWN_TYPES = (duration_pb2, timestamp_pb2, wrappers_pb2)


def grpc_code(http_status: int) -> grpc.StatusCode:
    """Seldon's wrapper lets every exception become UNKNOWN; a client deserves the real category."""
    return grpc.StatusCode[contract.grpc_status_name(http_status)]


class ProtoIncoming:
    """A request as gRPC receives it, decoded straight from the proto (no JSON detour)."""

    __slots__ = ("_proto",)

    def __init__(self, proto: pb.SeldonMessage):
        self._proto = proto

    def message(self) -> dict[str, Any]:
        return json_format.MessageToDict(self._proto)

    def proto(self) -> pb.SeldonMessage:
        return self._proto

    def request(self) -> payload.Request:
        proto = self._proto
        meta = json_format.MessageToDict(proto.meta) if proto.HasField("meta") else {}
        which = proto.WhichOneof("data_oneof")
        if which == "data":
            data = proto.data
            kind = data.WhichOneof("data_oneof")
            names = data.names[:]
            if kind == "tensor":
                tensor = {"shape": list(data.tensor.shape), "values": list(data.tensor.values)}
                return payload.Request("tensor", payload.tensor_to_numpy(tensor), names, meta)
            if kind == "ndarray":
                array = list_values.to_numbers(data.ndarray)
                if array is None:
                    array = payload.ndarray_to_numpy(list_values.to_python(data.ndarray))
                return payload.Request("ndarray", array, names, meta)
            if kind == "tftensor":
                return payload.Request("tftensor", tftensor.to_numpy(data.tftensor), names, meta)
            return payload.Request("ndarray", payload.ndarray_to_numpy([]), names, meta)
        if which == "jsonData":
            return payload.Request("jsonData", json_format.MessageToDict(proto.jsonData), [], meta)
        if which == "strData":
            return payload.Request("strData", proto.strData, [], meta)
        if which == "binData":
            return payload.Request("binData", proto.binData, [], meta)
        if which == "customData":
            return payload.Request("customData", proto.customData, [], meta)  # a model's own message, as it came
        raise BadRequest("a SeldonMessage needs one of data, jsonData, strData or binData")


class WireIncoming:
    """The commonest request (seldon_wire.request) as read from its bytes; the message itself
    is decoded only for a *_raw method that asks for it."""

    __slots__ = ("_body", "_features", "_names", "_proto")

    def __init__(self, body: bytes, names: list[str], features: Any):
        self._body, self._names, self._features = body, names, features
        self._proto: pb.SeldonMessage | None = None

    def message(self) -> dict[str, Any]:
        return json_format.MessageToDict(self.proto())

    def proto(self) -> pb.SeldonMessage:
        if self._proto is None:
            self._proto = pb.SeldonMessage.FromString(self._body)
        return self._proto

    def request(self) -> payload.Request:
        return payload.Request("ndarray", self._features, self._names, {})


class SeldonRequest:
    """How a verb's request (a SeldonMessage) is decoded: the commonest read from its bytes,
    any other by protobuf (whose errors are a bad request's)."""

    @staticmethod
    def FromString(body: bytes) -> WireIncoming | ProtoIncoming:
        found = seldon_wire.request(body)
        if found is None:
            return ProtoIncoming(pb.SeldonMessage.FromString(body))
        return WireIncoming(body, *found)


def to_proto(message: dict[str, Any]) -> pb.SeldonMessage:
    """The JSON form of a response as protobuf; data and a plain meta are set field by field
    (json_format costs more than the model call on the hot path)."""
    try:
        data, meta = message.get("data"), message.get("meta")
        if isinstance(data, dict) and set(message) <= {"data", "meta"} and set(data) <= {"names", "ndarray", "tensor"}:
            out = pb.SeldonMessage()
            out.data.names.extend(data.get("names") or [])
            if "tensor" in data:
                out.data.tensor.shape.extend(data["tensor"]["shape"])
                out.data.tensor.values.extend(data["tensor"]["values"])
            elif "ndarray" in data:
                out.data.ndarray.SetInParent()  # present even when empty, as Seldon's answers are
                list_values.fill(out.data.ndarray, data["ndarray"])
            if meta:
                if set(meta) == {"puid"}:
                    out.meta.puid = meta["puid"]
                else:
                    json_format.ParseDict(meta, out.meta)
            return out
        custom = message.get("customData")
        if isinstance(custom, any_pb2.Any):  # a model's own message, answered as it is
            out = json_format.ParseDict({k: v for k, v in message.items() if k != "customData"}, pb.SeldonMessage())
            out.customData.CopyFrom(custom)
            return out
        return json_format.ParseDict(message, pb.SeldonMessage())
    except (json_format.ParseError, TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
        raise SeldonMicroserviceException(
            f"the response is not a SeldonMessage: {exc}", status_code=500, reason=INTERNAL_ERROR
        ) from None


def reply_bytes(message: dict[str, Any]) -> bytes:
    """to_proto(message).SerializeToString(); the commonest answers written straight to bytes."""
    wire = seldon_wire.answer(message)
    return wire if wire is not None else to_proto(message).SerializeToString()


def _as_dict(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message)


# Full method name -> (request message class, how to answer it: the reply message, or its
# bytes). The one table both gRPC paths use: grpc.aio in this process, or the gRPC front
# (wrappers/grpc-front) over a socket.
def _verb(name: str) -> Any:
    return lambda service, incoming: reply_bytes(getattr(service, name)(incoming))


def _aggregate(service: Microservice, request: pb.SeldonMessageList) -> pb.SeldonMessage:
    return to_proto(service.aggregate([_as_dict(m) for m in request.seldonMessages], proto=request))


def _feedback(service: Microservice, request: pb.Feedback) -> pb.SeldonMessage:
    return to_proto(service.send_feedback(_as_dict(request), proto=request))


def _model_metadata(service: Microservice, _request: Any) -> pb.SeldonModelMetadata:
    return json_format.ParseDict(service.model_metadata, pb.SeldonModelMetadata(), ignore_unknown_fields=True)


def _graph_metadata(service: Microservice, request: Any) -> pb.SeldonGraphMetadata:
    model = _model_metadata(service, request)
    graph = pb.SeldonGraphMetadata(name=model.name, inputs=model.inputs, outputs=model.outputs)
    graph.models[service.unit_id or model.name].CopyFrom(model)
    return graph


# The methods a SeldonMessage comes in to (SeldonRequest decodes it) and the verb each calls.
_VERBS = {
    "Predict": "predict",
    "TransformInput": "transform_input",
    "TransformOutput": "transform_output",
    "Route": "route",
}
_HANDLERS = {
    **{method: _verb(verb) for method, verb in _VERBS.items()},
    "Aggregate": _aggregate,
    "SendFeedback": _feedback,
    "Metadata": _model_metadata,
    "ModelMetadata": _model_metadata,
    "GraphMetadata": _graph_metadata,
}


def _methods() -> dict[str, tuple[type, Any]]:
    table = {}
    for service in pb.DESCRIPTOR.services_by_name.values():
        for method in service.methods:
            request_class = symbol_database.Default().GetSymbol(method.input_type.full_name)
            if method.name in _VERBS:
                request_class = SeldonRequest
            table[f"/{service.full_name}/{method.name}"] = (request_class, _HANDLERS[method.name])
    return table


METHODS = _methods()
Answer = tuple[type, Any]  # (what decodes the request: its message class or SeldonRequest; request -> reply)


def methods(endpoints: Endpoints) -> dict[str, Answer]:
    """Every gRPC method the endpoints serve, by full name."""
    table: dict[str, Answer] = {}
    if endpoints.seldon is not None:
        service = endpoints.seldon
        for name, (request_class, handler) in METHODS.items():
            table[name] = (request_class, lambda request, h=handler: h(service, request))
    if endpoints.v2 is not None:
        from .v2.grpc import grpc_methods  # loads the v2 stubs only when v2 is served

        table.update(grpc_methods(endpoints.v2))
    return table


def error_status(exc: Exception) -> tuple[grpc.StatusCode, str]:
    """The gRPC status a failed call answers with, on either gRPC path."""
    if isinstance(exc, SeldonMicroserviceException):
        named = getattr(exc, "grpc_code", None)
        return (grpc.StatusCode[named] if named else grpc_code(exc.status_code)), exc.message
    if isinstance(exc, DecodeError):
        return grpc.StatusCode.INVALID_ARGUMENT, f"cannot decode the request: {exc}"
    log.error("unexpected error in a gRPC call", exc_info=exc)
    return grpc.StatusCode.INTERNAL, f"{type(exc).__name__}: {exc}"


def answer_bytes(table: dict[str, Answer], method: str, body: bytes) -> bytes:
    """The front's protocol: one gRPC status byte, then the reply bytes or an error message."""
    entry = table.get(method)
    if entry is None:
        return bytes([grpc.StatusCode.UNIMPLEMENTED.value[0]]) + f"unknown method {method}".encode()
    try:
        request = entry[0].FromString(body)
        return b"\x00" + _serialize(entry[1](request))
    except Exception as exc:
        code, message = error_status(exc)
        return bytes([code.value[0]]) + message.encode()


def _file_descriptors(endpoints: Endpoints) -> list[Any]:
    files = []
    if endpoints.seldon is not None:
        files.append(pb.DESCRIPTOR)
    if endpoints.v2 is not None:
        from .proto import open_inference_pb2

        files.append(open_inference_pb2.DESCRIPTOR)
    return files


def descriptor_set(endpoints: Endpoints) -> bytes:
    """The served protos and everything they import, for the front's server reflection."""
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}

    def add(file: Any) -> None:
        if file.name in files:
            return
        for dependency in file.dependencies:
            add(dependency)
        proto = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(proto)
        files[file.name] = proto

    for file in _file_descriptors(endpoints):
        add(file)
    return descriptor_pb2.FileDescriptorSet(file=list(files.values())).SerializeToString()


def service_names(endpoints: Endpoints) -> list[str]:
    return [service.full_name for file in _file_descriptors(endpoints) for service in file.services_by_name.values()]


def _generic_handlers(table: dict[str, Answer], traced: Tracing | None) -> list[grpc.GenericRpcHandler]:
    """Every method of the table on grpc.aio -- the same table the front's path answers from.
    Requests arrive as bytes and are decoded in the call, so a message that does not decode is
    INVALID_ARGUMENT (grpc's own deserializer would make it UNKNOWN). With tracing on, each call
    is a server span."""

    def unary(request_class: type, answer: Any) -> Any:
        async def call(body: bytes, context: grpc.aio.ServicerContext) -> Any:
            try:
                return answer(request_class.FromString(body))  # type: ignore[attr-defined]
            except Exception as exc:
                await context.abort(*error_status(exc))

        return call

    def traced_unary(full_name: str, request_class: type, answer: Any) -> Any:
        async def call(body: bytes, context: grpc.aio.ServicerContext) -> Any:
            with traced.grpc_call(full_name, context.invocation_metadata() or ()) as answered:  # type: ignore[union-attr]
                try:
                    result = answer(request_class.FromString(body))  # type: ignore[attr-defined]
                except Exception as exc:
                    code, message = error_status(exc)
                    answered(code.name, message)
                    await context.abort(code, message)
                answered("OK", "")
                return result

        return call

    services: dict[str, dict[str, grpc.RpcMethodHandler]] = {}
    for full_name, (request_class, answer) in table.items():
        service_name, method = full_name.lstrip("/").split("/")
        call = unary(request_class, answer) if traced is None else traced_unary(full_name, request_class, answer)
        services.setdefault(service_name, {})[method] = grpc.unary_unary_rpc_method_handler(
            call, response_serializer=_serialize
        )
    return [grpc.method_handlers_generic_handler(name, handlers) for name, handlers in services.items()]


def _serialize(reply: Any) -> bytes:
    return reply if type(reply) is bytes else reply.SerializeToString()


async def serve(
    endpoints: Endpoints, host: str, port: int, max_message_bytes: int, traced: Tracing | None = None
) -> grpc.aio.Server:
    options = [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.so_reuseport", 1),
    ]
    server = grpc.aio.server(options=options)
    server.add_generic_rpc_handlers(_generic_handlers(methods(endpoints), traced))
    reflection.enable_server_reflection([*service_names(endpoints), reflection.SERVICE_NAME], server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError as exc:  # grpcio raises where it used to return 0
        raise OSError(f"cannot bind gRPC port {port} ({exc})") from exc
    if bound == 0:
        raise OSError(f"cannot bind gRPC port {port}")
    await server.start()
    return server
