"""seldon_serve.payload and .tftensor: decoding requests, mirroring responses."""

import base64
import os
import uuid

import numpy as np
import pytest
from google.protobuf import json_format

from seldon_serve import payload, tftensor
from seldon_serve.errors import BadRequest, SeldonMicroserviceException
from seldon_serve.proto import tf_tensor_pb2


def test_ndarray_request_gives_an_array_and_mirrors_as_ndarray():
    request = payload.decode({"data": {"names": ["a", "b"], "ndarray": [[1, 2], [3, 4]]}, "meta": {"puid": "p"}})
    assert request.kind == "ndarray" and request.names == ["a", "b"] and request.meta == {"puid": "p"}
    np.testing.assert_array_equal(request.features, [[1, 2], [3, 4]])
    response = payload.encode(request.features * 2, request, None, {"puid": "p"})
    assert response == {"data": {"names": ["t:0", "t:1"], "ndarray": [[2, 4], [6, 8]]}, "meta": {"puid": "p"}}


def test_tensor_request_mirrors_as_tensor_with_its_shape():
    request = payload.decode({"data": {"tensor": {"shape": [2, 3], "values": [1, 2, 3, 4, 5, 6]}}})
    assert request.features.shape == (2, 3)
    data = payload.encode(request.features[:, :2], request, ["x", "y"], {})["data"]
    assert data == {"names": ["x", "y"], "tensor": {"shape": [2, 2], "values": [1.0, 2.0, 4.0, 5.0]}}


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "bool", "float16"])
def test_tftensor_round_trips_through_its_proto3_json_form(dtype):
    array = (np.arange(6).reshape(2, 3) % 2 == 1) if dtype == "bool" else np.arange(6, dtype=dtype).reshape(2, 3)
    as_json = json_format.MessageToDict(tftensor.from_numpy(array))
    request = payload.decode({"data": {"tftensor": as_json}})
    assert request.kind == "tftensor" and request.features.dtype == array.dtype
    np.testing.assert_array_equal(request.features, array)
    # Seldon answers numbers in the request's kind and anything else (bool too) as ndarray.
    kind = "ndarray" if dtype == "bool" else "tftensor"
    assert kind in payload.encode(request.features, request, None, {})["data"]


def test_tftensor_typed_value_fields_and_broadcast_shorthand_decode():
    proto = tf_tensor_pb2.TensorProto(dtype=tf_tensor_pb2.DT_FLOAT)
    proto.tensor_shape.dim.add(size=2)
    proto.tensor_shape.dim.add(size=2)
    proto.float_val.append(7.0)  # TensorFlow's shorthand: one value fills the shape
    np.testing.assert_array_equal(tftensor.to_numpy(proto), np.full((2, 2), 7.0, dtype=np.float32))
    proto.float_val.extend([1.0, 2.0])
    with pytest.raises(BadRequest, match="holds 3 values but its shape"):
        tftensor.to_numpy(proto)


def test_json_str_and_bin_data_reach_user_code_as_python_values():
    assert payload.decode({"jsonData": {"k": [1]}}).features == {"k": [1]}
    assert payload.decode({"strData": "hello"}).features == "hello"
    raw = b"\x00\x01binary"
    request = payload.decode({"binData": base64.b64encode(raw).decode()})
    assert request.features == raw
    assert payload.encode(raw, request, None, {}) == {"binData": base64.b64encode(raw).decode(), "meta": {}}
    assert payload.encode({"a": 1}, request, None, {})["jsonData"] == {"a": 1}
    assert payload.encode("text", request, None, {})["strData"] == "text"


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ([1, 2], "must be a JSON object"),
        ({}, "needs one of data, jsonData, strData or binData"),
        ({"data": {"ndarray": {"a": 1}}}, "data.ndarray must be a (nested) list or a scalar"),
        ({"data": {"tensor": {"shape": [3], "values": [1, 2]}}}, "do not fit shape [3]"),
        ({"data": {"tensor": {"shape": [2], "values": ["a", "b"]}}}, "do not fit shape"),
        ({"data": {"tftensor": {"dtype": "DT_NOPE"}}}, "not a TensorProto"),
        ({"binData": "***"}, "not valid base64"),
        ({"strData": 5}, "strData must be a string"),
        ({"meta": [], "strData": ""}, "meta must be a JSON object"),
    ],
)
def test_malformed_messages_are_bad_requests(message, error):
    with pytest.raises(BadRequest) as excinfo:
        payload.decode(message)
    assert error in excinfo.value.message
    assert excinfo.value.status_code == 400


def test_ragged_ndarray_is_kept_as_objects_not_refused():
    request = payload.decode({"data": {"ndarray": [[1, 2], [3]]}})
    assert request.features.dtype == object and request.features.tolist() == [[1, 2], [3]]


def test_response_meta_round_trips_puid_merges_tags_and_makes_up_a_missing_puid():
    meta = payload.response_meta({"puid": "abc", "tags": {"a": 1, "b": 1}}, {"b": 2}, [])
    assert meta == {"puid": "abc", "tags": {"a": 1, "b": 2}}
    made_up = payload.response_meta({}, {}, [])["puid"]
    assert len(made_up) == 32 and made_up != payload.response_meta({}, {}, [])["puid"]


def test_made_up_puids_are_uuid4_hex_and_unique_across_many_refills_of_the_random_pool():
    puids = [payload.new_puid() for _ in range(3 * payload._MadeUpIds.BATCH + 5)]
    assert len(set(puids)) == len(puids)
    for puid in puids[:300]:
        assert uuid.UUID(puid).version == 4 and uuid.UUID(puid).hex == puid


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forked workers are a POSIX thing")
def test_a_forked_worker_never_makes_up_the_puids_its_parent_will():
    payload.new_puid()  # the parent's pool now holds the bytes of its next ids
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's side
        os.write(write, b"".join(payload.new_puid().encode() for _ in range(4)))
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    theirs = os.read(read, 4 * 32)
    os.close(read)
    ours = [payload.new_puid() for _ in range(4)]
    assert {theirs[i : i + 32].decode() for i in range(0, 128, 32)}.isdisjoint(ours)


@pytest.mark.filterwarnings("ignore:Casting complex values")  # what a complex tensor is written as is not this test's
@pytest.mark.parametrize(
    "dtype", ["bool", "int8", "uint64", "float16", "float64", "complex64", "m8[s]", "M8[s]", "U3", "S3", "O", "V8"]
)
def test_numbers_by_dtype_kind_are_those_numpy_calls_numbers(dtype):
    request = payload.decode({"data": {"tensor": {"shape": [1], "values": [1]}}})
    array = np.zeros((1, 2), dtype=dtype)
    kind = "tensor" if np.issubdtype(array.dtype, np.number) else "ndarray"
    assert kind in payload.encode(array, request, None, {})["data"]


def test_seldons_kind_rules_numbers_in_the_requests_kind_or_tensor_anything_else_ndarray():
    tensor_request = payload.decode({"data": {"tensor": {"shape": [1], "values": [1]}}})
    assert payload.encode([["a", "b"]], tensor_request, None, {})["data"] == {
        "names": ["t:0", "t:1"],
        "ndarray": [["a", "b"]],
    }
    for other in ({"jsonData": {"a": 1}}, {"strData": "x"}, {"binData": "eA=="}):
        request = payload.decode(other)
        assert payload.encode([1, 2], request, None, {})["data"] == {
            "names": [],
            "tensor": {"shape": [2], "values": [1, 2]},
        }
        assert payload.encode([["a"]], request, None, {})["data"] == {"names": ["t:0"], "ndarray": [["a"]]}
    scalar = payload.decode({"data": {"ndarray": 3}})
    assert scalar.features.ndim == 0 and payload.encode(scalar.features, scalar, None, {})["data"]["ndarray"] == 3
    empty = payload.decode({"data": {"names": ["a"]}})
    assert empty.features.size == 0 and empty.names == ["a"]


def test_class_names_name_the_columns_of_a_two_dimensional_answer_only():
    request = payload.decode({"data": {"ndarray": [1, 2]}})
    assert payload.encode([1, 2], request, lambda: ["a", "b"], {})["data"]["names"] == []
    assert payload.encode([[1, 2]], request, lambda: ["a", "b"], {})["data"]["names"] == ["a", "b"]


def test_a_response_the_request_kind_cannot_carry_is_the_models_fault():
    tf_request = payload.decode({"data": {"tftensor": json_format.MessageToDict(tftensor.from_numpy(np.ones(1)))}})
    with pytest.raises(SeldonMicroserviceException) as excinfo:
        payload.encode(np.array([1 + 2j]), tf_request, None, {})
    assert excinfo.value.status_code == 500 and "complex128" in excinfo.value.message


def test_a_table_answers_with_its_column_names_unless_class_names_are_given():
    table = payload.Table(np.array([[0.9, 0.1]]), ["yes", "no"])
    request = payload.Request("tensor", None, [], {})
    assert payload.encode(table, request, None, {})["data"] == {
        "names": ["yes", "no"],
        "tensor": {"shape": [1, 2], "values": [0.9, 0.1]},
    }
    assert payload.encode(table, request, ["p"], {})["data"]["names"] == ["p"]
