"""Faults in the user's model, in every family, with the `model-with-extras` sample: a call
that runs past REQUEST_TIMEOUT_SECONDS, a worker that dies while serving, a model that leaks
until the container's memory limit.

What a dead worker leads to depends on how the family serves. Where the server runs its workers
as processes under a supervisor (it exports seldon_api_worker_restarts_total from the start),
the dead one is replaced and counted while the others answer. Where the model runs in the
server's only process (the JVM), that process ends non-zero and Kubernetes starts the container
again. Never a server left half alive: listening, but with nothing behind it to answer.
"""

from __future__ import annotations

import time

import grpc
import requests

from contract_client import ROW, metric_value, metrics_text, ok_json, post, rpc_error, seldon_error, to_proto
from harness import RunningModel

RESTARTS = "seldon_api_worker_restarts_total"
# The memory the leaking model runs in, and what it keeps per call: the limit is met in a few
# calls, and every family's server starts well inside it.
MEMORY_LIMIT = "640m"
LEAK_MIB = 48


def supervised(model: RunningModel) -> bool:
    return RESTARTS in metrics_text(model)


def test_a_call_past_request_timeout_seconds_answers_504_and_the_worker_serves_on(start):
    model = start("model-with-extras", env={"REQUEST_TIMEOUT_SECONDS": "2"})
    slow = {"jsonData": {"sleep": 30}}
    began = time.monotonic()
    info = seldon_error(post(model, "/predict", slow), 504, "MICROSERVICE_INTERNAL_ERROR")
    assert "REQUEST_TIMEOUT_SECONDS" in info
    assert time.monotonic() - began < 5, "answered after the limit, not at it"
    began = time.monotonic()
    late = rpc_error(model, "Model", "Predict", to_proto(slow))
    assert late.code() == grpc.StatusCode.DEADLINE_EXCEEDED and "REQUEST_TIMEOUT_SECONDS" in late.details()
    assert time.monotonic() - began < 5
    assert ok_json(post(model, "/predict", ROW))["data"]["ndarray"] == [[1, 2]]
    assert requests.get(f"{model.http}/health/ping", timeout=5).text == "pong"


def call_until_it_fails(model: RunningModel, body: dict, attempts: int) -> None:
    """Send `body` until a call gets no answer or a 5xx: the fault took the worker down.

    The calls share one connection, so where workers share the port they all reach one worker:
    a leak spread over two would leave the survivor holding so much that its replacement starts
    next to the limit, where the kernel reclaims page cache for a minute rather than kill."""
    with requests.Session() as connection:
        for _ in range(attempts):
            try:
                if post(model, "/predict", body, client=connection).status_code >= 500:
                    return
            except requests.RequestException:
                return
    raise AssertionError(f"{attempts} calls of {body} and the server still answers")


def check_recovery(model: RunningModel, *, supervised: bool, cause: str) -> None:
    """Supervised: the worker is replaced, counted, and the model answers again. Otherwise the
    container ends non-zero, for Kubernetes to restart. `cause`: what must be said, in the logs
    or (unsupervised) by the container's exit status."""
    if not supervised:
        status = model.container.wait(timeout=60)["StatusCode"]
        ending = f"exit status {status}\n{model.logs()}"
        assert status != 0 and cause in ending, ending
        return
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if post(model, "/predict", ROW).status_code == 200 and metric_value(metrics_text(model), RESTARTS) >= 1:
                break
        except requests.RequestException:
            pass
        time.sleep(0.5)
    else:
        raise AssertionError(f"no worker replaced and serving within 60 s:\n{model.logs()}")
    model.container.reload()
    assert model.container.status == "running"
    # The supervisor logs the death before it counts the restart: the line may trail the metric.
    logs = model.logs_once_they_show("died while serving")
    assert "died while serving" in logs and cause in logs, logs
    assert requests.get(f"{model.http}/health/ping", timeout=5).text == "pong"


def test_a_worker_that_dies_while_serving_is_replaced_or_the_container_exits_non_zero(start):
    model = start("model-with-extras", env={"GUNICORN_WORKERS": "2"})
    is_supervised = supervised(model)
    call_until_it_fails(model, {"jsonData": {"fail": "exit"}}, attempts=1)
    check_recovery(model, supervised=is_supervised, cause="exit status 3")


def test_a_model_that_leaks_meets_the_memory_limit_and_is_replaced_or_exits_non_zero(start):
    model = start("model-with-extras", env={"GUNICORN_WORKERS": "2"}, mem_limit=MEMORY_LIMIT)
    is_supervised = supervised(model)
    call_until_it_fails(model, {"jsonData": {"leak": LEAK_MIB}}, attempts=40)
    check_recovery(model, supervised=is_supervised, cause="killed by SIGKILL" if is_supervised else "OutOfMemoryError")
