"""A model that cannot start says why in one line and exits non-zero, in every family: the same
`model` sample started with a setting that cannot work."""

from __future__ import annotations

import json
import time

import grpc
import pytest
import requests

from harness import remove_container, run_model, run_to_exit, wait_ready

MISTAKES = {
    "parameters-not-json": ({"PREDICTIVE_UNIT_PARAMETERS": "[{not json"}, "PREDICTIVE_UNIT_PARAMETERS"),
    "parameter-of-a-bad-type": (
        {"PREDICTIVE_UNIT_PARAMETERS": '[{"name": "x", "value": "abc", "type": "INT"}]'},
        "abc",
    ),
    "unknown-protocol": ({"PROTOCOL": "v3"}, "PROTOCOL"),
    "model-name-of-nothing": ({"MODEL_NAME": "NoSuchModel"}, "NoSuchModel"),
    "port-not-a-number": ({"PREDICTIVE_UNIT_HTTP_SERVICE_PORT": "ninety"}, "PREDICTIVE_UNIT_HTTP_SERVICE_PORT"),
}


@pytest.mark.parametrize("mistake", MISTAKES, ids=list(MISTAKES))
def test_a_setting_that_cannot_work_stops_start_up_with_one_clear_line(sample_image, docker_client, mistake):
    env, cause = MISTAKES[mistake]
    status, logs = run_to_exit(docker_client, sample_image("model"), env)
    assert status != 0, logs
    assert cause in logs, logs
    assert "Traceback" not in logs and "\tat " not in logs, logs
    lines_naming_it = [line for line in logs.splitlines() if cause in line]
    assert len(lines_naming_it) <= 2, logs  # the cause, and at most the setting echoed once


def load_seconds(seconds: float) -> str:
    return json.dumps([{"name": "load_seconds", "value": str(seconds), "type": "FLOAT"}])


def test_a_load_past_model_load_timeout_seconds_stops_start_up_with_one_line(sample_image, docker_client):
    env = {"PREDICTIVE_UNIT_PARAMETERS": load_seconds(300), "MODEL_LOAD_TIMEOUT_SECONDS": "3"}
    began = time.monotonic()
    status, logs = run_to_exit(docker_client, sample_image("model-with-extras"), env)
    assert status == 2, logs
    assert time.monotonic() - began < 45, "stopped long after the limit"
    lines = [line for line in logs.splitlines() if "MODEL_LOAD_TIMEOUT_SECONDS" in line]
    # One line, from each worker process still loading (the python family may run two here).
    assert 1 <= len(lines) <= 2 and "did not finish within 3 s" in lines[0], logs
    assert "Traceback" not in logs and "\tat " not in logs, logs


def test_a_slow_load_keeps_the_ports_closed_until_the_model_is_loaded(sample_image, docker_client):
    """Neither REST nor gRPC answers while the model loads -- a TCP readiness probe, Seldon's
    operator's default, must not pass then -- and both do once it is loaded."""
    env = {"PREDICTIVE_UNIT_PARAMETERS": load_seconds(6), "MODEL_LOAD_TIMEOUT_SECONDS": "60"}
    began = time.monotonic()
    model = run_model(docker_client, sample_image("model-with-extras"), env=env, wait=False)
    try:
        time.sleep(max(0.0, began + 3 - time.monotonic()))  # started, loading for 3 s more
        with pytest.raises(requests.RequestException):
            requests.get(f"{model.http}/health/ping", timeout=1)
        with grpc.insecure_channel(model.grpc) as channel, pytest.raises(grpc.FutureTimeoutError):
            grpc.channel_ready_future(channel).result(timeout=1)
        wait_ready(model)
        assert time.monotonic() - began >= 6, "answered before the model was loaded"
        assert requests.get(f"{model.http}/health/ping", timeout=5).text == "pong"
    finally:
        remove_container(model)
