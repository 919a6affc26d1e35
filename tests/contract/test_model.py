"""The `model` sample (identity) -- predict over every encoding, payload kind, alias and
transport; meta, health, metadata, metrics and error rules that every component shares."""

from __future__ import annotations

import json
import socket

import grpc
import numpy as np
import pytest
import requests
from google.protobuf import empty_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from contract_client import (
    ENCODINGS,
    b64,
    metrics_text,
    ok_json,
    pb,
    post,
    rpc,
    rpc_error,
    seldon_error,
    to_dict,
    to_proto,
)

TFTENSOR = {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "2"}, {"size": "2"}]}, "floatVal": [1, 2, 3, 4]}
PAYLOADS = {
    "ndarray": {"data": {"names": ["a", "b"], "ndarray": [[1.5, 2], [3, 4]]}},
    "tensor": {"data": {"names": ["a", "b"], "tensor": {"shape": [2, 2], "values": [1.5, 2, 3, 4]}}},
    "tftensor": {"data": {"names": ["a", "b"], "tftensor": TFTENSOR}},
    "jsonData": {"jsonData": {"customer": 42, "items": [1, 2, {"deep": True}]}},
    "strData": {"strData": "a sentence to classify"},
    "binData": {"binData": b64(b"\x00\x01\xfe\xffbytes")},
}
PREDICT_PATHS = ("/predict", "/api/v1.0/predictions", "/api/v0.1/predictions")


@pytest.fixture(scope="module")
def model(start):
    return start("model")


def strip_meta(message: dict) -> dict:
    return {k: v for k, v in message.items() if k != "meta"}


DEFAULT_NAMES = ["t:0", "t:1"]


def expected_identity(payload: dict, reply: dict) -> dict:
    """An identity model answers with the same payload. Its 2-D data is named either like the
    request (where the language's tables carry names: an R data.frame) or t:0..t:n-1 (where
    they do not: a numpy array)."""
    expected = strip_meta(payload)
    if "data" in expected:
        names = reply.get("data", {}).get("names")
        assert names in (expected["data"].get("names"), DEFAULT_NAMES), names
        expected["data"] = {**expected["data"], "names": names}
    return expected


def normalise(message: dict) -> dict:
    """Numbers compared as floats (an identity may turn 2 into 2.0 for a float array)."""
    message = strip_meta(message)
    data = message.get("data")
    if data and "ndarray" in data:
        data["ndarray"] = np.asarray(data["ndarray"], dtype=float).tolist()
    if data and "tensor" in data:
        data["tensor"]["values"] = [float(v) for v in data["tensor"]["values"]]
    if data and "tftensor" in data:
        got = data["tftensor"]
        data["tftensor"] = {"dtype": got["dtype"], "shape": got["tensorShape"]}
    return message


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("kind", list(PAYLOADS))
def test_every_payload_kind_round_trips_over_every_encoding(model, kind, encoding):
    payload = {**PAYLOADS[kind], "meta": {"puid": f"{kind}-{encoding}"}}
    reply = ok_json(post(model, "/api/v1.0/predictions", payload, encoding))
    assert reply["meta"]["puid"] == f"{kind}-{encoding}"
    if kind == "tftensor":
        tensor = reply["data"]["tftensor"]
        assert tensor["dtype"] == "DT_FLOAT"
        assert [int(d["size"]) for d in tensor["tensorShape"]["dim"]] == [2, 2]
        assert reply["data"]["names"] in (["a", "b"], DEFAULT_NAMES)
    else:
        assert normalise(reply) == normalise(expected_identity(payload, reply))


@pytest.mark.parametrize("path", PREDICT_PATHS)
def test_every_predict_alias_answers(model, path):
    reply = ok_json(post(model, path, PAYLOADS["ndarray"]))
    assert reply["data"]["ndarray"] == [[1.5, 2], [3, 4]]


@pytest.mark.parametrize("part", ["binData", "strData"])
def test_multipart_file_and_text_parts(model, part):
    content = b"\x89PNG\r\n\x1a\n not really" if part == "binData" else "plain words"
    files = {part: ("upload.bin", content)} if part == "binData" else {part: (None, content)}
    reply = ok_json(requests.post(f"{model.http}/predict", files=files, timeout=10))
    assert reply[part] == (b64(content) if part == "binData" else content)


def test_puid_is_made_up_when_missing_and_tags_pass_through(model):
    first = ok_json(post(model, "/predict", PAYLOADS["ndarray"]))
    second = ok_json(post(model, "/predict", PAYLOADS["ndarray"]))
    assert first["meta"]["puid"] and first["meta"]["puid"] != second["meta"]["puid"]
    tagged = ok_json(post(model, "/predict", {**PAYLOADS["strData"], "meta": {"tags": {"team": "risk", "n": 2}}}))
    assert tagged["meta"]["tags"] == {"team": "risk", "n": 2}


def test_one_dimensional_results_have_no_names(model):
    reply = ok_json(post(model, "/predict", {"data": {"ndarray": [1, 2, 3]}}))
    assert reply["data"] == {"names": [], "ndarray": [1, 2, 3]}


def test_health_and_default_metadata(model):
    ping = requests.get(f"{model.http}/health/ping", timeout=5)
    assert ping.status_code == 200 and ping.text == "pong"
    for path in ("/health/status", "/api/v1.0/health/status"):
        assert requests.get(model.http + path, timeout=5).status_code == 200
    for path in ("/metadata", "/api/v1.0/metadata"):
        meta = ok_json(requests.get(model.http + path, timeout=5))
        assert set(meta) == {"name", "versions", "platform", "inputs", "outputs", "custom"}
        assert meta["inputs"] == [] and meta["outputs"] == [] and meta["custom"] == {}


@pytest.mark.parametrize(
    ("body", "content_type", "fragment"),
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b'{"meta": {"requestPath": {"a": {"b": 1}}}, "strData": "x"}', "application/json", "requestPath"),
        (b'{"something": 1}', "application/json", "needs one of data, jsonData, strData or binData"),
        (b'{"data": {"tensor": {"shape": [3, 3], "values": [1, 2]}}}', "application/json", "do not fit shape"),
        (b'{"binData": "not base64!"}', "application/json", "not valid base64"),
        (b"[1, 2, 3]", "application/json", "must be a JSON object"),
        (b"", "application/json", "empty request"),
        (b"json=%7Bbroken", "application/x-www-form-urlencoded", "not valid JSON"),
    ],
    ids=[
        "malformed-json",
        "request-path-not-text",
        "unknown-payload",
        "wrong-shape",
        "bad-base64",
        "not-an-object",
        "empty",
        "bad-form",
    ],
)
def test_bad_requests_get_400_with_seldons_error_body(model, body, content_type, fragment):
    response = requests.post(f"{model.http}/predict", data=body, headers={"Content-Type": content_type}, timeout=5)
    assert fragment in seldon_error(response, 400, "MICROSERVICE_BAD_DATA")


def test_unknown_path_is_a_clear_error(model):
    assert "no endpoint /nope" in seldon_error(
        requests.post(f"{model.http}/nope", json={}, timeout=5), 404, "MICROSERVICE_BAD_DATA"
    )


def test_every_verb_is_served_whatever_the_service_type_with_seldons_answers(model):
    """Seldon's operator never tells a unit its role: a MODEL answers every verb, as Seldon's
    wrapper does for a class without the method: transforms are the identity; route and
    aggregate, which need the model's answer, are a 400."""
    for path in ("/transform-input", "/transform-output", "/api/v1.0/transform-input"):
        reply = ok_json(post(model, path, PAYLOADS["ndarray"]))
        assert reply["data"]["ndarray"] == PAYLOADS["ndarray"]["data"]["ndarray"], path
    assert "route" in seldon_error(post(model, "/route", PAYLOADS["ndarray"]), 400, "MICROSERVICE_BAD_DATA")
    combined = {"seldonMessages": [PAYLOADS["ndarray"]]}
    assert "aggregate" in seldon_error(post(model, "/aggregate", combined), 400, "MICROSERVICE_BAD_DATA")


def test_seldons_meta_rules_request_path_carried_meta_and_the_puid_header(start):
    """As Seldon's wrapper answers, in every language: this unit's {id: image} joins the
    request's meta.requestPath, the request's tags and metrics are carried on, and the puid
    Seldon's executor sends as a Seldon-Puid header is the answer's when the body has none."""
    model = start("model", env={"PREDICTIVE_UNIT_ID": "unit-a", "PREDICTIVE_UNIT_IMAGE": "example/unit-a:1"})
    upstream = [{"key": "upstream_calls", "type": "COUNTER", "value": 1}]
    body = {"meta": {"requestPath": {"up": "example/up:0"}, "tags": {"t": "x"}, "metrics": upstream}}
    body["data"] = {"ndarray": [[1, 2]]}
    response = requests.post(f"{model.http}/api/v1.0/predictions", json=body, headers={"Seldon-Puid": "p-hdr"})
    meta = ok_json(response)["meta"]
    assert meta["puid"] == "p-hdr" and meta["tags"] == {"t": "x"}, meta
    assert meta["requestPath"] == {"up": "example/up:0", "unit-a": "example/unit-a:1"}, meta
    assert [m["key"] for m in meta["metrics"]] == ["upstream_calls"], meta
    with_puid = {**body, "meta": {**body["meta"], "puid": "p-body"}}
    response = requests.post(f"{model.http}/api/v1.0/predictions", json=with_puid, headers={"Seldon-Puid": "p-hdr"})
    assert ok_json(response)["meta"]["puid"] == "p-body"


def test_feedback_without_a_handler_is_accepted(model):
    feedback = {"request": PAYLOADS["ndarray"], "response": PAYLOADS["ndarray"], "reward": 1}
    for path in ("/send-feedback", "/api/v1.0/feedback"):
        ok_json(post(model, path, feedback))


def test_prometheus_metrics_endpoint_serves_text(model):
    text = metrics_text(model)
    assert "# TYPE seldon_api_model_feedback_total counter" in text


# ---- gRPC --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(PAYLOADS))
@pytest.mark.parametrize("service", ["Model", "Seldon"])
def test_grpc_predict_mirrors_every_payload_kind(model, service, kind):
    request = to_proto({**PAYLOADS[kind], "meta": {"puid": f"grpc-{kind}"}})
    reply = to_dict(rpc(model, service, "Predict", request))
    assert reply["meta"]["puid"] == f"grpc-{kind}"
    if kind == "tftensor":
        assert reply["data"]["tftensor"]["dtype"] == "DT_FLOAT"
    else:
        assert normalise(reply) == normalise(expected_identity(to_dict(request), reply))


def test_grpc_errors_have_real_status_codes(model):
    bad = rpc_error(model, "Model", "Predict", pb.SeldonMessage())
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "needs one of data" in bad.details()
    wrong_shape = to_proto({"data": {"tensor": {"shape": [5], "values": [1, 2]}}})
    assert rpc_error(model, "Model", "Predict", wrong_shape).code() == grpc.StatusCode.INVALID_ARGUMENT
    for service, method in (("Router", "Route"), ("Combiner", "Aggregate"), ("Generic", "Route")):
        request = pb.SeldonMessageList() if method == "Aggregate" else to_proto(PAYLOADS["ndarray"])
        if method == "Aggregate":
            request.seldonMessages.append(to_proto(PAYLOADS["ndarray"]))
        error = rpc_error(model, service, method, request)  # served, but the model has no such method
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (service, method)
    for service, method in (("Generic", "TransformInput"), ("OutputTransformer", "TransformOutput")):
        reply = to_dict(rpc(model, service, method, to_proto(PAYLOADS["ndarray"])))
        assert reply["data"]["ndarray"] == PAYLOADS["ndarray"]["data"]["ndarray"], (service, method)


def test_grpc_metadata_and_feedback(model):
    meta = rpc(model, "Model", "Metadata", empty_pb2.Empty())
    assert meta.platform == "seldon"
    graph = rpc(model, "Seldon", "GraphMetadata", empty_pb2.Empty())
    assert graph.name == meta.name and meta.name in graph.models
    feedback = pb.Feedback(request=to_proto(PAYLOADS["ndarray"]), reward=1.0)
    assert rpc(model, "Model", "SendFeedback", feedback) is not None


def test_grpc_reflection_lists_every_seldon_service(model):
    with grpc.insecure_channel(model.grpc) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        response = next(stub.ServerReflectionInfo(iter([request]), timeout=10))
    names = {service.name for service in response.list_services_response.service}
    services = ("Model", "Router", "Transformer", "OutputTransformer", "Combiner", "Generic", "Seldon")
    assert {f"seldon.protos.{s}" for s in services} <= names


def test_grpc_health_answers_serving_for_a_kubernetes_grpc_probe(model):
    """grpc.health.v1.Health/Check with no service named: SERVING (1). Sent as raw bytes: an empty
    HealthCheckRequest, and the answer's field 1 (status) as its protobuf encoding."""
    with grpc.insecure_channel(model.grpc) as ch:
        check = ch.unary_unary("/grpc.health.v1.Health/Check", request_serializer=None, response_deserializer=None)
        assert check(b"", timeout=10) == b"\x08\x01"


SCHED_OTHER, SCHED_BATCH = 0, 3


def processes(container) -> list[tuple[int, int, str, int]]:
    """(pid, parent's pid, name as the kernel cuts it, scheduling policy) of each process, from
    /proc/<pid>/stat: fields 1, 4, 2 and 41."""
    stats = container.exec_run(["sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null"]).output.decode()
    found = []
    for line in stats.splitlines():
        name, fields = line[line.index("(") + 1 : line.rindex(")")], line[line.rindex(")") + 2 :].split()
        found.append((int(line.split()[0]), int(fields[4 - 3]), name, int(fields[41 - 3])))  # fields from the 3rd on
    return found


def test_the_workers_leave_the_cpu_to_the_grpc_front(model, cell):
    """Each worker's main thread is SCHED_BATCH and the front keeps the default policy
    (cli._leave_the_cpu_to_the_front): woken by the front's calls, a worker does not take the
    CPU from it at once. The workers are the wrapper's processes with none of their own under
    them (a supervisor, when there is one, has the workers under it)."""
    if cell.family.name == "java":
        pytest.skip("the JVM serves gRPC itself: there is no front to leave the CPU to")
    found = processes(model.container)
    wrapper = [(pid, policy) for pid, _, name, policy in found if name == "seldon-core-mic"]
    parents = {parent for _, parent, name, _ in found if name == "seldon-core-mic"}
    workers = {policy for pid, policy in wrapper if pid not in parents}
    fronts = {policy for _, _, name, policy in found if name == "seldon-grpc-fro"}
    assert workers == {SCHED_BATCH} and fronts == {SCHED_OTHER}, found


def test_grpc_without_the_front_serves_the_same_contract(start):
    """SELDON_GRPC_FRONT=off: gRPC from inside the worker (a wrapper with no front ignores it)."""
    model = start("model", env={"SELDON_GRPC_FRONT": "off"})
    reply = to_dict(rpc(model, "Model", "Predict", to_proto({**PAYLOADS["tensor"], "meta": {"puid": "in-process"}})))
    assert reply["meta"]["puid"] == "in-process" and reply["data"]["tensor"]["shape"] == [2, 2]
    assert rpc_error(model, "Model", "Predict", pb.SeldonMessage()).code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rpc_error(model, "Router", "Route", to_proto(PAYLOADS["ndarray"])).code() == grpc.StatusCode.INVALID_ARGUMENT


def test_expect_100_continue_is_answered_before_the_body_is_sent(model):
    """curl sends `Expect: 100-continue` for bodies over 1 KiB and waits a second for the answer."""
    body = json.dumps({"data": {"ndarray": [[float(i) for i in range(500)]]}}).encode()
    host, port = model.http.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        conn.settimeout(0.5)  # well under curl's one-second wait
        interim = conn.recv(64)  # the JDK's server adds a Content-Length: 0 header, which curl accepts
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n") and interim.endswith(b"\r\n\r\n"), interim
        conn.settimeout(5)
        conn.sendall(body)
        reply = b""
        while b"\r\n\r\n" not in reply or len(reply.split(b"\r\n\r\n", 1)[1]) < len(body) - 100:
            reply += conn.recv(65536)
    assert reply.startswith(b"HTTP/1.1 200 OK")
