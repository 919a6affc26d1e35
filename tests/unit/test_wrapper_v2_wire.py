"""ModelInfer requests read straight from their bytes (seldon_serve.v2.wire) against the request
protobuf decodes (v2.grpc.ProtoInfer): the same model, version, id, requested outputs and input
arrays, or protobuf's own error. And responses written straight to bytes against the message
protobuf builds and serializes: the same bytes whenever the fast path writes one."""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seldon_serve.list_values import field
from seldon_serve.proto import open_inference_pb2 as pb
from seldon_serve.v2 import grpc as v2_grpc
from seldon_serve.v2 import wire
from seldon_serve.v2.codec import DATATYPES
from seldon_serve.v2.dataplane import Output


def outcome(body: bytes, decode: Any) -> Any:
    """What a ModelInfer call sees of a request: its fields and arrays, or the error's kind and text."""
    try:
        request = decode(body)
        arrays = [(name, array.dtype.str, array.shape, array.tobytes()) for name, array in request.arrays()]
        assert all(array.flags.writeable for _, array in request.arrays())  # a model may change its X
        return request.model_name, request.model_version, request.id, request.outputs, request.raw, arrays
    except Exception as exc:
        return type(exc).__name__, str(exc)


def read(body: bytes) -> Any:
    return outcome(body, v2_grpc.InferRequest.FromString)


def protobufs(body: bytes) -> Any:
    return outcome(body, lambda b: v2_grpc.ProtoInfer(pb.ModelInferRequest.FromString(b)))


def request_of(inputs: list[tuple[str, str, list[int], Any]], raw: bool = False, **fields: Any) -> bytes:
    """A ModelInferRequest's bytes: inputs as (name, datatype, shape, elements)."""
    request = pb.ModelInferRequest(model_name=fields.pop("model_name", "m"), **fields)
    for name, datatype, shape, elements in inputs:
        tensor = request.inputs.add(name=name, datatype=datatype, shape=shape)
        if raw:
            request.raw_input_contents.append(np.asarray(elements, DATATYPES[datatype].newbyteorder("<")).tobytes())
        else:
            getattr(tensor.contents, v2_grpc.CONTENTS_FIELD[datatype]).extend(elements)
    return request.SerializeToString()


READ = [
    request_of([("x", "FP64", [1, 4], [1.0, 2.0, 3.0, 4.0])]),
    request_of([("x", "FP32", [2], [0.5, -0.0])], model_version="2", id="call-1"),
    request_of([("a", "FP64", [3, 1], [1.0, 5e-324, math.inf]), ("b", "FP32", [3], [1.0, 2.0, 3.0])]),
    request_of([("x", "FP64", [64, 256], [float(i) for i in range(64 * 256)])], outputs=[{"name": "y"}]),
    request_of([("é" * 200, "FP32", [1], [7.0])], model_name="ü" * 130),  # two-byte lengths
    request_of([("h", "FP16", [2], [0.5, 2.0]), ("i", "INT64", [2], [-1, 2**62])], raw=True),
    request_of([("x", "FP64", [2, 2], [1.0, 2.0, 3.0])]),  # read, then refused by the shape's count
    request_of([("x", "FP32", [], [1.0])]),  # a scalar
]
NOT_READ = [
    request_of([("x", "INT32", [2], [1, 2])]),  # varints: read field by field
    request_of([("x", "BYTES", [1], [b"a"])]),
    request_of([("x", "FP64", [1], [1.0])], parameters={"p": pb.InferParameter(bool_param=True)}),
    request_of([("x", "FP64", [0], [])]),  # no contents at all
    request_of(
        [("x", "FP64", [1], [1.0])], outputs=[{"name": "y", "parameters": {"binary_data": {"bool_param": True}}}]
    ),
    request_of([("x", "FP32", [-1], [1.0])]),  # a negative dimension: protobuf's path refuses it
    # two messages one after the other: protobuf merges them, a field at a time
    request_of([("x", "FP16", [1], [1.0])], raw=True) + request_of([("y", "FP16", [1], [1.0])], raw=True),
]


@pytest.mark.parametrize("body", READ, ids=range(len(READ)))
def test_the_commonest_requests_are_read_from_their_bytes_as_protobuf_decodes_them(body):
    assert isinstance(v2_grpc.InferRequest.FromString(body), v2_grpc.WireInfer)
    assert read(body) == protobufs(body)


@pytest.mark.parametrize("body", NOT_READ, ids=range(len(NOT_READ)))
def test_any_other_request_is_left_to_protobuf(body):
    assert wire.request(body) is None
    assert read(body) == protobufs(body)


def test_a_request_like_the_last_one_but_for_its_elements_is_read_without_walking_it_again():
    first = request_of([("x", "FP64", [1, 4], [1.0, 2.0, 3.0, 4.0])])
    second = request_of([("x", "FP64", [1, 4], [5.0, 6.0, 7.0, 8.0])])
    assert wire.request(first) is wire.request(second)  # the fields as read, offsets and all
    assert read(second) == protobufs(second) and read(first) == protobufs(first)
    renamed = request_of([("z", "FP64", [1, 4], [5.0, 6.0, 7.0, 8.0])])  # the same length, another prefix
    assert read(renamed) == protobufs(renamed) and read(renamed)[-1][0][0] == "z"
    longer = request_of([("x", "FP64", [1, 5], [5.0, 6.0, 7.0, 8.0, 9.0])])
    assert read(longer) == protobufs(longer)


def test_bytes_protobuf_refuses_get_its_error():
    body = request_of([("x", "FP32", [1], [1.0])])
    bad_utf8 = body.replace(b"\x01x", b"\x01\xff")
    tensor = field(b"\x0a", b"x") + field(b"\x12", b"FP32") + field(b"\x1a", b"\x03")
    odd_run = field(b"\x2a", tensor + field(b"\x2a", field(b"\x32", b"abc")))  # packed floats of 3 bytes
    for broken in (bad_utf8, body[:-1], body + b"\x2a", odd_run):
        assert read(broken)[0] == "DecodeError" and read(broken) == protobufs(broken)


names = st.text(max_size=3) | st.sampled_from(["x", "é" * 70])
contents_inputs = st.lists(
    st.tuples(names, st.sampled_from(["FP32", "FP64"]), st.lists(st.integers(0, 3), max_size=3), st.integers(0, 5)),
    min_size=1,
    max_size=3,
)


@settings(max_examples=500, deadline=None)
@given(contents_inputs, st.booleans(), st.lists(names, max_size=2), names, names, st.data())
def test_whatever_the_wire_path_reads_is_what_protobuf_decodes(inputs, raw, outputs, version, id, data):
    tensors = [(name, datatype, shape, [float(i) / 3 for i in range(count)]) for name, datatype, shape, count in inputs]
    body = request_of(tensors, raw=raw, model_version=version, id=id, outputs=[{"name": o} for o in outputs])
    # Then the same bytes cut, spliced or with a byte changed: a broken or unusual layout.
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(body) - 1))
        edit = data.draw(st.sampled_from(["cut", "byte", "insert"]))
        byte = bytes([data.draw(st.integers(0, 255))])
        edited = {"cut": body[:at], "byte": body[:at] + byte + body[at + 1 :], "insert": body[:at] + byte + body[at:]}
        body = edited[edit]
    assert read(body) == protobufs(body)


def built(model_name: str, version: str, id: str, outputs: list[Output], raw: bool) -> bytes:
    """The response as protobuf builds and serializes it (v2.grpc's path when wire writes none)."""
    response = pb.ModelInferResponse(model_name=model_name, model_version=version, id=id)
    for output in outputs:
        contents = v2_grpc.fill_output(response.outputs.add(), output, raw=raw)
        if contents is not None:
            response.raw_output_contents.append(contents)
    return response.SerializeToString()


def test_the_commonest_responses_are_written_as_protobuf_serializes_them():
    fp64 = np.array([[1.0, -0.0, math.inf, 5e-324]])
    cases = [
        ("m", "", "", [Output("output-0", fp64, {})], False),
        ("ü" * 130, "1", "call", [Output("", np.arange(300, dtype="<f4").reshape(3, 100), {})], False),
        ("m", "", "", [Output("a", fp64, {}), Output("b", np.array([1, 2], np.int16), {})], True),
        ("m", "", "", [Output("h", np.array([0.5], np.float16), {}), Output("b", np.array([True]), {})], True),
    ]
    for case in cases:
        assert wire.response(*case) == built(*case)


def test_any_other_response_is_left_to_protobuf():
    cases = [
        [Output("y", np.array([1, 2], np.int32), {})],  # varint contents
        [Output("y", np.array(["a"], dtype=object), {})],
        [Output("y", np.array([1.0]), {"content_type": "x"})],
        [Output("y", np.zeros((0, 4)), {})],
    ]
    for outputs in cases:
        assert wire.response("m", "", "", outputs, False) is None


datatypes = st.sampled_from(sorted(set(DATATYPES) - {"BYTES"}))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(names, datatypes, st.lists(st.integers(0, 3), min_size=1, max_size=3)), max_size=3),
       st.booleans(), names, names, st.data())  # fmt: skip
def test_whatever_the_fast_path_writes_is_what_protobuf_serializes(outputs, raw, version, id, data):
    answer = []
    for name, datatype, shape in outputs:
        dtype = DATATYPES[datatype]
        array = np.frombuffer(data.draw(st.binary(min_size=math.prod(shape) * dtype.itemsize,
                                                  max_size=math.prod(shape) * dtype.itemsize)), dtype)  # fmt: skip
        if dtype.kind == "b":
            array = array.view(np.uint8) % 2 == 1  # protobuf writes any bool byte as 0 or 1
        elif dtype.kind == "f":
            array = np.nan_to_num(array)  # a NaN's payload may change on its way through a Python float
        answer.append(Output(name, array.reshape(shape), {}))
    raw = raw or any(output.array.dtype == np.float16 for output in answer)
    written = wire.response("m", version, id, answer, raw)
    if written is not None:
        assert written == built("m", version, id, answer, raw)
    elif all(output.array.size for output in answer) and (raw or all(o.array.dtype.kind == "f" for o in answer)):
        pytest.fail("a response of non-empty numbers was left to protobuf")


def test_raw_elements_of_bytes_stay_with_protobuf_and_their_packing():
    outputs = [Output("s", np.array(["ab", b"\xff"], dtype=object), {})]
    assert wire.response("m", "", "", outputs, True) is None
    assert struct.pack("<I", 2) + b"ab" in built("m", "", "", outputs, True)
