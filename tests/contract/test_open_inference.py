"""The Open Inference Protocol (PROTOCOL=v2, or both) over every family's samples, REST and gRPC.

Responses are checked against OIP_SCHEMAS, written from the public Open Inference Protocol
specification (kserve/open-inference-protocol: inference_rest.md and its gRPC proto): the
field names, their types, and {"error": "..."} for every failure.
"""

from __future__ import annotations

import gzip
import json
import struct
import zlib

import grpc
import jsonschema
import numpy as np
import pytest
import requests

from seldon_serve.proto import open_inference_pb2 as v2pb

from contract_client import ANSWER_DATATYPE, OIP_DATA, TIMEOUT, ok_json, post, to_dict

MODEL = "identity"
METADATA = json.dumps(
    {"name": MODEL, "versions": ["1"], "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1, 2]}]}
)
INFER = f"/v2/models/{MODEL}/infer"
SERVICE = "inference.GRPCInferenceService"

DATATYPES = list(OIP_DATA)  # every datatype of the protocol
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


def test_a_v2_unit_as_seldons_operator_runs_it_is_served_by_its_graph_node_name(start):
    """Seldon Core 1's executor, with `protocol: v2`, calls /v2/models/<graph node name>/...; its
    operator sets MLSERVER_MODEL_NAME and PREDICTIVE_UNIT_ID to that name. No MODEL_METADATA."""
    node = "classifier"
    unit = start(
        "model",
        env={
            "PROTOCOL": "v2", "MLSERVER_MODEL_NAME": node, "PREDICTIVE_UNIT_ID": node,
            "PREDICTIVE_UNIT_IMAGE": "example/iris-classifier:0.3",
        },
    )  # fmt: skip
    tensor = {"name": "x", "datatype": "FP64", "shape": [1, 2], "data": [1.5, 2.5]}
    answer = ok_json(infer(unit, [tensor], path=f"/v2/models/{node}/infer"))
    assert answer["model_name"] == node and answer["outputs"][0]["data"] == [1.5, 2.5]
    assert ok_json(get(unit, f"/v2/models/{node}/ready")) == {"name": node, "ready": True}
    assert ok_json(get(unit, f"/v2/models/{node}"))["name"] == node
    request = v2pb.ModelInferRequest(model_name=node)
    request.inputs.add(name="x", datatype="FP64", shape=[1, 2]).contents.fp64_contents.extend([1.5, 2.5])
    reply = call(unit, "ModelInfer", request)
    assert reply.model_name == node and list(reply.outputs[0].contents.fp64_contents) == [1.5, 2.5]
    assert "this server serves 'classifier'" in oip_error(get(unit, "/v2/models/MyModel/ready"), 404)


def test_health_and_server_metadata(identity):
    assert ok_json(get(identity, "/v2/health/live")) == {"live": True}
    assert ok_json(get(identity, "/v2/health/ready")) == {"ready": True}
    metadata = valid("server_metadata", ok_json(get(identity, "/v2")))
    assert metadata["name"] == "seldon-serve" and metadata["version"]
    assert metadata["extensions"] == ["binary_tensor_data"]
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


@pytest.mark.parametrize("datatype", sorted(OIP_DATA))
def test_rest_infer_answers_each_datatype_as_it_came(cell, identity, datatype):
    tensor = {"name": "x", "shape": [2, 2], "datatype": datatype, "data": OIP_DATA[datatype]}
    body = valid("inference_response", ok_json(infer(identity, [tensor], id="req-1")))
    assert (body["model_name"], body["model_version"], body["id"]) == (MODEL, "1", "req-1")
    (output,) = body["outputs"]
    assert output["shape"] == [2, 2] and output["datatype"] == answer_datatype(cell, datatype)
    if datatype in ("FP16", "FP32"):  # a float32 prints as 0.25 or 0.25000000372529: compare as float32
        assert np.array(output["data"], np.float32).tolist() == np.array(OIP_DATA[datatype], np.float32).tolist()
    else:
        assert output["data"] == OIP_DATA[datatype]


@pytest.mark.parametrize("datatype", sorted(OIP_DATA))
def test_grpc_infer_answers_each_datatype_as_it_came(cell, identity, datatype):
    request = v2pb.ModelInferRequest(model_name=MODEL, model_version="1", id="g-1")
    tensor = request.inputs.add(name="x", datatype=datatype, shape=[2, 2])
    values = OIP_DATA[datatype]
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
    # Seldon Core 1's executor asks a router in a v2 graph on /route and reads a SeldonMessage.
    routed = ok_json(infer(router, [tensor], path="/v2/models/bandit/route"))
    assert routed == {"data": {"names": [], "ndarray": [[0]]}}


def test_a_combiner_aggregates_its_childrens_answers_as_seldons_executor_posts_them(start):
    """In a v2 graph the executor posts a combiner the list of its children's whole answers."""
    combiner = start("combiner", env={"PROTOCOL": "v2", "MLSERVER_MODEL_NAME": "ensemble"})
    children = [
        {"model_name": "a", "model_version": "1", "id": "r-1", "parameters": {},
         "outputs": [{"name": "output-0", "datatype": "FP64", "shape": [1, 2], "data": [1.0, 3.0]}]},
        {"model_name": "b", "id": "r-1",
         "outputs": [{"name": "output-0", "datatype": "FP64", "shape": [1, 2], "data": [3.0, 5.0]}]},
    ]  # fmt: skip
    response = requests.post(combiner.http + "/v2/models/ensemble/aggregate", json=children, timeout=TIMEOUT)
    answer = valid("inference_response", ok_json(response))
    assert answer["model_name"] == "ensemble"
    assert (answer["outputs"][0]["shape"], answer["outputs"][0]["data"]) == ([1, 2], [2.0, 4.0])
    one = requests.post(combiner.http + "/v2/models/ensemble/aggregate", json=children[0], timeout=TIMEOUT)
    assert "non-empty list of inference responses" in oip_error(one, 400)
    tensor = children[0]["outputs"][0]
    assert "aggregates several messages" in oip_error(infer(combiner, [tensor], path="/v2/models/ensemble/infer"), 400)


# ---- the binary tensor extension, content codings, output names -----------------------------------


def raw(datatype: str, values: list) -> bytes:
    """A tensor's elements as the binary extension (and gRPC's raw contents) carry them."""
    if datatype == "BYTES":
        return b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in values)
    return np.array(values, dtype=DTYPES[datatype]).tobytes()


DTYPES = {
    "BOOL": "?", "UINT8": "<u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8", "INT8": "<i1", "INT16": "<i2",
    "INT32": "<i4", "INT64": "<i8", "FP16": "<f2", "FP32": "<f4", "FP64": "<f8",
}  # fmt: skip


def binary_infer(model, message: dict, binary_part: bytes, path: str = INFER) -> tuple[dict, bytes]:
    """POST a binary-extension request; the answer's JSON and its binary part."""
    head = json.dumps(message).encode()
    headers = {"Inference-Header-Content-Length": str(len(head)), "Content-Type": "application/octet-stream"}
    response = requests.post(model.http + path, data=head + binary_part, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 200, f"{response.status_code}: {response.text}"
    length = int(response.headers.get("Inference-Header-Content-Length", len(response.content)))
    return json.loads(response.content[:length]), response.content[length:]


def test_binary_tensors_of_every_datatype_mixed_with_json_ones_answer_binary_when_asked(cell, identity):
    """The extension as tritonclient and KServe's client use it by default: each input's bytes
    after the JSON, every output asked for in binary."""
    datatypes = [d for d in DATATYPES if answer_datatype(cell, d) == d]
    for datatype in datatypes:
        contents = raw(datatype, OIP_DATA[datatype])
        tensor = {"name": "x", "shape": [2, 2], "datatype": datatype, "parameters": {"binary_data_size": len(contents)}}
        message = {"inputs": [tensor], "parameters": {"binary_data_output": True}}
        answer, binary_part = binary_infer(identity, message, contents)
        (output,) = answer["outputs"]
        assert (output["datatype"], output["shape"]) == (datatype, [2, 2]) and "data" not in output
        assert output["parameters"]["binary_data_size"] == len(binary_part) and binary_part == contents, datatype
    columns = [
        {"name": "a", "shape": [2], "datatype": "FP64", "parameters": {"binary_data_size": 16}},
        {"name": "b", "shape": [2, 1], "datatype": "FP64", "data": [[3.0], [4.0]]},
    ]
    answer, binary_part = binary_infer(identity, {"inputs": columns}, raw("FP64", [1.0, 2.0]))
    assert answer["outputs"][0]["data"] == [1.0, 3.0, 2.0, 4.0] and binary_part == b""


@pytest.mark.parametrize(
    ("header", "tensor_bytes", "sent", "message"),
    [
        ("twelve", 16, 16, "Inference-Header-Content-Length"),
        (None, 12, 12, "FP32 [1, 4] is 16 bytes, binary_data_size says 12"),
        (None, 16, 12, "runs past the body"),
        (None, 16, 20, "4 bytes after the last input"),
    ],
    ids=["header-not-a-number", "size-not-the-shape", "truncated", "bytes-past-the-end"],
)
def test_a_malformed_binary_request_is_a_400_naming_the_extension(identity, header, tensor_bytes, sent, message):
    tensor = {"name": "x", "shape": [1, 4], "datatype": "FP32", "parameters": {"binary_data_size": tensor_bytes}}
    head = json.dumps({"inputs": [tensor]}).encode()
    headers = {"Inference-Header-Content-Length": header or str(len(head))}
    response = requests.post(identity.http + INFER, data=head + bytes(sent), headers=headers, timeout=TIMEOUT)
    error = oip_error(response, 400)
    assert error.startswith("binary tensor extension: ") and message in error, error


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compressed_requests_are_read_and_answers_compressed_as_accepted(identity, coding):
    row = [float(i) for i in range(256)]
    body = json.dumps({"inputs": [{"name": "x", "shape": [1, 256], "datatype": "FP64", "data": row}]}).encode()
    packed = gzip.compress(body) if coding == "gzip" else zlib.compress(body)
    headers = {"Content-Encoding": coding, "Content-Type": "application/json", "Accept-Encoding": coding}
    response = requests.post(identity.http + INFER, data=packed, headers=headers, timeout=TIMEOUT, stream=True)
    assert response.status_code == 200 and response.headers["Content-Encoding"] == coding
    wire = response.raw.read(decode_content=False)
    assert int(response.headers["Content-Length"]) == len(wire)
    answer = json.loads(gzip.decompress(wire) if coding == "gzip" else zlib.decompress(wire))
    assert answer["outputs"][0]["data"] == row
    small = requests.get(identity.http + "/v2/health/live", headers={"Accept-Encoding": coding}, timeout=TIMEOUT)
    assert "Content-Encoding" not in small.headers  # under REST_COMPRESS_MIN_BYTES: not worth it
    refused = requests.post(identity.http + INFER, data=body, headers={"Content-Encoding": "br"}, timeout=TIMEOUT)
    assert "Content-Encoding 'br' is not supported" in oip_error(refused, 415)


@pytest.mark.parametrize("service", ["seldon", "v2"])
@pytest.mark.parametrize("compression", [grpc.Compression.Gzip, grpc.Compression.Deflate], ids=["gzip", "deflate"])
def test_grpc_calls_compressed_either_way_are_served(both, service, compression):
    with grpc.insecure_channel(both.grpc, compression=compression) as channel:
        if service == "v2":
            request = v2pb.ModelInferRequest(model_name=MODEL)
            request.inputs.add(name="x", datatype="FP64", shape=[1, 2]).contents.fp64_contents.extend([1.5, 2.5])
            stub = channel.unary_unary(
                f"/{SERVICE}/ModelInfer",
                request_serializer=lambda m: m.SerializeToString(),
                response_deserializer=v2pb.ModelInferResponse.FromString,
            )
            assert list(stub(request, timeout=TIMEOUT).outputs[0].contents.fp64_contents) == [1.5, 2.5]
            return
        from contract_client import pb, pb_grpc

        message = pb.SeldonMessage(data=pb.DefaultData(tensor=pb.Tensor(shape=[1], values=[3])))
        reply = pb_grpc.ModelStub(channel).Predict(message, timeout=TIMEOUT)
        assert list(reply.data.tensor.values) == [3.0]


def test_declared_outputs_name_the_answers_tensor_and_a_request_picks_it_by_that_name(start):
    metadata = {"name": "scorer", "outputs": [{"name": "score", "datatype": "FP64", "shape": [-1, 2]}]}
    scorer = start("model", env={"PROTOCOL": "v2", "MODEL_METADATA": json.dumps(metadata)})
    tensor = {"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1.0, 2.0]}
    path = "/v2/models/scorer/infer"
    answer = valid("inference_response", ok_json(infer(scorer, [tensor], path=path, outputs=[{"name": "score"}])))
    assert [(o["name"], o["data"]) for o in answer["outputs"]] == [("score", [1.0, 2.0])]
    assert "no output 'output-0'" in oip_error(infer(scorer, [tensor], path=path, outputs=[{"name": "output-0"}]), 400)
    request = v2pb.ModelInferRequest(model_name="scorer")
    request.inputs.add(name="x", datatype="FP64", shape=[1, 2]).contents.fp64_contents.extend([1.0, 2.0])
    assert [o.name for o in call(scorer, "ModelInfer", request).outputs] == ["score"]


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
    # a gzip bomb: 8 KB of JSON in well under REST_MAX_BODY_BYTES, counted as it decompresses
    padded = json.dumps({"inputs": [tensor], "id": " " * 8000}).encode()
    bomb = requests.post(
        small.http + INFER, data=gzip.compress(padded), headers={"Content-Encoding": "gzip"}, timeout=TIMEOUT
    )
    assert "once decompressed (REST_MAX_BODY_BYTES)" in oip_error(bomb, 413)
