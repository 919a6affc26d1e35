"""The `router` sample: an epsilon-greedy bandit (epsilon as a parameter) learning from feedback.

Its behaviour: route -> the child with the best mean reward (ties -> 0); send_feedback with
the routing Seldon recorded for this unit credits that child; names containing "misbehave"
make route return a string.
"""

from __future__ import annotations

import grpc
import pytest

from contract_client import (
    ENCODINGS,
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

UNIT = "bandit"
ROW = {"data": {"names": ["x"], "ndarray": [[1.0]]}}
GREEDY = '[{"name": "epsilon", "value": "0", "type": "FLOAT"}, {"name": "n_branches", "value": "2", "type": "INT"}]'


@pytest.fixture(scope="module")
def router(start):
    env = {"GUNICORN_WORKERS": "1", "PREDICTIVE_UNIT_ID": UNIT, "PREDICTIVE_UNIT_PARAMETERS": GREEDY}
    return start("router", env=env)


def route(router, encoding="json-body") -> int:
    reply = ok_json(post(router, "/route", ROW, encoding))
    branch = reply["data"]["ndarray"]
    assert len(branch) == 1 and len(branch[0]) == 1
    return int(branch[0][0])


def feedback(router, branch: int, reward: float, encoding: str = "json-body") -> None:
    body = {"request": ROW, "response": {"meta": {"routing": {UNIT: branch}}, **ROW}, "reward": reward}
    ok_json(post(router, "/api/v1.0/feedback", body, encoding))


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_route_answers_a_child_index_over_every_encoding(router, encoding):
    assert route(router, encoding) in (0, 1)


def test_feedback_teaches_the_router(router):
    assert route(router) == 0
    for encoding in ENCODINGS:  # feedback in every encoding teaches it alike
        feedback(router, 1, 1.0, encoding)
        feedback(router, 0, 0.0, encoding)
    assert route(router) == 1
    for service in ("Router", "Generic"):
        assert to_dict(rpc(router, service, "Route", to_proto(ROW)))["data"]["ndarray"] == [[1.0]]


def test_feedback_over_grpc_is_counted(router):
    before = metric_value(metrics_text(router), "seldon_api_model_feedback_total")
    request = pb.Feedback(request=to_proto(ROW), response=to_proto({"meta": {"routing": {UNIT: 0}}, **ROW}), reward=0.0)
    rpc(router, "Router", "SendFeedback", request)
    assert metric_value(metrics_text(router), "seldon_api_model_feedback_total") == before + 1


def test_a_router_that_returns_a_non_int_is_an_internal_error(router):
    bad = {"data": {"names": ["misbehave"], "ndarray": [[1.0]]}}
    info = seldon_error(post(router, "/route", bad), 500, "MICROSERVICE_INTERNAL_ERROR")
    assert "route() must return an int" in info and "'the left one'" in info
    assert rpc_error(router, "Router", "Route", to_proto(bad)).code() == grpc.StatusCode.INTERNAL


def test_a_router_answers_every_verb_as_seldons_wrapper_does(router):
    """A class without predict answers it with an empty result; transforms are the identity."""
    assert ok_json(post(router, "/predict", ROW))["data"] == {"names": [], "ndarray": []}
    assert to_dict(rpc(router, "Model", "Predict", to_proto(ROW)))["data"] == {"ndarray": []}
    assert ok_json(post(router, "/transform-input", ROW))["data"]["ndarray"] == ROW["data"]["ndarray"]
