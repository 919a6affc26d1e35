"""OpenTelemetry tracing in every family, checked against a real OpenTelemetry Collector (built
from the Go module proxy: tests/collector) whose file exporter the tests read: a REST request
and a gRPC call continue the caller's trace (W3C traceparent, B3, Jaeger's uber-trace-id) in a
server span with a child span for the model's call; a failing call is an error span; spans go
over OTLP/HTTP and OTLP/gRPC; and a collector that is not there costs spans, counted, never
requests."""

from __future__ import annotations

import ipaddress
import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from seldon_serve.proto import prediction_pb2_grpc as pb_grpc

from contract_client import ROW, channel, metric_value, metrics_text, to_proto
from harness import ROOT, RunningModel, free_port

# OTLP's span kinds and status codes, as the collector's JSON writes them.
SERVER, INTERNAL = 2, 1
STATUS_ERROR = 2
UNIT = "traced-unit"


class Collector:
    """The collector, its OTLP endpoints as a container reaches them, and the spans it wrote."""

    def __init__(self, binary: Path, folder: Path, host: str) -> None:
        self.http_port, self.grpc_port = free_port(), free_port()
        self.output = folder / "spans.jsonl"
        config = folder / "collector.yaml"
        config.write_text(
            json.dumps(
                {
                    "receivers": {
                        "otlp": {
                            "protocols": {
                                "grpc": {"endpoint": f"0.0.0.0:{self.grpc_port}"},
                                "http": {"endpoint": f"0.0.0.0:{self.http_port}"},
                            }
                        }
                    },
                    "exporters": {"file": {"path": str(self.output), "flush_interval": "100ms"}},
                    "service": {
                        "telemetry": {"metrics": {"level": "none"}},
                        "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["file"]}},
                    },
                }
            )
        )
        self.log = (folder / "collector.log").open("w")
        self.process = subprocess.Popen([str(binary), "--config", str(config)], stdout=self.log, stderr=self.log)
        self.http = f"http://{host}:{self.http_port}"
        self.grpc = f"http://{host}:{self.grpc_port}"
        self._wait_listening(host)

    def _wait_listening(self, host: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.post(f"http://127.0.0.1:{self.http_port}/v1/traces", data=b"", timeout=1)
                return
            except requests.ConnectionError:
                assert self.process.poll() is None, Path(self.log.name).read_text()
                time.sleep(0.2)
        raise AssertionError(f"the collector did not listen: {Path(self.log.name).read_text()}")

    def spans(self) -> list[dict[str, Any]]:
        """Every span written so far, each with its resource's attributes under "resource"."""
        found = []
        if not self.output.exists():
            return found
        for line in self.output.read_text().splitlines():
            for resource_spans in json.loads(line).get("resourceSpans", []):
                resource = attributes(resource_spans.get("resource", {}))
                for scope in resource_spans.get("scopeSpans", []):
                    found += [{**span, "resource": resource} for span in scope.get("spans", [])]
        return found

    def trace(self, trace_id: str, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        """The spans of a trace, once `count` of them have arrived (or what did by the timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            spans = [span for span in self.spans() if span["traceId"] == trace_id]
            if len(spans) >= count or time.monotonic() > deadline:
                return spans
            time.sleep(0.2)

    def spans_of(self, model: RunningModel, trace_id: str) -> list[dict[str, Any]]:
        """A request's spans: its server span and the model's."""
        spans = self.trace(trace_id, 2)
        assert len(spans) >= 2, f"spans of {trace_id}: {spans}\n{model.logs()[-3000:]}"
        return spans

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


def attributes(item: dict[str, Any]) -> dict[str, Any]:
    """OTLP's attribute list as a dict of plain values."""
    return {a["key"]: next(iter(a["value"].values()), None) for a in item.get("attributes", [])}


@pytest.fixture(scope="module")
def collector(tmp_path_factory, docker_client) -> Iterator[Collector]:
    from s2ibuilders import tools

    binary = tools.ensure_collector(ROOT / "tests" / "collector")
    # Containers reach the host at their network's gateway: the subnet's first address unless
    # the network names another.
    network = docker_client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    gateway = network.get("Gateway") or str(ipaddress.ip_network(network["Subnet"])[1])
    running = Collector(binary, tmp_path_factory.mktemp("collector"), gateway)
    yield running
    running.stop()


def traced_env(endpoint: str, **more: str) -> dict[str, str]:
    return {
        "TRACING": "1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # ms: spans leave at once, the test need not wait
        "PREDICTIVE_UNIT_ID": UNIT,
        "PROTOCOL": "both",
        "GUNICORN_WORKERS": "1",
        **more,
    }


# Seldon's Jaeger client settings, left in a manifest moved over: read by no one here.
JAEGER = {"JAEGER_AGENT_HOST": "jaeger-agent", "JAEGER_AGENT_PORT": "6831"}
UNREAD_JAEGER = "JAEGER_AGENT_HOST=jaeger-agent, JAEGER_AGENT_PORT=6831: Seldon's Jaeger client settings, not read here"


@pytest.fixture(scope="module")
def traced(start, collector):
    return start("model-with-extras", env=traced_env(collector.http, **JAEGER))


def new_ids() -> tuple[str, str]:
    return secrets.token_hex(16), secrets.token_hex(8)


def server_and_model_spans(spans: list[dict[str, Any]], parent: str) -> tuple[dict[str, Any], dict[str, Any]]:
    (server,) = [span for span in spans if span["kind"] == SERVER]
    assert server.get("parentSpanId") == parent, server
    children = [span for span in spans if span.get("parentSpanId") == server["spanId"]]
    (model,) = [span for span in children if attributes(span).get("seldon.verb")]
    return server, model


def test_a_rest_request_continues_the_callers_w3c_trace_with_a_span_for_the_model(traced, collector):
    trace_id, parent = new_ids()
    headers = {"traceparent": f"00-{trace_id}-{parent}-01"}
    assert requests.post(f"{traced.http}/api/v1.0/predictions", json=ROW, headers=headers, timeout=10).ok
    server, model = server_and_model_spans(collector.spans_of(traced, trace_id), parent)
    assert server["name"] == "POST /api/v1.0/predictions"
    assert attributes(server).items() >= {"http.request.method": "POST", "url.path": "/api/v1.0/predictions"}.items()
    assert int(attributes(server)["http.response.status_code"]) == 200
    assert server.get("status", {}).get("code", 0) != STATUS_ERROR
    assert attributes(model) == {"seldon.verb": "predict", "seldon.unit_id": UNIT}
    assert server["resource"]["service.name"] == UNIT


def test_a_grpc_call_continues_the_callers_trace_through_the_front(traced, collector):
    trace_id, parent = new_ids()
    metadata = (("traceparent", f"00-{trace_id}-{parent}-01"),)
    with channel(traced) as grpc_channel:
        pb_grpc.ModelStub(grpc_channel).Predict(to_proto(ROW), metadata=metadata, timeout=10)
    server, model = server_and_model_spans(collector.spans_of(traced, trace_id), parent)
    assert server["name"] == "seldon.protos.Model/Predict"
    expected = {"rpc.system": "grpc", "rpc.service": "seldon.protos.Model", "rpc.method": "Predict"}
    assert attributes(server).items() >= expected.items()
    assert attributes(model)["seldon.verb"] == "predict"


@pytest.mark.parametrize("style", ["b3-multi", "b3-single", "uber-trace-id"])
def test_the_trace_headers_seldons_executor_and_istio_send_are_continued(traced, collector, style):
    trace_id, parent = new_ids()
    headers = {
        "b3-multi": {"X-B3-TraceId": trace_id, "X-B3-SpanId": parent, "X-B3-Sampled": "1"},
        "b3-single": {"b3": f"{trace_id}-{parent}-1"},
        "uber-trace-id": {"uber-trace-id": f"{trace_id}:{parent}:0:1"},
    }[style]
    assert requests.post(f"{traced.http}/api/v1.0/predictions", json=ROW, headers=headers, timeout=10).ok
    server_and_model_spans(collector.spans_of(traced, trace_id), parent)


def test_a_failing_model_call_is_an_error_span_under_an_error_server_span(traced, collector):
    trace_id, parent = new_ids()
    headers = {"traceparent": f"00-{trace_id}-{parent}-01"}
    answer = requests.post(f"{traced.http}/api/v1.0/predictions", json={"jsonData": {"fail": "crash"}}, headers=headers)
    assert answer.status_code == 500
    server, model = server_and_model_spans(collector.spans_of(traced, trace_id), parent)
    assert server["status"]["code"] == STATUS_ERROR and model["status"]["code"] == STATUS_ERROR
    assert "the model crashed" in model["status"].get("message", "")
    assert int(attributes(server)["http.response.status_code"]) == 500


def test_seldons_jaeger_settings_are_named_in_a_warning_when_no_otlp_endpoint_is_set(start, traced):
    model = start("model", env={"TRACING": "1", "GUNICORN_WORKERS": "1", **JAEGER})
    logs = model.logs_once_they_show(UNREAD_JAEGER)
    warned = [line for line in logs.splitlines() if UNREAD_JAEGER in line]
    assert len(warned) == 1 and "WARN" in warned[0], logs
    assert UNREAD_JAEGER not in traced.logs(), "warned though OTEL_EXPORTER_OTLP_ENDPOINT is set"


def test_spans_go_over_otlp_grpc_too(start, collector):
    model = start("model", env=traced_env(collector.grpc, OTEL_EXPORTER_OTLP_PROTOCOL="grpc"))
    trace_id, parent = new_ids()
    headers = {"traceparent": f"00-{trace_id}-{parent}-01"}
    assert requests.post(f"{model.http}/api/v1.0/predictions", json=ROW, headers=headers, timeout=10).ok
    server_and_model_spans(collector.spans_of(model, trace_id), parent)


def test_a_collector_that_is_not_there_costs_spans_counted_never_requests(start, collector):
    gone = f"http://{collector.http.split('//')[1].split(':')[0]}:{free_port()}"  # nothing listens there
    model = start("model", env=traced_env(gone))
    began = time.monotonic()
    for _ in range(5):
        assert requests.post(f"{model.http}/api/v1.0/predictions", json=ROW, timeout=10).ok
    assert time.monotonic() - began < 5
    # The exporter retries for its timeout (OTEL_EXPORTER_OTLP_TIMEOUT, 10 s) before giving a batch up.
    deadline = time.monotonic() + 40
    while metric_value(metrics_text(model), "seldon_tracing_spans_dropped_total") < 2:
        assert time.monotonic() < deadline, f"no spans counted as dropped: {model.logs()[-2000:]}"
        time.sleep(0.5)
    assert "dropped" in model.logs()


def test_without_tracing_nothing_is_sent_and_no_counter_is_shown(start, collector):
    model = start("model", env={"GUNICORN_WORKERS": "1"})
    trace_id, parent = new_ids()
    headers = {"traceparent": f"00-{trace_id}-{parent}-01"}
    assert requests.post(f"{model.http}/api/v1.0/predictions", json=ROW, headers=headers, timeout=10).ok
    assert "seldon_tracing_spans_dropped" not in metrics_text(model)
    time.sleep(1)
    assert collector.trace(trace_id, 1, timeout=0) == []
