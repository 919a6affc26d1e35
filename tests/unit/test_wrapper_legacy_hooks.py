"""seldon_serve.legacy_hooks: Seldon's <verb>_rest and <verb>_grpc hooks, ordered as its wrapper
orders them (the differential suite compares the served answers with Seldon's own)."""

from __future__ import annotations

import pytest

from seldon_serve import check, legacy_hooks
from seldon_serve.proto import prediction_pb2 as pb
from seldon_serve.user_model import SeldonNotImplementedError


class Legacy:
    def predict_grpc(self, message):
        return "grpc"

    def predict_raw(self, message):
        return "raw"

    def transform_input_grpc(self, message):
        return "grpc"

    def transform_input_rest(self, message):
        return "rest"

    def send_feedback_rest(self, text):
        return text


def attr(model):
    return lambda name: getattr(model, name, None)


def test_predict_takes_each_transport_to_its_own_hook_and_the_rest_to_predict_raw():
    hook = legacy_hooks.raw_hook("predict", attr(Legacy()))
    assert hook(pb.SeldonMessage(strData="x")) == "grpc"
    assert hook({"strData": "x"}) == "raw"  # no predict_rest: REST goes on to predict_raw


def test_predict_with_no_hook_for_a_transport_is_absent_for_it():
    class GrpcOnly:
        def predict_grpc(self, message):
            return "grpc"

    hook = legacy_hooks.raw_hook("predict", attr(GrpcOnly()))
    with pytest.raises(SeldonNotImplementedError):
        hook({"strData": "x"})


def test_another_verbs_rest_hook_comes_first_for_both_transports():
    hook = legacy_hooks.raw_hook("transform_input", attr(Legacy()))
    assert hook(pb.SeldonMessage()) == "rest" and hook({}) == "rest"
    assert legacy_hooks.raw_hook("route", attr(Legacy())) is None


def test_send_feedback_rest_takes_the_feedback_as_json_text():
    hook = legacy_hooks.raw_hook("send_feedback", attr(Legacy()))
    assert '"reward": 1.0' in hook(pb.Feedback(reward=1.0))


def test_the_legacy_hooks_are_named_and_satisfy_the_build_check():
    assert legacy_hooks.found(("predict", "transform_input"), attr(Legacy())) == [
        "predict_grpc", "transform_input_rest", "transform_input_grpc",
    ]  # fmt: skip

    class OldModel:
        def predict_rest(self, message):
            return message

    assert check.problems(OldModel, "MODEL") == []
    refused = check.problems(type("Empty", (), {}), "MODEL")
    assert refused == ["a MODEL must define predict or predict_raw; Empty defines neither"]
