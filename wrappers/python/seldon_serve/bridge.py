"""The workers' side of the gRPC front (wrappers/grpc-front), on a Unix socket every worker
shares: long-lived connections carrying many calls each as length-prefixed frames (the layout
is written once, in the front's src/link.rs), answered in the order they arrive with a gRPC status
code and the reply's bytes or an error message (grpc_server.answer_bytes); and, asked by a
frame of its own, the descriptors of the served protos, for the front's server reflection.

Every frame that has arrived is answered before the answers are written, in one write: under
load a worker reads several calls at once and sends their answers together. The calls are
handed to a Bridge, the same http_server.Handler shape REST's router has, so the access log,
tracing and --max-requests treat a gRPC call as they treat a REST request.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import struct
import time
from collections.abc import Callable

import orjson

from .endpoints import Endpoints
from .errors import BAD_DATA, INTERNAL_ERROR, MethodNotAllowed, SeldonMicroserviceException, error_body, http_headers
from .http_server import Handler, Request, Response, ServerState, access

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


def build_bridge_calls(endpoints: Endpoints) -> dict[bytes, Route]:
    """Full method name -> the answer's bytes (a status byte, then the reply or an error
    message) for the request's."""
    from . import grpc_server

    table = grpc_server.methods(endpoints)
    return {method.encode(): functools.partial(grpc_server.answer_bytes, table, method) for method in table}


def build_bridge_routes(endpoints: Endpoints, calls: dict[bytes, Route]) -> dict[bytes, Route]:
    """Path -> the answer's bytes for the request's: /grpc<full method name>, /grpc-descriptors."""
    from . import grpc_server

    routes = {b"/grpc" + method: answer for method, answer in calls.items()}
    descriptors = grpc_server.descriptor_set(endpoints)
    routes[b"/grpc-descriptors"] = lambda _body: descriptors
    return routes


class Bridge:
    """An http_server.Handler for the front's calls. A FrontLink answers a call through
    `calls` directly when nothing else sees the call (no tracing, no access log): the
    Request and Response it would make are then of use to no one."""

    headers: frozenset[bytes] = frozenset()  # it reads no header
    liveness: frozenset[bytes] = frozenset()  # the front answers gRPC health itself

    def __init__(self, endpoints: Endpoints):
        self.calls = build_bridge_calls(endpoints)
        self.routes = build_bridge_routes(endpoints, self.calls)

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


# ---- the link's frames (their layout: wrappers/grpc-front/src/link.rs) -----------------------

_HEAD = struct.Struct(">IIB")  # length (of what follows it), id, kind
_HELLO, _DESCRIBE, _CALL, _ANSWER, _GOODBYE = b"hdcrg"
_DESCRIPTORS_PATH = b"/grpc-descriptors"
_POST = b"POST"
# What a Bridge's HTTP-shaped refusal means as a gRPC status (it answers every call's own
# errors in the status byte; these are the link's).
_INTERNAL = 13
_GRPC_CODE_OF = {404: 12, 405: 12, 413: 8}  # UNIMPLEMENTED, RESOURCE_EXHAUSTED; else INTERNAL


def _frame(ident: int, kind: int, payload: bytes) -> bytes:
    return _HEAD.pack(len(payload) + 5, ident, kind) + payload


class FrontLink(asyncio.Protocol):
    """One connection from the front: calls in, answers out, in frames."""

    def __init__(self, handler: Handler, state: ServerState):
        self.handler = handler
        self.state = state
        self.transport: asyncio.Transport | None = None
        self.pending = bytearray()  # the start of a frame still arriving
        self.said_goodbye = False
        # Bytes a frame may have: a message of GRPC_MAX_MESSAGE_BYTES and its method and headers.
        self.max_frame = state.max_body_bytes + 70_000
        self.direct_calls = handler.calls if type(handler) is Bridge and not state.access_log else {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.state.connections.add(self)
        self.transport.write(_frame(0, _HELLO, os.getpid().to_bytes(4, "big")))
        if self.state.closing:
            self.close_if_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        if self.pending:
            self.pending += data
            data = self.pending  # type: ignore[assignment]
        answers, used, size = [], 0, len(data)
        while size - used >= 9:
            length, ident, kind = _HEAD.unpack_from(data, used)
            if length > self.max_frame:
                return self._broken(f"a frame of {length} bytes")
            end = used + 4 + length
            if end > size:
                break
            if kind == _CALL:
                answers.append(self._call(ident, data, used + 9, end))
            elif kind == _DESCRIBE:
                answers.append(self._describe(ident))
            else:
                return self._broken(f"unexpected frame {chr(kind)!r}")
            used = end
        self.pending = bytearray(data[used:]) if used < size else bytearray()
        if answers and self.transport is not None:
            self.transport.write(b"".join(answers))

    def _call(self, ident: int, data: bytes, at: int, end: int) -> bytes:
        started = time.perf_counter() if self.state.access_log else 0.0
        method_end = at + 1 + data[at]
        method = bytes(data[at + 1 : method_end])
        headers: dict[bytes, bytes] = {}
        at, count = method_end + 1, data[method_end]
        for _ in range(count):
            name_end = at + 1 + data[at]
            value_at = name_end + 2
            value_end = value_at + int.from_bytes(data[name_end:value_at], "big")
            headers[bytes(data[at + 1 : name_end])] = bytes(data[value_at:value_end])
            at = value_end
        answer = self.direct_calls.get(method)
        if answer is not None:
            return self._answer_directly(ident, method, answer, bytes(data[at:end]))
        request = Request(_POST, b"/grpc" + method, None, headers, bytes(data[at:end]), "")
        return self._answer(ident, request, started)

    def _answer_directly(self, ident: int, method: bytes, answer: Route, body: bytes) -> bytes:
        try:
            payload = answer(body)
        except Exception as exc:  # answer_bytes answers every call's errors; this would be a bug
            log.exception("unexpected error serving %s", method.decode(errors="replace"))
            payload = bytes([_INTERNAL]) + f"{type(exc).__name__}: {exc}".encode()
        if self.state.on_answered is not None:
            self.state.on_answered()
        return _frame(ident, _ANSWER, payload)

    def _describe(self, ident: int) -> bytes:
        response = self.handler(Request(b"GET", _DESCRIPTORS_PATH, None, {}, b"", ""))
        return _frame(ident, _ANSWER, b"\x00" + response.body)

    def _answer(self, ident: int, request: Request, started: float) -> bytes:
        response = self.handler(request)
        if self.state.access_log:
            self._log_access(request, response, (time.perf_counter() - started) * 1000)
        if self.state.on_answered is not None:
            self.state.on_answered()
        if response.status == 200:
            return _frame(ident, _ANSWER, response.body)
        code = _GRPC_CODE_OF.get(response.status, _INTERNAL)
        return _frame(ident, _ANSWER, bytes([code]) + _info(response.body).encode())

    def _log_access(self, request: Request, response: Response, took: float) -> None:
        level, fields = self.handler.describe(request.method, request.path, response)
        if access.isEnabledFor(level):
            fields = {**fields, "bytes": len(response.body), "latency_ms": round(took, 3)}
            method = request.path[len(b"/grpc") :].decode(errors="replace")
            access.log(level, "gRPC %s %s %d %.1fms", method, fields["status"], len(response.body), took, extra=fields)

    def _broken(self, why: str) -> None:
        log.error("the gRPC front's connection is broken (%s): closing it", why)
        if self.transport is not None:
            self.transport.close()

    def close_if_idle(self) -> None:
        """Stopping: tell the front to send no more calls here; it closes the connection once
        the calls it has sent are answered (each frame that arrives still is)."""
        if not self.said_goodbye and self.transport is not None:
            self.said_goodbye = True
            self.transport.write(_frame(0, _GOODBYE, b""))


def _info(body: bytes) -> str:
    """The message of a Seldon status body."""
    try:
        return str(orjson.loads(body)["status"]["info"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return body.decode(errors="replace")


async def serve_link(handler: Handler, sock: socket.socket, state: ServerState) -> asyncio.Server:
    """Serve the front on an already bound Unix socket (one every worker shares)."""
    loop = asyncio.get_running_loop()
    return await loop.create_unix_server(lambda: FrontLink(handler, state), sock=sock)
