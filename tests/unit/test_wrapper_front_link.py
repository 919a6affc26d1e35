"""The workers' side of the gRPC front's link (seldon_serve.bridge.FrontLink): frames in,
answers out, on a real Unix socket and fed bytes; and the ListValue conversions the gRPC path
uses in place of json_format (seldon_serve.list_values), against json_format itself."""

from __future__ import annotations

import asyncio
import functools
import math
import os
import socket
import struct
from typing import Any

import numpy as np
import pytest
from google.protobuf import json_format, struct_pb2

from seldon_serve import bridge, list_values
from seldon_serve.endpoints import Endpoints
from seldon_serve.http_server import ServerState, shutdown
from seldon_serve.microservice import Microservice
from seldon_serve.proto import prediction_pb2 as pb

PREDICT = "/seldon.protos.Model/Predict"
HEAD = struct.Struct(">IIB")


class Doubler:
    def predict(self, X, names):
        return X * 2


def served() -> Endpoints:
    return Endpoints(seldon=Microservice(Doubler()), v2=None)


def call_frame(ident: int, method: str, message: bytes, headers: dict[str, str] | None = None) -> bytes:
    """A call as the front lays it out (wrappers/grpc-front/src/link.rs, call_frame)."""
    headers = headers or {}
    payload = bytes([len(method)]) + method.encode() + bytes([len(headers)])
    for name, value in headers.items():
        payload += bytes([len(name)]) + name.encode() + len(value).to_bytes(2, "big") + value.encode()
    payload += message
    return HEAD.pack(len(payload) + 5, ident, ord("c")) + payload


def frames(data: bytes) -> list[tuple[int, str, bytes]]:
    """(id, kind, payload) of each whole frame in data."""
    out, at = [], 0
    while at < len(data):
        length, ident, kind = HEAD.unpack_from(data, at)
        out.append((ident, chr(kind), data[at + 9 : at + 4 + length]))
        at += 4 + length
    assert at == len(data)
    return out


def predict_message(values: list[Any]) -> bytes:
    return json_format.ParseDict({"data": {"ndarray": values}}, pb.SeldonMessage()).SerializeToString()


def answered_ndarray(payload: bytes) -> Any:
    assert payload[0] == 0, payload[1:]
    return json_format.MessageToDict(pb.SeldonMessage.FromString(payload[1:]).data)["ndarray"]


class Written:
    """A transport that keeps what is written, one entry per write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True


def link() -> tuple[bridge.FrontLink, Written]:
    protocol = bridge.FrontLink(bridge.Bridge(served()), ServerState(1 << 20, "GRPC_MAX_MESSAGE_BYTES"))
    transport = Written()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    return protocol, transport


def test_a_connection_begins_with_the_workers_hello_naming_its_pid():
    _, transport = link()
    assert frames(transport.writes[0]) == [(0, "h", os.getpid().to_bytes(4, "big"))]


def test_calls_that_arrive_together_are_answered_together_in_one_write_by_id():
    protocol, transport = link()
    protocol.data_received(b"".join(call_frame(ident, PREDICT, predict_message([[ident]])) for ident in (7, 3, 9)))
    assert len(transport.writes) == 2  # the hello, then the three answers at once
    answers = frames(transport.writes[1])
    assert [(ident, kind) for ident, kind, _ in answers] == [(7, "r"), (3, "r"), (9, "r")]
    assert [answered_ndarray(payload) for _, _, payload in answers] == [[[14.0]], [[6.0]], [[18.0]]]


def test_a_frame_split_anywhere_is_answered_once_whole():
    expected = [(1, [[2.0, 4.0]]), (2, [[6.0]])]
    data = call_frame(1, PREDICT, predict_message([[1, 2]])) + call_frame(2, PREDICT, predict_message([[3]]))
    for cut in range(1, len(data)):
        protocol, transport = link()
        protocol.data_received(data[:cut])
        protocol.data_received(data[cut:])
        answers = [frame for write in transport.writes[1:] for frame in frames(write)]
        assert [(ident, answered_ndarray(payload)) for ident, _, payload in answers] == expected


def test_a_models_error_is_a_grpc_code_and_message_and_an_unknown_method_unimplemented():
    protocol, transport = link()
    protocol.data_received(call_frame(1, PREDICT, b"\xff\xff not protobuf") + call_frame(2, "/nope.Nope/Nope", b""))
    (_, _, bad), (_, _, unknown) = frames(transport.writes[1])
    assert bad[0] == 3 and bad[1:]  # INVALID_ARGUMENT, with its message
    assert unknown[0] == 12 and b"/nope.Nope/Nope" in unknown[1:]


def test_the_trace_headers_the_front_passes_reach_the_handler():
    seen = {}

    class Recording(bridge.Bridge):
        def __call__(self, request):  # type: ignore[no-untyped-def]
            seen.update(request.headers)
            return super().__call__(request)

    protocol = bridge.FrontLink(Recording(served()), ServerState(1 << 20, "GRPC_MAX_MESSAGE_BYTES"))
    protocol.connection_made(Written())  # type: ignore[arg-type]
    headers = {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01", "b3": "x" * 300}
    protocol.data_received(call_frame(1, PREDICT, predict_message([[1]]), headers))
    assert seen == {name.encode(): value.encode() for name, value in headers.items()}


def test_describe_answers_the_descriptor_set_with_an_ok_code():
    protocol, transport = link()
    protocol.data_received(HEAD.pack(5, 4, ord("d")))
    ((ident, kind, payload),) = frames(transport.writes[1])
    assert (ident, kind, payload[0]) == (4, "r", 0) and b"prediction.proto" in payload


def test_an_unknown_frame_or_one_over_the_limit_closes_the_connection():
    protocol, transport = link()
    protocol.data_received(HEAD.pack(5, 1, ord("x")))
    assert transport.closed
    protocol, transport = link()
    protocol.data_received(HEAD.pack((1 << 20) + 80_000, 1, ord("c")))
    assert transport.closed


def test_stopping_says_goodbye_once_and_still_answers_what_arrives():
    protocol, transport = link()
    protocol.close_if_idle()
    protocol.close_if_idle()
    protocol.data_received(call_frame(5, PREDICT, predict_message([[2]])))
    written = [frame for write in transport.writes[1:] for frame in frames(write)]
    assert [(ident, kind) for ident, kind, _ in written] == [(0, "g"), (5, "r")]


def test_calls_over_a_real_socket_and_shutdown_waiting_for_the_front_to_close(tmp_path):
    path = str(tmp_path / "grpc.sock")

    async def scenario() -> tuple[list[tuple[int, str, bytes]], float]:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        sock.listen(8)
        state = ServerState(1 << 20, "GRPC_MAX_MESSAGE_BYTES")
        server = await bridge.serve_link(bridge.Bridge(served()), sock, state)
        reader, writer = await asyncio.open_unix_connection(path)
        writer.write(call_frame(1, PREDICT, predict_message([[1.5]])))
        got = [await read_frame(reader), await read_frame(reader)]  # hello, answer
        stopping = asyncio.create_task(shutdown(server, state, grace=5.0))
        got.append(await read_frame(reader))  # goodbye
        writer.write(call_frame(2, PREDICT, predict_message([[4]])))  # sent before the front saw it
        got.append(await read_frame(reader))
        started = asyncio.get_running_loop().time()
        writer.close()  # the front closes once its calls are answered; shutdown then returns
        await stopping
        return got, asyncio.get_running_loop().time() - started

    got, waited = asyncio.run(scenario())
    assert [(ident, kind) for ident, kind, _ in got] == [(0, "h"), (1, "r"), (0, "g"), (2, "r")]
    assert answered_ndarray(got[1][2]) == [[3.0]] and answered_ndarray(got[3][2]) == [[8.0]]
    assert waited < 1.0


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, str, bytes]:
    length, ident, kind = HEAD.unpack(await asyncio.wait_for(reader.readexactly(9), 5))
    return ident, chr(kind), await reader.readexactly(length - 5)


# ---- ListValue <-> Python lists, against json_format ------------------------------------------

VALUES = [
    [],
    [[1.0, 2.0, 3.0, 4.0]],
    [[1, 2], [3, 4]],
    [1.5, -0.0, 1e300, 2**53 + 1, -(2**40)],
    ["a", "é", "", "x" * 300],
    [True, False, None],
    [[[]], [[1, [2, [3]]]]],
    [{"a": 1, "b": [1, "x"]}, 1],
    [[1.0, "mixed", None, True, [2]]],
    (1.0, 2.0),
    # tables and vectors of numbers, read and written whole (to_numbers, _encode_numbers)
    [[float(i * 7 + j) / 3 for j in range(7)] for i in range(30)],  # numpy's reading
    [[1e300, -5e-324, -0.0, 2.0**60]] * 10,
    [[0.5, -0.0], [5e-324, 1e308]],  # a few: struct's writing
    [2.5],
    [float(i) for i in range(300)],
    [[float(j) for j in range(130)] for _ in range(9)],  # rows of 130 numbers: two-byte varints
    [[1.0, 2.0]] * 9 + [[1.0]],  # ragged
    [[1.0, 2.0]] * 9 + [[1.0, True]],
    [[1.0, 2.0]] * 9 + [[1.0, "2"]],
    [1.0] * 9 + [None],
    [[1.0, 2.0]] * 9 + [[1, 2]],  # ints: extend's rules
]


@pytest.mark.parametrize("values", VALUES, ids=range(len(VALUES)))
def test_fill_makes_the_list_value_extend_makes(values):
    expected, got = struct_pb2.ListValue(), struct_pb2.ListValue()
    expected.extend(values)
    list_values.fill(got, values)
    assert got == expected


@pytest.mark.parametrize("values", VALUES, ids=range(len(VALUES)))
def test_to_python_is_message_to_dict(values):
    message = struct_pb2.ListValue()
    message.extend(values)
    assert list_values.to_python(message) == json_format.MessageToDict(message)


def _numbers_only(values: Any) -> bool:
    """A non-empty list of numbers, or of equally long such lists: what to_numbers reads."""

    def numbers(items: Any) -> bool:
        return bool(items) and all(isinstance(item, float | int) and not isinstance(item, bool) for item in items)

    if not isinstance(values, list | tuple) or not values:
        return False
    if all(isinstance(row, list) for row in values):
        return len({len(row) for row in values}) == 1 and all(numbers(row) for row in values)
    return numbers(values)


@pytest.mark.parametrize("values", VALUES, ids=range(len(VALUES)))
def test_to_numbers_reads_the_array_message_to_dict_makes(values):
    message = struct_pb2.ListValue()
    message.extend(values)
    array = list_values.to_numbers(message)
    if not _numbers_only(values):
        assert array is None
        return
    expected = np.asarray(json_format.MessageToDict(message))
    assert array is not None and array.dtype == expected.dtype and array.shape == expected.shape
    assert np.array_equal(array, expected) and array.flags.c_contiguous and array.flags.writeable


@pytest.mark.parametrize("values", VALUES, ids=range(len(VALUES)))
def test_numbers_packed_whole_are_the_bytes_encoded_one_by_one(values):
    packed = list_values._encode_numbers(values)
    items = np.ravel(np.asarray(values, dtype=object)) if _numbers_only(values) else [None]
    if type(values) is list and all(type(item) is float for item in items):  # by struct or by numpy
        assert packed == list_values._encode(values)
    else:
        assert packed is None


def test_to_numbers_leaves_numbers_json_cannot_carry_to_to_python():
    for many in (1, 100):
        message = struct_pb2.ListValue()
        message.extend([[1.0, math.nan]] * many)
        assert list_values.to_numbers(message) is None


def test_numbers_json_cannot_carry_fail_as_json_format_fails():
    for number in (math.inf, -math.inf, math.nan):
        message = struct_pb2.ListValue()
        message.extend([[1.0, number]])
        with pytest.raises(ValueError) as expected:
            json_format.MessageToDict(message)
        with pytest.raises(ValueError) as got:
            list_values.to_python(message)
        assert str(got.value) == str(expected.value)


def test_what_extend_refuses_fill_refuses_alike():
    for values in ([object()], [10**400], 5.0):
        with pytest.raises(Exception) as expected:
            struct_pb2.ListValue().extend(values)
        with pytest.raises(Exception) as got:
            list_values.fill(struct_pb2.ListValue(), values)
        assert type(got.value) is type(expected.value) and str(got.value) == str(expected.value)


def test_an_unset_value_is_none_as_in_json_format():
    message = struct_pb2.ListValue()
    message.values.add()
    assert list_values.to_python(message) == json_format.MessageToDict(message) == [None]


def test_calls_answered_directly_are_answered_as_through_the_handler():
    """A plain Bridge with no access log is called directly (no Request, no Response): the
    answers, errors included, and the count --max-requests keeps are those of the long way."""
    calls = call_frame(1, PREDICT, predict_message([[1, 2]])) + call_frame(2, PREDICT, b"\xff\xff")
    calls += call_frame(3, "/nope.Nope/Nope", b"") + call_frame(4, PREDICT, predict_message([[3]]), {"b3": "1"})
    answered = []
    for access_log in (False, True):  # the access log sees each call: the long way
        counted: list[int] = []
        count = functools.partial(counted.append, 1)
        state = ServerState(1 << 20, "GRPC_MAX_MESSAGE_BYTES", access_log=access_log, on_answered=count)
        protocol, transport = bridge.FrontLink(bridge.Bridge(served()), state), Written()
        protocol.connection_made(transport)  # type: ignore[arg-type]
        assert bool(protocol.direct_calls) is not access_log
        protocol.data_received(calls)
        replies = frames(transport.writes[1])
        codes = [(ident, kind, payload[0]) for ident, kind, payload in replies]
        answered.append((codes, answered_ndarray(replies[0][2]), answered_ndarray(replies[3][2]), len(counted)))
    assert answered[0] == answered[1] == ([(1, "r", 0), (2, "r", 3), (3, "r", 12), (4, "r", 0)], [[2, 4]], [[6]], 4)
