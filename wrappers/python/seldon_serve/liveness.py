"""Liveness probes answered while a long model call holds the worker's event loop.

A worker calls the model on its event loop (a thread hand-off per request would cost the hot
path more than the call itself for most models), so with one worker a 5 s predict would leave a
kubelet's liveness probe unanswered for 5 s and get a healthy pod restarted. A watcher thread
sees the loop's heartbeat stop and, until it beats again, accepts new connections on the REST
port itself: a liveness path (the handler's `liveness` set: no model involved) is answered from
the thread, and the connection, kept alive if the client asks, goes back to the loop; anything
else is handed to the loop with the bytes already read, to be served in turn. Kubelets open a
new connection for every HTTP probe, so new connections are all it takes.
The thread runs whenever the model releases the GIL or Python switches threads (every 5 ms).
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable

import httptools

from . import http_server

log = logging.getLogger("seldon_serve.rest")

BEAT_SECONDS = 0.05  # how often the loop shows it is free
STALE_SECONDS = 0.1  # a loop silent this long is held by a call: the watcher accepts
READ_SECONDS = 1.0  # how long the watcher waits for a rescued connection's request line and headers


class _Head:
    """httptools' callbacks for a request's start: its method, target and whether it is complete."""

    def __init__(self) -> None:
        self.method = b""
        self.url = b""
        self.has_body = False
        self.complete = False
        self.keep_alive = False
        self.parser = httptools.HttpRequestParser(self)

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.has_body = True

    def on_headers_complete(self) -> None:
        # Read here: the parser forgets the request's keep-alive once the message is complete.
        self.keep_alive = self.parser.should_keep_alive()

    def on_message_complete(self) -> None:
        self.complete = True


class LivenessWatch:
    """Start with start() on the serving loop, after the server listens; stop() on shutdown."""

    def __init__(
        self, server: asyncio.AbstractServer, handler: http_server.Handler, state: http_server.ServerState
    ) -> None:
        self.handler = handler
        self.state = state
        self.server = server
        # Duplicates of the listening sockets: the same queue of connections, owned by the thread.
        self.listeners = [socket.socket(fileno=os.dup(sock.fileno())) for sock in server.sockets]
        for listener in self.listeners:
            listener.setblocking(False)
        self.beat = time.monotonic()
        self.stopped = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._watch, name="liveness", daemon=True)

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._beat()
        self.thread.start()

    def stop(self) -> None:
        """Stop accepting before the server's shutdown: a connection the thread accepted later
        would go to a loop that no longer serves. Waits for the thread (one select, at most)."""
        self.stopped.set()
        self.thread.join(timeout=BEAT_SECONDS + READ_SECONDS)

    def _beat(self) -> None:
        self.beat = time.monotonic()
        if not self.stopped.is_set() and self.loop is not None:
            self.loop.call_later(BEAT_SECONDS, self._beat)

    def _watch(self) -> None:
        while not self.stopped.wait(BEAT_SECONDS):
            while time.monotonic() - self.beat > STALE_SECONDS and not self.stopped.is_set():
                self._accept_while_held()
        for listener in self.listeners:
            listener.close()

    def _accept_while_held(self) -> None:
        readable, _, _ = select.select(self.listeners, [], [], BEAT_SECONDS)
        for listener in readable:
            try:
                connection, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                continue  # the loop took it after all
            except OSError as exc:
                log.warning("liveness watcher: accept failed: %s", exc)
                continue
            self._serve(connection)

    def _serve(self, connection: socket.socket) -> None:
        head, received = _read_head(connection)
        path = httptools.parse_url(head.url).path if head.url else b""
        method = head.method
        probe = head.complete and not head.has_body and method in (b"GET", b"HEAD")
        if not (probe and path in self.handler.liveness):
            self._give_to_loop(connection, received)
            return
        response = self.handler(http_server.Request(method, path, None, {}, b"", ""))
        keep_alive = head.keep_alive and not self.state.closing
        try:
            connection.sendall(http_server.encode(response, head_only=method == b"HEAD", keep_alive=keep_alive))
        except OSError:  # the prober gave up: nothing to answer
            keep_alive = False
        log.debug("answered %s %s while the model computes", method.decode(), path.decode(errors="replace"))
        if not keep_alive:
            connection.close()
            return
        # A request without a body ends at its blank line: what follows is the client's next request.
        self._give_to_loop(connection, received.partition(b"\r\n\r\n")[2])

    def _give_to_loop(self, connection: socket.socket, received: bytes) -> None:
        if self.loop is None or self.loop.is_closed():
            connection.close()
            return
        self.loop.call_soon_threadsafe(self._hand_over, connection, received)

    def _hand_over(self, connection: socket.socket, received: bytes) -> None:
        """On the loop: serve the connection as one it accepted, from the bytes already read on."""

        async def adopt() -> None:
            connection.setblocking(False)
            _, protocol = await self.loop.connect_accepted_socket(  # type: ignore[union-attr]
                lambda: http_server.HttpProtocol(self.handler, self.state), connection
            )
            if received:
                protocol.data_received(received)

        self.loop.create_task(adopt())  # type: ignore[union-attr]


def _read_head(connection: socket.socket) -> tuple[_Head, bytes]:
    """Read until the request is complete (a probe has no body) or READ_SECONDS pass; what was read."""
    head = _Head()
    parser = head.parser
    received = b""
    deadline = time.monotonic() + READ_SECONDS
    while not head.complete and (left := deadline - time.monotonic()) > 0:
        connection.settimeout(left)
        try:
            chunk = connection.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        received += chunk
        try:
            parser.feed_data(chunk)
        except httptools.HttpParserError:
            break  # the loop's parser will answer it 400
        if head.url and not head.method:
            head.method = parser.get_method()
    return head, received


def watching(
    server: asyncio.AbstractServer, handler: http_server.Handler, state: http_server.ServerState
) -> Callable[[], None]:
    """Watch the loop serving `server`; returns what stops the watch."""
    watch = LivenessWatch(server, handler, state)
    watch.start()
    return watch.stop
