"""What a proxy, a load balancer or a kubelet relies on, on a raw socket, in every family:
liveness is answered at once while the only worker computes, a HEAD answer has no body, an
idle keep-alive connection is closed after HTTP_KEEPALIVE_SECONDS, a request target or header
lines over their limits are answered 414 and 431, and requests past HTTP_MAX_CONNECTIONS are
answered 503 at once rather than queued. Each refusal is worded as the
path's protocol words its errors: Seldon's status body, or {"error"} under /v2."""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from contract_client import post
from harness import RunningModel

LIMITS = {
    "PROTOCOL": "both",
    "GUNICORN_WORKERS": "1",  # the python family's limits are per worker process
    "HTTP_KEEPALIVE_SECONDS": "1",
    "HTTP_MAX_CONNECTIONS": "2",
    "HTTP_MAX_URL_BYTES": "1024",
    "HTTP_MAX_HEADER_BYTES": "2048",
}


LIMITS_503 = "over 2 connections at once (HTTP_MAX_CONNECTIONS): try again"


@pytest.fixture(scope="module")
def limited(start) -> RunningModel:
    return start("model-with-extras", env=LIMITS)


def connect(model: RunningModel, timeout: float = 10) -> socket.socket:
    address = urlsplit(model.http)
    return socket.create_connection((address.hostname, address.port), timeout=timeout)


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One answer: status, headers (lower-case names), and its body by Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    while len(body) < int(headers.get("content-length", 0)):
        body += sock.recv(65536)
    return int(status_line.split()[1]), headers, body


def exchange(model: RunningModel, request: bytes) -> tuple[int, dict[str, str], bytes, bytes]:
    """Send one request: its answer, and whatever else the server sends before closing."""
    with connect(model) as sock:
        sock.sendall(request)
        status, headers, body = read_answer(sock)
        sock.settimeout(5)
        after = b""
        while chunk := sock.recv(65536):
            after += chunk
        return status, headers, body, after


def test_a_head_answer_carries_no_body(limited):
    with connect(limited) as sock:
        sock.sendall(b"HEAD /v2/health/live HTTP/1.1\r\nHost: model\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(65536)
            assert chunk, f"closed before an answer: {head!r}"
            head += chunk
        assert head.startswith(b"HTTP/1.1 200 ")
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            extra = head.partition(b"\r\n\r\n")[2] + sock.recv(65536)
            pytest.fail(f"bytes after the headers of a HEAD answer: {extra!r}")
        sock.settimeout(10)
        sock.sendall(b"GET /health/ping HTTP/1.1\r\nHost: model\r\n\r\n")  # the connection goes on
        assert read_answer(sock)[::2] == (200, b"pong")


def probe(model: RunningModel, method: str, path: str) -> tuple[bytes, float]:
    """A kubelet's HTTP probe (a new connection, closed after it): the whole answer, and how
    long it took."""
    began = time.monotonic()
    with connect(model) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: model\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer, time.monotonic() - began


def test_liveness_is_answered_at_once_while_the_only_worker_is_in_a_slow_predict(limited):
    """A kubelet's liveness probe must not fail because the model is computing (and get a
    healthy pod restarted); readiness and the other paths wait their turn."""
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(post, limited, "/predict", {"jsonData": {"sleep": 3}})
        time.sleep(0.8)  # inside predict now (with margin: tests share the CPUs)
        answers = {(method, path): probe(limited, method, path) for method, path in LIVENESS}
        still_computing = not slow.done()
        assert slow.result(timeout=30).status_code == 200
    assert still_computing
    wait_for_the_cap_to_free(limited)  # so that the next test on `limited` is admitted
    for (method, path), (answer, took) in answers.items():
        assert answer.startswith(b"HTTP/1.1 200 "), (method, path, answer)
        # Within half a second (a kubelet's probe times out after one), with the CPUs shared by
        # the other tests; the call that would hold it takes 3 s.
        assert took < 0.5, f"{method} {path} took {took * 1000:.0f} ms while the model computed"
    assert answers[("GET", "/health/ping")][0].endswith(b"\r\n\r\npong")
    assert answers[("HEAD", "/health/ping")][0].endswith(b"\r\n\r\n")
    assert json.loads(answers[("GET", "/v2/health/live")][0].partition(b"\r\n\r\n")[2]) == {"live": True}


LIVENESS = [("GET", "/health/ping"), ("HEAD", "/health/ping"), ("GET", "/ping"), ("GET", "/v2/health/live")]


def wait_for_the_cap_to_free(model: RunningModel) -> None:
    """The python family frees a connection's place when the connection closes, which the server
    sees a moment after the client: wait until a probe on a fresh connection is admitted."""
    deadline = time.monotonic() + 5
    while probe(model, "GET", "/api/v1.0/health/status")[0].startswith(b"HTTP/1.1 503"):
        if time.monotonic() > deadline:
            raise AssertionError("the connection cap still refuses after 5 s: a place was never freed")
        time.sleep(0.05)


def test_an_idle_keep_alive_connection_is_closed_after_the_keepalive(limited):
    with connect(limited) as sock:
        sock.sendall(b"GET /health/ping HTTP/1.1\r\nHost: model\r\n\r\n")
        assert read_answer(sock)[0] == 200
        answered = time.monotonic()
        sock.settimeout(10)
        assert sock.recv(1) == b"", "the server sent more than the answer"
        idle_for = time.monotonic() - answered
    assert 0.9 <= idle_for < 4, f"closed after {idle_for:.2f} s idle, HTTP_KEEPALIVE_SECONDS=1"


@pytest.mark.parametrize(("path", "protocol"), [("/api/v1.0/predictions", "seldon"), ("/v2/models/any/infer", "v2")])
def test_a_request_target_over_the_limit_is_answered_414(limited, path, protocol):
    target = f"{path}?pad={'x' * 1100}".encode()
    status, headers, body, after = exchange(limited, b"GET %s HTTP/1.1\r\nHost: model\r\n\r\n" % target)
    assert (status, headers.get("connection"), after) == (414, "close", b"")
    assert error_text(body, protocol) == "request target over 1024 bytes (HTTP_MAX_URL_BYTES)"


@pytest.mark.parametrize(("path", "protocol"), [("/health/ping", "seldon"), ("/v2/health/live", "v2")])
def test_header_lines_over_the_limit_are_answered_431(limited, path, protocol):
    padding = b"".join(b"X-Padding-%d: %s\r\n" % (n, b"v" * 100) for n in range(20))
    request = b"GET %s HTTP/1.1\r\nHost: model\r\n%s\r\n" % (path.encode(), padding)
    status, headers, body, after = exchange(limited, request)
    assert (status, headers.get("connection"), after) == (431, "close", b"")
    assert error_text(body, protocol) == "request header lines over 2048 bytes (HTTP_MAX_HEADER_BYTES)"


def test_requests_within_the_limits_are_served(limited):
    padding = {f"X-Padding-{n}": "v" * 100 for n in range(10)}
    answer = post(limited, "/api/v1.0/predictions", {"data": {"ndarray": [[1, 2]]}, "meta": {"pad": "x" * 500}})
    assert answer.status_code == 200
    status, _, body, _ = exchange(
        limited,
        b"GET /health/ping?pad=%s HTTP/1.1\r\nHost: model\r\nConnection: close\r\n%s\r\n"
        % (b"x" * 900, b"".join(b"%s: %s\r\n" % (k.encode(), v.encode()) for k, v in padding.items())),
    )
    assert (status, body) == (200, b"pong")


def test_a_request_on_a_connection_past_the_cap_is_answered_503(limited):
    """Three keep-alive connections, opened in turn, each with a slow call, where two may be
    served: the first two are answered, the third refused. (The python family counts a worker's
    open connections, Java the requests in progress or waiting; all three connections stay open
    until every answer is in, so both count the same.)"""
    wait_for_the_cap_to_free(limited)  # of the connections the tests before used
    all_answered = threading.Barrier(3)

    def slow_call(turn: int) -> tuple[int, bytes]:
        time.sleep(0.3 * turn)
        body = json.dumps({"jsonData": {"sleep": 2}}).encode()
        request = (
            b"POST /api/v1.0/predictions HTTP/1.1\r\nHost: model\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        with connect(limited, timeout=30) as sock:
            sock.sendall(request)
            status, _, answer = read_answer(sock)
            all_answered.wait(timeout=30)
        return status, answer

    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(slow_call, range(3)))
    assert [status for status, _ in answers] == [200, 200, 503], answers
    assert error_text(answers[2][1], "seldon") == LIMITS_503


def error_text(body: bytes, protocol: str) -> str:
    answer = json.loads(body)
    if protocol == "v2":
        return answer["error"]
    status = answer["status"]
    assert (status["status"], status["code"], status["reason"]) == (1, -1, "MICROSERVICE_BAD_DATA"), answer
    return status["info"]
