"""OpenTelemetry tracing, off unless asked for (TRACING=1, Seldon's --tracing, or an OTLP endpoint).

Off, nothing here runs on a request: the router and the gRPC bridge are served as they are and
OpenTelemetry is never imported. On, each is served through a TracedHandler, which continues the
caller's trace from its headers (W3C traceparent, B3, Jaeger's uber-trace-id: the propagators
OTEL_PROPAGATORS names) in a server span per REST request or gRPC call, and the service's verbs
are wrapped so that each call of the model is a child span (verb, unit id, error). Spans leave
through a batch processor on a thread of its own, over OTLP (http/protobuf or grpc, as
OTEL_EXPORTER_OTLP_PROTOCOL says); a batch the collector does not take is dropped and counted
(seldon_tracing_spans_dropped_total), and never fails or slows a request.

The other OTEL_* variables are the SDK's own: OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_TRACES_SAMPLER(_ARG), OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT, ...
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .contract import setting
from .errors import StartupError
from .http_server import Handler, Request, Response

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    from .microservice import Microservice

log = logging.getLogger("seldon_serve.tracing")

# Seldon's executor and Istio send B3 or Jaeger headers; W3C's are OpenTelemetry's own.
DEFAULT_PROPAGATORS = "tracecontext,baggage,b3multi,jaeger"
# b3multi reads the single `b3` header too, though it does not list it among its fields.
_B3_SINGLE = "b3"
ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
PROTOCOLS = ("http/protobuf", "grpc")
# The service's verbs whose calls reach the model: each call a child span.
VERBS = ("predict", "predict_passthrough", "transform_input", "transform_output", "route", "aggregate",
         "send_feedback", "infer", "aggregate_tensors")  # fmt: skip
# Seldon's Jaeger client settings (the contract's entry), which nothing here reads: spans go over OTLP.
JAEGER_SETTINGS = setting("JAEGER_AGENT_HOST").entry
# gRPC codes a server span reports as an error (OpenTelemetry's gRPC conventions).
_GRPC_SERVER_ERRORS = frozenset(
    ("UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS")
)


def wanted(flag: bool, environ: Mapping[str, str] = os.environ) -> bool:
    """Tracing is on with TRACING=1 / --tracing or an OTLP endpoint, unless the SDK is disabled."""
    from .settings import truthy  # settings reads this module's answer

    if truthy(environ.get("OTEL_SDK_DISABLED")) or environ.get("OTEL_TRACES_EXPORTER", "").strip() == "none":
        return False
    return flag or truthy(setting("TRACING").read(environ)) or any(environ.get(name) for name in ENDPOINTS)


class Tracing:
    """The tracer, its propagators, and what serving needs to trace: handlers and verbs."""

    def __init__(self, provider: TracerProvider, version: str) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("seldon_serve", version)
        self.propagator = _propagator()
        self.headers = frozenset(name.encode() for name in propagated_headers())

    def handler(self, inner: Handler) -> TracedHandler:
        return TracedHandler(inner, self)

    @contextlib.contextmanager
    def grpc_call(self, method: str, metadata: Sequence[tuple[str, Any]]) -> Iterator[Callable[[str, str], None]]:
        """A call served by grpc.aio in the worker (SELDON_GRPC_FRONT=off), `/package.Service/Method`,
        in a server span continuing the trace its metadata carries; yields what records its
        status code's name and message when the call is answered."""
        from opentelemetry.trace import SpanKind, Status, StatusCode

        carrier = {key.encode(): value.encode("latin-1") for key, value in metadata if isinstance(value, str)}
        parent = self.propagator.extract(carrier, getter=_GETTER)  # type: ignore[arg-type]
        with self.tracer.start_as_current_span(
            method, context=parent, kind=SpanKind.SERVER, record_exception=False, set_status_on_exception=False
        ) as span:

            def answered(code: str, message: str) -> None:
                name, attributes, failed = _server_span({"grpc_method": method, "status": code})
                span.update_name(name)
                span.set_attributes(attributes)
                if failed:
                    span.set_status(Status(StatusCode.ERROR, message))

            yield answered

    def instrument(self, service: Microservice) -> None:
        """Each verb of the service, from now on, calls the model in a span of its own."""
        for verb in VERBS:
            setattr(service, verb, _traced_verb(self.tracer, verb, service.unit_id, getattr(service, verb)))

    def shutdown(self) -> None:
        """Send the spans still waiting (a worker stopping)."""
        self.provider.shutdown()


def unread_jaeger_settings(environ: Mapping[str, str] = os.environ) -> str | None:
    """Seldon's Jaeger settings given with no OTLP endpoint, as the start-up warning names them:
    the spans then go to the SDK's default endpoint, not to the Jaeger they point at."""
    given = [f"{name}={environ[name].strip()}" for name in JAEGER_SETTINGS if environ.get(name, "").strip()]
    if not given or any(environ.get(name, "").strip() for name in ENDPOINTS):
        return None
    return (
        f"{', '.join(given)}: Seldon's Jaeger client settings, not read here -- spans go over OTLP to "
        "OTEL_EXPORTER_OTLP_ENDPOINT (http://localhost:4318 when unset); Jaeger's collector takes OTLP "
        "on port 4318 (4317 with OTEL_EXPORTER_OTLP_PROTOCOL=grpc)"
    )


def _propagator() -> Any:
    """The propagators OTEL_PROPAGATORS names (DEFAULT_PROPAGATORS unless set)."""
    os.environ.setdefault("OTEL_PROPAGATORS", DEFAULT_PROPAGATORS)  # read when propagate is imported
    try:
        from opentelemetry import propagate
    except ImportError as exc:
        raise StartupError(f"tracing is on but OpenTelemetry cannot be imported: {exc}") from None
    return propagate.get_global_textmap()


def propagated_headers() -> list[str]:
    """The request headers a trace is continued from (the gRPC front passes them on)."""
    return sorted({name.lower() for name in _propagator().fields} | {_B3_SINGLE})


def start(service_name: str, version: str) -> Tracing:
    """Set up OpenTelemetry's SDK from the environment, as the process's tracer provider (so a
    model's own spans join the request's trace)."""
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise StartupError(f"tracing is on but OpenTelemetry's SDK cannot be imported: {exc}") from None
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service_name}))
    provider = TracerProvider(resource=resource)
    exporter, where = _exporter()
    provider.add_span_processor(BatchSpanProcessor(CountingExporter(exporter, _dropped_counter())))
    trace.set_tracer_provider(provider)
    tracing = Tracing(provider, version)
    log.info(
        "tracing on: spans of %s to %s, propagators %s",
        resource.attributes.get(SERVICE_NAME), where, os.environ["OTEL_PROPAGATORS"],
    )  # fmt: skip
    return tracing


def _exporter() -> tuple[SpanExporter, str]:
    """OTLP's span exporter for the protocol asked for; and where it sends, for the log."""
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
    ).strip() or PROTOCOLS[0]
    if protocol not in PROTOCOLS:
        raise StartupError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: spans go over {' or '.join(PROTOCOLS)}")
    try:
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # type: ignore[assignment]
    except ImportError as exc:
        raise StartupError(f"tracing is on but the OTLP {protocol} exporter cannot be imported: {exc}") from None
    exporter = OTLPSpanExporter()
    where = getattr(exporter, "_endpoint", "") or os.environ.get(ENDPOINTS[1]) or os.environ.get(ENDPOINTS[0], "")
    return exporter, f"{where} ({protocol})"


def _dropped_counter() -> Callable[[int], None]:
    from .metrics import spans_dropped

    return spans_dropped().inc


class CountingExporter:
    """An exporter's stand-in that counts the spans it could not deliver (and says so in the
    log), so a collector that is down costs spans, not requests."""

    def __init__(self, exporter: SpanExporter, dropped: Callable[[int], None]) -> None:
        self.exporter = exporter
        self.dropped = dropped

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        from opentelemetry.sdk.trace.export import SpanExportResult

        try:
            result = self.exporter.export(spans)
        except Exception as exc:  # an exporter's bug must not stop the processor's thread
            log.warning("the span exporter failed: %s: %s", type(exc).__name__, exc)
            result = SpanExportResult.FAILURE
        if result is not SpanExportResult.SUCCESS:
            self.dropped(len(spans))
            log.warning("dropped %d spans: the collector did not take them", len(spans))
        return result

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


class _HeaderGetter:
    """OpenTelemetry's Getter over a request's kept headers (lower-case bytes names and values)."""

    def get(self, carrier: Mapping[bytes, bytes], key: str) -> list[str] | None:
        value = carrier.get(key.lower().encode())
        return None if value is None else [value.decode("latin-1")]

    def keys(self, carrier: Mapping[bytes, bytes]) -> list[str]:
        return [name.decode("latin-1") for name in carrier]


_GETTER = _HeaderGetter()


class TracedHandler:
    """An http_server.Handler serving another in a server span: the REST router (a span named
    for the method and path) or the gRPC front's bridge (named for the gRPC method). Its
    attributes are those the access log shows (Handler.describe)."""

    def __init__(self, inner: Handler, tracing: Tracing) -> None:
        self.inner = inner
        self.tracer = tracing.tracer
        self.propagator = tracing.propagator
        self.headers = inner.headers | tracing.headers
        self.liveness = inner.liveness

    def error(self, status: int, message: str, path: bytes = b"") -> Response:
        return self.inner.error(status, message, path)

    def describe(self, method: bytes, url: bytes, response: Response) -> tuple[int, dict[str, object]]:
        return self.inner.describe(method, url, response)

    def __call__(self, request: Request) -> Response:
        from opentelemetry.trace import SpanKind, Status, StatusCode

        parent = self.propagator.extract(request.headers, getter=_GETTER)  # type: ignore[arg-type]
        with self.tracer.start_as_current_span(
            request.path.decode(errors="replace"), context=parent, kind=SpanKind.SERVER,
            record_exception=False, set_status_on_exception=False,
        ) as span:  # fmt: skip
            response = self.inner(request)
            if span.is_recording():
                _, fields = self.inner.describe(request.method, request.path, response)
                name, attributes, failed = _server_span(fields, response.status)
                span.update_name(name)
                span.set_attributes(attributes)
                if failed:
                    span.set_status(Status(StatusCode.ERROR, _message_of(response)))
        return response


def _server_span(fields: dict[str, object], http_status: int = 0) -> tuple[str, dict[str, Any], bool]:
    """A served request's span: its name, attributes, and whether it failed (from the access
    log's fields: method and path, with the answer's HTTP status; or grpc_method and status)."""
    grpc_method = fields.get("grpc_method")
    if isinstance(grpc_method, str):
        service, _, method = grpc_method.lstrip("/").partition("/")
        code = str(fields.get("status"))
        attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method, "rpc.grpc.status": code}
        return f"{service}/{method}", attributes, code in _GRPC_SERVER_ERRORS
    method, path = str(fields.get("method")), str(fields.get("path"))
    attributes = {"http.request.method": method, "url.path": path, "http.response.status_code": http_status}
    return f"{method} {path}", attributes, http_status >= 500


def _message_of(response: Response) -> str:
    return response.body[:300].decode(errors="replace")


def _traced_verb(tracer: Any, verb: str, unit_id: str, call: Callable[..., Any]) -> Callable[..., Any]:
    """The verb, calling the model inside a child span that records its failure."""
    from opentelemetry.trace import Status, StatusCode

    attributes = {"seldon.verb": verb, "seldon.unit_id": unit_id}

    @functools.wraps(call)
    def traced(*args: Any, **kwargs: Any) -> Any:
        with tracer.start_as_current_span(f"model {verb}", attributes=attributes, record_exception=False,
                                          set_status_on_exception=False) as span:  # fmt: skip
            try:
                return call(*args, **kwargs)
            except Exception as exc:
                span.record_exception(exc)
                status = getattr(exc, "status_code", 500)
                span.set_attribute("seldon.status_code", status)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
                raise

    return traced
