"""The `raw-model` sample: predict_raw gets the whole message, over REST and gRPC alike (as the
language hands it over: Python, like Seldon's wrapper, gets the protobuf over gRPC).

Its behaviour: answers jsonData {"received": sorted top-level keys, "names": data.names} with
the request's puid.
"""

from __future__ import annotations

import pytest

from contract_client import ENCODINGS, ok_json, post, rpc, to_dict, to_proto

REQUEST = {"meta": {"puid": "raw-1"}, "data": {"names": ["a", "b"], "ndarray": [[1, 2]]}}


@pytest.fixture(scope="module")
def model(start):
    return start("raw-model")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_predict_raw_receives_the_whole_message_over_rest(model, encoding):
    reply = ok_json(post(model, "/api/v1.0/predictions", REQUEST, encoding))
    assert reply == {"jsonData": {"received": ["data", "meta"], "names": ["a", "b"]}, "meta": {"puid": "raw-1"}}


def test_predict_raw_receives_the_same_message_over_grpc(model):
    reply = to_dict(rpc(model, "Model", "Predict", to_proto(REQUEST)))
    assert reply["jsonData"] == {"received": ["data", "meta"], "names": ["a", "b"]}
    assert reply["meta"]["puid"] == "raw-1"
