"""The workers' side of the Go gRPC front (wrappers/grpc-front), on a Unix socket every worker
shares: one path per gRPC method, POSTed the request's protobuf bytes and answering a gRPC status
byte, then the reply's bytes or an error message (grpc_server.answer_bytes); and, by GET, the
descriptors of the served protos, for the front's server reflection.

Neither REST nor Seldon's routing: the front speaks HTTP/1.1 to the workers because
http_server already serves it, so a worker has one transport to run. Its own errors (no such
path, a body over GRPC_MAX_MESSAGE_BYTES) answer Seldon's status body, as REST's do.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import orjson

from .endpoints import Endpoints
from .errors import BAD_DATA, INTERNAL_ERROR, MethodNotAllowed, SeldonMicroserviceException, error_body, http_headers
from .http_server import Request, Response

# REST's logger, which these lines had before the bridge left rest.py.
log = logging.getLogger("seldon_serve.rest")

_OCTETS = b"application/octet-stream"
_JSON = b"application/json"
_METHODS = (b"GET", b"POST")  # the front GETs the descriptors and POSTs the calls

Route = Callable[[bytes], bytes]


@functools.cache
def _status_names() -> dict[int, str]:
    """gRPC status code -> its name (OK, INVALID_ARGUMENT, ...)."""
    import grpc

    return {code.value[0]: code.name for code in grpc.StatusCode}


def build_bridge_routes(endpoints: Endpoints) -> dict[bytes, Route]:
    """Path -> the answer's bytes for the request's: /grpc<full method name>, /grpc-descriptors."""
    from . import grpc_server

    table = grpc_server.methods(endpoints)
    routes: dict[bytes, Route] = {}
    for method in table:
        routes[b"/grpc" + method.encode()] = lambda body, m=method: grpc_server.answer_bytes(table, m, body)
    descriptors = grpc_server.descriptor_set(endpoints)
    routes[b"/grpc-descriptors"] = lambda _body: descriptors
    return routes


class Bridge:
    """An http_server.Handler for the front's calls."""

    headers: frozenset[bytes] = frozenset()  # it reads no header
    liveness: frozenset[bytes] = frozenset()  # the front answers gRPC health itself

    def __init__(self, endpoints: Endpoints):
        self.routes = build_bridge_routes(endpoints)

    def error(self, status: int, message: str, path: bytes = b"") -> Response:
        return _error(status, message)

    def describe(self, method: bytes, url: bytes, response: Response) -> tuple[int, dict[str, object]]:
        """A gRPC call by its method and gRPC status (the answer's first byte); the front's
        fetch of the descriptors at DEBUG."""
        if not url.startswith(b"/grpc/"):
            return logging.DEBUG, {"method": method.decode(errors="replace"), "path": url.decode(errors="replace")}
        code = response.body[0] if response.status == 200 and response.body else None
        status = _status_names().get(code, "UNKNOWN") if code is not None else response.status
        return logging.INFO, {"grpc_method": url[len(b"/grpc") :].decode(errors="replace"), "status": status}

    def __call__(self, request: Request) -> Response:
        route = self.routes.get(request.path.rstrip(b"/") or b"/")
        if route is None:
            return _error(404, f"no endpoint {request.path.decode(errors='replace')}")
        if request.too_large:
            return _error(413, request.too_large)
        try:
            if request.method not in _METHODS:
                raise MethodNotAllowed(request.method.decode(errors="replace"), ("GET", "POST"))
            return Response(200, _OCTETS, route(request.body))
        except SeldonMicroserviceException as exc:
            return Response(exc.status_code, _JSON, orjson.dumps(exc.to_dict()), http_headers(exc))
        except Exception as exc:  # answer_bytes answers every call's errors; this would be a bug
            log.exception("unexpected error serving %s", request.path)
            return _error(500, f"{type(exc).__name__}: {exc}", INTERNAL_ERROR)


def _error(status: int, message: str, reason: str = BAD_DATA) -> Response:
    return Response(status, _JSON, orjson.dumps(error_body(message, reason)))
