"""The `combiner` sample: the element-wise mean of its children's outputs."""

from __future__ import annotations

import grpc
import pytest

from contract_client import ENCODINGS, ok_json, pb, post, rpc, rpc_error, seldon_error, to_dict, to_proto

CHILDREN = [
    {"meta": {"puid": "p1", "tags": {"a": 1}}, "data": {"names": ["x", "y"], "ndarray": [[1.0, 2.0]]}},
    {"meta": {"puid": "p1", "tags": {"b": 2}}, "data": {"names": ["x", "y"], "ndarray": [[3.0, 6.0]]}},
]


@pytest.fixture(scope="module")
def combiner(start):
    return start("combiner")


# A multipart `json` part carries one message object, so the bare list goes every other way.
SHAPES_AND_ENCODINGS = [("seldonMessages", e) for e in ENCODINGS] + [
    ("bare-list", e) for e in ENCODINGS if e != "multipart-json"
]


@pytest.mark.parametrize(("shape", "encoding"), SHAPES_AND_ENCODINGS)
def test_aggregate_averages_the_children(combiner, shape, encoding):
    body = {"seldonMessages": CHILDREN} if shape == "seldonMessages" else CHILDREN
    reply = ok_json(post(combiner, "/aggregate", body, encoding))
    assert reply["data"]["ndarray"] == [[2.0, 4.0]]
    assert reply["meta"]["puid"] == "p1" and reply["meta"]["tags"] == {"a": 1, "b": 2}


def test_aggregate_keeps_the_tensor_kind(combiner):
    children = [{"data": {"tensor": {"shape": [1, 2], "values": v}}} for v in ([0, 10], [10, 20])]
    reply = ok_json(post(combiner, "/aggregate", {"seldonMessages": children}))
    assert reply["data"]["tensor"] == {"shape": [1, 2], "values": [5.0, 15.0]}


def test_aggregate_over_grpc(combiner):
    request = pb.SeldonMessageList(seldonMessages=[to_proto(m) for m in CHILDREN])
    for service in ("Combiner", "Generic"):
        reply = to_dict(rpc(combiner, service, "Aggregate", request))
        assert reply["data"]["ndarray"] == [[2.0, 4.0]]


def test_aggregate_refuses_what_is_not_a_list_of_messages(combiner):
    for body in ({"seldonMessages": []}, {"data": {"ndarray": [[1]]}}, []):
        seldon_error(post(combiner, "/aggregate", body), 400, "MICROSERVICE_BAD_DATA")
    assert (
        rpc_error(combiner, "Combiner", "Aggregate", pb.SeldonMessageList()).code() == grpc.StatusCode.INVALID_ARGUMENT
    )


def test_a_combiner_answers_predict_with_seldons_empty_result(combiner):
    """Deployed in another role, a class without predict answers an empty result, as in Seldon."""
    assert ok_json(post(combiner, "/predict", CHILDREN[0]))["data"] == {"names": [], "ndarray": []}
