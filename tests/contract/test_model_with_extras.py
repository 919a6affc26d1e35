"""The `model-with-extras` sample: class names, tags, metrics (echoed and in Prometheus),
init_metadata + MODEL_METADATA, custom health, and user exceptions over REST and gRPC.

Its behaviour: identity; names first/second; tags {"model": "extras", "calls": <n>}; metrics
COUNTER extras_calls 1, GAUGE extras_last_calls <n> (tag kind=gauge), TIMER extras_predict_ms;
jsonData {"fail": "refuse"} -> 422 via the wrapper's exception, {"fail": "crash"} -> a plain
exception; health_status -> [[<calls>]].
"""

from __future__ import annotations

import concurrent.futures
import time

import grpc
import pytest
import requests
from google.protobuf import empty_pb2

from contract_client import (
    ROW,
    metric_value,
    metrics_text,
    ok_json,
    pb,
    post,
    rpc,
    rpc_error,
    seldon_error,
    to_dict,
    to_proto,
)

OVERRIDE = "name: from-env\ncustom:\n  owner: platform-team\n"


@pytest.fixture(scope="module")
def model(start):
    # One worker: the sample's call counter is per process.
    return start("model-with-extras", env={"GUNICORN_WORKERS": "1", "PREDICTIVE_UNIT_ID": "extras-unit"})


def test_class_names_tags_and_metrics_are_in_the_response(model):
    reply = ok_json(post(model, "/predict", {**ROW, "meta": {"puid": "x", "tags": {"caller": "test", "model": "old"}}}))
    assert reply["data"]["names"] == ["first", "second"]
    tags = reply["meta"]["tags"]
    assert tags["caller"] == "test" and tags["model"] == "extras" and tags["calls"] >= 1  # user tags win
    metrics = {m["key"]: m for m in reply["meta"]["metrics"]}
    assert metrics["extras_calls"]["type"] == "COUNTER" and metrics["extras_calls"]["value"] == 1
    assert metrics["extras_last_calls"] == {
        "key": "extras_last_calls",
        "type": "GAUGE",
        "value": tags["calls"],
        "tags": {"kind": "gauge"},
    }
    assert metrics["extras_predict_ms"]["type"] == "TIMER"


def test_user_metrics_reach_prometheus_and_health_probes_do_not_count(model):
    ok_json(post(model, "/predict", ROW))  # the model's metrics exist from its first call on
    before = metric_value(metrics_text(model), "extras_calls_total", model_name="extras-unit")
    for _ in range(3):
        requests.get(f"{model.http}/health/status", timeout=5)
        requests.get(f"{model.http}/health/ping", timeout=5)
    assert metric_value(metrics_text(model), "extras_calls_total") == before
    for _ in range(2):
        ok_json(post(model, "/predict", ROW))
    text = metrics_text(model)
    assert metric_value(text, "extras_calls_total", model_name="extras-unit") == before + 2
    assert metric_value(text, "extras_last_calls", kind="gauge") >= 2
    assert metric_value(text, "extras_predict_ms_count") >= 2


def test_feedback_rewards_are_counted_including_zero(model):
    text = metrics_text(model)
    count = metric_value(text, "seldon_api_model_feedback_total")
    reward = metric_value(text, "seldon_api_model_feedback_reward_total")
    for value in (0, 2.5):
        ok_json(post(model, "/api/v1.0/feedback", {"request": ROW, "reward": value}))
    text = metrics_text(model)
    assert metric_value(text, "seldon_api_model_feedback_total") == count + 2
    assert metric_value(text, "seldon_api_model_feedback_reward_total") == reward + 2.5


def test_custom_health_status(model):
    """health_status()'s answer, encoded as Seldon does for a request without data: numbers as a tensor."""
    reply = ok_json(requests.get(f"{model.http}/health/status", timeout=5))
    assert reply["data"]["tensor"]["shape"] == [1, 1] and reply["data"]["tensor"]["values"][0] >= 0


def test_init_metadata_is_served_over_rest_and_grpc(model):
    meta = ok_json(requests.get(f"{model.http}/metadata", timeout=5))
    assert meta["name"] == "extras-model" and meta["versions"] == ["extras/v1"] and meta["platform"] == "seldon"
    assert meta["inputs"][0]["schema"]["names"] == ["a", "b"] and meta["custom"] == {"author": "tests"}
    grpc_meta = rpc(model, "Model", "Metadata", empty_pb2.Empty())
    assert grpc_meta.name == "extras-model" and list(grpc_meta.versions) == ["extras/v1"]
    assert grpc_meta.inputs[0].messagetype == "ndarray" and dict(grpc_meta.custom) == {"author": "tests"}
    assert rpc(model, "Seldon", "ModelMetadata", pb.SeldonModelMetadataRequest(name="x")).name == "extras-model"


def test_model_metadata_environment_overrides_init_metadata(start):
    model = start("model-with-extras", env={"MODEL_METADATA": OVERRIDE})
    meta = ok_json(requests.get(f"{model.http}/metadata", timeout=5))
    assert meta["name"] == "from-env" and meta["custom"] == {"owner": "platform-team"}
    assert meta["versions"] == ["extras/v1"]  # what MODEL_METADATA leaves out comes from init_metadata


def test_user_exceptions_choose_the_status_and_crashes_are_500(model):
    refused = post(model, "/predict", {"jsonData": {"fail": "refuse"}})
    assert seldon_error(refused, 422, "MICROSERVICE_BAD_DATA") == "refusing this input"
    crashed = post(model, "/predict", {"jsonData": {"fail": "crash"}})
    assert "ValueError: the model crashed" in seldon_error(crashed, 500, "MICROSERVICE_INTERNAL_ERROR")
    assert ok_json(post(model, "/predict", ROW))  # and the worker still serves


def test_grpc_maps_user_exceptions_to_status_codes(model):
    refused = rpc_error(model, "Model", "Predict", to_proto({"jsonData": {"fail": "refuse"}}))
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT and refused.details() == "refusing this input"
    crashed = rpc_error(model, "Model", "Predict", to_proto({"jsonData": {"fail": "crash"}}))
    assert crashed.code() == grpc.StatusCode.INTERNAL and "the model crashed" in crashed.details()


@pytest.mark.parametrize("protocol", ["REST", "gRPC"])
def test_sigterm_lets_requests_in_progress_finish_then_exits_0(start, protocol):
    model = start("model-with-extras")
    slow = {"jsonData": {"sleep": 2}, "meta": {"puid": "slow"}}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        if protocol == "REST":
            pending = pool.submit(lambda: post(model, "/predict", slow).json())
        else:
            pending = pool.submit(lambda: to_dict(rpc(model, "Model", "Predict", to_proto(slow))))
        time.sleep(0.7)  # the call is inside predict now
        model.container.kill(signal="SIGTERM")
        reply = pending.result(timeout=30)
    assert reply["meta"]["puid"] == "slow" and reply["jsonData"] == {"sleep": 2}
    assert model.container.wait(timeout=30)["StatusCode"] == 0


def test_sigterm_under_load_finishes_every_call_in_progress_and_fails_none(start):
    """Fast calls from several threads and slow calls in progress when SIGTERM comes: each slow
    call is answered, no call gets a 5xx (new connections are refused once draining starts, as
    the pod leaves its Service), and the server exits 0."""
    model = start("model-with-extras")
    stop_at = time.monotonic() + 30
    statuses: list[int] = []

    def fast_calls() -> None:
        while time.monotonic() < stop_at:
            try:
                statuses.append(post(model, "/predict", ROW).status_code)
            except requests.ConnectionError:
                return  # draining: the server no longer takes connections

    slow = {"jsonData": {"sleep": 3}}
    # The slow REST calls go on connections the server has already taken (one call each first):
    # a connection still waiting in the listen backlog when draining starts is refused by design,
    # and with one worker busy in predict, a new one could still be waiting there.
    slow_sessions = [requests.Session() for _ in range(2)]
    for session in slow_sessions:
        session.post(f"{model.http}/predict", json=ROW, timeout=10).raise_for_status()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        load = [pool.submit(fast_calls) for _ in range(4)]
        time.sleep(1.0)
        url = f"{model.http}/predict"
        pending = [pool.submit(session.post, url, json=slow, timeout=30) for session in slow_sessions]
        pending.append(pool.submit(lambda: to_dict(rpc(model, "Model", "Predict", to_proto(slow)))))
        # The slow calls are inside predict now (with margin: tests share the CPUs), the fast ones
        # keep coming.
        time.sleep(1.5)
        model.container.kill(signal="SIGTERM")
        answers = [call.result(timeout=30) for call in pending]
        for worker in load:
            worker.result(timeout=40)
    assert [answer.status_code for answer in answers[:2]] == [200, 200]
    assert answers[2]["jsonData"] == {"sleep": 3}
    assert len(statuses) > 50 and set(statuses) == {200}, sorted(set(statuses))
    assert model.container.wait(timeout=30)["StatusCode"] == 0
