"""The Open Inference Protocol (PROTOCOL=v2, or both) over every family's samples, REST and gRPC.

Responses are checked against OIP_SCHEMAS, written from the public Open Inference Protocol
specification (kserve/open-inference-protocol: inference_rest.md and its gRPC proto): the
field names, their types, and {"error": "..."} for every failure.
"""

from __future__ import annotations

import json
import struct

import grpc
import jsonschema
import numpy as np
import pytest
import requests

from seldon_serve.proto import open_inference_pb2 as v2pb

from contract_client import TIMEOUT, ok_json, post, to_dict

MODEL = "identity"
METADATA = json.dumps(
    {"name": MODEL, "versions": ["1"], "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1, 2]}]}
)
INFER = f"/v2/models/{MODEL}/infer"
SERVICE = "inference.GRPCInferenceService"

# Values every family's types hold: 64-bit integers within 2**53 (R holds them as doubles).
DATA = {
    "BOOL": [True, False, False, True],
    "UINT8": [0, 255, 7, 1],
    "UINT16": [0, 65535, 7, 1],
    "UINT32": [0, 4294967295, 7, 1],
    "UINT64": [0, 2**53, 7, 1],
    "INT8": [-128, 127, 0, 1],
    "INT16": [-32768, 32767, 0, 1],
    "INT32": [-2147483648, 2147483647, 0, 1],
    "INT64": [-(2**53), 2**53, 0, 1],
    "FP16": [0.5, -2.0, 1024.0, 0.25],
    "FP32": [0.25, -1.5, 3.0, 0.125],
    "FP64": [0.1, -1e300, 3.0, 2.5],
    "BYTES": ["a", "héllo", "", "x"],
}
DATATYPES = list(DATA)  # every datatype of the protocol
_TENSOR_METADATA = {
    "type": "object",
    "required": ["name", "datatype", "shape"],
    "properties": {
        "name": {"type": "string"},
        "datatype": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer"}},
        "parameters": {"type": "object"},
    },
    "additionalProperties": False,
}
OIP_SCHEMAS = {
    "server_metadata": {
        "type": "object",
        "required": ["name", "version", "extensions"],
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "string"},
            "extensions": {"type": "array", "items": {"type": "string"}},
        },
        "additionalProperties": False,
    },
    "model_metadata": {
        "type": "object",
        "required": ["name", "platform", "inputs", "outputs"],
        "properties": {
            "name": {"type": "string"},
            "versions": {"type": "array", "items": {"type": "string"}},
            "platform": {"type": "string"},
            "inputs": {"type": "array", "items": _TENSOR_METADATA},
            "outputs": {"type": "array", "items": _TENSOR_METADATA},
            "parameters": {"type": "object"},
        },
        "additionalProperties": False,
    },
    "inference_response": {
        "type": "object",
        "required": ["model_name", "outputs"],
        "properties": {
            "model_name": {"type": "string"},
            "model_version": {"type": "string"},
            "id": {"type": "string"},
            "parameters": {"type": "object"},
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "shape", "datatype", "data"],
                    "properties": {
                        "name": {"type": "string"},
                        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                        "datatype": {"enum": DATATYPES},
                        "parameters": {"type": "object"},
                        "data": {"type": "array"},
                    },
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": False,
    },
    "error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string", "minLength": 1}},
        "additionalProperties": False,
    },
}

# R has no 64-bit integers: an R model answers them as doubles (documented in its README).
ANSWER_DATATYPE = {"r": {"INT64": "FP64", "UINT64": "FP64"}}
# The InferTensorContents field each datatype travels in over gRPC (FP16 has none).
CONTENTS = {
    **dict.fromkeys(["INT8", "INT16", "INT32"], "int_contents"),
    **dict.fromkeys(["UINT8", "UINT16", "UINT32"], "uint_contents"),
    **{kind: f"{kind.lower()}_contents" for kind in ("INT64", "UINT64", "FP32", "FP64", "BYTES")},
    "BOOL": "bool_contents",
}


def valid(kind: str, body: dict) -> dict:
    jsonschema.validate(body, OIP_SCHEMAS[kind])
    return body


def oip_error(response: requests.Response, status: int) -> str:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return valid("error", response.json())["error"]


def get(model, path: str) -> requests.Response:
    return requests.get(model.http + path, timeout=TIMEOUT)


def infer(model, inputs: list[dict], path: str = INFER, **extra) -> requests.Response:
    return requests.post(model.http + path, json={"inputs": inputs, **extra}, timeout=TIMEOUT)


def call(model, method: str, request):
    response_class = getattr(v2pb, f"{method}Response")
    with grpc.insecure_channel(model.grpc) as channel:
        stub = channel.unary_unary(
            f"/{SERVICE}/{method}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_class.FromString,
        )
        return stub(request, timeout=TIMEOUT)


def call_error(model, method: str, request) -> grpc.RpcError:
    try:
        call(model, method, request)
    except grpc.RpcError as exc:
        return exc
    raise AssertionError(f"{method} succeeded; an error was expected")


def answer_datatype(cell, datatype: str) -> str:
    return ANSWER_DATATYPE.get(cell.family.contract_samples, {}).get(datatype, datatype)


@pytest.fixture(scope="module")
def identity(start):
    return start("model", env={"PROTOCOL": "v2", "MODEL_METADATA": METADATA})


@pytest.fixture(scope="module")
def both(start):
    return start("model", env={"PROTOCOL": "both", "MODEL_METADATA": METADATA})


# ---- health and metadata -------------------------------------------------------------------


def test_health_and_server_metadata(identity):
    assert ok_json(get(identity, "/v2/health/live")) == {"live": True}
    assert ok_json(get(identity, "/v2/health/ready")) == {"ready": True}
    metadata = valid("server_metadata", ok_json(get(identity, "/v2")))
    assert metadata["name"] == "seldon-serve" and metadata["version"]
    assert call(identity, "ServerLive", v2pb.ServerLiveRequest()).live is True
    assert call(identity, "ServerReady", v2pb.ServerReadyRequest()).ready is True
    assert call(identity, "ServerMetadata", v2pb.ServerMetadataRequest()).name == "seldon-serve"


def test_model_metadata_and_readiness_name_the_model_and_its_versions(identity):
    for path in (f"/v2/models/{MODEL}", f"/v2/models/{MODEL}/versions/1"):
        metadata = valid("model_metadata", ok_json(get(identity, path)))
        assert metadata["name"] == MODEL and metadata["versions"] == ["1"]
        assert metadata["inputs"] == [{"name": "x", "datatype": "FP64", "shape": [-1, 2]}]
    assert ok_json(get(identity, f"/v2/models/{MODEL}/ready"))["ready"] is True
    assert "no model 'other'" in oip_error(get(identity, "/v2/models/other"), 404)
    assert "no version '9'" in oip_error(get(identity, f"/v2/models/{MODEL}/versions/9/ready"), 404)
    grpc_metadata = call(identity, "ModelMetadata", v2pb.ModelMetadataRequest(name=MODEL))
    assert (grpc_metadata.name, list(grpc_metadata.versions)) == (MODEL, ["1"])
    assert list(grpc_metadata.inputs[0].shape) == [-1, 2]
    assert call(identity, "ModelReady", v2pb.ModelReadyRequest(name=MODEL, version="1")).ready is True
    missing = call_error(identity, "ModelReady", v2pb.ModelReadyRequest(name="other"))
    assert missing.code() == grpc.StatusCode.NOT_FOUND


# ---- inference ---------------------------------------------------------------------------------


@pytest.mark.parametrize("datatype", sorted(DATA))
def test_rest_infer_answers_each_datatype_as_it_came(cell, identity, datatype):
    tensor = {"name": "x", "shape": [2, 2], "datatype": datatype, "data": DATA[datatype]}
    body = valid("inference_response", ok_json(infer(identity, [tensor], id="req-1")))
    assert (body["model_name"], body["model_version"], body["id"]) == (MODEL, "1", "req-1")
    (output,) = body["outputs"]
    assert output["shape"] == [2, 2] and output["datatype"] == answer_datatype(cell, datatype)
    if datatype in ("FP16", "FP32"):  # a float32 prints as 0.25 or 0.25000000372529: compare as float32
        assert np.array(output["data"], np.float32).tolist() == np.array(DATA[datatype], np.float32).tolist()
    else:
        assert output["data"] == DATA[datatype]


@pytest.mark.parametrize("datatype", sorted(DATA))
def test_grpc_infer_answers_each_datatype_as_it_came(cell, identity, datatype):
    request = v2pb.ModelInferRequest(model_name=MODEL, model_version="1", id="g-1")
    tensor = request.inputs.add(name="x", datatype=datatype, shape=[2, 2])
    values = DATA[datatype]
    if datatype == "FP16":  # no contents field: raw, little-endian
        request.raw_input_contents.append(np.array(values, dtype="<f2").tobytes())
    elif datatype == "BYTES":
        tensor.contents.bytes_contents.extend(v.encode() for v in values)
    else:
        getattr(tensor.contents, CONTENTS[datatype]).extend(values)
    reply = call(identity, "ModelInfer", request)
    (output,) = reply.outputs
    expected = answer_datatype(cell, datatype)
    assert (reply.model_name, reply.id, output.datatype, list(output.shape)) == (MODEL, "g-1", expected, [2, 2])
    if datatype == "FP16":
        assert np.frombuffer(reply.raw_output_contents[0], dtype="<f2").tolist() == values
    elif datatype == "BYTES":
        assert [v.decode() for v in output.contents.bytes_contents] == values
    else:
        got = list(getattr(output.contents, CONTENTS[expected]))
        assert np.array(got, dtype=np.float64).tolist() == np.array(values, dtype=np.float64).tolist()


def test_raw_input_contents_are_answered_raw(identity):
    request = v2pb.ModelInferRequest(model_name=MODEL)
    request.inputs.add(name="x", datatype="BYTES", shape=[2])
    request.raw_input_contents.append(struct.pack("<I", 2) + b"ab" + struct.pack("<I", 3) + b"cde")
    reply = call(identity, "ModelInfer", request)
    assert reply.outputs[0].datatype == "BYTES" and not reply.outputs[0].contents.bytes_contents
    assert reply.raw_output_contents[0] == struct.pack("<I", 2) + b"ab" + struct.pack("<I", 3) + b"cde"


def test_several_one_column_inputs_are_the_models_columns(identity):
    inputs = [
        {"name": "a", "shape": [3], "datatype": "FP64", "data": [1, 2, 3]},
        {"name": "b", "shape": [3, 1], "datatype": "FP64", "data": [[4], [5], [6]]},
    ]
    output = valid("inference_response", ok_json(infer(identity, inputs)))["outputs"][0]
    assert output["shape"] == [3, 2] and output["data"] == [1, 4, 2, 5, 3, 6]
    ragged = [inputs[0], {"name": "c", "shape": [2], "datatype": "FP64", "data": [1, 2]}]
    assert "one column ([n] or [n, 1]) of the same length" in oip_error(infer(identity, ragged), 400)


def test_a_transformer_and_a_router_answer_infer_with_their_verb(start):
    parameters = '[{"name": "low", "value": "2", "type": "FLOAT"}, {"name": "high", "value": "4", "type": "FLOAT"}]'
    env = {"PROTOCOL": "v2", "PREDICTIVE_UNIT_PARAMETERS": parameters, "MODEL_METADATA": '{"name": "scaler"}'}
    scaler = start("transformer", env=env)
    tensor = {"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [2, 3, 4]}
    output = ok_json(infer(scaler, [tensor], path="/v2/models/scaler/infer"))["outputs"][0]
    assert output["data"] == [0.0, 0.5, 1.0]

    greedy = '[{"name": "epsilon", "value": "0", "type": "FLOAT"}, {"name": "n_branches", "value": "2", "type": "INT"}]'
    env = {"PROTOCOL": "v2", "PREDICTIVE_UNIT_PARAMETERS": greedy, "MODEL_METADATA": '{"name": "bandit"}'}
    router = start("router", env=env)
    tensor = {"name": "x", "shape": [1, 1], "datatype": "FP64", "data": [1.0]}
    output = ok_json(infer(router, [tensor], path="/v2/models/bandit/infer"))["outputs"][0]
    assert (output["datatype"], output["shape"], output["data"]) == ("INT64", [1, 1], [0])
    misbehave = [
        {"name": "misbehave", "shape": [1], "datatype": "FP64", "data": [1.0]},
        {"name": "too", "shape": [1], "datatype": "FP64", "data": [1.0]},
    ]
    error = oip_error(infer(router, misbehave, path="/v2/models/bandit/infer"), 500)
    assert "route() must return an int" in error


# ---- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("{not json", 400, "not valid JSON"),
        ("", 400, "empty request"),
        ('{"inputs": {}}', 400, "needs inputs"),
        ('{"inputs": [{"name": "x", "shape": [2], "datatype": "FP99", "data": [1, 2]}]}', 400, "FP99"),
        ('{"inputs": [{"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2]}]}', 400, "holds 3 elements"),
        ('{"inputs": [{"name": "x", "shape": [1], "datatype": "INT8", "data": [300]}]}', 400, "outside INT8's range"),
        ('{"inputs": [{"name": "x", "shape": [1], "datatype": "BOOL", "data": ["yes"]}]}', 400, "true/false"),
        (
            '{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}], "outputs": [{"name": "p"}]}',
            400,
            "no output 'p'",
        ),
    ],
)
def test_bad_requests_answer_400_with_the_error_body(identity, body, status, message):
    response = requests.post(
        identity.http + INFER, data=body, headers={"Content-Type": "application/json"}, timeout=TIMEOUT
    )
    assert message in oip_error(response, status)


def test_unknown_paths_methods_and_models(identity):
    assert "no endpoint" in oip_error(get(identity, "/v2/models/identity/explain"), 404)
    assert "POST" in oip_error(get(identity, INFER), 405)
    tensor = {"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}
    assert "no model 'nope'" in oip_error(infer(identity, [tensor], path="/v2/models/nope/infer"), 404)
    request = v2pb.ModelInferRequest(model_name=MODEL)
    request.inputs.add(name="x", datatype="INT8", shape=[1]).contents.int_contents.append(300)
    error = call_error(identity, "ModelInfer", request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "outside INT8's range" in error.details()
    request.model_name = "nope"
    assert call_error(identity, "ModelInfer", request).code() == grpc.StatusCode.NOT_FOUND


# ---- choosing the protocol -------------------------------------------------------------------


def test_v2_alone_serves_no_seldon_endpoints(identity):
    assert post(identity, "/api/v1.0/predictions", {"data": {"ndarray": [[1.0]]}}).status_code == 404


def test_the_seldon_protocol_alone_is_the_default(start):
    seldon = start("model")
    assert get(seldon, "/v2/health/live").status_code == 404
    assert call_error(seldon, "ServerLive", v2pb.ServerLiveRequest()).code() == grpc.StatusCode.UNIMPLEMENTED


def test_both_protocols_on_the_same_ports(both):
    seldon = ok_json(post(both, "/api/v1.0/predictions", {"data": {"ndarray": [[1.0, 2.0]]}}))
    assert seldon["data"]["ndarray"] == [[1.0, 2.0]]
    tensor = {"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1.0, 2.0]}
    assert ok_json(infer(both, [tensor]))["outputs"][0]["data"] == [1.0, 2.0]
    from contract_client import pb, rpc

    reply = rpc(
        both, "Model", "Predict", pb.SeldonMessage(data=pb.DefaultData(tensor=pb.Tensor(shape=[1], values=[3])))
    )
    assert to_dict(reply)["data"]["tensor"]["values"] == [3.0]
    assert call(both, "ServerLive", v2pb.ServerLiveRequest()).live is True


def test_a_body_over_rest_max_body_bytes_is_413_in_either_protocol(start):
    from contract_client import seldon_error

    small = start("model", env={"PROTOCOL": "both", "MODEL_METADATA": METADATA, "REST_MAX_BODY_BYTES": "2048"})
    row = [float(i) for i in range(400)]  # about 3 KB of JSON
    message = seldon_error(
        post(small, "/api/v1.0/predictions", {"data": {"ndarray": [row]}}), 413, "MICROSERVICE_BAD_DATA"
    )
    assert "REST_MAX_BODY_BYTES" in message
    tensor = {"name": "x", "shape": [1, 400], "datatype": "FP64", "data": row}
    assert "REST_MAX_BODY_BYTES" in oip_error(infer(small, [tensor]), 413)
    tensor = {"name": "x", "shape": [1, 4], "datatype": "FP64", "data": row[:4]}
    assert ok_json(infer(small, [tensor]))["outputs"][0]["data"] == row[:4]
