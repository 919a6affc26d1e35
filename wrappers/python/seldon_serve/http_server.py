"""HTTP/1.1 on asyncio + httptools, knowing nothing of what it serves.

A serving wrapper spends most of its time in framework code, so there is no framework: the
parser calls back into a protocol object per connection, and each complete request becomes a
Request handed to the one Handler the server was given, whose Response is written back.
Requests on one connection are answered in order, so pipelined requests need no queue.

The transport keeps connections alive as HTTP/1.1 asks and closes one idle for longer than
HTTP_KEEPALIVE_SECONDS, answers `Expect: 100-continue`, keeps no body over its limit (the handler
is told, and words the 413 as its protocol does), answers 414 and 431 to a request target or
headers over theirs and 503 on a connection past HTTP_MAX_CONNECTIONS, writes no body in answer
to HEAD, counts answered requests for --max-requests, and closes connections gracefully on
shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import NamedTuple, Protocol

import httptools

from . import content_coding

# The names this server's lines have always been logged under (it was rest.py's), kept so that
# a log filter on them still matches; the access log is its own logger (--access-log).
log = logging.getLogger("seldon_serve.rest")
access = logging.getLogger("seldon_serve.access")  # --access-log: method, path, status, bytes, time

_REASONS = {status.value: status.phrase.encode() for status in HTTPStatus}
# Read whatever the handler reads: the server itself undoes and applies content codings.
_CODING_HEADERS = frozenset((b"content-encoding", b"accept-encoding"))

Headers = tuple[tuple[bytes, bytes], ...]


class Request:
    """One complete request, as a handler sees it."""

    __slots__ = ("body", "headers", "method", "path", "query", "too_large")

    def __init__(
        self, method: bytes, path: bytes, query: bytes | None, headers: dict[bytes, bytes], body: bytes, too_large: str
    ) -> None:
        self.method = method
        self.path = path
        self.query = query  # after "?", undecoded; None without one
        self.headers = headers  # only those the handler asked for (Handler.headers), by lower-case name
        self.body = body
        # Why the body was not kept (it was over the limit), to be answered 413; "" when it was kept.
        self.too_large = too_large


class Response(NamedTuple):
    status: int
    content_type: bytes
    body: bytes
    headers: Headers = ()  # more header lines, after Content-Length: (name, value) pairs


class Handler(Protocol):
    """What the server serves: it answers each request, and words the errors the server finds
    before there is a request to hand over (a malformed one, one over a limit; its path when
    known, as a protocol may word errors by path)."""

    headers: frozenset[bytes]  # the request headers it reads, lower case; others are not kept
    # Paths answered without the model, from any thread (liveness.py answers them while a call
    # holds the loop).
    liveness: frozenset[bytes]

    def __call__(self, request: Request) -> Response: ...

    def error(self, status: int, message: str, path: bytes = b"") -> Response: ...

    def describe(self, method: bytes, url: bytes, response: Response) -> tuple[int, dict[str, object]]:
        """How the access log shows an answered request: its level and fields (logs.REQUEST_FIELDS)."""
        ...


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


class Limits(NamedTuple):
    """What a client may ask of the REST port (the contract's HTTP_* settings). The gRPC front's
    connections to the workers have none: it holds its own."""

    keepalive_seconds: float = 0  # an idle connection is closed after this long; 0: never
    max_connections: int = 1 << 30
    max_url_bytes: int = 1 << 30
    max_header_bytes: int = 1 << 30


UNLIMITED = Limits()


class Connection(Protocol):
    """What shutdown() needs of a connection: to be closed, or told to finish, when idle."""

    def close_if_idle(self) -> None: ...


class ServerState:
    """What graceful shutdown needs to know: the open connections, and that it has begun; and
    the largest body a request may have (a larger one is not kept, and the handler answers it
    413 with too_large's message, naming the setting), the other limits, the smallest answer
    compressed for a client that accepts it (0: none), whether each request is logged, and
    what to call after each answer (a RequestBudget's spend)."""

    def __init__(
        self,
        max_body_bytes: int,
        setting: str,
        *,
        limits: Limits = UNLIMITED,
        compress_min_bytes: int = 0,
        access_log: bool = False,
        on_answered: Callable[[], None] | None = None,
    ) -> None:
        self.connections: set[Connection] = set()  # HttpProtocol, or the gRPC front's (bridge)
        self.closing = False
        self.max_body_bytes = max_body_bytes
        self.too_large = f"request body over {max_body_bytes} bytes ({setting})"
        self.body_setting = setting
        self.limits = limits
        self.compress_min_bytes = compress_min_bytes
        self.idle_watch: asyncio.Task[None] | None = None  # watch_idle, when keep-alive is limited
        self.access_log = access_log
        self.on_answered = on_answered


class _Refused(Exception):
    """Raised from a parser callback: the request is answered `status` without being read further."""


# After a refusal the connection is half-closed and what the client still sends is read and
# dropped for this long before closing: closing with unread bytes would reset the connection,
# and a reset can destroy the answer before the client reads it.
LINGER_SECONDS = 1.0


class HttpProtocol(asyncio.Protocol):
    """One connection: httptools' callbacks gather a request, on_message_complete answers it."""

    __slots__ = (
        "body", "body_size", "busy", "expect_continue", "handler", "header_budget", "headers", "idle_ticks",
        "kept_headers", "lingering", "max_url_bytes", "method", "over_capacity", "parser", "refusal", "state",
        "transport", "url",
    )  # fmt: skip

    def __init__(self, handler: Handler, state: ServerState):
        self.handler = handler
        self.state = state
        self.kept_headers = handler.headers | _CODING_HEADERS
        self.max_url_bytes = state.limits.max_url_bytes  # kept here: read on every request
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.busy = False
        self.idle_ticks = 0  # sweeps (watch_idle) since bytes last arrived
        self.over_capacity = False
        self.lingering = False
        self.refusal: Response | None = None
        self._reset()

    def _reset(self) -> None:
        self.method = b""
        self.url = b""
        self.headers: dict[bytes, bytes] = {}
        self.header_budget = self.state.limits.max_header_bytes  # bytes of header lines still allowed
        self.body: list[bytes] = []
        self.body_size = 0
        self.expect_continue = False

    # ---- asyncio callbacks --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        # Past the cap, the request is read (its body no further than a kept one) and answered 503.
        self.over_capacity = len(self.state.connections) >= self.state.limits.max_connections
        self.state.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.idle_ticks = 0
        if self.lingering:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # The request asking to upgrade was answered as HTTP/1.1 (its Upgrade ignored, as RFC
            # 9110 allows); what follows on the connection is another protocol's: close it.
            if self.transport is not None:
                self.transport.close()
        except httptools.HttpParserError as exc:  # also an exception a callback (the handler) raised
            if self.refusal is not None:
                self._refuse(self.refusal)
            else:
                self._send(self.handler.error(400, f"malformed HTTP request: {exc}"), keep_alive=False)

    # ---- httptools callbacks -------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._reset()
        self.busy = True

    def on_url(self, url: bytes) -> None:
        if not self.url:  # the method is parsed before the URL; known now, a HEAD gets no body
            self.method = self.parser.get_method()
        self.url += url
        if len(self.url) > self.max_url_bytes:
            raise self._refusing(414, f"request target over {self.max_url_bytes} bytes (HTTP_MAX_URL_BYTES)")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_budget -= len(name) + len(value)
        if self.header_budget < 0:
            limit = self.state.limits.max_header_bytes
            raise self._refusing(431, f"request header lines over {limit} bytes (HTTP_MAX_HEADER_BYTES)")
        name = name.lower()
        if name in self.kept_headers:
            self.headers[name] = value
        elif name == b"expect" and value.lower() == b"100-continue":
            self.expect_continue = True

    def on_headers_complete(self) -> None:
        # curl asks before sending a body over 1 KiB; without this answer it waits a second.
        if self.expect_continue and self.transport is not None:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self.body_size += len(body)
        if self.body_size <= self.state.max_body_bytes:
            self.body.append(body)
        elif self.body:
            self.body.clear()  # over the limit: what was kept is of no use

    def on_message_complete(self) -> None:
        state = self.state
        if self.over_capacity:
            limit = state.limits.max_connections
            raise self._refusing(503, f"over {limit} connections at once (HTTP_MAX_CONNECTIONS): try again")
        started = time.perf_counter() if state.access_log else 0.0
        response = self._answer()
        keep_alive = self.parser.should_keep_alive() and not state.closing
        self._send(response, keep_alive=keep_alive)
        if state.access_log:
            self._log_access(response, (time.perf_counter() - started) * 1000)
        self.busy = False
        self._reset()
        if state.on_answered is not None:
            state.on_answered()

    def _log_access(self, response: Response, took: float) -> None:
        """A request's line, at the level and with the fields its handler describes it by."""
        level, fields = self.handler.describe(self.method, self.url, response)
        if not access.isEnabledFor(level):
            return
        method, url = self.method.decode(errors="replace"), self.url.decode(errors="replace")
        sent = 0 if self.method == b"HEAD" else len(response.body)
        fields = {**fields, "bytes": sent, "latency_ms": round(took, 3)}
        if puid := self.headers.get(b"seldon-puid"):
            fields["puid"] = puid.decode(errors="replace")
        access.log(level, "%s %s %d %d %.1fms", method, url, response.status, sent, took, extra=fields)

    # ---- answering --------------------------------------------------------------------------

    def _answer(self) -> Response:
        """The handler's answer to the request, its body decoded and the answer compressed as
        the request's Content-Encoding and Accept-Encoding say."""
        state, headers = self.state, self.headers
        parsed = httptools.parse_url(self.url)
        body = b"".join(self.body)
        too_large = state.too_large if self.body_size > state.max_body_bytes else ""
        coding = headers.get(b"content-encoding")
        if coding is not None and body:
            try:
                body = content_coding.decode(coding, body, state.max_body_bytes, state.body_setting)
            except content_coding.CodingError as exc:
                return self.handler.error(exc.status, str(exc), parsed.path)
        response = self.handler(Request(self.method, parsed.path, parsed.query, headers, body, too_large))
        accept = headers.get(b"accept-encoding")
        if accept is not None and state.compress_min_bytes and len(response.body) >= state.compress_min_bytes:
            return _compressed(response, accept)
        return response

    def _send(self, response: Response, *, keep_alive: bool, linger: bool = False) -> None:
        """Write the answer; without keep-alive, close the connection (after LINGER_SECONDS of
        reading and dropping what still comes, with linger)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(encode(response, head_only=self.method == b"HEAD", keep_alive=keep_alive))
        if keep_alive:
            return
        if not linger:
            transport.close()
            return
        self.lingering = True
        if transport.can_write_eof():
            transport.write_eof()
        asyncio.get_running_loop().call_later(LINGER_SECONDS, transport.close)

    def _refusing(self, status: int, message: str) -> _Refused:
        """The exception a callback raises to stop reading a request it answers `status`."""
        self.refusal = self.handler.error(status, message, self.url.partition(b"?")[0])
        return _Refused(message)

    def _refuse(self, response: Response) -> None:
        """Answer, stop writing, and read and drop what still comes for a while (LINGER_SECONDS)."""
        if self.transport is None or self.transport.is_closing():
            return
        log.warning("refused a request (%d): %s", response.status, _message_of(response))
        self._send(response, keep_alive=False, linger=True)

    def close_if_idle(self) -> None:
        if self.transport is not None and not self.busy:
            self.transport.close()

    def sweep(self, idle_ticks_allowed: int) -> None:
        """Called every tick of watch_idle: close the connection if nothing arrived for too long;
        a request it was still receiving is answered 408."""
        self.idle_ticks += 1
        if self.idle_ticks <= idle_ticks_allowed or self.transport is None or self.lingering:
            return
        if self.busy:
            seconds = self.state.limits.keepalive_seconds
            message = f"no bytes of the request for {seconds:g} s (HTTP_KEEPALIVE_SECONDS)"
            self._refuse(self.handler.error(408, message, self.url.partition(b"?")[0]))
        else:
            self.transport.close()


def encode(response: Response, *, head_only: bool, keep_alive: bool) -> bytes:
    """The answer's bytes on the wire; to HEAD (head_only), the headers GET would have,
    Content-Length included, and no body."""
    status, content_type, body, headers = response
    head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s%s\r\n" % (
        status,
        _REASONS.get(status, b"Unknown"),
        content_type,
        len(body),
        b"".join(b"%s: %s\r\n" % header for header in headers) if headers else b"",
        b"" if keep_alive else b"Connection: close\r\n",
    )
    return head if head_only else head + body


def _compressed(response: Response, accept_encoding: bytes) -> Response:
    coding = content_coding.accepted(accept_encoding)
    if coding is None:
        return response
    body, coding_headers = content_coding.compress(response.body, coding)
    return response._replace(body=body, headers=(*response.headers, *coding_headers))


def _message_of(response: Response) -> str:
    return response.body.decode(errors="replace")[:200]


async def serve(
    handler: Handler, host: str, port: int, state: ServerState, *, reuse_port: bool = True
) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: HttpProtocol(handler, state), host, port, reuse_port=reuse_port, backlog=2048
    )
    if state.limits.keepalive_seconds > 0:
        state.idle_watch = loop.create_task(watch_idle(state))
    return server


async def watch_idle(state: ServerState) -> None:
    """HTTP_KEEPALIVE_SECONDS: sweep the connections a few times a keep-alive period. A request
    costs the sweep one attribute store (data_received); a connection closes between the
    setting and a tick past it."""
    tick = min(1.0, state.limits.keepalive_seconds / 4)
    allowed = round(state.limits.keepalive_seconds / tick)
    while True:
        await asyncio.sleep(tick)
        for connection in list(state.connections):
            if isinstance(connection, HttpProtocol):
                connection.sweep(allowed)


async def shutdown(server: asyncio.Server, state: ServerState, grace: float) -> None:
    """Stop accepting, let requests being received finish, then close the connections.

    A request is answered in the callback that completes it, so a connection is either idle
    (closed at once) or still receiving a request (closed after its answer is sent).
    """
    state.closing = True
    server.close()
    if state.idle_watch is not None:
        state.idle_watch.cancel()
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
