"""seldon_serve.v2: Open Inference Protocol tensors <-> the model's X, over REST's JSON and gRPC."""

import struct

import numpy as np
import pytest

from seldon_serve import grpc_server, v2
from seldon_serve.endpoints import Endpoints, for_protocol
from seldon_serve.errors import SeldonMicroserviceException, StartupError
from seldon_serve.microservice import Microservice
from seldon_serve.v2 import grpc as v2_grpc


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


def infer(model, body, version=None):
    path = f"/v2/models/{model.name}{f'/versions/{version}' if version else ''}/infer"
    return v2.rest.route(model, b"POST", path, lambda: body)


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
        {"name": "seldon-serve", "version": "0.1.0", "extensions": []},
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
