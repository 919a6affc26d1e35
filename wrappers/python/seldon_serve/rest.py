"""The Seldon protocol's REST API: which path calls which verb, and how a request's body
becomes the verb's message (a JSON body, a json= form field, ?json=, a multipart upload, the
Seldon-Puid header). Paths under /v2 go to the Open Inference Protocol's router.

It knows no sockets: http_server hands it a Request and writes the Response it returns. Errors
answer Seldon's status body (errors.error_body); /v2's answer {"error": ...}.
"""

from __future__ import annotations

import base64
import email.policy
import functools
import logging
from collections.abc import Callable
from email.parser import BytesParser
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson

from . import model_error_handlers, openapi
from .endpoints import Endpoints
from .errors import (
    BAD_DATA,
    INTERNAL_ERROR,
    BadRequest,
    MethodNotAllowed,
    SeldonMicroserviceException,
    UserCodeError,
    error_body,
    http_headers,
)
from .http_server import Request, Response
from .microservice import Microservice
from .payload import JsonIncoming
from .v2 import rest as v2_rest

if TYPE_CHECKING:
    from .model_error_handlers import ModelErrorHandlers
    from .v2 import OpenInference

log = logging.getLogger(__name__)

_JSON = b"application/json"
_TEXT = b"text/plain; charset=utf-8"
# The paths a kubelet (or a load balancer) asks of every unit: the access log leaves them to DEBUG.
_PROBES = frozenset((b"/health/ping", b"/ping", b"/health/status", b"/api/v1.0/health/status"))
# Those that say only that the server lives, the model untouched (see liveness.py).
_LIVENESS = frozenset((b"/health/ping", b"/ping"))
_V2_LIVENESS = b"/v2/health/live"

RouteHandler = Callable[[Any], Any]  # what a path calls (see build_routes)
Routes = dict[bytes, tuple[str, RouteHandler]]

# The HTTP methods each kind of route takes (as the OpenAPI document, wrappers/proto/openapi.yaml,
# declares them): Seldon's verbs take a body by POST or ?json= by GET; the rest are read by GET.
_METHODS = {
    "predict": (b"GET", b"POST"),
    "passthrough": (b"GET", b"POST"),
    "message": (b"GET", b"POST"),
    "json": (b"GET", b"POST"),
}
_READ_ONLY = (b"GET",)


def build_routes(service: Microservice, payload_passthrough: bool = False) -> Routes:
    """Path -> (kind, handler). 'message' handlers take a SeldonMessage (decoded lazily), as
    'predict' does, whose answer's status.code, when a raw answer sets one, is the HTTP status
    (as in Seldon); 'passthrough' ones (PAYLOAD_PASSTHROUGH, a model with predict_raw) the body's
    bytes, answering bytes; 'json' ones the parsed body as it is, 'get' ones nothing; 'document'
    ones answer JSON bytes."""
    routes: Routes = {}

    def add(kind: str, handler: RouteHandler, *paths: bytes) -> None:
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


def router(endpoints: Endpoints, payload_passthrough: bool = False) -> Router:
    """The REST side of what a worker serves: Seldon's routes when it serves the Seldon
    protocol, /v2 when it serves the Open Inference Protocol, the contract document always."""
    routes = build_routes(endpoints.seldon, payload_passthrough) if endpoints.seldon is not None else {}
    # Built on first use: a model that is never asked for its contract never parses it.
    contract = functools.partial(openapi.document_bytes, endpoints.seldon is not None, endpoints.v2 is not None)
    routes[openapi.PATH] = ("document", functools.cache(lambda _: contract()))
    handlers = model_error_handlers.of_model(endpoints.seldon.user) if endpoints.seldon is not None else None
    return Router(routes, endpoints.v2, handlers)


def _feedback(service: Microservice, body: Any) -> Any:
    """Seldon answers feedback in protobuf's JSON mapping (empty fields left out), as here."""
    from google.protobuf import json_format

    from .grpc_server import to_proto

    return json_format.MessageToDict(to_proto(service.send_feedback(body)))


class Router:
    """An http_server.Handler: a request to its route's verb, the verb's answer to a Response."""

    # Seldon-Puid: the id Seldon's executor sends; the header of /v2's binary tensor extension
    headers = frozenset((b"content-type", b"seldon-puid", v2_rest.BINARY_HEADER))

    def __init__(
        self, routes: Routes, v2_api: OpenInference | None = None, error_handlers: ModelErrorHandlers | None = None
    ):
        self.routes = routes
        self.v2 = v2_api
        self.error_handlers = error_handlers  # the model's own, for its exceptions (Seldon's model_error_handler)
        self.liveness = frozenset(_LIVENESS & routes.keys()) | ({_V2_LIVENESS} if v2_api is not None else set())

    def error(self, status: int, message: str, path: bytes = b"") -> Response:
        if self.v2 is not None and _under_v2(path):
            return Response(status, _JSON, orjson.dumps(v2_rest.error_body(message)))
        return _error(status, message)

    def describe(self, method: bytes, url: bytes, response: Response) -> tuple[int, dict[str, object]]:
        """Probes are logged at DEBUG only: a kubelet asks every few seconds."""
        path = url.partition(b"?")[0]
        level = logging.DEBUG if path.rstrip(b"/") in _PROBES or path.startswith(b"/v2/health/") else logging.INFO
        fields = {"method": method.decode(errors="replace"), "path": url.decode(errors="replace")}
        return level, {**fields, "status": response.status}

    def __call__(self, request: Request) -> Response:
        path = request.path
        if self.v2 is not None and _under_v2(path):
            return v2_rest.handle(self.v2, request)
        route = self.routes.get(path.rstrip(b"/") or b"/")
        if route is None:
            return _error(404, f"no endpoint {path.decode(errors='replace')}")
        if request.too_large:
            return _error(413, request.too_large)
        try:
            return _answer(*route, request)
        except SeldonMicroserviceException as exc:
            if isinstance(exc, UserCodeError) and self.error_handlers is not None and exc.__cause__ is not None:
                chosen = self.error_handlers.response(exc.__cause__)
                if chosen is not None:
                    return chosen
            return Response(exc.status_code, _JSON, orjson.dumps(exc.to_dict()), http_headers(exc))
        except Exception as exc:  # a wrapper bug must still answer with Seldon's body
            log.exception("unexpected error serving %s", path)
            return _error(500, f"{type(exc).__name__}: {exc}", INTERNAL_ERROR)


def _under_v2(path: bytes) -> bool:
    return path == b"/v2" or path.startswith(b"/v2/")


def _answer(kind: str, handler: RouteHandler, request: Request) -> Response:
    allowed = _METHODS.get(kind, _READ_ONLY)
    # HEAD is answered as GET without the body (http_server drops it), as Flask does for Seldon.
    if (b"GET" if request.method == b"HEAD" else request.method) not in allowed:
        raise MethodNotAllowed(request.method.decode(errors="replace"), tuple(m.decode() for m in allowed))
    if kind == "ping":
        return Response(200, _TEXT, b"pong")
    if kind == "document":
        return Response(200, _JSON, handler(None))
    if kind == "passthrough":
        return Response(200, _JSON, handler(request.body))
    if kind == "get":
        return Response(200, _JSON, orjson.dumps(handler(None), option=orjson.OPT_SERIALIZE_NUMPY))
    message = _message(request)
    puid = request.headers.get(b"seldon-puid")
    if puid:
        message = _with_puid(message, puid.decode(errors="replace"))
    result = handler(message if kind == "json" else JsonIncoming(message))
    status = _status_of(result) if kind == "predict" else 200
    return Response(status, _JSON, orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY))


def _message(request: Request) -> Any:
    """The request's message: its JSON body, a form's or the query's json= field, or a form upload."""
    body, content_type = request.body, request.headers.get(b"content-type", b"")
    if body and content_type.startswith(b"multipart/form-data"):
        return multipart_message(content_type, body)
    if body and content_type.startswith(b"application/x-www-form-urlencoded"):
        raw = _form_field(body, "json")
    elif body:
        raw = body
    elif request.query:
        raw = _form_field(request.query, "json")
    else:
        raise BadRequest("empty request: send a SeldonMessage as the JSON body, a json= form field or ?json=")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request is not valid JSON: {exc}") from None


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


def _error(status: int, message: str, reason: str = BAD_DATA) -> Response:
    return Response(status, _JSON, orjson.dumps(error_body(message, reason)))


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
