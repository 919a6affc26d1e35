"""SeldonMessage answers written straight to bytes (seldon_serve.seldon_wire) against the
message protobuf builds of them (grpc_server.to_proto, serialized): the same bytes whenever
the fast path writes an answer, and the common answers written by it."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seldon_serve import grpc_server, payload, seldon_wire
from seldon_serve.errors import SeldonMicroserviceException

PUID = payload.new_puid()
COMMON = [
    {"data": {"names": ["t:0", "t:1", "t:2", "t:3"], "ndarray": [[1.0, 2.0, 3.0, 4.0]]}, "meta": {"puid": PUID}},
    {"data": {"names": [], "ndarray": [1.5, -0.0, 1e300]}, "meta": {"puid": PUID}},
    {"data": {"names": ["a"], "ndarray": [["x", None, True, [1, 2]]]}, "meta": {"puid": PUID}},
    {"data": {"names": [], "ndarray": []}, "meta": {"puid": PUID}},
    {"data": {"ndarray": [[float(i)] * 130 for i in range(9)]}},  # two-byte varints, numpy's encoding
    {"data": {"names": ["é" * 200], "tensor": {"shape": [2, 2], "values": [1.0, 2.0, math.inf, -0.0]}}, "meta": {}},
    {"data": {"names": [], "tensor": {"shape": [1, 300, 0], "values": [0.5] * 300}}, "meta": {"puid": "x" * 300}},
]
OTHERS = [
    {"data": {"names": [], "ndarray": [[1.0]]}, "meta": {"puid": PUID, "tags": {"a": 1}}},  # tags
    {"data": {"names": [], "ndarray": [[1.0]]}, "meta": {"puid": ""}},  # to_proto marks meta present
    {"data": {"names": [1, 2], "ndarray": [[1.0, 2.0]]}},  # protobuf refuses the names
    {"data": {"names": [[1]], "ndarray": [[1.0]]}},  # not even hashable
    {"data": {"ndarray": [[1.0]], "tensor": {"shape": [1], "values": [1.0]}}},  # both kinds
    {"data": {"names": ["a"]}},  # neither
    {"data": {"tensor": {"shape": [-1], "values": [1.0]}}},
    {"data": {"tensor": {"shape": [1], "values": [1]}}},  # an int: protobuf's conversion
    {"data": {"tensor": {"shape": [], "values": []}}},
    {"data": {"ndarray": [10**400]}},  # too large for a double
    {"data": {"ndarray": [{"a": 1}]}},  # a struct: json_format's rules
    {"jsonData": {"a": 1}, "meta": {"puid": PUID}},
    {"strData": "text"},
]


def serialized(message: dict[str, Any]) -> bytes | Exception:
    try:
        return grpc_server.to_proto(message).SerializeToString()
    except SeldonMicroserviceException as exc:
        return exc


@pytest.mark.parametrize("message", COMMON, ids=range(len(COMMON)))
def test_the_common_answers_are_written_as_protobuf_serializes_them(message):
    written = seldon_wire.answer(message)
    assert written is not None and written == serialized(message)
    assert seldon_wire.answer(message) == written  # its names, now kept, written alike


@pytest.mark.parametrize("message", OTHERS, ids=range(len(OTHERS)))
def test_any_other_answer_is_left_to_protobuf(message):
    assert seldon_wire.answer(message) is None


def test_reply_bytes_answers_either_way_with_protobufs_bytes_or_its_error():
    for message in COMMON + OTHERS:
        expected = serialized(message)
        if isinstance(expected, Exception):
            with pytest.raises(SeldonMicroserviceException, match=str(expected)):
                grpc_server.reply_bytes(message)
        else:
            assert grpc_server.reply_bytes(message) == expected


numbers = st.one_of(st.floats(), st.floats(allow_nan=False), st.integers(min_value=-(2**70), max_value=2**70))
scalars = st.one_of(numbers, st.booleans(), st.none(), st.text(max_size=5))
nested = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=20)
rows = st.integers(1, 9).flatmap(lambda n: st.lists(st.lists(st.floats(), min_size=n, max_size=n), max_size=12))
names = st.one_of(st.lists(st.text(max_size=4), max_size=4), st.lists(st.one_of(st.text(), st.integers()), max_size=2))
sizes = st.one_of(st.integers(0, 300), st.sampled_from([-1, 2**31 - 1, 2**31, True]))  # int32, as protobuf checks
values = st.one_of(st.lists(st.floats(), min_size=1, max_size=5), st.lists(numbers, max_size=3))
tensors = st.fixed_dictionaries({"shape": st.lists(sizes, max_size=3), "values": values})
# Shaped like a model's answer (payload.encode's), with what protobuf refuses or treats apart
# mixed in; and dicts of anything.
kinds = st.one_of(
    st.fixed_dictionaries({"names": names, "ndarray": st.one_of(rows, st.lists(nested, max_size=5))}),
    st.fixed_dictionaries({"names": names, "tensor": tensors}),
)
metas = st.one_of(st.fixed_dictionaries({"puid": st.text(max_size=40)}), st.just({}), st.none())
answers = st.fixed_dictionaries({"data": kinds}, optional={"meta": metas})
datas = st.dictionaries(
    st.sampled_from(["names", "ndarray", "tensor", "tftensor"]),
    st.one_of(names, st.lists(nested, max_size=5), tensors, st.none()),
    max_size=3,
)
anything = st.dictionaries(st.sampled_from(["data", "meta", "strData"]), st.one_of(datas, st.text()), max_size=3)


@settings(max_examples=500, deadline=None)
@given(st.one_of(answers, anything))
def test_whatever_the_fast_path_writes_is_what_protobuf_serializes(message):
    written = seldon_wire.answer(message)
    if written is not None:
        assert written == serialized(message)
