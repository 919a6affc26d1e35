"""The Open Inference Protocol's REST paths (/v2/...), answered from the dataplane.

route() is the routing itself, a path to an answer; handle() serves a Request from http_server
(the Seldon router hands over every path under /v2), every error as the protocol's
{"error": "..."} body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson

from ..errors import BadRequest, MethodNotAllowed, SeldonMicroserviceException, http_headers
from ..http_server import Request, Response
from . import binary
from .dataplane import NotFound, OpenInference

# REST's logger, whichever protocol's path failed (these lines were logged under it before v2
# became a package).
log = logging.getLogger("seldon_serve.rest")

_JSON = b"application/json"
_OCTETS = b"application/octet-stream"
BINARY_HEADER = binary.HEADER  # the request header this protocol reads

RestAnswer = tuple[int, Any]


def handle(api: OpenInference, request: Request) -> Response:
    """One /v2 request as http_server gives it; a body over the limit is a 413, whatever the path."""
    try:
        if request.too_large:
            raise SeldonMicroserviceException(request.too_large, status_code=413)
        path = request.path.decode(errors="replace")
        status, answer = route(api, request.method, path, lambda: _body(request))
        if isinstance(answer, binary.WithBinary):
            body, headers = answer.encode()
            return Response(status, _OCTETS, body, headers)
        return Response(status, _JSON, orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY))
    except SeldonMicroserviceException as exc:
        return Response(exc.status_code, _JSON, orjson.dumps(error_body(exc.message)), http_headers(exc))
    except Exception as exc:  # a wrapper bug still answers the protocol's error body
        log.exception("unexpected error serving %s", request.path)
        return Response(500, _JSON, orjson.dumps(error_body(f"{type(exc).__name__}: {exc}")))


def _body(request: Request) -> binary.Body:
    """The request's JSON, and its binary part when it uses the binary tensor extension."""
    if not request.body:
        raise BadRequest("empty request: send an inference request as the JSON body")
    header = request.headers.get(binary.HEADER)
    if header is not None:
        return binary.split(request.body, header)
    try:
        return binary.Body(orjson.loads(request.body), None)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request is not valid JSON: {exc}") from None


def route(api: OpenInference, method: bytes, path: str, body: Callable[[], Any]) -> RestAnswer:
    """Answer one /v2 request: (HTTP status, JSON body). body() parses the request body."""
    parts = [part for part in path.split("/") if part][1:]  # after "v2"
    if not parts:
        return _get(method, api.server_metadata)
    if parts[0] == "health" and len(parts) == 2 and parts[1] in ("live", "ready"):
        ready = parts[1] == "live" or api.ready()
        return _get(method, lambda: {parts[1]: ready}, 200 if ready else 503)
    if parts[0] != "models" or len(parts) < 2:
        raise NotFound(f"no endpoint {path}")
    name, rest_of_path, version = parts[1], parts[2:], None
    if rest_of_path[:1] == ["versions"] and len(rest_of_path) >= 2:
        version, rest_of_path = rest_of_path[1], rest_of_path[2:]
    if not rest_of_path:
        return _get(method, lambda: api.model_metadata(name, version))
    if rest_of_path == ["ready"]:
        api.check_model(name, version)
        ready = api.ready()
        return _get(method, lambda: {"name": name, "ready": ready}, 200 if ready else 503)
    # route and aggregate: the paths Seldon Core 1's executor calls on a router and a combiner
    # in a `protocol: v2` graph (Seldon's extensions, not the protocol's).
    answers = {"infer": api.infer_json, "route": api.route_json, "aggregate": api.aggregate_json}
    if len(rest_of_path) == 1 and rest_of_path[0] in answers:
        if method != b"POST":
            raise MethodNotAllowed(method.decode(errors="replace"), ("POST",))
        api.check_model(name, version)
        return 200, answers[rest_of_path[0]](name, version, body())
    raise NotFound(f"no endpoint {path}")


def _get(method: bytes, answer: Callable[[], Any], status: int = 200) -> RestAnswer:
    if method not in (b"GET", b"HEAD"):
        raise MethodNotAllowed(method.decode(errors="replace"), ("GET", "HEAD"))
    return status, answer()


def error_body(message: str) -> dict[str, str]:
    return {"error": message}
