"""Bad input over the wire, for any family's running model: what the fuzz test (a fast subset,
tests/contract/test_fuzz.py) and the fuzz benchmark (tests/benchmark/fuzz_wrappers.py, tens
of thousands of requests) both send, and the one rule both judge the answers by.

The rule: every answer is a 2xx, or a 4xx carrying the protocol's error body (Seldon's status
body; {"error": ...} under /v2), within a time limit; never a 5xx (the samples fuzzed raise no
exceptions of their own, so a 5xx is the wrapper's), never a hang, and the server still answers
afterwards. Three sources of requests:
- schemathesis, generating requests from the OpenAPI document the model itself serves at
  /seldon.json (wrappers/proto/openapi.yaml), checking status codes, content types, response
  schemas and the Allow header of 405s as well;
- hand-written malformed requests (raw_cases) that a schema-driven generator does not make:
  broken JSON, invalid UTF-8, NaN literals, deep nesting, ragged arrays, wrong content types,
  a body over REST_MAX_BODY_BYTES, broken HTTP; binary tensor extension requests whose header,
  sizes and bytes disagree, and compressed bodies that are truncated, lie about their coding or
  inflate past the limit (a seeded random share of each, binary_cases and coded_cases);
- random and truncated protobuf bytes to every gRPC method the model serves.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import socket
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import requests
from google.protobuf import json_format

from seldon_serve.proto import open_inference_pb2 as v2pb
from seldon_serve.proto import prediction_pb2 as pb

# The body limit the fuzzed model runs with, so an oversized body is cheap to send.
BODY_LIMIT = 65536
FUZZ_ENV = {"PROTOCOL": "both", "REST_MAX_BODY_BYTES": str(BODY_LIMIT), "LOG_LEVEL": "WARNING"}
TIMEOUT = 10.0  # seconds an answer may take before it counts as a hang

# schemathesis' checks that hold for this contract. Left out: negative_data_rejection (the
# wrappers read what they need of a message and ignore unknown fields, as Seldon's do, so a
# request the schema calls invalid may rightly succeed), positive_data_acceptance (a message
# valid by the schema can still be unusable, e.g. a ragged ndarray: a 400 is right), and the
# checks about authentication and stateful resources, which this API has none of.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "unsupported_method",
    "allow_header_conformance",
)

PREDICT = "/api/v1.0/predictions"
INFER = "/v2/models/{name}/infer"


@dataclass
class Findings:
    """What one fuzz run sent and what broke the rule."""

    requests: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, other: Findings) -> None:
        self.requests += other.requests
        self.problems += other.problems


# ---- schemathesis ------------------------------------------------------------------------


def schemathesis(
    http: str,
    *,
    max_examples: int,
    seed: int,
    model_name: str | None = None,
    phases: str = "fuzzing",
    workers: int = 2,
) -> Findings:
    """schemathesis run against the model's own /seldon.json; returns how many cases it sent.
    phases: "fuzzing" (random cases), or "coverage,fuzzing" (first the edge values of every
    schema too). With model_name, the /v2/models/{model_name} paths name the served model, so
    their bodies reach the model instead of all ending in 404 (raw_cases asks for a wrong name)."""
    cli = Path(sys.executable).with_name("schemathesis")
    command = [
        str(cli), "run", f"{http}/seldon.json", "--checks", ",".join(CHECKS), "--max-examples", str(max_examples),
        "--seed", str(seed), "--workers", str(workers), "--phases", phases,
        "--request-timeout", str(TIMEOUT), "--suppress-health-check", "all", "--no-color", "--output-truncate", "true",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="schemathesis-") as workdir:
        if model_name:
            config = Path(workdir, "schemathesis.toml")
            config.write_text(f"[parameters]\n{json.dumps('path.model_name')} = {json.dumps(model_name)}\n")
            command[1:1] = ["--config-file", str(config)]
        run = subprocess.run(command, capture_output=True, text=True, timeout=3600, cwd=workdir)
    out = run.stdout + run.stderr
    generated = re.search(r"(\d+) generated", out)
    findings = Findings(requests=int(generated.group(1)) if generated else 0)
    if run.returncode != 0:
        findings.problems.append(f"schemathesis found failures (exit {run.returncode}):\n{_tail(out, 120)}")
    return findings


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.splitlines()[-lines:])


# ---- hand-written malformed requests -------------------------------------------------------


@dataclass(frozen=True)
class RawCase:
    name: str
    method: str
    path: str
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _nested(depth: int) -> bytes:
    return b'{"data":{"ndarray":' + b"[" * depth + b"]" * depth + b"}}"


def raw_cases(model_name: str) -> list[RawCase]:
    infer = INFER.format(name=model_name)
    row = ",".join("1.5" for _ in range(BODY_LIMIT // 3))
    cases = [
        RawCase("truncated JSON", "POST", PREDICT, b'{"data": {"ndarray": [[1, 2'),
        RawCase("not JSON", "POST", PREDICT, b"ndarray=1,2,3"),
        RawCase("invalid UTF-8 in a string", "POST", PREDICT, b'{"strData": "\xff\xfe\xc3("}'),
        RawCase("invalid UTF-8 outside strings", "POST", PREDICT, b"\xff\xfe{}"),
        RawCase("NaN literal", "POST", PREDICT, b'{"data": {"ndarray": [[NaN, 1]]}}'),
        RawCase("Infinity literal", "POST", PREDICT, b'{"data": {"tensor": {"shape": [1], "values": [Infinity]}}}'),
        RawCase("number too large for a double", "POST", PREDICT, b'{"data": {"ndarray": [[1e999]]}}'),
        RawCase("ragged ndarray", "POST", PREDICT, b'{"data": {"ndarray": [[1, 2], [3]]}}'),
        RawCase(
            "tensor shape and values disagree",
            "POST",
            PREDICT,
            b'{"data": {"tensor": {"shape": [2, 2], "values": [1]}}}',
        ),
        RawCase("negative tensor shape", "POST", PREDICT, b'{"data": {"tensor": {"shape": [-1], "values": [1]}}}'),
        RawCase("huge tensor shape", "POST", PREDICT, b'{"data": {"tensor": {"shape": [99999999999], "values": [1]}}}'),
        RawCase("strings in a tensor", "POST", PREDICT, b'{"data": {"tensor": {"shape": [1], "values": ["a"]}}}'),
        RawCase("data is a list", "POST", PREDICT, b'{"data": [1, 2]}'),
        RawCase("message is a list", "POST", PREDICT, b"[1, 2]"),
        RawCase("binData not base64", "POST", PREDICT, b'{"binData": "***"}'),
        RawCase("meta.tags a list", "POST", PREDICT, b'{"meta": {"tags": [1]}, "data": {"ndarray": [1]}}'),
        # The next three were found by schemathesis (the Java wrapper answered 500).
        RawCase("meta.puid a list", "POST", PREDICT, b'{"meta": {"puid": [{}]}, "data": {"ndarray": [1]}}'),
        RawCase(
            "meta.requestPath holding an object",
            "POST",
            PREDICT,
            b'{"meta": {"requestPath": {"a": {}}}, "data": {"ndarray": [1]}}',
        ),
        RawCase(
            "meta.routing past an int", "POST", PREDICT, b'{"meta": {"routing": {"a": 1e20}}, "data": {"ndarray": [1]}}'
        ),
        RawCase("deeply nested JSON", "POST", PREDICT, _nested(100_000)),
        RawCase("nested beyond numpy's dimensions", "POST", PREDICT, _nested(64)),
        RawCase("body over REST_MAX_BODY_BYTES", "POST", PREDICT, b'{"data": {"ndarray": [[' + row.encode() + b"]]}}"),
        RawCase("empty body", "POST", PREDICT, b""),
        RawCase("text/plain body", "POST", PREDICT, b"hello", "text/plain"),
        RawCase("form without json=", "POST", PREDICT, b"other=1", "application/x-www-form-urlencoded"),
        RawCase("multipart without a boundary", "POST", PREDICT, b"--x\r\n\r\n", "multipart/form-data"),
        RawCase(
            "multipart part not JSON",
            "POST",
            PREDICT,
            b'--b\r\nContent-Disposition: form-data; name="meta"\r\n\r\n{nope\r\n--b--\r\n',
            "multipart/form-data; boundary=b",
        ),
        RawCase("feedback reward not a number", "POST", "/api/v1.0/feedback", b'{"reward": "high"}'),
        RawCase("feedback reward negative", "POST", "/api/v1.0/feedback", b'{"reward": -1}'),
        RawCase("feedback response a list", "POST", "/api/v1.0/feedback", b'{"response": [], "reward": 1}'),
        RawCase("aggregate of nothing", "POST", "/aggregate", b'{"seldonMessages": []}'),
        RawCase("unknown path", "POST", "/api/v9/predictions", b"{}"),
        RawCase("unknown method", "DELETE", PREDICT),
        RawCase("PATCH on a read-only path", "PATCH", "/health/status"),
        RawCase("v2: not JSON", "POST", infer, b"{inputs"),
        RawCase("v2: inputs missing", "POST", infer, b"{}"),
        RawCase(
            "v2: unknown datatype",
            "POST",
            infer,
            b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP8", "data": [1]}]}',
        ),
        RawCase(
            "v2: shape and data disagree",
            "POST",
            infer,
            b'{"inputs": [{"name": "x", "shape": [3], "datatype": "FP32", "data": [1]}]}',
        ),
        RawCase(
            "v2: INT8 out of range",
            "POST",
            infer,
            b'{"inputs": [{"name": "x", "shape": [1], "datatype": "INT8", "data": [300]}]}',
        ),
        RawCase(
            "v2: BOOL given strings",
            "POST",
            infer,
            b'{"inputs": [{"name": "x", "shape": [1], "datatype": "BOOL", "data": ["yes"]}]}',
        ),
        RawCase(  # found by schemathesis: the Java wrapper's element count overflowed (500)
            "v2: shape whose product overflows",
            "POST",
            infer,
            b'{"inputs": [{"name": "x", "shape": [772, 144115188075855872], "datatype": "FP16", "data": []}]}',
        ),
        RawCase(
            "v2: dimension past int64",
            "POST",
            infer,
            b'{"inputs": [{"name": "x", "shape": [66745485086212038656], "datatype": "FP32", "data": []}]}',
        ),
        RawCase("v2: unknown model", "POST", INFER.format(name="no-such-model"), b'{"inputs": []}'),
        RawCase(
            "v2: body over REST_MAX_BODY_BYTES",
            "POST",
            infer,
            b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [' + row.encode() + b"]}]}",
        ),
        RawCase("v2: GET infer", "GET", infer),
    ]
    return cases + binary_cases(infer, 24, seed=len(cases)) + coded_cases(infer, 12, seed=len(cases))


def binary_request(datatype: str = "FP32", count: int = 4) -> tuple[dict, bytes]:
    """A well-formed binary tensor extension request's JSON and binary part: a [1, count] tensor
    of datatype (FP32, INT32, BOOL or BYTES)."""
    if datatype == "BYTES":
        contents = b"".join(struct.pack("<I", 2) + b"ab" for _ in range(count))
    elif datatype == "BOOL":
        contents = bytes(i % 2 for i in range(count))
    else:
        contents = struct.pack(f"<{count}i", *range(count))
    tensor = {"name": "x", "datatype": datatype, "shape": [1, count], "parameters": {"binary_data_size": len(contents)}}
    return {"inputs": [tensor], "parameters": {"binary_data_output": True}}, contents


def binary_case(name: str, path: str, message: dict, contents: bytes, header: str | None = None) -> RawCase:
    head = json.dumps(message).encode()
    headers = {"Inference-Header-Content-Length": str(len(head)) if header is None else header}
    return RawCase(name, "POST", path, head + contents, "application/octet-stream", headers)


def binary_cases(path: str, count: int, seed: int) -> list[RawCase]:
    """The binary tensor extension with its parts disagreeing: a header length off or not a
    number, sizes that lie about the bytes or the shape, bytes cut short or left over."""
    rng = random.Random(seed)
    cases = []
    for n in range(count):
        message, contents = binary_request(rng.choice(["FP32", "BYTES", "INT32", "BOOL"]), rng.randint(1, 6))
        tensor = message["inputs"][0]
        head_length = len(json.dumps(message).encode())
        lie = rng.choice(["header", "size", "cut", "extra", "both", "bytes-prefix"])
        header = None
        if lie == "header":
            header = rng.choice([str(head_length + rng.randint(-20, 20)), "-1", "x", "", str(2**64), " 12"])
        elif lie == "size":
            tensor["parameters"]["binary_data_size"] = rng.choice([0, 1, len(contents) * 2, -4, 2**63, "8", None])
        elif lie == "cut":
            contents = contents[: rng.randrange(len(contents))]
        elif lie == "extra":
            contents += bytes(rng.randint(1, 9))
        elif lie == "both":
            tensor["data"] = [1] * 4
        elif tensor["datatype"] == "BYTES":  # a length prefix running past the end
            contents = struct.pack("<I", 2**31) + contents[4:]
        cases.append(binary_case(f"v2 binary #{n}: {lie}", path, message, contents, header))
    return cases


def coded_cases(path: str, count: int, seed: int) -> list[RawCase]:
    """Compressed bodies that are truncated, corrupt, in a coding not accepted, or that inflate
    past REST_MAX_BODY_BYTES (a gzip bomb) -- on /v2 and Seldon's paths alike."""
    rng = random.Random(seed)
    body = b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}]}'
    bomb = gzip.compress(b" " * (BODY_LIMIT * 8))  # spaces: still JSON once inflated, 8x the limit
    cases = [RawCase("gzip bomb", "POST", path, bomb, headers={"Content-Encoding": "gzip"}),
             RawCase("gzip bomb, Seldon", "POST", PREDICT, bomb, headers={"Content-Encoding": "gzip"})]  # fmt: skip
    for n in range(count):
        coding = rng.choice(["gzip", "deflate", "br", "gzip, deflate", "compress"])
        packed = gzip.compress(body) if coding == "gzip" else zlib.compress(body)
        damage = rng.choice(["cut", "flip", "trailing", "none"])
        if damage == "cut":
            packed = packed[: rng.randrange(len(packed))]
        elif damage == "flip":
            at = rng.randrange(len(packed))
            packed = packed[:at] + bytes([packed[at] ^ 0xFF]) + packed[at + 1 :]
        elif damage == "trailing":
            packed += rng.randbytes(rng.randint(1, 8))
        target = rng.choice([path, PREDICT])
        cases.append(
            RawCase(f"{coding} body #{n}: {damage}", "POST", target, packed, headers={"Content-Encoding": coding})
        )
    return cases


def judge(path: str, status: int, content_type: str, body: bytes) -> str | None:
    """None if the answer keeps the rule, else what is wrong with it."""
    if 200 <= status < 300:
        return None
    if not 400 <= status < 500:
        return f"status {status}: {body[:300]!r}"
    if not content_type.startswith("application/json"):
        return f"{status} with content type {content_type!r}: {body[:300]!r}"
    try:
        answer = json.loads(body)
    except ValueError:
        return f"{status} whose body is not JSON: {body[:300]!r}"
    if path.startswith("/v2"):
        ok = isinstance(answer, dict) and isinstance(answer.get("error"), str)
    else:
        status_body = answer.get("status") if isinstance(answer, dict) else None
        ok = isinstance(status_body, dict) and {"info", "reason", "code", "status"} <= status_body.keys()
    return None if ok else f"{status} without the protocol's error body: {body[:300]!r}"


def send_raw(http: str, cases: list[RawCase]) -> Findings:
    findings = Findings()
    for case in cases:
        findings.requests += 1
        try:
            answer = requests.request(
                case.method, http + case.path, data=case.body,
                headers={"Content-Type": case.content_type, **case.headers}, timeout=TIMEOUT,
            )  # fmt: skip
        except requests.RequestException as exc:
            findings.problems.append(f"{case.name}: no answer ({type(exc).__name__}: {exc})")
            continue
        problem = judge(case.path, answer.status_code, answer.headers.get("Content-Type", ""), answer.content)
        if problem:
            findings.problems.append(f"{case.name} ({case.method} {case.path}): {problem}")
    findings.add(broken_http(http))
    return findings


BROKEN_HTTP = {
    "garbage request line": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    "header without a colon": b"POST /predict HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n",
    "Content-Length not a number": b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n",
}


def broken_http(http: str) -> Findings:
    """Requests no HTTP client would send: the answer must be a 400 (or a closed connection)."""
    host, port = http.removeprefix("http://").rsplit(":", 1)
    findings = Findings()
    for name, raw in BROKEN_HTTP.items():
        findings.requests += 1
        with socket.create_connection((host, int(port)), timeout=TIMEOUT) as conn:
            conn.sendall(raw)
            try:
                reply = conn.recv(4096)
            except TimeoutError:
                findings.problems.append(f"{name}: no answer and the connection left open (a hang)")
                continue
        status = reply.split(b" ", 2)[1] if reply.startswith(b"HTTP/1.") else b""
        if reply and status[:1] != b"4":
            findings.problems.append(f"{name}: answered {reply[:120]!r}")
    return findings


# ---- gRPC ----------------------------------------------------------------------------------

# A status a malformed or unsuitable call may get; anything else (UNKNOWN, INTERNAL, UNAVAILABLE,
# DEADLINE_EXCEEDED, ...) breaks the rule.
GRPC_REFUSALS = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.FAILED_PRECONDITION,
}
GRPC_METHODS = (
    "/seldon.protos.Model/Predict",
    "/seldon.protos.Model/SendFeedback",
    "/seldon.protos.Transformer/TransformInput",
    "/seldon.protos.Router/Route",
    "/seldon.protos.Combiner/Aggregate",
    "/seldon.protos.Generic/TransformOutput",
    "/seldon.protos.Seldon/Predict",
    "/inference.GRPCInferenceService/ModelInfer",
    "/inference.GRPCInferenceService/ModelMetadata",
    "/inference.GRPCInferenceService/ModelReady",
)


def valid_grpc_messages(model_name: str) -> list[bytes]:
    """Well-formed requests, for grpc_bodies to cut short and damage."""
    tensor = v2pb.ModelInferRequest.InferInputTensor(name="x", datatype="FP64", shape=[1, 2])
    tensor.contents.fp64_contents.extend([1.0, 2.0])
    messages = [
        json_format.ParseDict({"data": {"names": ["a", "b"], "ndarray": [[1.0, 2.0]]}}, pb.SeldonMessage()),
        json_format.ParseDict({"data": {"tensor": {"shape": [1, 2], "values": [1.0, 2.0]}}}, pb.SeldonMessage()),
        pb.Feedback(reward=1.0),
        v2pb.ModelInferRequest(model_name=model_name, inputs=[tensor]),
    ]
    return [message.SerializeToString() for message in messages]


def grpc_bodies(count: int, seed: int, valid: list[bytes]) -> Iterator[bytes]:
    """Random bytes, and valid messages cut short or with bytes flipped."""
    rng = random.Random(seed)
    for i in range(count):
        if i % 3 == 0 or not valid:
            yield rng.randbytes(rng.randint(0, 64))
            continue
        message = bytearray(rng.choice(valid))
        if i % 3 == 1 and len(message) > 1:
            yield bytes(message[: rng.randint(1, len(message) - 1)])  # truncated
        else:
            for _ in range(rng.randint(1, 3)):
                message[rng.randrange(len(message))] = rng.randrange(256)
            yield bytes(message)


def fuzz_grpc(target: str, count: int, seed: int, valid: list[bytes]) -> Findings:
    findings = Findings()
    with grpc.insecure_channel(target) as channel:
        calls = {m: channel.unary_unary(m, request_serializer=None, response_deserializer=None) for m in GRPC_METHODS}
        for i, body in enumerate(grpc_bodies(count, seed, valid)):
            method = GRPC_METHODS[i % len(GRPC_METHODS)]
            findings.requests += 1
            try:
                calls[method](body, timeout=TIMEOUT)
            except grpc.RpcError as exc:
                code = exc.code()  # type: ignore[attr-defined]
                if code not in GRPC_REFUSALS:
                    findings.problems.append(f"{method} with {body[:40]!r}: {code.name}: {exc.details()}")  # type: ignore[attr-defined]
    return findings


def still_serving(http: str) -> str | None:
    try:
        if requests.post(http + PREDICT, json={"data": {"ndarray": [[1.0]]}}, timeout=TIMEOUT).status_code == 200:
            return None
    except requests.RequestException as exc:
        return f"the model stopped answering after the fuzzing: {exc}"
    return "the model no longer answers a valid prediction after the fuzzing"
