"""LOG_FORMAT=json in every family: every line the server writes is one JSON object with the same
fields, and ACCESS_LOG=true adds a line per REST request and gRPC call with its method, status,
latency and the Seldon-Puid its caller sent -- but none for a probe."""

from __future__ import annotations

import json

import requests

from contract_client import ROW, rpc, to_proto

PUID = "a-puid-from-the-executor"


def test_every_line_is_json_with_the_common_fields_and_requests_are_logged(start):
    model = start("model-with-extras", env={"LOG_FORMAT": "json", "ACCESS_LOG": "true", "PROTOCOL": "both"})
    assert requests.post(f"{model.http}/api/v1.0/predictions", json=ROW, headers={"Seldon-Puid": PUID}).ok
    assert requests.post(f"{model.http}/api/v1.0/predictions", json={"jsonData": {"fail": "crash"}}).status_code == 500
    assert requests.get(f"{model.http}/health/ping").text == "pong"
    rpc(model, "Model", "Predict", to_proto(ROW))
    assert model.stop() == 0
    lines = [line for line in model.logs().splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON line: {line!r}\n{model.logs()}") from None
    for record in records:
        assert {"time", "level", "logger", "pid", "message"} <= record.keys(), record
        assert record["time"].endswith("Z") and record["level"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
    access = [record for record in records if record["logger"] == "seldon_serve.access"]
    # Each worker writes its own lines: two requests served by two workers may be logged in either order.
    rest = [record for record in access if record.get("path") == "/api/v1.0/predictions"]
    rest.sort(key=lambda record: record["status"])
    assert [(r["method"], r["status"]) for r in rest] == [("POST", 200), ("POST", 500)], access
    assert rest[0]["puid"] == PUID and rest[0]["latency_ms"] >= 0 and rest[0]["bytes"] > 0
    assert not [record for record in access if record.get("path") == "/health/ping"], "a probe was logged"
    calls = [record for record in access if record.get("grpc_method") == "/seldon.protos.Model/Predict"]
    assert [call["status"] for call in calls] == ["OK"], access
    assert any(record["level"] == "ERROR" and "the model crashed" in record["message"] for record in records)
