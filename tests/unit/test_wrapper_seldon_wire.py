"""SeldonMessage answers written straight to bytes (seldon_serve.seldon_wire) against the
message protobuf builds of them (grpc_server.to_proto, serialized): the same bytes whenever
the fast path writes an answer, and the common answers written by it. And the commonest
requests read straight from their bytes against the request protobuf decodes
(grpc_server.ProtoIncoming): the same names, features and meta, or protobuf's own error."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from google.protobuf.message import DecodeError
from hypothesis import given, settings
from hypothesis import strategies as st

from seldon_serve import grpc_server, payload, seldon_wire
from seldon_serve.errors import SeldonMicroserviceException
from seldon_serve.proto import prediction_pb2 as pb

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


# ---- requests ----------------------------------------------------------------------------------


def request_of(message: dict[str, Any]) -> bytes:
    return grpc_server.to_proto(message).SerializeToString()


def decoded(body: bytes, decode: Any = grpc_server.SeldonRequest.FromString) -> Any:
    """What a verb's request comes to (kind, features, names, meta), or the type of the
    exception decoding it raised: as the verbs decode it (the wire path, else protobuf), or
    with another decode (protobufs)."""
    try:
        request = decode(body).request()
    except Exception as exc:
        return type(exc)
    return request.kind, request.features, request.names, request.meta


def protobufs(body: bytes) -> Any:
    return decoded(body, lambda body: grpc_server.ProtoIncoming(pb.SeldonMessage.FromString(body)))


def assert_same(found: Any, expected: Any) -> None:
    if isinstance(expected, type):
        assert found is expected
        return
    assert found[0] == expected[0] and found[2] == expected[2] and found[3] == expected[3]
    assert type(found[1]) is type(expected[1])
    if hasattr(expected[1], "dtype"):
        assert found[1].dtype == expected[1].dtype and found[1].shape == expected[1].shape
        if expected[1].dtype == object:  # ragged rows: Python values (repr: NaN equals NaN)
            assert repr(found[1].tolist()) == repr(expected[1].tolist())
        else:
            assert found[1].tobytes() == expected[1].tobytes()  # -0.0 and subnormals too
    else:
        assert found[1] == expected[1]


REQUESTS = [
    {"data": {"names": ["a", "b", "c", "d"], "ndarray": [[1.0, 2.0, 3.0, 4.0]]}},
    {"data": {"ndarray": [1.5, -0.0, 5e-324]}},
    {"data": {"names": ["é" * 200, ""], "ndarray": [[float(i)] * 130 for i in range(70)]}},  # long varints, many
]
NOT_READ = [
    {"data": {"names": ["a"], "ndarray": [[1.0, 2.0], [3.0]]}},  # ragged
    {"data": {"names": ["a"], "ndarray": [["x", 1.0]]}},
    {"data": {"names": ["a"], "ndarray": []}},
    {"data": {"ndarray": [[1.0]]}, "meta": {"puid": "p"}},  # a meta
    {"data": {"tensor": {"shape": [1], "values": [1.0]}}},
    {"jsonData": {"a": 1}},
]


@pytest.mark.parametrize("message", REQUESTS, ids=range(len(REQUESTS)))
def test_the_commonest_requests_are_read_from_their_bytes_as_protobuf_decodes_them(message):
    body = request_of(message)
    assert isinstance(grpc_server.SeldonRequest.FromString(body), grpc_server.WireIncoming)
    assert_same(decoded(body), protobufs(body))


@pytest.mark.parametrize("message", NOT_READ, ids=range(len(NOT_READ)))
def test_any_other_request_is_left_to_protobuf(message):
    body = request_of(message)
    assert seldon_wire.request(body) is None
    assert_same(decoded(body), protobufs(body))


def test_a_read_request_gives_a_raw_method_the_message_protobuf_decodes():
    body = request_of(REQUESTS[0])
    incoming = grpc_server.SeldonRequest.FromString(body)
    assert incoming.proto() == pb.SeldonMessage.FromString(body)
    assert incoming.message() == {"data": {"names": ["a", "b", "c", "d"], "ndarray": [[1.0, 2.0, 3.0, 4.0]]}}


def test_a_request_laid_out_as_the_last_is_read_with_one_check_of_its_bytes():
    first = request_of({"data": {"names": ["a", "b"], "ndarray": [[1.0, 2.0], [3.0, 4.0]]}})
    assert_same(decoded(first), protobufs(first))
    assert seldon_wire._known is not None and seldon_wire._known[1].size == len(first)
    others = [
        {"data": {"names": ["a", "b"], "ndarray": [[5.0, -0.0], [7.0, 5e-324]]}},  # the same but for the numbers
        {"data": {"names": ["a", "c"], "ndarray": [[5.0, 6.0], [7.0, 8.0]]}},  # a name, the same length
        {"data": {"names": ["ab"], "ndarray": [[5.0, 6.0], [7.0, 8.0]]}},  # the names' run, the same length
        {"data": {"names": ["a", "b"], "ndarray": [[5.0, 6.0], [7.0, math.inf]]}},  # not read here
        {"data": {"names": ["a", "b"], "ndarray": [[5.0, 6.0, 7.0]]}},  # another layout
    ]
    for message in others:
        body = request_of(message)
        assert_same(decoded(body), protobufs(body))
    names, features = seldon_wire.request(request_of(others[0]))
    assert names == ["a", "b"] and features.tobytes() == np.array([[5.0, -0.0], [7.0, 5e-324]]).tobytes()


def test_bytes_protobuf_refuses_get_its_error():
    body = request_of({"data": {"names": ["a"], "ndarray": [[1.0]]}})
    bad_utf8 = body.replace(b"\x01a", b"\x01\xff")
    for broken in (bad_utf8, body[:-1], body + b"\x1a"):
        assert decoded(broken) is DecodeError and protobufs(broken) is DecodeError


def test_layouts_protobuf_reads_otherwise_are_left_to_it():
    one_zero = b"\x0a\x09\x11" + bytes(8)  # a number 0.0 in a ListValue; also a 9-byte name
    ndarray_first = b"\x1a\x0b" + one_zero + one_zero  # then a name that reads like a number
    short_data = request_of({"data": {"names": ["a"], "ndarray": [[1.0]]}})
    short_data = short_data[:1] + bytes([short_data[1] - 1]) + short_data[2:]  # data ends inside ndarray
    for body in (b"\x1a" + bytes([len(ndarray_first)]) + ndarray_first, short_data):
        assert_same(decoded(body), protobufs(body))


requests = st.fixed_dictionaries(
    {"data": st.fixed_dictionaries({"names": names, "ndarray": st.one_of(rows, st.lists(nested, max_size=5))})},
    optional={"meta": metas},
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(requests, answers), st.data())
def test_whatever_the_wire_path_reads_is_what_protobuf_decodes(message, data):
    try:
        body = request_of(message)
    except SeldonMicroserviceException:
        return  # not a message protobuf can write
    # Then the same bytes cut, spliced or with a byte changed: a broken or unusual layout.
    if body and data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(body) - 1))
        edit = data.draw(st.sampled_from(["cut", "byte", "insert"]))
        byte = bytes([data.draw(st.integers(0, 255))])
        edited = {"cut": body[:at], "byte": body[:at] + byte + body[at + 1 :], "insert": body[:at] + byte + body[at:]}
        body = edited[edit]
    assert_same(decoded(body), protobufs(body))
