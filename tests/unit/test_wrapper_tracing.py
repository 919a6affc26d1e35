"""The python wrapper's tracing (seldon_serve.tracing) in-process, with OpenTelemetry's SDK and its
in-memory exporter: when it is on, the spans a served request and the model's call make, and
the exporter's failures counted. (The contract suite checks it against a real collector.)"""

from __future__ import annotations

import logging

import orjson
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from seldon_serve import bridge, rest, tracing
from seldon_serve.endpoints import Endpoints
from seldon_serve.http_server import Request
from seldon_serve.microservice import Microservice

pytestmark = pytest.mark.unit

TRACE_ID, PARENT = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


class Model:
    def predict(self, X, names):
        if str(X.dtype).startswith("<U"):  # text: the test's way to ask for a crash
            raise RuntimeError("the model crashed")
        return X


@pytest.fixture
def traced() -> tuple[tracing.Tracing, InMemorySpanExporter, Microservice]:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    on = tracing.Tracing(provider, "test")
    service = Microservice(Model())
    on.instrument(service)
    return on, spans, service


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"TRACING": "1"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"TRACING": "1", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_tracing_is_on_when_asked_for_by_seldons_flag_or_an_otlp_endpoint(environ, on):
    assert tracing.wanted(False, environ) is on


def test_the_trace_headers_kept_are_w3c_b3_and_jaegers():
    assert {"traceparent", "tracestate", "baggage", "b3", "x-b3-traceid", "x-b3-spanid", "uber-trace-id"} <= set(
        tracing.propagated_headers()
    )


def test_a_rest_request_is_a_server_span_continuing_the_caller_with_the_model_call_as_its_child(traced):
    on, spans, service = traced
    router = on.handler(rest.router(Endpoints(service, None)))
    assert b"traceparent" in router.headers and router.liveness == frozenset((b"/health/ping", b"/ping"))
    body = orjson.dumps({"data": {"ndarray": [[1, 2]]}})
    headers = {b"traceparent": f"00-{TRACE_ID}-{PARENT}-01".encode(), b"content-type": b"application/json"}
    assert router(Request(b"POST", b"/api/v1.0/predictions", None, headers, body, "")).status == 200
    model, server = spans.get_finished_spans()
    assert (server.name, server.kind, f"{server.parent.span_id:016x}") == (
        "POST /api/v1.0/predictions",
        SpanKind.SERVER,
        PARENT,
    )
    assert f"{server.context.trace_id:032x}" == TRACE_ID
    assert dict(server.attributes) == {
        "http.request.method": "POST", "url.path": "/api/v1.0/predictions", "http.response.status_code": 200,
    }  # fmt: skip
    assert model.parent.span_id == server.context.span_id and model.name == "model predict"
    assert model.attributes["seldon.verb"] == "predict" and model.status.status_code == StatusCode.UNSET


def test_a_model_that_fails_makes_an_error_span_and_a_500_an_error_server_span(traced):
    on, spans, service = traced
    router = on.handler(rest.router(Endpoints(service, None)))
    body = orjson.dumps({"data": {"ndarray": [["crash"]]}})
    assert router(Request(b"POST", b"/predict", None, {}, body, "")).status == 500
    model, server = spans.get_finished_spans()
    assert model.status.status_code == StatusCode.ERROR and "the model crashed" in model.status.description
    assert model.attributes["seldon.status_code"] == 500 and model.events[0].name == "exception"
    assert server.status.status_code == StatusCode.ERROR and server.parent is None  # no caller's trace: a new one


def test_a_grpc_call_through_the_front_is_named_for_its_method(traced):
    on, spans, service = traced
    handler = on.handler(bridge.Bridge(Endpoints(service, None)))
    from seldon_serve.proto import prediction_pb2 as pb

    request = pb.SeldonMessage()
    request.data.ndarray.extend([[1.0]])
    headers = {b"b3": f"{TRACE_ID}-{PARENT}-1".encode()}
    answer = handler(
        Request(b"POST", b"/grpc/seldon.protos.Model/Predict", None, headers, request.SerializeToString(), "")
    )
    assert answer.status == 200 and answer.body[0] == 0
    _, server = spans.get_finished_spans()
    assert server.name == "seldon.protos.Model/Predict" and f"{server.parent.span_id:016x}" == PARENT
    assert dict(server.attributes) == {
        "rpc.system": "grpc", "rpc.service": "seldon.protos.Model", "rpc.method": "Predict", "rpc.grpc.status": "OK",
    }  # fmt: skip


def test_a_grpc_call_served_by_grpc_aio_in_the_worker_is_a_server_span_too(traced):
    """SELDON_GRPC_FRONT=off: grpc.aio serves gRPC in the worker, the trace taken from metadata."""
    import asyncio
    import socket

    import grpc

    from seldon_serve import grpc_server
    from seldon_serve.proto import prediction_pb2 as pb

    on, spans, service = traced
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def call_twice() -> grpc.StatusCode:
        server = await grpc_server.serve(Endpoints(service, None), "127.0.0.1", port, 1 << 20, on)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                predict = channel.unary_unary(
                    "/seldon.protos.Model/Predict", pb.SeldonMessage.SerializeToString, pb.SeldonMessage.FromString
                )
                request = pb.SeldonMessage()
                request.data.ndarray.extend([[1.0]])
                await predict(request, metadata=(("traceparent", f"00-{TRACE_ID}-{PARENT}-01"),))
                crash = pb.SeldonMessage()
                crash.data.ndarray.extend([["crash"]])
                try:
                    await predict(crash)
                except grpc.aio.AioRpcError as exc:
                    return exc.code()
                return grpc.StatusCode.OK
        finally:
            await server.stop(None)

    assert asyncio.run(call_twice()) == grpc.StatusCode.INTERNAL
    model, server, failed_model, failed = spans.get_finished_spans()
    assert (server.name, server.kind, f"{server.parent.span_id:016x}") == (
        "seldon.protos.Model/Predict",
        SpanKind.SERVER,
        PARENT,
    )
    assert model.parent.span_id == server.context.span_id and server.attributes["rpc.grpc.status"] == "OK"
    assert failed.attributes["rpc.grpc.status"] == "INTERNAL" and failed.status.status_code == StatusCode.ERROR
    assert failed_model.status.status_code == StatusCode.ERROR and failed.parent is None


class Refusing:
    def __init__(self, result: SpanExportResult | Exception) -> None:
        self.result = result

    def export(self, spans):
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.mark.parametrize("failure", [SpanExportResult.FAILURE, ConnectionError("refused")])
def test_spans_the_exporter_cannot_deliver_are_counted_and_logged(failure, caplog):
    dropped: list[int] = []
    exporter = tracing.CountingExporter(Refusing(failure), dropped.append)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, "seldon_serve.tracing"):
        assert exporter.export([object(), object()]) is SpanExportResult.FAILURE  # type: ignore[list-item]
    assert dropped == [2] and "dropped 2 spans" in caplog.text


def test_delivered_spans_are_not_counted():
    dropped: list[int] = []
    exporter = tracing.CountingExporter(Refusing(SpanExportResult.SUCCESS), dropped.append)  # type: ignore[arg-type]
    assert exporter.export([object()]) is SpanExportResult.SUCCESS  # type: ignore[list-item]
    assert dropped == []


def test_seldons_jaeger_settings_with_no_otlp_endpoint_are_named_for_a_warning():
    environ = {"JAEGER_AGENT_HOST": "jaeger-agent", "JAEGER_AGENT_PORT": " 6831 ", "TRACING": "1"}
    unread = tracing.unread_jaeger_settings(environ)
    assert unread is not None and unread.startswith("JAEGER_AGENT_HOST=jaeger-agent, JAEGER_AGENT_PORT=6831: Seldon's")
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in unread
    assert tracing.unread_jaeger_settings({"TRACING": "1"}) is None
    assert tracing.unread_jaeger_settings({"JAEGER_AGENT_HOST": " "}) is None
    endpoint = {"JAEGER_AGENT_HOST": "jaeger-agent", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://jaeger:4318"}
    assert tracing.unread_jaeger_settings(endpoint) is None
