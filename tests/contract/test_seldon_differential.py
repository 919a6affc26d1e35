"""Differential: our image against Seldon Core's own wrapper, the reference, on the same class.

Every sample of the python contract (and of the Seldon-style sample, one class at a time) is
served twice: by our image, built with s2i, and by Seldon's wrapper from PyPI (the release
versions.yaml pins), in-process (tests/seldon_oracle.py). Both get the same calls in the same
order -- every verb on every unit, whatever SERVICE_TYPE it was built as, with every payload
kind and REST encoding, and over gRPC -- and must answer alike: the same HTTP status and body,
the same gRPC reply. What differs on purpose is normalised away by `deliberate`, each rule
naming its row of the README's table of differences ("Coming from Seldon Core").
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
import requests
from google.protobuf import wrappers_pb2  # noqa: F401 (customData's type, for its JSON form)

from s2ibuilders import tools
from seldon_serve.proto import prediction_pb2 as pb

from contract_client import TIMEOUT, post, to_dict, to_proto
from harness import ROOT, SAMPLES, RunningModel, config

FAMILIES = {"python", "spark"}
UNIT = {"PREDICTIVE_UNIT_ID": "unit-a", "PREDICTIVE_UNIT_IMAGE": "example/unit-a:1"}
# One worker: the samples keep state (a bandit's rewards, a call count) that must evolve on
# both sides alike.
OURS_ONLY = {"GUNICORN_WORKERS": "1"}


@dataclass(frozen=True)
class Case:
    sample: str
    interface: str  # the class, as MODEL_NAME names it
    env: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.sample}:{self.interface}"


def _model_name(sample: str) -> str:
    for line in (SAMPLES / "python" / sample / ".s2i" / "environment").read_text().splitlines():
        if line.startswith("MODEL_NAME="):
            return line.partition("=")[2].strip()
    raise AssertionError(f"{sample} names no MODEL_NAME")


CONTRACT_SAMPLES = (
    "model",
    "model-with-extras",
    "raw-model",
    "router",
    "combiner",
    "transformer",
    "output-transformer",
)
# tests/samples/python/seldon-styles: models written for Seldon's wrapper, one class a file.
SELDON_STYLES = (
    "EchoComponent", "ResponseModel", "ClassNamesAttribute", "RawStatus", "RawProto", "GenericNode",
    "InheritedRoute", "StorageModel", "CustomData", "NumpyRouter", "LegacyHooks", "CustomErrors",
)  # fmt: skip
CASES = [Case(s, _model_name(s)) for s in CONTRACT_SAMPLES] + [Case("seldon-styles", c) for c in SELDON_STYLES]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


PAYLOADS: dict[str, dict[str, Any]] = {
    "ndarray": {
        "meta": {"puid": "p-1", "tags": {"from": "request"}},
        "data": {"names": ["a", "b"], "ndarray": [[1, 2], [3, 4]]},
    },
    "tensor": {"data": {"names": ["a", "b"], "tensor": {"shape": [2, 2], "values": [1, 2, 3, 4]}}},
    "strings": {"meta": {"puid": "p-2"}, "data": {"ndarray": [["x", "y"]]}},
    "jsonData": {"meta": {"puid": "p-3"}, "jsonData": {"k": [1, 2]}},
    "strData": {"meta": {"puid": "p-4"}, "strData": "hello"},
    "binData": {"meta": {"puid": "p-5"}, "binData": _b64(b"\x00bin")},
    "meta-carried": {
        "meta": {
            "puid": "p-6",
            "requestPath": {"upstream": "example/up:2"},
            "metrics": [{"key": "upstream_calls", "type": "COUNTER", "value": 1}],
            "routing": {"router": 1},
        },
        "data": {"ndarray": [[5, 6]]},
    },
}
REST_ONLY = {"scalar": {"meta": {"puid": "p-7"}, "data": {"ndarray": 3}}}  # a ListValue holds no scalar
# gRPC's customData: a message of the model's own, packed in an Any (REST has no form for it).
CUSTOM = {
    "meta": {"puid": "p-8"},
    "customData": {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": "hi"},
}
VERBS = {  # REST path -> gRPC service and method
    "/api/v1.0/predictions": ("Model", "Predict"),
    "/transform-input": ("Transformer", "TransformInput"),
    "/transform-output": ("OutputTransformer", "TransformOutput"),
    "/route": ("Router", "Route"),
}
OTHER_ENCODINGS = {"form": ("ndarray", "strData"), "query": ("tensor",), "multipart": ("ndarray", "strData", "binData")}


def calls() -> list[tuple[str, dict[str, Any]]]:
    """(label, call): the same list, in the same order, for both sides."""
    out: list[tuple[str, dict[str, Any]]] = []
    for path, (service, method) in VERBS.items():
        for kind, message in {**PAYLOADS, **REST_ONLY}.items():
            out.append((f"REST {path} {kind}", {"rest": {"method": "POST", "path": path, "body": message}}))
            if kind in PAYLOADS:
                rpc = {"service": service, "method": method, "type": "SeldonMessage", "request": message}
                out.append((f"gRPC {service}/{method} {kind}", {"grpc": rpc}))
        rpc = {"service": service, "method": method, "type": "SeldonMessage", "request": CUSTOM}
        out.append((f"gRPC {service}/{method} customData", {"grpc": rpc}))
        for encoding, kinds in OTHER_ENCODINGS.items():
            for kind in kinds:
                # Seldon takes GET ?json= on the short paths only (/predict, not /api/v1.0/predictions).
                short = "/predict" if encoding == "query" and path == "/api/v1.0/predictions" else path
                rest = {"method": "POST", "path": short, "encoding": encoding, "body": PAYLOADS[kind]}
                out.append((f"REST {path} {kind} as {encoding}", {"rest": rest}))
    numbers = [PAYLOADS["ndarray"], PAYLOADS["meta-carried"]]
    for label, body in (("list", numbers), ("seldonMessages", {"seldonMessages": numbers})):
        out.append((f"REST /aggregate {label}", {"rest": {"method": "POST", "path": "/aggregate", "body": body}}))
    messages = {"seldonMessages": numbers}
    out.append(("gRPC Combiner/Aggregate", {"grpc": _rpc("Combiner", "Aggregate", "SeldonMessageList", messages)}))
    strings = {"seldonMessages": [PAYLOADS["strData"], PAYLOADS["strData"]]}
    out.append(("REST /aggregate strData", {"rest": {"method": "POST", "path": "/aggregate", "body": strings}}))
    feedback = {
        "request": PAYLOADS["ndarray"],
        "response": {"meta": {"routing": {"unit-a": 1}}, "data": {"ndarray": [[0.5]]}},
        "reward": 1.0,
        "truth": {"data": {"ndarray": [[1]]}},
    }
    out.append(
        ("REST /api/v1.0/feedback", {"rest": {"method": "POST", "path": "/api/v1.0/feedback", "body": feedback}})
    )
    out.append(("gRPC Model/SendFeedback", {"grpc": _rpc("Model", "SendFeedback", "Feedback", feedback)}))
    out.append(("REST /health/status", {"rest": {"method": "GET", "path": "/health/status"}}))
    out.append(("REST /health/ping", {"rest": {"method": "GET", "path": "/health/ping"}}))
    # HEAD is GET without the body (Flask answers it so on every GET route)
    for path in ("/health/ping", "/health/status", "/metadata"):
        out.append((f"REST HEAD {path}", {"rest": {"method": "HEAD", "path": path}}))
    return out


def _rpc(service: str, method: str, kind: str, request: dict[str, Any]) -> dict[str, Any]:
    return {"service": service, "method": method, "type": kind, "request": request}


# ---- the two sides ---------------------------------------------------------------------------


def seldon_python() -> Path:
    version = config.load(ROOT / "versions.yaml").tools["seldon-core"]
    return tools.ensure_seldon_core(version) / "bin" / "python"


_SELDON_ANSWERS: dict[str, list[dict[str, Any]]] = {}


def seldon_answers(case: Case, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Seldon's answers to the calls; the same for every image under test, so asked once a run."""
    if case.id not in _SELDON_ANSWERS:
        _SELDON_ANSWERS[case.id] = _ask_seldon(case, calls)
    return _SELDON_ANSWERS[case.id]


def _ask_seldon(case: Case, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    python = seldon_python()
    job = {
        "source": str(SAMPLES / "python" / case.sample),
        "interface": case.interface,
        "env": {**UNIT, **case.env},
        "calls": calls,
    }
    oracle = ROOT / "tests" / "seldon_oracle.py"
    done = subprocess.run(
        [str(python), str(oracle)], input=json.dumps(job), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"Seldon's wrapper could not serve {case.id}:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout)


def our_answer(model: RunningModel, call: dict[str, Any]) -> dict[str, Any]:
    if "rest" in call:
        rest = call["rest"]
        if rest.get("body") is None:
            response = requests.request(rest["method"], model.http + rest["path"], timeout=TIMEOUT)
        elif rest.get("encoding") == "multipart":
            response = _multipart(model, rest["path"], rest["body"])
        else:
            response = post(model, rest["path"], rest["body"], rest.get("encoding", "json-body"))
        try:
            return {"status": response.status_code, "json": response.json()}
        except ValueError:
            return {"status": response.status_code, "text": response.text}
    rpc = call["grpc"]
    request = to_proto(rpc["request"], getattr(pb, rpc["type"]))
    with grpc.insecure_channel(model.grpc) as channel:
        method = channel.unary_unary(
            f"/seldon.protos.{rpc['service']}/{rpc['method']}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=pb.SeldonMessage.FromString,
        )
        try:
            return {"ok": True, "reply": to_dict(method(request, timeout=TIMEOUT))}
        except grpc.RpcError as exc:
            return {"ok": False, "code": exc.code().name, "message": exc.details()}


def _multipart(model: RunningModel, path: str, body: dict[str, Any]) -> requests.Response:
    files: dict[str, Any] = {}
    for key, value in body.items():
        if key == "binData":
            files[key] = ("data.bin", base64.b64decode(value))
        else:
            files[key] = (None, value if key == "strData" else json.dumps(value))
    return requests.post(model.http + path, files=files, timeout=TIMEOUT)


# ---- what differs on purpose -----------------------------------------------------------------


def deliberate(call: dict[str, Any], seldon: dict[str, Any], ours: dict[str, Any]) -> tuple[Any, Any]:
    """Both answers with the README's deliberate differences taken out."""
    seldon, ours = copy.deepcopy(seldon), copy.deepcopy(ours)
    if _numpy_branch_refused(seldon) and (ours.get("status") == 200 or ours.get("ok")):
        # "Numpy branches": route() may answer a numpy integer (np.argmax's); Seldon's refuses it.
        return "a branch", "a branch"
    if "rest" in call:
        if _scalar_refused(seldon) and ours["status"] == 200:
            # "Scalar results": a number the model returns is answered; Seldon's wrapper refuses it.
            return "a scalar", "a scalar"
        if seldon["status"] >= 400 or ours["status"] >= 400:
            # "Errors": our messages say more; bad input is 400 where Seldon's wrapper raised
            # (500); the error body and its reason are Seldon's.
            return _error_shape(seldon), _error_shape(ours)
        theirs, mine = seldon.get("json"), ours.get("json")
        sent = call["rest"].get("body")
    else:
        if not seldon["ok"] or not ours["ok"]:
            # "gRPC errors": a status code that says what went wrong, not UNKNOWN for everything.
            return seldon["ok"], ours["ok"]
        theirs, mine = seldon["reply"], ours["reply"]
        sent = call["grpc"]["request"]
    _drop_made_up_puid(sent, theirs, mine)
    if call.get("rest", {}).get("path") == "/health/status" and isinstance(theirs, dict):
        # "Probes": a health check does not call metrics() (Seldon's records them, and answers them).
        (theirs.get("meta") or {}).pop("metrics", None)
    return _metrics_as_given(theirs), _metrics_as_given(mine)


def _numpy_branch_refused(answer: dict[str, Any]) -> bool:
    info = answer.get("message") or (((answer.get("json") or {}).get("status") or {}).get("info") or "")
    return isinstance(info, str) and "Routing response must be int but got" in info


def _scalar_refused(answer: dict[str, Any]) -> bool:
    info = ((answer.get("json") or {}).get("status") or {}).get("info", "") if answer["status"] == 400 else ""
    return isinstance(info, str) and info.startswith("Unknown data type returned as payload")


def _error_shape(answer: dict[str, Any]) -> Any:
    status = (answer.get("json") or {}).get("status") if isinstance(answer.get("json"), dict) else None
    reason = status.get("reason") if isinstance(status, dict) else None
    return ("error" if answer["status"] >= 400 else answer["status"], reason if answer["status"] < 500 else "5xx")


def _drop_made_up_puid(sent: Any, theirs: Any, mine: Any) -> None:
    """ "A puid for every answer": ours makes one up where the request had none (nor Seldon's answer)."""
    if not isinstance(theirs, dict) or not isinstance(mine, dict) or not isinstance(mine.get("meta"), dict):
        return
    sent_meta = sent.get("meta") if isinstance(sent, dict) else None
    if isinstance(sent, dict) and "request" in sent:  # feedback: its request's puid
        sent_meta = (sent["request"] or {}).get("meta")
    if not (sent_meta or {}).get("puid") and "puid" not in (theirs.get("meta") or {}):
        mine["meta"].pop("puid", None)


def _metrics_as_given(answer: Any) -> Any:
    """ "Metrics in the answer": as the model gave them. Seldon's Prometheus update adds a
    `method` tag to the model's own dicts (those that had tags), and so to its answer; a
    TIMER's value is a duration, so its key and type are compared, not its value."""
    if isinstance(answer, dict):
        if answer.get("type") == "TIMER" and "value" in answer:
            answer = {**answer, "value": "a duration"}
        if "key" in answer and isinstance(answer.get("tags"), dict):
            answer = {**answer, "tags": {k: v for k, v in answer["tags"].items() if k != "method"}}
        return {key: _metrics_as_given(value) for key, value in answer.items()}
    if isinstance(answer, list):
        return [_metrics_as_given(value) for value in answer]
    return answer


# ---- the test --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_our_image_answers_as_seldons_wrapper_does(case, start):
    labelled = calls()
    seldon = seldon_answers(case, [call for _, call in labelled])
    model = start(case.sample, env={**UNIT, **OURS_ONLY, **case.env, "MODEL_NAME": case.interface})
    differences = []
    for (label, call), theirs in zip(labelled, seldon, strict=True):
        ours = our_answer(model, call)
        expected, got = deliberate(call, theirs, ours)
        if expected != got:
            differences.append(f"{label}:\n  Seldon: {json.dumps(theirs)[:600]}\n  ours:   {json.dumps(ours)[:600]}")
    assert not differences, f"{len(differences)} of {len(labelled)} calls differ:\n" + "\n".join(differences)


def test_a_models_own_error_handler_answers_as_in_seldon(start):
    """Seldon's model_error_handler: the model's exception answered with the status, body and
    headers its handler chose, where the comparison above sees only an error and its reason."""
    case = Case("seldon-styles", "CustomErrors")
    call = {"rest": {"method": "POST", "path": "/api/v1.0/predictions", "body": PAYLOADS["strData"]}}
    (theirs,) = _ask_seldon(case, [call])
    model = start(case.sample, env={**UNIT, **OURS_ONLY, "MODEL_NAME": case.interface})
    response = post(model, "/api/v1.0/predictions", PAYLOADS["strData"])
    assert (response.status_code, response.json()) == (theirs["status"], theirs["json"])
    assert theirs["status"] == 418 and theirs["json"]["status"]["code"] == 1402
    assert response.headers["X-Model-Error"] == "1402"


def test_the_oracle_is_seldons_own_wrapper():
    """The reference is the pinned release itself, not something of ours."""
    version = config.load(ROOT / "versions.yaml").tools["seldon-core"]
    python = seldon_python()
    shown = subprocess.run(
        [str(python), "-c", "import seldon_core.wrapper as w; print(w.seldon_core.__version__, w.__file__)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert shown[0] == version and Path(shown[1]).is_relative_to(python.parents[1])
