"""The python wrapper's HTTP/1.1 transport (seldon_serve.http_server) fed bytes, and the Seldon
REST router (seldon_serve.rest) handed requests without a socket."""

from __future__ import annotations

import asyncio
import gzip
import logging
import socket
import threading
import time
import zlib
from typing import Any

import orjson
import pytest
import uvloop

from seldon_serve import http_server, liveness, rest
from seldon_serve.endpoints import Endpoints
from seldon_serve.http_server import HttpProtocol, Request, Response, ServerState
from seldon_serve.microservice import Microservice
from seldon_serve.v2 import OpenInference

pytestmark = pytest.mark.unit

LIMIT = 64  # the body limit of the transport tests
SLOW_SECONDS = 1.5


class FakeTransport(asyncio.Transport):
    """What the protocol writes, and whether it closed the connection."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False
        self.eof = False  # write_eof: the server finished writing, the client may still send

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "written after close"
        self.written += data

    def close(self) -> None:
        self.closed = True

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def is_closing(self) -> bool:
        return self.closed


class Echo:
    """A handler answering what it was asked: method, path, query and body; /slow takes
    SLOW_SECONDS on the loop, as a long model call does."""

    headers = frozenset((b"content-type",))
    liveness = frozenset((b"/live",))

    def __init__(self) -> None:
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        if request.path == b"/slow":
            time.sleep(SLOW_SECONDS)
        if request.too_large:
            return Response(413, b"text/plain", request.too_large.encode())
        body = b"%s %s %s %s" % (request.method, request.path, request.query or b"-", request.body)
        return Response(200, b"text/plain", body, ((b"X-Seen", b"%d" % len(self.requests)),))

    def error(self, status: int, message: str, path: bytes = b"") -> Response:
        return Response(status, b"text/plain", message.encode())

    def describe(self, method: bytes, url: bytes, response: Response) -> tuple[int, dict[str, object]]:
        return logging.INFO, {"method": method.decode(), "path": url.decode(), "status": response.status}


def connection(handler: Any = None, **state: Any) -> tuple[HttpProtocol, FakeTransport]:
    protocol = HttpProtocol(handler or Echo(), ServerState(LIMIT, "TEST_LIMIT", **state))
    transport = FakeTransport()
    protocol.connection_made(transport)
    return protocol, transport


def request(method: bytes, path: bytes, body: bytes = b"", *headers: bytes, version: bytes = b"1.1") -> bytes:
    lines = [b"%s %s HTTP/%s" % (method, path, version), b"Host: test", *headers]
    if body:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def answers(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """The responses in `data`: status, headers (lower-case names), body by Content-Length."""
    found = []
    while data:
        head, _, data = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode().split("\r\n")
        headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines)}
        length = int(headers.get("content-length", 0))
        found.append((int(status_line.split()[1]), headers, data[:length]))
        data = data[length:]
    return found


# ---- the transport ------------------------------------------------------------------------


def test_a_get_and_a_post_with_content_length_are_answered():
    protocol, transport = connection()
    protocol.data_received(request(b"GET", b"/ping?x=1"))
    protocol.data_received(request(b"POST", b"/predict", b'{"a": 1}', b"Content-Type: application/json"))
    (get_status, get_headers, get_body), (post_status, _, post_body) = answers(bytes(transport.written))
    assert (get_status, get_body) == (200, b"GET /ping x=1 ")
    assert get_headers == {"content-type": "text/plain", "content-length": "14", "x-seen": "1"}
    assert (post_status, post_body) == (200, b'POST /predict - {"a": 1}')
    assert not transport.closed


def test_pipelined_requests_on_one_connection_are_answered_in_order():
    protocol, transport = connection()
    stream = request(b"POST", b"/a", b"first") + request(b"GET", b"/b") + request(b"POST", b"/c", b"third")
    for at in range(0, len(stream), 7):  # in pieces that cut requests anywhere
        protocol.data_received(stream[at : at + 7])
    bodies = [body for _, _, body in answers(bytes(transport.written))]
    assert bodies == [b"POST /a - first", b"GET /b - ", b"POST /c - third"]


def test_a_connection_is_kept_alive_until_a_request_asks_to_close_it():
    protocol, transport = connection()
    protocol.data_received(request(b"GET", b"/one"))
    assert not transport.closed and b"Connection: close" not in transport.written
    protocol.data_received(request(b"GET", b"/two", b"", b"Connection: close"))
    assert transport.closed
    (_, first, _), (_, second, body) = answers(bytes(transport.written))
    assert "connection" not in first and second["connection"] == "close" and body == b"GET /two - "


@pytest.mark.parametrize(("headers", "closes"), [((), True), ((b"Connection: keep-alive",), False)])
def test_http_1_0_closes_unless_it_asks_to_keep_alive(headers, closes):
    protocol, transport = connection()
    protocol.data_received(request(b"GET", b"/old", b"", *headers, version=b"1.0"))
    assert answers(bytes(transport.written))[0][0] == 200
    assert transport.closed is closes


def test_a_body_over_the_limit_is_not_kept_and_the_handler_answers_413():
    handler = Echo()
    protocol, transport = connection(handler)
    protocol.data_received(request(b"POST", b"/big", b"x" * (LIMIT + 1)) + request(b"GET", b"/next"))
    (status, _, body), (next_status, _, _) = answers(bytes(transport.written))
    assert (status, body) == (413, b"request body over 64 bytes (TEST_LIMIT)")
    assert handler.requests[0].body == b""  # nothing of it was kept
    assert handler.requests[1].too_large == ""
    # As the wrapper always has: the connection goes on (the body was read to its end).
    assert next_status == 200 and not transport.closed


def test_a_body_at_the_limit_is_kept():
    handler = Echo()
    protocol, _ = connection(handler)
    protocol.data_received(request(b"POST", b"/full", b"x" * LIMIT))
    assert handler.requests[0].body == b"x" * LIMIT and not handler.requests[0].too_large


def test_head_answers_the_headers_get_would_with_no_body_bytes():
    protocol, transport = connection()
    protocol.data_received(request(b"HEAD", b"/thing") + request(b"GET", b"/after"))
    get_answer = b"GET /after - "
    expected_head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\nX-Seen: 1\r\n\r\n"
    assert bytes(transport.written).startswith(expected_head + b"HTTP/1.1 200 OK\r\n")  # no body in between
    assert bytes(transport.written).endswith(b"\r\n\r\n" + get_answer)


@pytest.mark.parametrize(
    "garbage",
    [b"NOT A REQUEST\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET /x HTTP/1.1\r\nno colon here\r\n\r\n"],
)
def test_a_malformed_request_is_a_400_worded_by_the_handler_and_closes(garbage):
    protocol, transport = connection()
    protocol.data_received(garbage)
    ((status, headers, body),) = answers(bytes(transport.written))
    assert status == 400 and headers["connection"] == "close" and body.startswith(b"malformed HTTP request: ")
    assert transport.closed


def test_a_request_asking_to_upgrade_gets_one_http_answer_and_the_connection_closes():
    protocol, transport = connection()
    protocol.data_received(request(b"GET", b"/ping", b"", b"Connection: Upgrade", b"Upgrade: websocket") + b"\x81\x00")
    ((status, _, body),) = answers(bytes(transport.written))
    assert (status, body) == (200, b"GET /ping - ")
    assert transport.closed


def test_a_chunked_body_is_accepted_and_counted_against_the_limit():
    chunked = b"POST /chunks HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
    protocol, transport = connection()
    protocol.data_received(chunked + b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    protocol.data_received(chunked + b"".join(b"20\r\n" + b"y" * 32 + b"\r\n" for _ in range(3)) + b"0\r\n\r\n")
    (status, _, body), (big_status, _, _) = answers(bytes(transport.written))
    assert (status, body) == (200, b"POST /chunks - hello world")
    assert big_status == 413


def test_expect_100_continue_is_answered_before_the_body_arrives():
    protocol, transport = connection()
    protocol.data_received(b"POST /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
    assert bytes(transport.written) == b"HTTP/1.1 100 Continue\r\n\r\n"
    protocol.data_received(b"data")
    assert bytes(transport.written).endswith(b"POST /up - data")


def test_only_the_headers_the_handler_reads_are_kept():
    handler = Echo()
    protocol, _ = connection(handler)
    protocol.data_received(request(b"POST", b"/h", b"{}", b"Content-TYPE: text/csv", b"X-Other: 1"))
    assert handler.requests[0].headers == {b"content-type": b"text/csv"}


def test_every_answer_is_counted_for_the_request_budget():
    exhausted = []
    budget = http_server.RequestBudget(2, lambda: exhausted.append(True))
    protocol, _ = connection(on_answered=budget.spend)
    protocol.data_received(request(b"GET", b"/1"))
    assert budget.left == 1 and not exhausted
    protocol.data_received(request(b"GET", b"/2"))
    assert budget.left == 0 and exhausted == [True]


def refused(data: bytes, **limits: Any) -> tuple[int, dict[str, str], bytes, FakeTransport]:
    """`data` sent on a connection with these Limits, in a running loop: the one answer, and the
    transport once the lingering after it is over."""

    async def scenario() -> FakeTransport:
        protocol, transport = connection(limits=http_server.Limits(**limits))
        protocol.data_received(data)
        assert transport.eof and not transport.closed  # answered, half-closed, still reading
        protocol.data_received(b"more of the request, dropped")
        await asyncio.sleep(http_server.LINGER_SECONDS + 0.1)
        return transport

    transport = asyncio.run(scenario())
    ((status, headers, body),) = answers(bytes(transport.written))
    return status, headers, body, transport


def test_a_request_target_over_the_limit_is_answered_414_and_the_connection_closes():
    status, headers, body, transport = refused(request(b"GET", b"/predict?json=" + b"x" * 100), max_url_bytes=64)
    assert (status, body) == (414, b"request target over 64 bytes (HTTP_MAX_URL_BYTES)")
    assert headers["connection"] == "close" and transport.closed


def test_header_lines_over_the_limit_are_answered_431_and_the_connection_closes():
    headers_sent = [b"X-Header-%d: %s" % (n, b"v" * 20) for n in range(4)]
    status, headers, body, transport = refused(request(b"GET", b"/ping", b"", *headers_sent), max_header_bytes=80)
    assert (status, body) == (431, b"request header lines over 80 bytes (HTTP_MAX_HEADER_BYTES)")
    assert headers["connection"] == "close" and transport.closed


def test_requests_within_the_limits_are_served():
    protocol, transport = connection(limits=http_server.Limits(max_url_bytes=64, max_header_bytes=80))
    protocol.data_received(request(b"GET", b"/" + b"x" * 63, b"", b"X-Header: " + b"v" * 60))
    assert answers(bytes(transport.written))[0][0] == 200 and not transport.closed


def test_a_connection_past_the_cap_is_answered_503_while_the_others_are_served():
    async def scenario() -> tuple[FakeTransport, FakeTransport]:
        state = ServerState(LIMIT, "TEST_LIMIT", limits=http_server.Limits(max_connections=1))
        first, first_transport = HttpProtocol(Echo(), state), FakeTransport()
        second, second_transport = HttpProtocol(Echo(), state), FakeTransport()
        first.connection_made(first_transport)
        second.connection_made(second_transport)
        second.data_received(request(b"POST", b"/predict", b"body"))
        first.data_received(request(b"GET", b"/ping"))
        await asyncio.sleep(http_server.LINGER_SECONDS + 0.1)
        return first_transport, second_transport

    served, refused_ = asyncio.run(scenario())
    assert answers(bytes(served.written))[0][0] == 200 and not served.closed
    ((status, headers, body),) = answers(bytes(refused_.written))
    assert (status, headers["connection"]) == (503, "close") and refused_.closed
    assert body == b"over 1 connections at once (HTTP_MAX_CONNECTIONS): try again"


def test_a_connection_silent_past_the_keepalive_is_closed_and_one_mid_request_answered_408():
    limits = http_server.Limits(keepalive_seconds=2)
    idle, idle_transport = connection(limits=limits)
    idle.data_received(request(b"GET", b"/ping"))
    for _ in range(3):
        idle.sweep(3)
    idle.data_received(request(b"GET", b"/ping"))  # bytes arriving start the count again
    for _ in range(3):
        idle.sweep(3)
    assert not idle_transport.closed
    idle.sweep(3)
    assert idle_transport.closed

    async def mid_request() -> FakeTransport:
        protocol, transport = connection(limits=limits)
        protocol.data_received(b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhalf")
        for _ in range(4):
            protocol.sweep(3)
        await asyncio.sleep(http_server.LINGER_SECONDS + 0.1)
        return transport

    transport = asyncio.run(mid_request())
    ((status, _, body),) = answers(bytes(transport.written))
    assert (status, body) == (408, b"no bytes of the request for 2 s (HTTP_KEEPALIVE_SECONDS)") and transport.closed


def test_over_loopback_an_idle_connection_is_closed_after_the_keepalive():
    async def scenario() -> tuple[bytes, float]:
        state = ServerState(LIMIT, "TEST_LIMIT", limits=http_server.Limits(keepalive_seconds=0.4))
        server = await http_server.serve(Echo(), "127.0.0.1", 0, state, reuse_port=False)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request(b"GET", b"/a"))
        answer = await reader.readuntil(b"GET /a - ")
        answered = asyncio.get_running_loop().time()
        assert await asyncio.wait_for(reader.read(), 5) == b""  # EOF: the server closed it
        idle_for = asyncio.get_running_loop().time() - answered
        writer.close()
        await http_server.shutdown(server, state, grace=1.0)
        return answer, idle_for

    answer, idle_for = asyncio.run(scenario())
    assert answers(answer)[0][0] == 200
    assert 0.4 <= idle_for < 1.0


def test_over_loopback_a_connection_serves_several_requests_and_shutdown_closes_it():
    async def scenario() -> tuple[list[Any], bytes]:
        state = ServerState(LIMIT, "TEST_LIMIT")
        server = await http_server.serve(Echo(), "127.0.0.1", 0, state, reuse_port=False)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request(b"GET", b"/a") + request(b"POST", b"/b", b"body"))
        await writer.drain()
        first = await reader.readuntil(b"GET /a - ")
        second = await reader.readuntil(b"POST /b - body")
        await http_server.shutdown(server, state, grace=1.0)
        rest_of_stream = await asyncio.wait_for(reader.read(), 5)  # EOF: shutdown closed the idle connection
        writer.close()
        return answers(first + second), rest_of_stream

    found, after = asyncio.run(scenario())
    assert [(status, body) for status, _, body in found] == [(200, b"GET /a - "), (200, b"POST /b - body")]
    assert after == b""


@pytest.mark.parametrize("run", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])  # workers run on uvloop
def test_while_a_call_holds_the_loop_liveness_is_answered_at_once_and_other_requests_wait_their_turn(run):
    ready = threading.Event()
    found: dict[str, Any] = {}

    async def serve() -> None:
        state = ServerState(LIMIT, "TEST_LIMIT")
        server = await http_server.serve(Echo(), "127.0.0.1", 0, state, reuse_port=False)
        found["port"] = server.sockets[0].getsockname()[1]
        stop_watching = liveness.watching(server, Echo(), state)
        found["stop"] = stop = asyncio.Event()
        found["loop"] = asyncio.get_running_loop()
        ready.set()
        await stop.wait()
        stop_watching()
        await http_server.shutdown(server, state, grace=1.0)

    def ask(name: str, method: bytes, path: bytes) -> None:
        began = time.monotonic()
        with socket.create_connection(("127.0.0.1", found["port"])) as client:
            client.sendall(request(method, path, b"", b"Connection: close"))
            data = b""
            while chunk := client.recv(65536):
                data += chunk
        found[name] = (answers(data) if method != b"HEAD" else data, time.monotonic() - began)

    def ask_twice_on_one_connection() -> None:
        """A keep-alive probe, then a request the loop answers on the same connection."""
        began = time.monotonic()
        with socket.create_connection(("127.0.0.1", found["port"])) as client:
            client.sendall(request(b"GET", b"/live"))
            first = b""
            while b"GET /live - " not in first:
                first += client.recv(65536)
            found["kept_probe"] = (first, time.monotonic() - began)
            client.sendall(request(b"GET", b"/after", b"", b"Connection: close"))
            second = b""
            while chunk := client.recv(65536):
                second += chunk
        found["kept_after"] = answers(second)

    server = threading.Thread(target=run, args=(serve(),))
    server.start()
    ready.wait(5)
    slow = threading.Thread(target=ask, args=("slow", b"GET", b"/slow"))
    slow.start()
    time.sleep(0.4)  # the call holds the loop now
    ask("live", b"GET", b"/live")
    ask("head", b"HEAD", b"/live")
    ask("other", b"GET", b"/other")  # handed to the loop: answered once the call returns
    slow.join()
    slow = threading.Thread(target=ask, args=("slow_again", b"GET", b"/slow"))
    slow.start()
    time.sleep(0.4)
    ask_twice_on_one_connection()
    slow.join()
    found["loop"].call_soon_threadsafe(found["stop"].set)
    server.join(5)

    (((status, _, body),), took) = found["live"]
    assert (status, body) == (200, b"GET /live - ") and took < 0.1
    head, took = found["head"]
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and head.endswith(b"\r\n\r\n") and took < 0.1
    (((status, _, body),), took) = found["other"]
    assert (status, body) == (200, b"GET /other - ") and took > SLOW_SECONDS - 0.5
    assert [(status, body) for status, _, body in found["slow"][0]] == [(200, b"GET /slow - ")]
    probe, took = found["kept_probe"]
    assert b"Connection: close" not in probe and took < 0.1  # kept alive, as the client asked
    assert [(status, body) for status, _, body in found["kept_after"]] == [(200, b"GET /after - ")]


# ---- the Seldon REST router, without a socket -------------------------------------------


def seldon_request(
    method: bytes, path: bytes, body: bytes = b"", query: bytes | None = None, **headers: bytes
) -> Request:
    named = {name.replace("_", "-").encode(): value for name, value in headers.items()}
    return Request(method, path, query, named, body, "")


def recording_router() -> tuple[rest.Router, list[Any]]:
    """A router whose /echo hands the decoded message, as it is, to a recorder."""
    seen: list[Any] = []

    def record(message: Any) -> Any:
        seen.append(message)
        return {"ok": True}

    return rest.Router({b"/echo": ("json", record)}), seen


def test_a_form_field_named_json_is_the_message():
    router, seen = recording_router()
    form = b"json=%7B%22strData%22%3A%22hi%22%7D&other=1"
    response = router(seldon_request(b"POST", b"/echo", form, content_type=b"application/x-www-form-urlencoded"))
    assert response.status == 200 and seen == [{"strData": "hi"}]
    missing = router(seldon_request(b"POST", b"/echo", b"other=1", content_type=b"application/x-www-form-urlencoded"))
    assert missing.status == 400 and b"no json= field" in missing.body


def test_a_multipart_upload_is_the_message():
    router, seen = recording_router()
    body = (
        b'--b\r\nContent-Disposition: form-data; name="binData"; filename="x.bin"\r\n\r\n\x00\x01\r\n'
        b'--b\r\nContent-Disposition: form-data; name="meta"\r\n\r\n{"tags": {"a": 1}}\r\n--b--\r\n'
    )
    router(seldon_request(b"POST", b"/echo", body, content_type=b"multipart/form-data; boundary=b"))
    assert seen == [{"binData": "AAE=", "meta": {"tags": {"a": 1}}}]


def test_a_get_takes_the_message_from_json_in_the_query():
    router, seen = recording_router()
    response = router(seldon_request(b"GET", b"/echo/", query=b"json=%7B%22data%22%3A%7B%22ndarray%22%3A%5B1%5D%7D%7D"))
    assert response.status == 200 and seen == [{"data": {"ndarray": [1]}}]
    empty = router(seldon_request(b"GET", b"/echo"))
    assert empty.status == 400 and b"empty request" in empty.body


def test_an_unknown_path_is_a_404_with_seldons_body_even_over_the_limit():
    router, _ = recording_router()
    too_large = Request(b"POST", b"/nowhere", None, {}, b"", "request body over 1 bytes (REST_MAX_BODY_BYTES)")
    response = router(too_large)
    assert response.status == 404
    assert orjson.loads(response.body)["status"]["info"] == "no endpoint /nowhere"
    assert router(Request(b"POST", b"/echo", None, {}, b"", too_large.too_large)).status == 413


def test_a_wrong_method_is_a_405_naming_the_allowed_ones():
    router, _ = recording_router()
    response = router(seldon_request(b"DELETE", b"/echo"))
    assert response.status == 405 and response.headers == ((b"Allow", b"GET, POST"),)
    assert orjson.loads(response.body)["status"]["info"] == "this endpoint takes GET or POST, not DELETE"


def test_head_is_answered_as_get_would_be_as_flask_answers_it_for_seldon():
    router = rest.router(served(v2=False))
    for path in (b"/health/ping", b"/health/status", b"/api/v1.0/metadata"):
        head, get = router(seldon_request(b"HEAD", path)), router(seldon_request(b"GET", path))
        assert (head.status, head.content_type) == (get.status, get.content_type) == (200, get.content_type)
    assert router(seldon_request(b"HEAD", b"/health/ping")).body == b"pong"  # the transport sends its headers only
    assert router(seldon_request(b"HEAD", b"/api/v1.0/predictions")).status == 400  # GET without ?json=


class Doubler:
    def predict(self, X, names):
        return X * 2


def served(v2: bool = True) -> Endpoints:
    service = Microservice(Doubler())
    return Endpoints(seldon=service, v2=OpenInference(service, "1.0") if v2 else None)


def test_the_seldon_puid_header_is_the_request_id_unless_the_message_has_one():
    router = rest.router(served())
    message = b'{"data": {"ndarray": [1]}}'
    answer = orjson.loads(router(seldon_request(b"POST", b"/predict", message, seldon_puid=b"abc")).body)
    assert answer["meta"]["puid"] == "abc" and answer["data"]["ndarray"] == [2]
    own = b'{"meta": {"puid": "mine"}, "data": {"ndarray": [1]}}'
    assert orjson.loads(router(seldon_request(b"POST", b"/predict", own, seldon_puid=b"abc")).body)["meta"] == {
        "puid": "mine"
    }


def test_v2_paths_go_to_the_open_inference_router_only_when_it_is_served():
    live = rest.router(served())(seldon_request(b"GET", b"/v2/health/live"))
    assert live == (200, b"application/json", b'{"live":true}', ())
    seldon_only = rest.router(served(v2=False))(seldon_request(b"GET", b"/v2/health/live"))
    assert seldon_only.status == 404 and b"no endpoint /v2/health/live" in seldon_only.body
    too_large = Request(b"POST", b"/v2/nowhere", None, {}, b"", "request body over 1 bytes (REST_MAX_BODY_BYTES)")
    v2_answer = rest.router(served())(too_large)  # v2 answers its own 413 body, before looking at the path
    assert v2_answer.status == 413 and orjson.loads(v2_answer.body) == {"error": too_large.too_large}


def test_head_of_v2_health_live_sends_its_content_length_and_no_body():
    """The issue's case: 13 bytes of {"live":true} followed the headers."""
    protocol, transport = connection(rest.router(served()))
    protocol.data_received(request(b"HEAD", b"/v2/health/live"))
    assert bytes(transport.written) == (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
    )


# ---- content codings ---------------------------------------------------------------------------


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        (b"gzip", gzipped),
        (b"x-gzip", gzipped),
        (b"GZIP", gzipped),
        (b"deflate", zlib.compress),
        (b"deflate", lambda data: zlib.compress(data)[2:-4]),  # the bare stream some clients send
        (b"identity", lambda data: data),
    ],
)
def test_a_compressed_body_reaches_the_handler_decompressed(coding, encode):
    handler = Echo()
    protocol, transport = connection(handler)
    protocol.data_received(request(b"POST", b"/in", encode(b"x" * LIMIT), b"Content-Encoding: " + coding))
    assert answers(bytes(transport.written))[0][0] == 200
    assert handler.requests[0].body == b"x" * LIMIT


def test_several_gzip_members_are_one_body():
    handler = Echo()
    protocol, _ = connection(handler)
    protocol.data_received(request(b"POST", b"/in", gzipped(b"ab") + gzipped(b"cd"), b"Content-Encoding: gzip"))
    assert handler.requests[0].body == b"abcd"


def test_a_body_over_the_limit_once_decompressed_is_a_413_and_a_bomb_is_not_inflated():
    handler = Echo()
    protocol, transport = connection(handler)
    bomb = gzipped(bytes(10_000_000))  # 10 MB of zeros in about 10 kB: over LIMIT as it comes
    assert len(bomb) < 20_000
    protocol.data_received(request(b"POST", b"/in", gzipped(b"y" * (LIMIT + 1)), b"Content-Encoding: gzip"))
    protocol.data_received(request(b"POST", b"/in", bomb[:LIMIT], b"Content-Encoding: gzip"))
    (status, _, body), (bomb_status, _, _) = answers(bytes(transport.written))
    assert (status, body) == (413, b"request body over 64 bytes once decompressed (TEST_LIMIT)")
    assert bomb_status == 413  # its first 64 bytes already inflate past the limit
    assert handler.requests == [] and not transport.closed


@pytest.mark.parametrize(
    ("coding", "body", "status", "message"),
    [
        (b"gzip", b"not gzip at all", 400, "the request body is not valid gzip"),
        (b"gzip", gzipped(b"abc")[:-6], 400, "not valid gzip: the compressed data ends early"),
        (b"deflate", zlib.compress(b"abc") + b"zz", 400, "not valid deflate: 2 bytes after the end"),
        (b"br", b"whatever", 415, "Content-Encoding 'br' is not supported: send gzip, deflate or identity"),
        (b"gzip, gzip", b"whatever", 415, "is not supported"),
    ],
)
def test_a_body_that_cannot_be_decoded_is_answered_by_the_handlers_error(coding, body, status, message):
    handler = Echo()
    protocol, transport = connection(handler)
    protocol.data_received(request(b"POST", b"/in", body, b"Content-Encoding: " + coding))
    (answered, _, text), *_ = answers(bytes(transport.written))
    assert answered == status and message in text.decode()
    assert handler.requests == []


BIG = b"POST /big - " + b"z" * LIMIT  # what Echo answers to POST /big with LIMIT bytes


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        (b"gzip", "gzip"),
        (b"deflate, gzip;q=0.5", "deflate"),
        (b"gzip;q=0.5, deflate;q=0.5", "gzip"),
        (b"br, *", "gzip"),
        (b"gzip;q=0, deflate", "deflate"),
        (b"*;q=0", None),
        (b"br", None),
        (b"identity", None),
    ],
)
def test_an_answer_is_compressed_as_the_client_accepts(accept, coding):
    protocol, transport = connection(compress_min_bytes=len(BIG))
    protocol.data_received(request(b"POST", b"/big", b"z" * LIMIT, b"Accept-Encoding: " + accept))
    ((status, headers, body),) = answers(bytes(transport.written))
    assert status == 200 and headers.get("content-encoding") == coding
    if coding is None:
        assert body == BIG
        return
    assert headers["vary"] == "Accept-Encoding" and int(headers["content-length"]) == len(body) < len(BIG)
    assert (gzip.decompress(body) if coding == "gzip" else zlib.decompress(body)) == BIG


@pytest.mark.parametrize("minimum", [len(BIG) + 1, 0], ids=["below-the-minimum", "never"])
def test_an_answer_below_the_minimum_or_with_compression_off_is_sent_as_it_is(minimum):
    protocol, transport = connection(compress_min_bytes=minimum)
    protocol.data_received(request(b"POST", b"/big", b"z" * LIMIT, b"Accept-Encoding: gzip"))
    ((_, headers, body),) = answers(bytes(transport.written))
    assert "content-encoding" not in headers and body == BIG


def test_head_of_a_compressed_answer_sends_the_compressed_length_and_no_body():
    protocol, transport = connection(compress_min_bytes=1)
    protocol.data_received(request(b"HEAD", b"/thing", b"", b"Accept-Encoding: gzip"))
    head = bytes(transport.written)
    length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    assert b"Content-Encoding: gzip" in head and head.endswith(b"\r\n\r\n") and length > 0
