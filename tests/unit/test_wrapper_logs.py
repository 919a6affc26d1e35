"""seldon_serve.logs: LOG_FORMAT=json writes each record as one line of JSON, and the access log's
lines carry the request's fields."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from test_wrapper_http import FakeTransport, request

from seldon_serve import http_server, logs, rest
from seldon_serve.endpoints import Endpoints
from seldon_serve.microservice import Microservice

pytestmark = pytest.mark.unit


def test_a_record_with_a_traceback_is_one_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("seldon_serve", logging.ERROR, __file__, 1, "failed: %s", ("here",), sys.exc_info())
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == ("ERROR", "seldon_serve", "failed: here")
    assert entry["time"].endswith("Z") and len(entry["time"]) == len("2026-12-04T18:29:30.853Z")
    assert entry["exception"].startswith("Traceback") and "ValueError: boom" in entry["exception"]


class Identity:
    def predict(self, X, names):
        return X


def test_the_access_log_gives_a_requests_fields_and_leaves_probes_to_debug(caplog):
    router = rest.router(Endpoints(seldon=Microservice(Identity(), "MODEL"), v2=None))
    protocol = http_server.HttpProtocol(router, http_server.ServerState(1 << 20, "TEST", access_log=True))
    protocol.connection_made(FakeTransport())
    body = b'{"data": {"ndarray": [[1]]}}'
    with caplog.at_level(logging.INFO, logger="seldon_serve.access"):
        protocol.data_received(request(b"POST", b"/api/v1.0/predictions", body, b"Seldon-Puid: p-1"))
        protocol.data_received(request(b"GET", b"/health/ping"))
    (line,) = caplog.records
    fields = {name: getattr(line, name) for name in ("method", "path", "status", "puid")}
    assert fields == {"method": "POST", "path": "/api/v1.0/predictions", "status": 200, "puid": "p-1"}
    assert line.bytes > 0 and line.latency_ms >= 0
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="seldon_serve.access"):
        protocol.data_received(request(b"GET", b"/health/ping"))
    assert [record.levelno for record in caplog.records] == [logging.DEBUG]
