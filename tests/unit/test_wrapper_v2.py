"""seldon_serve.v2: Open Inference Protocol tensors <-> the model's X, over REST's JSON and gRPC."""

import math
import struct

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seldon_serve import grpc_server, v2
from seldon_serve.endpoints import Endpoints, for_protocol
from seldon_serve.errors import SeldonMicroserviceException, StartupError
from seldon_serve.http_server import Request
from seldon_serve.microservice import Microservice
from seldon_serve.proto import open_inference_pb2 as pb
from seldon_serve.v2 import grpc as v2_grpc
from seldon_serve.v2.dataplane import Output


class Echo:
    """Answers X itself and remembers what it was given."""

    def predict(self, X, feature_names):
        self.seen = (X, feature_names)
        return X


class Scaler:
    def transform_input(self, X, names):
        return np.asarray(X, dtype=float) / 10


class Picky:
    def predict(self, X, names):
        raise SeldonMicroserviceException("no negative ages", status_code=422)

    def init_metadata(self):
        return {"versions": ["7"], "inputs": [{"name": "age", "datatype": "INT32", "shape": [-1, 1]}]}


def api(user, service_type="MODEL"):
    return v2.OpenInference(Microservice(user, service_type, model_name=type(user).__name__), "0.1.0")


def as_body(message):
    """What rest.handle's body reader gives route() for a JSON body."""
    return lambda: v2.binary.Body(message, None)


def infer(model, body, version=None):
    path = f"/v2/models/{model.name}{f'/versions/{version}' if version else ''}/infer"
    return v2.rest.route(model, b"POST", path, as_body(body))


SAMPLES = {
    "BOOL": [True, False, True, True],
    "UINT8": [0, 255, 7, 1],
    "UINT16": [0, 65535, 7, 1],
    "UINT32": [0, 2**32 - 1, 7, 1],
    "UINT64": [0, 2**64 - 1, 7, 1],
    "INT8": [-128, 127, 0, 1],
    "INT16": [-32768, 32767, 0, 1],
    "INT32": [-(2**31), 2**31 - 1, 0, 1],
    "INT64": [-(2**63), 2**63 - 1, 0, 1],
    "FP16": [0.5, -2.0, 65504.0, 1.0],
    "FP32": [0.25, -1.5, 3.0, 1e-3],
    "FP64": [0.1, -1e300, 3.0, 2.5],
    "BYTES": ["a", "héllo", "", "x"],
}


@pytest.mark.parametrize("datatype", sorted(SAMPLES))
def test_every_datatype_reaches_the_model_as_its_numpy_type_and_answers_as_itself(datatype):
    echo = Echo()
    model = api(echo)
    tensor = {"name": "x", "shape": [2, 2], "datatype": datatype, "data": SAMPLES[datatype]}
    status, answer = infer(model, {"inputs": [tensor], "id": "r1"})
    x, names = echo.seen
    assert status == 200 and names == [] and x.shape == (2, 2)
    assert x.dtype == v2.DATATYPES[datatype]
    output = answer["outputs"][0]
    assert answer["id"] == "r1" and answer["model_name"] == "Echo"
    assert output == {"name": "output-0", "datatype": datatype, "shape": [2, 2], "data": output["data"]}
    if datatype == "FP32":
        assert output["data"] == np.asarray(SAMPLES[datatype], dtype=np.float32).tolist()
    else:
        assert output["data"] == SAMPLES[datatype]


def test_several_one_column_inputs_are_the_columns_of_x_named_by_the_inputs():
    echo = Echo()
    inputs = [
        {"name": "age", "shape": [3], "datatype": "INT64", "data": [20, 30, 40]},
        {"name": "height", "shape": [3, 1], "datatype": "FP64", "data": [[1.5], [1.6], [1.7]]},
    ]
    _status, answer = infer(api(echo), {"inputs": inputs})
    x, names = echo.seen
    assert names == ["age", "height"] and x.tolist() == [[20, 1.5], [30, 1.6], [40, 1.7]]
    assert answer["outputs"][0]["shape"] == [3, 2]


@pytest.mark.parametrize(
    ("tensor", "message"),
    [
        ({"name": "x", "shape": [2], "datatype": "FP99", "data": [1, 2]}, "datatype 'FP99' is not one of"),
        ({"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2]}, "shape [3] holds 3 elements, the data 2"),
        ({"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [[1, 2], [3]]}, "not a regular array"),
        ({"name": "x", "shape": [2], "datatype": "INT32", "data": [1.5, 2]}, "INT32 data must be integers"),
        ({"name": "x", "shape": [1], "datatype": "UINT8", "data": [256]}, "outside UINT8's range"),
        ({"name": "x", "shape": [1], "datatype": "BOOL", "data": [1]}, "BOOL data must be true/false"),
        ({"name": "x", "shape": [1], "datatype": "FP32", "data": ["1"]}, "FP32 data must be numbers"),
        ({"name": "x", "shape": [1], "datatype": "BYTES", "data": [1]}, "BYTES data must be strings"),
        ({"name": "x", "shape": [-1], "datatype": "FP32", "data": [1]}, "shape must be a list of non-negative"),
        ({"shape": [1], "datatype": "FP32", "data": [1]}, "each input needs a name"),
        ({"name": "x", "shape": [1], "datatype": "FP32"}, "has no data"),
    ],
)
def test_a_bad_tensor_is_a_400_naming_the_input_and_the_fault(tensor, message):
    with pytest.raises(SeldonMicroserviceException, match=message.replace("[", r"\[").replace("]", r"\]")) as caught:
        infer(api(Echo()), {"inputs": [tensor]})
    assert caught.value.status_code == 400


@pytest.mark.parametrize(
    ("environ", "named", "served_as"),
    [
        ({}, False, "Echo"),
        ({"PREDICTIVE_UNIT_ID": "classifier"}, False, "classifier"),
        ({"PREDICTIVE_UNIT_ID": "classifier", "MLSERVER_MODEL_NAME": "iris"}, False, "iris"),
        ({"PREDICTIVE_UNIT_ID": "classifier", "MLSERVER_MODEL_NAME": "iris"}, True, "from-init-metadata"),
        ({"PREDICTIVE_UNIT_ID": "classifier", "MODEL_METADATA": '{"name": "from-env"}'}, True, "from-env"),
    ],
)
def test_the_v2_name_is_the_metadatas_else_the_graph_nodes_seldons_operator_gives_else_the_class(
    monkeypatch, environ, named, served_as
):
    for name in ("PREDICTIVE_UNIT_ID", "MLSERVER_MODEL_NAME", "MODEL_METADATA", "PREDICTIVE_UNIT_IMAGE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    class Echo:
        def predict(self, X, names):
            return X

        def init_metadata(self):
            return {"name": "from-init-metadata"} if named else {}

    model = api(Echo())
    assert model.name == served_as
    assert v2.rest.route(model, b"GET", f"/v2/models/{served_as}/ready", lambda: None) == (
        200,
        {"name": served_as, "ready": True},
    )


def test_unknown_models_versions_outputs_and_paths_are_404_or_400():
    model = api(Picky())
    with pytest.raises(v2.NotFound, match="no model 'Other'"):
        v2.rest.route(model, b"GET", "/v2/models/Other", lambda: None)
    with pytest.raises(v2.NotFound, match="has no version '8'"):
        v2.rest.route(model, b"GET", "/v2/models/Picky/versions/8", lambda: None)
    assert v2.rest.route(model, b"GET", "/v2/models/Picky/versions/7/ready", lambda: None) == (
        200,
        {"name": "Picky", "ready": True},
    )
    with pytest.raises(v2.NotFound, match="no endpoint"):
        v2.rest.route(model, b"GET", "/v2/models/Picky/explain", lambda: None)
    with pytest.raises(SeldonMicroserviceException, match="takes POST") as caught:
        v2.rest.route(model, b"GET", "/v2/models/Picky/infer", lambda: None)
    assert caught.value.status_code == 405
    tensor = {"name": "age", "shape": [1], "datatype": "INT32", "data": [3]}
    with pytest.raises(SeldonMicroserviceException, match="no output 'proba'"):
        infer(model, {"inputs": [tensor], "outputs": [{"name": "proba"}]})
    with pytest.raises(SeldonMicroserviceException, match="no negative ages") as caught:
        infer(model, {"inputs": [tensor]})
    assert caught.value.status_code == 422


def test_metadata_health_and_server_answers():
    model = api(Picky())
    assert v2.rest.route(model, b"GET", "/v2", lambda: None) == (
        200,
        {"name": "seldon-serve", "version": "0.1.0", "extensions": ["binary_tensor_data"]},
    )
    assert v2.rest.route(model, b"GET", "/v2/health/live", lambda: None) == (200, {"live": True})
    assert v2.rest.route(model, b"GET", "/v2/health/ready", lambda: None) == (200, {"ready": True})
    _status, metadata = v2.rest.route(model, b"GET", "/v2/models/Picky", lambda: None)
    assert metadata == {
        "name": "Picky",
        "versions": ["7"],
        "platform": "seldon",
        "inputs": [{"name": "age", "datatype": "INT32", "shape": [-1, 1]}],
        "outputs": [],
    }


def test_a_transformer_answers_infer_with_transform_input_and_a_combiner_refuses():
    tensor = {"name": "x", "shape": [2], "datatype": "INT64", "data": [5, 10]}
    _status, answer = infer(api(Scaler(), "TRANSFORMER"), {"inputs": [tensor]})
    assert answer["outputs"][0]["data"] == [0.5, 1.0] and answer["outputs"][0]["datatype"] == "FP64"
    with pytest.raises(SeldonMicroserviceException, match="aggregates several messages"):
        infer(api(Scaler(), "COMBINER"), {"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}]})


def test_protocol_setting_chooses_the_endpoints():
    service = Microservice(Echo())
    assert for_protocol(service, "seldon", "1").v2 is None
    assert for_protocol(service, "v2", "1").seldon is None
    both = for_protocol(service, "both", "1")
    assert both.seldon is service and both.v2 is not None
    with pytest.raises(StartupError, match="PROTOCOL='grpc' is not one of seldon, v2, both"):
        for_protocol(service, "grpc", "1")


# ---- gRPC ---------------------------------------------------------------------------------


def grpc_table(user):
    return grpc_server.methods(Endpoints(seldon=None, v2=api(user)))


def call(table, method, request):
    from seldon_serve.proto import open_inference_pb2 as pb

    out = grpc_server.answer_bytes(table, f"/inference.GRPCInferenceService/{method}", request.SerializeToString())
    if out[0] != 0:
        return out[0], out[1:].decode()
    return 0, getattr(pb, f"{method}Response").FromString(out[1:])


@pytest.mark.parametrize("datatype", sorted(set(SAMPLES) - {"FP16"}))
def test_grpc_contents_carry_every_datatype_but_fp16(datatype):
    from seldon_serve.proto import open_inference_pb2 as pb

    echo = Echo()
    request = pb.ModelInferRequest(model_name="Echo", id="g1")
    tensor = request.inputs.add(name="x", datatype=datatype, shape=[4])
    values = SAMPLES[datatype]
    field = getattr(tensor.contents, v2_grpc.CONTENTS_FIELD[datatype])
    field.extend([v.encode() for v in values] if datatype == "BYTES" else values)
    code, reply = call(grpc_table(echo), "ModelInfer", request)
    assert code == 0, reply
    assert echo.seen[0].dtype == v2.DATATYPES[datatype]
    output = reply.outputs[0]
    assert (output.name, output.datatype, list(output.shape), reply.id) == ("output-0", datatype, [4], "g1")
    got = list(getattr(output.contents, v2_grpc.CONTENTS_FIELD[datatype]))
    assert got == ([v.encode() for v in values] if datatype == "BYTES" else list(field))


def test_raw_contents_carry_fp16_and_bytes_and_are_answered_raw():
    from seldon_serve.proto import open_inference_pb2 as pb

    echo = Echo()
    request = pb.ModelInferRequest(model_name="Echo")
    request.inputs.add(name="h", datatype="FP16", shape=[2])
    request.raw_input_contents.append(np.array([0.5, 2.0], dtype="<f2").tobytes())
    code, reply = call(grpc_table(echo), "ModelInfer", request)
    assert code == 0 and echo.seen[0].dtype == np.float16
    assert np.frombuffer(reply.raw_output_contents[0], dtype="<f2").tolist() == [0.5, 2.0]

    request = pb.ModelInferRequest(model_name="Echo")
    request.inputs.add(name="s", datatype="BYTES", shape=[2])
    request.raw_input_contents.append(struct.pack("<I", 2) + b"ab" + struct.pack("<I", 1) + b"\xff")
    code, reply = call(grpc_table(echo), "ModelInfer", request)
    assert code == 0 and echo.seen[0].tolist() == ["ab", b"\xff"]  # not UTF-8: stays bytes
    assert v2.unpack_bytes("s", reply.raw_output_contents[0]) == [b"ab", b"\xff"]


def test_grpc_errors_use_the_status_codes_clients_expect():
    from seldon_serve.proto import open_inference_pb2 as pb

    table = grpc_table(Picky())
    import grpc

    assert call(table, "ModelMetadata", pb.ModelMetadataRequest(name="Nope"))[0] == grpc.StatusCode.NOT_FOUND.value[0]
    bad = pb.ModelInferRequest(model_name="Picky")
    bad.inputs.add(name="age", datatype="FP16", shape=[1]).contents.fp32_contents.append(1)
    code, message = call(table, "ModelInfer", bad)
    assert code == grpc.StatusCode.INVALID_ARGUMENT.value[0] and "raw_input_contents only" in message
    live = call(table, "ServerLive", pb.ServerLiveRequest())[1]
    assert live.live is True
    metadata = call(table, "ModelMetadata", pb.ModelMetadataRequest(name="Picky"))[1]
    assert (metadata.name, list(metadata.versions), metadata.inputs[0].datatype) == ("Picky", ["7"], "INT32")


class Averager:
    def aggregate(self, Xs, names):
        self.names = names
        return np.mean([np.asarray(x, dtype=float) for x in Xs], axis=0)


class Sign:
    def route(self, X, names):
        return 1 if float(np.asarray(X).sum()) > 0 else 0


def fp64(name, values):
    return {"name": name, "datatype": "FP64", "shape": [1, len(values)], "data": values}


def test_a_router_answers_the_executors_v2_route_call_with_the_child_as_a_seldon_message():
    router = api(Sign(), "ROUTER")
    answer = v2.rest.route(router, b"POST", "/v2/models/Sign/route", as_body({"inputs": [fp64("x", [1.0, 2.0])]}))
    assert answer == (200, {"data": {"names": [], "ndarray": [[1]]}})  # what the executor reads a route from
    answer = v2.rest.route(router, b"POST", "/v2/models/Sign/route", as_body({"inputs": [fp64("x", [-1.0, 0.0])]}))
    assert answer == (200, {"data": {"names": [], "ndarray": [[0]]}})


def test_a_combiner_aggregates_the_answers_of_its_children_as_the_executor_posts_them():
    combiner = Averager()
    children = [
        {"model_name": "a", "id": "1", "outputs": [fp64("output-0", [1.0, 3.0])]},
        {"model_name": "b", "id": "1", "outputs": [fp64("output-0", [3.0, 5.0])]},
    ]
    path = "/v2/models/Averager/aggregate"
    status, answer = v2.rest.route(api(combiner, "COMBINER"), b"POST", path, as_body(children))
    assert status == 200 and answer["model_name"] == "Averager"
    assert answer["outputs"][0]["shape"] == [1, 2] and answer["outputs"][0]["data"] == [2.0, 4.0]
    assert combiner.names == [[], []]
    with pytest.raises(SeldonMicroserviceException, match="non-empty list of inference responses"):
        v2.rest.route(api(Averager(), "COMBINER"), b"POST", path, as_body({"outputs": []}))


def test_a_chained_answer_is_a_request_as_the_executor_passes_it_to_the_next_unit():
    """The executor renames a unit's outputs to inputs and keeps the rest of its answer."""
    chained = {"model_name": "previous", "model_version": "1", "id": "r-1", "parameters": {},
               "inputs": [{**fp64("output-0", [1.0, 2.0]), "parameters": {}}]}  # fmt: skip
    status, answer = v2.rest.route(api(Echo()), b"POST", "/v2/models/Echo/infer", as_body(chained))
    assert status == 200 and answer["id"] == "r-1" and answer["outputs"][0]["data"] == [1.0, 2.0]


# ---- the binary tensor extension (REST) ---------------------------------------------------------


def post(model, message, binary_part=b"", path="/v2/models/Echo/infer"):
    """rest.handle's answer to a body of `message` as JSON, then `binary_part` (the extension's
    form when there is one): status, headers, JSON part, binary part."""
    head = orjson.dumps(message)
    headers = {b"inference-header-content-length": b"%d" % len(head)} if binary_part is not None else {}
    response = v2.rest.handle(model, Request(b"POST", path.encode(), None, headers, head + (binary_part or b""), ""))
    given = dict(response.headers)
    length = int(given.get(b"Inference-Header-Content-Length", len(response.body)))
    return response.status, given, orjson.loads(response.body[:length]), response.body[length:]


def binary_input(name, datatype, shape, raw):
    return {"name": name, "datatype": datatype, "shape": shape, "parameters": {"binary_data_size": len(raw)}}


def test_binary_inputs_of_every_kind_mix_with_json_ones_and_answer_json_unless_asked():
    echo = Echo()
    fp32 = np.array([[0.5, 1.5, -2.0, 3.25]], dtype="<f4")
    texts = struct.pack("<I", 2) + b"ab" + struct.pack("<I", 0)
    inputs = [
        binary_input("x", "FP32", [1, 4], fp32.tobytes()),
        {"name": "j", "datatype": "INT32", "shape": [1], "data": [7]},
        binary_input("s", "BYTES", [2], texts),
    ]
    status, headers, answer, rest = post(api(echo), {"inputs": inputs[:1]}, fp32.tobytes())
    assert status == 200 and b"Inference-Header-Content-Length" not in headers and rest == b""
    assert answer["outputs"][0]["data"] == fp32.ravel().tolist() and echo.seen[0].dtype == np.float32
    echo = Echo()
    combined = api(echo)
    status, _, answer, _ = post(combined, {"inputs": [inputs[2]]}, texts)
    assert status == 200 and answer["outputs"][0]["data"] == ["ab", ""]
    for datatype, array in (("BOOL", np.array([True, False])), ("FP16", np.array([0.5, 2.0], dtype="<f2"))):
        status, _, answer, _ = post(
            combined, {"inputs": [binary_input("b", datatype, [2], array.tobytes())]}, array.tobytes()
        )
        assert status == 200 and answer["outputs"][0]["data"] == array.tolist(), answer
    mixed = {
        "inputs": [
            binary_input("a", "FP32", [2], fp32.ravel()[:2].tobytes()),
            inputs[1] | {"shape": [2], "data": [1, 2]},
        ]
    }
    status, _, answer, _ = post(combined, mixed, fp32.ravel()[:2].tobytes())
    assert status == 200 and echo.seen[1] == ["a", "j"] and echo.seen[0].tolist() == [[0.5, 1], [1.5, 2]]


def test_outputs_are_answered_binary_when_the_request_asks_and_the_header_gives_the_json_length():
    fp32 = np.array([1.0, 2.0], dtype="<f4")
    inputs = [{"name": "x", "datatype": "FP32", "shape": [2], "data": [1.0, 2.0]}]
    for asking in (
        {"parameters": {"binary_data_output": True}},
        {"outputs": [{"name": "output-0", "parameters": {"binary_data": True}}]},
    ):
        status, headers, answer, rest = post(api(Echo()), {"inputs": inputs, **asking}, None)
        output = answer["outputs"][0]
        assert status == 200 and "data" not in output and output["parameters"] == {"binary_data_size": 8}
        assert rest == fp32.tobytes() and headers[b"Inference-Header-Content-Length"].isdigit()
    # an output's own binary_data: false wins over the request's binary_data_output
    no = {
        "parameters": {"binary_data_output": True},
        "outputs": [{"name": "output-0", "parameters": {"binary_data": False}}],
    }
    status, headers, answer, rest = post(api(Echo()), {"inputs": inputs, **no}, None)
    assert answer["outputs"][0]["data"] == [1.0, 2.0] and rest == b"" and not headers


@pytest.mark.parametrize(
    ("header", "inputs", "binary_part", "message"),
    [
        (b"abc", None, b"", "Inference-Header-Content-Length b'abc' is not a whole number"),
        (b"-1", None, b"", "Inference-Header-Content-Length -1 is not within"),
        (b"9999", None, b"", "Inference-Header-Content-Length 9999 is not within"),
        (b"3", None, b"", "the first 3 bytes (Inference-Header-Content-Length) are not JSON"),
        (None, [binary_input("x", "FP32", [2], b"\0" * 8)], b"", "no Inference-Header-Content-Length header"),
        (b"", [binary_input("x", "FP32", [2], b"\0" * 8)], b"\0" * 4, "runs past the body (4 bytes left)"),
        (b"", [binary_input("x", "FP32", [2], b"\0" * 4)], b"\0" * 4, "FP32 [2] is 8 bytes, binary_data_size says 4"),
        (b"", [binary_input("x", "FP32", [2], b"\0" * 8) | {"data": [1, 2]}], b"\0" * 8, "has both data and"),
        (
            b"",
            [{**binary_input("x", "FP32", [2], b""), "parameters": {"binary_data_size": "8"}}],
            b"",
            "is not a whole",
        ),
        (b"", [binary_input("x", "FP32", [2], b"\0" * 8)], b"\0" * 11, "3 bytes after the last input's binary data"),
        (b"", [binary_input("s", "BYTES", [2], b"\1\0\0\0a")], b"\1\0\0\0a", "holds 2 elements, the data 1"),
        (b"", [binary_input("s", "BYTES", [1], b"\x09\0\0\0a")], b"\x09\0\0\0a", "runs past the end of the contents"),
    ],
)
def test_a_malformed_binary_request_is_a_400_naming_the_extension(header, inputs, binary_part, message):
    head = orjson.dumps({"inputs": inputs or [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}]})
    headers = {} if header is None else {b"inference-header-content-length": header or b"%d" % len(head)}
    response = v2.rest.handle(
        api(Echo()), Request(b"POST", b"/v2/models/Echo/infer", None, headers, head + binary_part, "")
    )
    error = orjson.loads(response.body)["error"]
    assert response.status == 400 and error.startswith("binary tensor extension: ") and message in error, error


# ---- output names -------------------------------------------------------------------------------


class TwoHeads:
    """Declares two outputs, answers them as a dict or a tuple as asked."""

    def __init__(self, as_tuple=False):
        self.as_tuple = as_tuple

    def init_metadata(self):
        tensors = [{"name": n, "datatype": "FP64", "shape": [-1]} for n in ("label", "proba")]
        return {"outputs": tensors}

    def predict(self, X, names):
        label, proba = np.asarray(X) * 0 + 1, np.asarray(X) / 10
        return (label, proba) if self.as_tuple else {"proba": proba, "label": label}


@pytest.mark.parametrize("as_tuple", [False, True], ids=["dict", "tuple"])
def test_declared_outputs_name_the_answers_tensors_and_a_request_may_pick_them(as_tuple):
    model = api(TwoHeads(as_tuple))
    x = {"inputs": [fp64("x", [1.0, 2.0])]}
    _, answer = infer(model, x)
    assert [(o["name"], o["data"]) for o in answer["outputs"]] == [("label", [1.0, 1.0]), ("proba", [0.1, 0.2])]
    _, answer = infer(model, {**x, "outputs": [{"name": "proba"}]})
    assert [o["name"] for o in answer["outputs"]] == ["proba"]
    with pytest.raises(SeldonMicroserviceException, match="no output 'output-0': this model answers 'label', 'proba'"):
        infer(model, {**x, "outputs": [{"name": "output-0"}]})
    from seldon_serve.proto import open_inference_pb2 as pb

    request = pb.ModelInferRequest(model_name="TwoHeads")
    request.inputs.add(name="x", datatype="FP64", shape=[2]).contents.fp64_contents.extend([1.0, 2.0])
    request.outputs.add(name="proba")
    code, reply = call(grpc_server.methods(Endpoints(seldon=None, v2=model)), "ModelInfer", request)
    assert code == 0 and [(o.name, list(o.contents.fp64_contents)) for o in reply.outputs] == [("proba", [0.1, 0.2])]


def test_one_declared_output_names_the_answer_and_an_undeclared_dict_stays_json():
    class Named(Echo):
        def init_metadata(self):
            return {"outputs": [{"name": "y", "datatype": "FP64", "shape": [-1]}]}

    _, answer = infer(api(Named()), {"inputs": [fp64("x", [1.0])]})
    assert [o["name"] for o in answer["outputs"]] == ["y"]

    class Jsonish:
        def predict(self, X, names):
            return {"label": "cat"}

    _, answer = infer(api(Jsonish()), {"inputs": [fp64("x", [1.0])]})
    (output,) = answer["outputs"]
    assert output["name"] == "output-0" and output["parameters"] == {"content_type": "application/json"}


shapes = st.lists(st.integers(0, 9), min_size=1, max_size=3)  # past MANY_FLOATS and short of it


def floats(datatype: str) -> st.SearchStrategy[float]:
    """Any float the datatype holds: NaN, infinities, -0.0 and subnormals included."""
    return st.floats(width=32 if datatype == "FP32" else 64)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["FP32", "FP64"]), shapes, st.data())
def test_float_contents_are_written_from_numpys_bytes_as_extend_writes_them(datatype, shape, data):
    dtype = v2_grpc.PACKED_FLOATS[datatype][1]
    values = data.draw(st.lists(floats(datatype), min_size=math.prod(shape), max_size=math.prod(shape)))
    array = np.array(values, dtype=dtype).reshape(shape)
    if data.draw(st.booleans()):
        array = np.asfortranarray(array)  # the answer's elements go in C order whatever its layout
    written, extended = pb.ModelInferResponse.InferOutputTensor(), pb.ModelInferResponse.InferOutputTensor()
    assert v2_grpc.fill_output(written, Output("y", array, {}), raw=False) is None
    extended.name, extended.datatype = "y", datatype
    extended.shape.extend(array.shape)
    getattr(extended.contents, v2_grpc.CONTENTS_FIELD[datatype]).extend(array.ravel().tolist())
    assert written.SerializeToString() == extended.SerializeToString()


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["FP32", "FP64"]), st.data(), st.sampled_from(["", "int_contents", "bytes_contents"]))
def test_float_contents_are_read_from_their_bytes_as_the_list_of_them_reads(datatype, data, other_field):
    count = data.draw(st.integers(0, 2 * v2_grpc.MANY_FLOATS))  # past MANY_FLOATS and short of it
    values = data.draw(st.lists(floats(datatype), min_size=count, max_size=count))
    tensor = pb.ModelInferRequest.InferInputTensor(name="x", datatype=datatype, shape=[len(values)])
    getattr(tensor.contents, v2_grpc.CONTENTS_FIELD[datatype]).extend(values)
    if other_field == "int_contents":  # only the datatype's own field counts, as read field by field
        tensor.contents.int_contents.append(7)  # before it on the wire
    elif other_field == "bytes_contents":
        tensor.contents.bytes_contents.append(b"x")  # after it
    name, array = v2_grpc.array_from_proto(tensor, None)
    field = getattr(tensor.contents, v2_grpc.CONTENTS_FIELD[datatype])
    listed = np.array(list(field), dtype=np.float64).astype(v2_grpc.PACKED_FLOATS[datatype][1])
    assert name == "x" and array.dtype == listed.dtype.newbyteorder("=") and array.shape == (len(values),)
    assert np.array_equal(array, listed, equal_nan=True) and array.flags.writeable
    assert np.array_equal(np.signbit(array), np.signbit(listed))
