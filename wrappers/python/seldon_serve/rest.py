"""The REST side: a lean HTTP/1.1 server on asyncio + httptools.

A serving wrapper spends most of its time in framework code, so there is no framework: the
parser calls back into a protocol object per connection, the route table is a dict built once,
and JSON goes through orjson. Requests on one connection are answered in order.
"""

from __future__ import annotations

import asyncio
import base64
import email.policy
import functools
import logging
import socket
import time
from collections.abc import Callable
from email.parser import BytesParser
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import httptools
import orjson

from . import openapi
from .endpoints import Endpoints
from .errors import BAD_DATA, INTERNAL_ERROR, BadRequest, MethodNotAllowed, SeldonMicroserviceException, error_body
from .microservice import Microservice
from .payload import JsonIncoming
from .settings import DEFAULT_MAX_BODY_BYTES

if TYPE_CHECKING:
    from .v2 import OpenInference

log = logging.getLogger(__name__)
access = logging.getLogger("seldon_serve.access")  # --access-log: method, path, status, bytes, time

_JSON = b"application/json"
_TEXT = b"text/plain; charset=utf-8"
_OCTETS = b"application/octet-stream"
_REASONS = {status.value: status.phrase.encode() for status in HTTPStatus}

Handler = Callable[[Any], Any]

# The HTTP methods each kind of route takes (as the OpenAPI document, wrappers/proto/openapi.yaml,
# declares them): Seldon's verbs take a body by POST or ?json= by GET; the rest are read by GET.
# "raw" routes are the gRPC front's, on its own Unix socket: it GETs the descriptors, POSTs calls.
_METHODS = {
    "predict": (b"GET", b"POST"),
    "passthrough": (b"GET", b"POST"),
    "message": (b"GET", b"POST"),
    "json": (b"GET", b"POST"),
    "raw": (b"GET", b"POST"),
}
_READ_ONLY = (b"GET",)


def build_routes(service: Microservice, payload_passthrough: bool = False) -> dict[bytes, tuple[str, Handler]]:
    """Path -> (kind, handler). 'message' handlers take a SeldonMessage (decoded lazily), as
    'predict' does, whose answer's status.code, when a raw answer sets one, is the HTTP status
    (as in Seldon); 'passthrough' ones (PAYLOAD_PASSTHROUGH, a model with predict_raw) the body's
    bytes, answering bytes; 'json' ones the parsed body as it is, 'get' ones nothing; 'document'
    ones answer JSON bytes."""
    routes: dict[bytes, tuple[str, Handler]] = {}

    def add(kind: str, handler: Handler, *paths: bytes) -> None:
        for path in paths:
            routes[path] = (kind, handler)

    predictions = (b"/predict", b"/api/v1.0/predictions", b"/api/v0.1/predictions")
    if payload_passthrough and service.has_raw("predict"):
        add("passthrough", service.predict_passthrough, *predictions)
    else:
        add("predict", service.predict, *predictions)
    add("message", service.transform_input, b"/transform-input", b"/api/v1.0/transform-input")
    add("message", service.transform_output, b"/transform-output", b"/api/v1.0/transform-output")
    add("message", service.route, b"/route", b"/api/v1.0/route")
    add("json", service.aggregate, b"/aggregate", b"/api/v1.0/aggregate")
    add("json", functools.partial(_feedback, service), b"/send-feedback", b"/api/v1.0/feedback", b"/api/v0.1/feedback")
    add("get", lambda _: service.health_status(), b"/health/status", b"/api/v1.0/health/status")
    add("get", lambda _: service.model_metadata, b"/metadata", b"/api/v1.0/metadata")
    add("ping", lambda _: "pong", b"/health/ping", b"/ping")
    return routes


def _feedback(service: Microservice, body: Any) -> Any:
    """Seldon answers feedback in protobuf's JSON mapping (empty fields left out), as here."""
    from google.protobuf import json_format

    from .grpc_server import to_proto

    return json_format.MessageToDict(to_proto(service.send_feedback(body)))


def build_bridge_routes(endpoints: Endpoints) -> dict[bytes, tuple[str, Handler]]:
    """The Unix-socket side of the Go gRPC front (wrappers/grpc-front): one path per gRPC method,
    protobuf bytes in, a status byte and protobuf bytes out; and the descriptors it reflects."""
    from . import grpc_server

    table = grpc_server.methods(endpoints)
    routes: dict[bytes, tuple[str, Handler]] = {}
    for method in table:
        routes[b"/grpc" + method.encode()] = ("raw", lambda body, m=method: grpc_server.answer_bytes(table, m, body))
    descriptors = grpc_server.descriptor_set(endpoints)
    routes[b"/grpc-descriptors"] = ("raw", lambda _body: descriptors)
    return routes


class HttpProtocol(asyncio.Protocol):
    __slots__ = (
        "allow", "body", "body_size", "busy", "content_type", "expect_continue",
        "header_puid", "parser", "routes", "server_state", "transport", "url", "v2",
    )  # fmt: skip

    def __init__(
        self, routes: dict[bytes, tuple[str, Handler]], server_state: ServerState, v2_api: OpenInference | None = None
    ):
        self.routes = routes
        self.v2 = v2_api
        self.server_state = server_state
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.busy = False
        self._reset()

    def _reset(self) -> None:
        self.url = b""
        self.body: list[bytes] = []
        self.body_size = 0
        self.content_type = b""
        self.expect_continue = False
        self.allow = b""  # the Allow header of a 405 answer
        self.header_puid = b""  # Seldon-Puid: the request id Seldon's executor sends

    # ---- asyncio callbacks --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server_state.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server_state.connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._send(*_error(400, "protocol upgrades are not supported"), keep_alive=False)
        except httptools.HttpParserError as exc:
            self._send(*_error(400, f"malformed HTTP request: {exc}"), keep_alive=False)

    # ---- httptools callbacks -------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._reset()
        self.busy = True

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"content-type":
            self.content_type = value
        elif name == b"expect" and value.lower() == b"100-continue":
            self.expect_continue = True
        elif name == b"seldon-puid":
            self.header_puid = value

    def on_headers_complete(self) -> None:
        # curl asks before sending a body over 1 KiB; without this answer it waits a second.
        if self.expect_continue and self.transport is not None:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self.body_size += len(body)
        if self.body_size <= self.server_state.max_body_bytes:
            self.body.append(body)

    def on_message_complete(self) -> None:
        state = self.server_state
        started = time.perf_counter() if state.access_log else 0.0
        status, content_type, body = self._dispatch()
        keep_alive = self.parser.should_keep_alive() and not state.closing
        self._send(status, content_type, body, keep_alive=keep_alive)
        if state.access_log:
            method = self.parser.get_method().decode(errors="replace")
            took = (time.perf_counter() - started) * 1000
            access.info("%s %s %d %d %.1fms", method, self.url.decode(errors="replace"), status, len(body), took)
        self.busy = False
        self._reset()
        if state.budget is not None:
            state.budget.spend()

    # ---- request handling --------------------------------------------------------------

    def _dispatch(self) -> tuple[int, bytes, bytes]:
        parsed = httptools.parse_url(self.url)
        if self.v2 is not None and (parsed.path == b"/v2" or parsed.path.startswith(b"/v2/")):
            return self._dispatch_v2(parsed.path)
        route = self.routes.get(parsed.path.rstrip(b"/") or b"/")
        if route is None:
            return _error(404, f"no endpoint {parsed.path.decode(errors='replace')}")
        if self.body_size > self.server_state.max_body_bytes:
            return _error(413, self.server_state.too_large)
        kind, handler = route
        try:
            method = self.parser.get_method()
            if method not in _METHODS.get(kind, _READ_ONLY):
                raise MethodNotAllowed(method.decode(errors="replace"), _allowed(_METHODS.get(kind, _READ_ONLY)))
            if kind == "raw":
                return 200, _OCTETS, handler(b"".join(self.body))
            if kind == "ping":
                return 200, _TEXT, b"pong"
            if kind == "document":
                return 200, _JSON, handler(None)
            if kind == "passthrough":
                return 200, _JSON, handler(b"".join(self.body))
            if kind == "get":
                return 200, _JSON, orjson.dumps(handler(None), option=orjson.OPT_SERIALIZE_NUMPY)
            body = self._message(parsed.query)
            if self.header_puid:
                body = _with_puid(body, self.header_puid.decode(errors="replace"))
            result = handler(body if kind == "json" else JsonIncoming(body))
            status = _status_of(result) if kind == "predict" else 200
            return status, _JSON, orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY)
        except SeldonMicroserviceException as exc:
            self._note_allowed(exc)
            return exc.status_code, _JSON, orjson.dumps(exc.to_dict())
        except Exception as exc:  # a wrapper bug must still answer with Seldon's body
            log.exception("unexpected error serving %s", parsed.path)
            return _error(500, f"{type(exc).__name__}: {exc}", INTERNAL_ERROR)

    def _dispatch_v2(self, path: bytes) -> tuple[int, bytes, bytes]:
        """The Open Inference Protocol's REST side; its errors are {"error": "..."}."""
        from . import v2

        try:
            if self.body_size > self.server_state.max_body_bytes:
                raise SeldonMicroserviceException(self.server_state.too_large, status_code=413)
            status, answer = v2.rest(self.v2, self.parser.get_method(), path.decode(errors="replace"), self._v2_body)
            return status, _JSON, orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY)
        except SeldonMicroserviceException as exc:
            self._note_allowed(exc)
            return exc.status_code, _JSON, orjson.dumps(v2.error_body(exc.message))
        except Exception as exc:  # a wrapper bug still answers the protocol's error body
            log.exception("unexpected error serving %s", path)
            return 500, _JSON, orjson.dumps(v2.error_body(f"{type(exc).__name__}: {exc}"))

    def _note_allowed(self, exc: SeldonMicroserviceException) -> None:
        if isinstance(exc, MethodNotAllowed):
            self.allow = b"Allow: %s\r\n" % ", ".join(exc.allowed).encode()

    def _v2_body(self) -> Any:
        body = b"".join(self.body)
        if not body:
            raise BadRequest("empty request: send an inference request as the JSON body")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"request is not valid JSON: {exc}") from None

    def _message(self, query: bytes | None) -> Any:
        body = b"".join(self.body)
        if body and self.content_type.startswith(b"multipart/form-data"):
            return multipart_message(self.content_type, body)
        if body and self.content_type.startswith(b"application/x-www-form-urlencoded"):
            raw = _form_field(body, "json")
        elif body:
            raw = body
        elif query:
            raw = _form_field(query, "json")
        else:
            raise BadRequest("empty request: send a SeldonMessage as the JSON body, a json= form field or ?json=")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"request is not valid JSON: {exc}") from None

    def _send(self, status: int, content_type: bytes, body: bytes, *, keep_alive: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s%s\r\n" % (
            status,
            _REASONS.get(status, b"Unknown"),
            content_type,
            len(body),
            self.allow,
            b"" if keep_alive else b"Connection: close\r\n",
        )
        self.transport.write(head + body)
        if not keep_alive:
            self.transport.close()

    def close_if_idle(self) -> None:
        if self.transport is not None and not self.busy:
            self.transport.close()


def _with_puid(message: Any, puid: str) -> Any:
    """The message with the Seldon-Puid header's request id as its puid, unless it has one."""
    if isinstance(message, dict):
        meta = message.get("meta")
        if meta is None:
            return {**message, "meta": {"puid": puid}}
        if isinstance(meta, dict) and not meta.get("puid"):
            return {**message, "meta": {**meta, "puid": puid}}
    return message


def _status_of(answer: Any) -> int:
    """The HTTP status an answer asks for in status.code (a raw answer may set it), else 200."""
    status = answer.get("status") if isinstance(answer, dict) else None
    code = status.get("code") if isinstance(status, dict) else None
    if isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599:
        return code
    return 200


def _allowed(methods: tuple[bytes, ...]) -> tuple[str, ...]:
    return tuple(method.decode() for method in methods)


def _error(status: int, message: str, reason: str = BAD_DATA) -> tuple[int, bytes, bytes]:
    return status, _JSON, orjson.dumps(error_body(message, reason))


def _form_field(encoded: bytes, name: str) -> bytes:
    values = parse_qs(encoded.decode("utf-8", errors="replace")).get(name)
    if not values:
        raise BadRequest(f"no {name}= field in the form or query")
    return values[0].encode()


def multipart_message(content_type: bytes, body: bytes) -> dict[str, Any]:
    """A form upload: a `binData` file part, a `strData` part, or a whole message in `json`;
    any other part (meta, say) is read as JSON and set on the message."""
    parsed = BytesParser(policy=email.policy.HTTP).parsebytes(b"Content-Type: " + content_type + b"\r\n\r\n" + body)
    if not parsed.is_multipart():
        raise BadRequest("multipart body without parts (is the boundary right?)")
    message: dict[str, Any] = {}
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True) or b""
        if name == "binData":
            message["binData"] = base64.b64encode(content).decode()
        elif name == "strData":
            message["strData"] = content.decode("utf-8", errors="replace")
        elif name == "json":
            message.update(_json_object(content, "json"))
        elif name:
            try:
                message[str(name)] = orjson.loads(content)
            except orjson.JSONDecodeError:
                raise BadRequest(f"multipart part {name!r} is not JSON") from None
    return message


def _json_object(raw: bytes, where: str) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"{where} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadRequest(f"{where} must be a JSON object")
    return value


class RequestBudget:
    """--max-requests: after this many answered requests (REST and gRPC alike) the worker
    stops, as gracefully as on SIGTERM, and its supervisor starts a fresh one."""

    def __init__(self, limit: int, exhausted: Callable[[], None]):
        self.left = limit
        self.exhausted = exhausted

    def spend(self) -> None:
        self.left -= 1
        if self.left == 0:
            log.info("served --max-requests requests: this worker makes way for a new one")
            self.exhausted()


class ServerState:
    """What graceful shutdown needs to know: the open connections, and that it has begun; and
    the largest body a request may have (a larger one is answered 413, its bytes not kept);
    whether each request is logged, and the budget of requests it counts against."""

    def __init__(
        self,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        setting: str = "REST_MAX_BODY_BYTES",
        *,
        access_log: bool = False,
        budget: RequestBudget | None = None,
    ) -> None:
        self.connections: set[HttpProtocol] = set()
        self.closing = False
        self.max_body_bytes = max_body_bytes
        self.too_large = f"request body over {max_body_bytes} bytes ({setting})"  # the 413's message
        self.access_log = access_log
        self.budget = budget


async def serve(
    endpoints: Endpoints,
    host: str,
    port: int,
    *,
    reuse_port: bool = True,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    access_log: bool = False,
    budget: RequestBudget | None = None,
    payload_passthrough: bool = False,
) -> tuple[asyncio.Server, ServerState]:
    routes = build_routes(endpoints.seldon, payload_passthrough) if endpoints.seldon is not None else {}
    # Built on first use: a model that is never asked for its contract never parses it.
    contract = functools.partial(openapi.document_bytes, endpoints.seldon is not None, endpoints.v2 is not None)
    routes[openapi.PATH] = ("document", functools.cache(lambda _: contract()))
    state = ServerState(max_body_bytes, access_log=access_log, budget=budget)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: HttpProtocol(routes, state, endpoints.v2), host, port, reuse_port=reuse_port, backlog=2048
    )
    return server, state


async def serve_bridge(
    endpoints: Endpoints, sock: socket.socket, max_message_bytes: int, budget: RequestBudget | None = None
) -> tuple[asyncio.Server, ServerState]:
    """Answer the gRPC front on an already bound Unix socket (shared by every worker); the front
    takes no message over max_message_bytes (GRPC_MAX_MESSAGE_BYTES)."""
    routes = build_bridge_routes(endpoints)
    state = ServerState(max_message_bytes, "GRPC_MAX_MESSAGE_BYTES", budget=budget)
    loop = asyncio.get_running_loop()
    server = await loop.create_unix_server(lambda: HttpProtocol(routes, state), sock=sock)
    return server, state


async def shutdown(server: asyncio.Server, state: ServerState, grace: float) -> None:
    """Stop accepting, let requests being received finish, then close the connections.

    A request is answered in the callback that completes it, so a connection is either idle
    (closed at once) or still receiving a request (closed after its answer is sent).
    """
    state.closing = True
    server.close()
    # A request sent while the worker was busy in the model may be unread still: read what has
    # arrived before closing the connections that look idle, or it would be dropped unanswered.
    await asyncio.sleep(0.05)
    for connection in list(state.connections):
        connection.close_if_idle()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while state.connections and loop.time() < deadline:
        await asyncio.sleep(0.05)
        for connection in list(state.connections):
            connection.close_if_idle()
