"""Seldon Core's own python wrapper as the reference: run under the Python that has the pinned
`seldon-core` release (bench_wrappers.seldon_venv), it serves one model class in-process --
its Flask app through Flask's test client, its gRPC servicer called directly -- and answers
the calls it is given, so tests can compare our images' answers with Seldon's.

    <seldon venv>/bin/python tests/seldon_oracle.py < job.json > answers.json

job: {"source": dir, "interface": "MyModel", "parameters": "[...]", "env": {...}, "calls": [call]}
call: {"rest": {"method", "path", "encoding", "body"}} or {"grpc": {"service", "method", "type", "request"}}
answer: {"status", "json" | "text"} for REST; {"ok", "reply" | "code"} for gRPC.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import io
import json
import os
import sys
import types
from typing import Any


def main() -> None:
    job = json.load(sys.stdin)
    answers_out, sys.stdout = sys.stdout, sys.stderr  # what the model prints is not an answer
    os.environ.update(job.get("env") or {})  # before seldon_core reads PREDICTIVE_UNIT_ID at import
    from seldon_core import wrapper
    from seldon_core.flask_utils import SeldonMicroserviceException
    from seldon_core.metrics import SeldonMetrics
    from seldon_core.microservice import parse_parameters

    # Our samples raise our wrapper's exception, which is a Seldon exception by another name.
    sys.modules["seldon_serve"] = types.SimpleNamespace(SeldonMicroserviceException=SeldonMicroserviceException)
    os.chdir(job["source"])
    sys.path.insert(0, job["source"])
    module, _, name = job["interface"].rpartition(".")
    user_class = getattr(importlib.import_module(module or name), name)
    parameters = job.get("parameters") or os.environ.get("PREDICTIVE_UNIT_PARAMETERS") or "[]"  # as Seldon's CLI
    user = user_class(**parse_parameters(json.loads(parameters)))
    with contextlib.suppress(NotImplementedError, AttributeError):  # as Seldon's servers call it
        user.load()
    metrics = SeldonMetrics()
    client = wrapper.get_rest_microservice(user, metrics).test_client()
    servicer = wrapper.SeldonModelGRPC(user, metrics)
    answers = [rest(client, call["rest"]) if "rest" in call else grpc(servicer, call["grpc"]) for call in job["calls"]]
    json.dump(answers, answers_out)


def rest(client: Any, call: dict[str, Any]) -> dict[str, Any]:
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    method, path, encoding, body = call["method"], call["path"], call.get("encoding", "json-body"), call.get("body")
    text = json.dumps(body)
    headers = call.get("headers") or {}
    if body is None:
        response = client.open(path, method=method, headers=headers)
    elif encoding == "json-body":
        response = client.open(path, method=method, data=text, content_type="application/json", headers=headers)
    elif encoding == "form":
        response = client.post(path, data={"json": text}, headers=headers)
    elif encoding == "query":
        response = client.get(path, query_string={"json": text}, headers=headers)
    elif encoding == "multipart":  # each field of the message its own part, binData a file
        fields: dict[str, Any] = {}
        for key, value in body.items():
            if key == "binData":
                fields[key] = FileStorage(io.BytesIO(base64.b64decode(value)), filename="data.bin")
            else:
                fields[key] = value if key == "strData" else json.dumps(value)
        # A fixed boundary: werkzeug would draw one from `random`, whose state the model may use.
        boundary, data = encode_multipart(fields, boundary="seldon-oracle-boundary")
        content_type = f"multipart/form-data; boundary={boundary}"
        response = client.post(path, data=data, content_type=content_type, headers=headers)
    else:
        raise ValueError(encoding)
    answer: dict[str, Any] = {"status": response.status_code}
    try:
        answer["json"] = json.loads(response.get_data(as_text=True))
    except ValueError:
        answer["text"] = response.get_data(as_text=True)
    return answer


def grpc(servicer: Any, call: dict[str, Any]) -> dict[str, Any]:
    from google.protobuf import json_format, wrappers_pb2  # noqa: F401 (customData's type, for its JSON form)
    from seldon_core.proto import prediction_pb2

    request = json_format.ParseDict(call["request"], getattr(prediction_pb2, call["type"])())
    try:
        reply = getattr(servicer, call["method"])(request, None)
    except Exception as exc:  # grpc's server turns any exception into UNKNOWN
        message = getattr(exc, "message", None) or str(exc)  # Seldon's exception keeps it off args
        return {"ok": False, "code": "UNKNOWN", "message": f"{type(exc).__name__}: {message}"}
    return {"ok": True, "reply": json_format.MessageToDict(reply)}


if __name__ == "__main__":
    main()
