"""seldon_core, the compatibility package: models written for Seldon Core's python wrapper import it.

Differential where it can be: the same snippet runs, each in a fresh interpreter, under Seldon's
own seldon_core (the release versions.yaml pins, installed in .tools/seldon-venv on first use)
and under ours (this interpreter, where wrappers/python is installed), and the two answers, made
JSON by `encode`, must be equal. The rest checks what Seldon has no counterpart for: that the
classes and stub modules are seldon_serve's own, the http(s) and unsupported storage URIs, and the
tftensor payloads (Seldon needs TensorFlow for those, which is not installed).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import seldon_core
import yaml
from seldon_core import flask_utils, metadata, microservice, storage, user_model, utils
from seldon_core.proto import prediction_pb2

import seldon_serve.errors
import seldon_serve.proto.prediction_pb2
import seldon_serve.proto.prediction_pb2_grpc
import seldon_serve.user_model
from s2ibuilders import config, tools
from seldon_serve import tftensor

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def seldon_python() -> Path:
    """The Python of Seldon's own wrapper (installed once, under a lock, beside the other tools)."""
    version = config.load(ROOT / "versions.yaml").tools["seldon-core"]
    return tools.ensure_seldon_core(version, say=lambda *_: None) / "bin" / "python"


# Shared by both sides: makes a result JSON (arrays with their dtype and shape, protobuf messages
# in their JSON form, bytes in base64, floats to 12 significant digits: numpy's releases differ in
# the last bits of the same computation, e.g. metrics.BINS' logspace) and turns an exception into
# its kind, status and reason.
PRELUDE = """
import base64, copy, json, math, os, re, sys
import numpy as np
from google.protobuf import json_format
from google.protobuf.message import Message

def encode(value):
    if isinstance(value, float) and math.isfinite(value):  # numpy's float64 too
        return float(f"{value:.12g}")
    if isinstance(value, np.ndarray):
        return {"array": encode(value.tolist()), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, Message):
        return {"proto": value.DESCRIPTOR.full_name, "json": json_format.MessageToDict(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": base64.b64encode(value).decode()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if type(value).__name__ == "SeldonResponse":
        return {"SeldonResponse": encode([value.data, value.tags, value.metrics])}
    if hasattr(value, "__iter__") and not isinstance(value, str):  # protobuf repeated fields
        return [encode(v) for v in value]
    return value

def attempt(fn, *args, **kwargs):
    try:
        return {"ok": fn(*args, **kwargs)}
    except Exception as exc:
        raised = {"raised": type(exc).__name__}
        if hasattr(exc, "status_code"):
            raised.update(status_code=exc.status_code, reason=exc.reason, info=exc.message.split(":")[0])
        return raised
"""

# What Seldon's operator sets, cleared so that each side sees only the environment a test gives.
SELDON_ENVIRONMENT = (
    "PREDICTIVE_UNIT_ID", "PREDICTIVE_UNIT_IMAGE", "SELDON_DEPLOYMENT_ID", "PREDICTOR_ID", "PREDICTOR_LABELS",
    "INCLUDE_METRICS_IN_CLIENT_RESPONSE", "SELDON_EXECUTOR_ENABLED",
)  # fmt: skip
IN_A_DEPLOYMENT = {
    "PREDICTIVE_UNIT_ID": "classifier",
    "PREDICTIVE_UNIT_IMAGE": "registry:5000/seldonio/iris:0.3",
    "SELDON_DEPLOYMENT_ID": "iris",
    "PREDICTOR_ID": "default",
    "PREDICTOR_LABELS": '{"version": "v7"}',
}

# Models, the same source for both sides, built on seldon_core.user_model.SeldonComponent.
MODELS = """
from seldon_core.user_model import SeldonComponent, SeldonNotImplementedError

class Plain:
    pass

class Base(SeldonComponent):
    pass

class Named(SeldonComponent):
    def class_names(self):
        return ["a", "b"]
    def feature_names(self):
        return ["f1", "f2"]
    def tags(self):
        return {"model": "named"}
    def predict(self, X, names, meta=None):
        return {"meta": meta}
    def metrics(self):
        return [{"key": "calls", "type": "COUNTER", "value": 1}]
    def health_status(self):
        return [1]

class Legacy:
    class_names = ["x", "y"]
    def predict(self, X, names):
        return X
    def route(self, X, names):
        return 1
    def aggregate(self, Xs, names):
        return Xs[0]
    def send_feedback(self, X, names, reward, truth, routing=None):
        return [reward, routing]
    def metrics(self):
        return [{"key": "bad"}]
    def health_status(self):
        raise SeldonNotImplementedError("no")

MODELS = {"Plain": Plain(), "Base": Base(), "Named": Named(), "Legacy": Legacy()}
"""


def run(python: Path | str, body: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    """The JSON of `result` after running PRELUDE + body in a fresh `python`."""
    environment = {name: value for name, value in os.environ.items() if name not in SELDON_ENVIRONMENT}
    script = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(encode(result)))\n"
    done = subprocess.run(
        [str(python), "-c", script], env={**environment, **(env or {})}, cwd=cwd or ROOT,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, f"{python} failed:\n{done.stderr}"
    return json.loads(done.stdout.splitlines()[-1])


def both(body: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[Any, Any]:
    """(Seldon's answer, ours) to the same snippet."""
    return run(seldon_python(), body, env, cwd), run(sys.executable, body, env, cwd)


def assert_same(theirs: dict[str, Any], ours: dict[str, Any]) -> None:
    """Case by case, so that a failure names its cases rather than diffing everything."""
    assert theirs.keys() == ours.keys()
    different = [
        f"{case}:\n  seldon: {theirs[case]}\n  ours:   {ours[case]}" for case in theirs if theirs[case] != ours[case]
    ]
    assert not different, f"{len(different)} of {len(theirs)} cases differ:\n" + "\n".join(different[:8])


# ---- the package as a whole -------------------------------------------------------------------

SUPPORTED = {
    "seldon_core": ["__version__", "Storage"],
    "seldon_core.version": ["__version__"],
    "seldon_core.user_model": [
        "SeldonComponent", "SeldonResponse", "SeldonNotImplementedError", "INCLUDE_METRICS_IN_CLIENT_RESPONSE",
        "client_custom_tags", "client_class_names", "client_predict", "client_transform_input",
        "client_transform_output", "client_custom_metrics", "client_feature_names", "client_send_feedback",
        "client_route", "client_aggregate", "client_health_status",
    ],
    "seldon_core.microservice": [
        "SeldonMicroserviceException", "main", "parse_parameters", "load_annotations", "PARAMETERS_ENV_NAME",
        "HTTP_SERVICE_PORT_ENV_NAME", "GRPC_SERVICE_PORT_ENV_NAME", "METRICS_SERVICE_PORT_ENV_NAME",
        "LOG_LEVEL_ENV", "DEFAULT_LOG_LEVEL", "DEFAULT_GRPC_PORT", "DEFAULT_HTTP_PORT", "DEFAULT_METRICS_PORT",
        "DEBUG_ENV", "GUNICORN_ACCESS_LOG_ENV", "FILTER_METRICS_ACCESS_LOGS_ENV_NAME", "ANNOTATIONS_FILE",
    ],
    "seldon_core.flask_utils": [
        "SeldonMicroserviceException", "ANNOTATIONS_FILE", "ANNOTATION_GRPC_MAX_MSG_SIZE",
        "DEFAULT_ANNOTATION_REST_TIMEOUT", "ANNOTATION_REST_TIMEOUT",
    ],
    "seldon_core.utils": [
        "getenv", "getenv_as_bool", "json_to_seldon_message", "seldon_message_to_json", "json_to_feedback",
        "feedback_to_json", "json_to_seldon_messages", "seldon_messages_to_json", "get_data_from_proto",
        "grpc_datadef_to_array", "array_to_grpc_datadef", "array_to_rest_datadef", "array_to_list_value",
        "get_meta_from_proto", "extract_request_parts", "extract_request_parts_json",
        "extract_feedback_request_parts", "construct_response_json", "construct_response", "get_request_path",
        "json_to_seldon_model_metadata",
    ],
    "seldon_core.env_utils": [
        "ENV_MODEL_NAME", "ENV_MODEL_IMAGE", "ENV_SELDON_DEPLOYMENT_NAME", "ENV_PREDICTOR_NAME",
        "ENV_PREDICTOR_LABELS", "NONIMPLEMENTED_MSG", "NONIMPLEMENTED_IMAGE_MSG", "get_model_name",
        "get_image_name", "get_deployment_name", "get_predictor_name", "get_predictor_version",
    ],
    "seldon_core.metrics": [
        "SeldonMetrics", "COUNTER", "GAUGE", "TIMER", "BINS", "FEEDBACK_KEY", "FEEDBACK_REWARD_KEY",
        "DEFAULT_LABELS", "validate_metrics", "create_counter", "create_gauge", "create_timer", "split_image_tag",
        "FEEDBACK_METRIC_METHOD_TAG", "PREDICT_METRIC_METHOD_TAG", "INPUT_TRANSFORM_METRIC_METHOD_TAG",
        "OUTPUT_TRANSFORM_METRIC_METHOD_TAG", "ROUTER_METRIC_METHOD_TAG", "AGGREGATE_METRIC_METHOD_TAG",
        "HEALTH_METRIC_METHOD_TAG",
    ],
    "seldon_core.metadata": ["validate_model_metadata", "SeldonInvalidMetadataError"],
    "seldon_core.storage": ["Storage"],
    "seldon_core.proto.prediction_pb2": ["SeldonMessage", "DefaultData", "Tensor", "Meta", "Feedback"],
    "seldon_core.proto.prediction_pb2_grpc": ["ModelStub", "ModelServicer", "add_ModelServicer_to_server"],
}  # fmt: skip


def test_both_packages_have_every_supported_name_and_equal_constants():
    theirs, ours = both(f"""
        import importlib
        result = {{}}
        for module, names in {SUPPORTED!r}.items():
            loaded = importlib.import_module(module)
            for name in names:
                value = getattr(loaded, name, "<missing>")
                constant = isinstance(value, (str, int, float, list, dict)) and not name.startswith("DEFAULT_LABELS")
                result[f"{{module}}.{{name}}"] = value if constant else ("<missing>" if value == "<missing>" else "ok")
    """)
    assert_same(theirs, ours)
    assert "<missing>" not in ours.values()


def test_version_is_the_seldon_release_versions_yaml_pins():
    pinned = yaml.safe_load((ROOT / "versions.yaml").read_text())["tools"]["seldon-core"]
    assert seldon_core.__version__ == pinned
    assert seldon_core.version.SELDON_CORE_VERSION is seldon_core.__version__
    theirs, ours = both("import seldon_core\nresult = seldon_core.__version__")
    assert theirs == ours == pinned


def test_classes_are_seldon_serves_own():
    for module in (microservice, flask_utils, utils):
        assert module.SeldonMicroserviceException is seldon_serve.errors.SeldonMicroserviceException
    for name in ("SeldonComponent", "SeldonResponse", "SeldonNotImplementedError"):
        assert getattr(user_model, name) is getattr(seldon_serve.user_model, name)


def test_stub_modules_are_seldon_serves_own():
    import seldon_core.proto.prediction_pb2
    import seldon_core.proto.prediction_pb2_grpc
    from seldon_core.proto import prediction_pb2_grpc

    assert seldon_core.proto.prediction_pb2 is prediction_pb2 is seldon_serve.proto.prediction_pb2
    assert seldon_core.proto.prediction_pb2_grpc is prediction_pb2_grpc is seldon_serve.proto.prediction_pb2_grpc
    assert sys.modules["seldon_core.proto.prediction_pb2"] is seldon_serve.proto.prediction_pb2


def test_our_stubs_have_every_message_and_service_seldons_have():
    theirs, ours = both("""
        from seldon_core.proto import prediction_pb2, prediction_pb2_grpc
        file = prediction_pb2.DESCRIPTOR
        result = {
            "messages": {name: sorted(m.fields_by_name) for name, m in file.message_types_by_name.items()},
            "services": {name: sorted(s.methods_by_name) for name, s in file.services_by_name.items()},
            "grpc": sorted(name for name in dir(prediction_pb2_grpc) if name.endswith(("Stub", "Servicer", "_server"))),
        }
    """)
    for name, fields in theirs["messages"].items():  # ours may have more (Metric.bins)
        assert set(fields) <= set(ours["messages"].get(name, [])), name
    assert ours["services"] == theirs["services"]
    assert ours["grpc"] == theirs["grpc"]


def test_importing_every_module_starts_nothing():
    modules = [module for module in SUPPORTED if module != "seldon_core"]
    answer = run(
        sys.executable,
        f"""
        import importlib, multiprocessing, threading
        for module in {modules!r}:
            importlib.import_module(module)
        result = {{"threads": threading.active_count(), "children": len(multiprocessing.active_children())}}
        """,
    )
    assert answer == {"threads": 1, "children": 0}


# ---- SeldonMicroserviceException -------------------------------------------------------------

EXCEPTION_FORMS = {
    "message": "('m')",
    "status positional": "('m', 404)",
    "status keyword": "('m', status_code=404)",
    "reason keyword": "('m', reason='MY_REASON')",
    "payload keyword": "('m', payload={'p': 1})",
    "all keywords": "('m', status_code=401, payload=[1], reason='R')",
    "status None": "('m', None)",
    "payload positional": "('m', 404, {'p': 1})",
    "payload and reason positional": "('m', 500, None, 'R')",
}


@functools.cache
def exception_answers() -> tuple[dict[str, Any], dict[str, Any]]:
    return both(f"""
        from seldon_core.microservice import SeldonMicroserviceException
        from seldon_core.user_model import SeldonNotImplementedError

        class NotFound(SeldonMicroserviceException):
            status_code = 404

        def describe(exc):
            return {{"status_code": exc.status_code, "reason": exc.reason, "payload": exc.payload,
                    "message": exc.message, "to_dict": exc.to_dict()}}

        result = {{}}
        for name, form in {EXCEPTION_FORMS!r}.items():
            result[name] = describe(eval("SeldonMicroserviceException" + form))
        result["status class attribute"] = describe(NotFound("gone"))
        result["not implemented"] = describe(SeldonNotImplementedError("predict is not implemented"))
    """)


@pytest.mark.parametrize("form", [*EXCEPTION_FORMS, "status class attribute", "not implemented"])
def test_exception_takes_seldons_arguments(form):
    theirs, ours = exception_answers()
    assert ours[form] == theirs[form]


def test_an_exception_raised_by_a_model_answers_with_its_status():
    from seldon_serve.microservice import Microservice
    from seldon_serve.payload import JsonIncoming

    class Model(user_model.SeldonComponent):
        def predict(self, X, names, meta=None):
            raise microservice.SeldonMicroserviceException("no such customer", status_code=404, reason="NOT_FOUND")

    with pytest.raises(seldon_serve.errors.SeldonMicroserviceException) as raised:
        Microservice(Model()).predict(JsonIncoming({"data": {"ndarray": [[1]]}}))
    assert (raised.value.status_code, raised.value.reason) == (404, "NOT_FOUND")


# ---- seldon_core.utils: JSON <-> protobuf <-> numpy -------------------------------------------

MESSAGES = [
    None,
    {},
    {"data": {"names": ["a", "b"], "ndarray": [[1, 2], [3, 4]]}, "meta": {"puid": "p", "tags": {"t": 1}}},
    {"data": {"tensor": {"shape": [2, 3], "values": [1, 2, 3, 4, 5, 6]}}},
    {"data": {"tensor": {"shape": [0], "values": []}}},
    {"data": {"ndarray": ["x", "y"]}},
    {"data": {"ndarray": [[1, "a"], [True, None]]}},
    {"data": {"names": ["only"]}},
    {"strData": "hello"},
    {"binData": "aGVsbG8="},
    {"jsonData": {"a": [1, 2], "b": {"c": None}}},
    {"meta": {"requestPath": {"m": "img:1"}, "metrics": [{"key": "k", "type": "GAUGE", "value": 2}]}},
    {"data": {"ndarray": "not a list"}},
    {"unknown": 1},
    {"data": {"tensor": {"shape": [2], "values": ["a", "b"]}}},
]


def test_json_and_protobuf_conversions_match():
    theirs, ours = both(f"""
        from seldon_core import utils
        result = {{}}
        for i, message in enumerate({MESSAGES!r}):
            parsed = attempt(utils.json_to_seldon_message, message)
            if "ok" in parsed:
                parsed["ok"] = utils.seldon_message_to_json(parsed["ok"])
            result[f"message {{i}}"] = parsed
        feedbacks = [
            {{"request": {{"data": {{"ndarray": [[1]]}}}}, "truth": {{"data": {{"ndarray": [[0]]}}}}, "reward": 0.5}},
            {{"response": {{"strData": "s"}}, "reward": 1}},
            {{"reward": "lots"}},
        ]
        for i, feedback in enumerate(feedbacks):
            parsed = attempt(utils.json_to_feedback, feedback)
            result[f"feedback {{i}}"] = {{"ok": utils.feedback_to_json(parsed["ok"])}} if "ok" in parsed else parsed
        lists = [{{"seldonMessages": [{{"strData": "a"}}, {{"data": {{"ndarray": [1]}}}}]}}, {{"seldonMessages": 1}}]
        for i, messages in enumerate(lists):
            parsed = attempt(utils.json_to_seldon_messages, messages)
            result[f"list {{i}}"] = {{"ok": utils.seldon_messages_to_json(parsed["ok"])}} if "ok" in parsed else parsed
        metadata = [None, {{"name": "m", "versions": ["1"], "inputs": [{{"name": "x"}}], "extra": 1}}, {{"name": 3}}]
        for i, value in enumerate(metadata):
            result[f"metadata {{i}}"] = attempt(utils.json_to_seldon_model_metadata, value)
    """)
    assert_same(theirs, ours)


def test_protobuf_requests_decode_to_the_same_arrays():
    theirs, ours = both(f"""
        from google.protobuf import any_pb2
        from seldon_core import utils
        from seldon_core.proto import prediction_pb2
        result = {{}}
        messages = [m for m in {MESSAGES!r} if m]
        custom = prediction_pb2.SeldonMessage()
        custom.customData.Pack(prediction_pb2.Meta(puid="inside"))
        for i, message in enumerate(messages):
            parsed = attempt(utils.json_to_seldon_message, message)
            if "ok" not in parsed:
                continue
            proto = parsed["ok"]
            result[f"parts {{i}}"] = attempt(utils.extract_request_parts, proto)
            result[f"data {{i}}"] = attempt(utils.get_data_from_proto, proto)
            result[f"datadef {{i}}"] = attempt(utils.grpc_datadef_to_array, proto.data)
            result[f"meta {{i}}"] = attempt(utils.get_meta_from_proto, proto)
        result["custom"] = attempt(utils.extract_request_parts, custom)
        truth = {{"data": {{"ndarray": [[1.5]]}}}}
        feedback = utils.json_to_feedback({{"request": messages[1], "truth": truth, "reward": 2}})
        result["feedback"] = attempt(utils.extract_feedback_request_parts, feedback)
        result["empty feedback"] = attempt(utils.extract_feedback_request_parts, prediction_pb2.Feedback())
    """)
    assert_same(theirs, ours)


ARRAYS = [
    ("int", "[1, 2, 3]"),
    ("float 2-D", "[[0.5, 1.5], [2.5, 3.5]]"),
    ("int 3-D", "[[[1, 2]], [[3, 4]]]"),
    ("strings", "['a', 'b']"),
    ("strings 2-D", "[['a', 'b'], ['c', 'd']]"),
    ("empty", "[]"),
]


def test_arrays_encode_to_the_same_payloads():
    theirs, ours = both(f"""
        from seldon_core import utils
        result = {{}}
        for label, literal in {ARRAYS!r}:
            array = np.array(eval(literal))
            for kind in ("tensor", "ndarray", "anything"):
                if kind == "tensor" and array.dtype.kind == "U":
                    continue
                result[f"rest {{label}} {{kind}}"] = attempt(utils.array_to_rest_datadef, kind, array)
                result[f"rest {{label}} {{kind}} named"] = attempt(utils.array_to_rest_datadef, kind, array, ["c"])
                result[f"grpc {{label}} {{kind}}"] = attempt(utils.array_to_grpc_datadef, kind, array)
                result[f"grpc {{label}} {{kind}} named"] = attempt(utils.array_to_grpc_datadef, kind, array, ["c"])
            result[f"list value {{label}}"] = attempt(utils.array_to_list_value, array)
    """)
    assert_same(theirs, ours)


JSON_REQUESTS = [
    {"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}, "meta": {"puid": "p"}},
    {"data": {"tensor": {"shape": [2], "values": [0.5, 1]}}},
    {"data": {"ndarray": [[1, 2], [3, 4]], "names": ["a", "b"]}},
    {"data": {"ndarray": ["x", 1]}},
    {"data": {"names": ["n"]}},
    {"jsonData": {"k": "v"}},
    {"strData": "text"},
    {"binData": "aGVsbG8="},
    {"meta": {"puid": "p"}},
    [1, 2],
    "text",
]


def test_json_requests_split_into_the_same_parts():
    theirs, ours = both(f"""
        from seldon_core import utils
        result = {{str(i): attempt(utils.extract_request_parts_json, r) for i, r in enumerate({JSON_REQUESTS!r})}}
    """)
    assert_same(theirs, ours)


# ---- seldon_core.utils: building the answer ---------------------------------------------------

RESPONSES = [
    ("int 2-D", "np.array([[1, 2]])"),
    ("float 2-D", "np.array([[0.25, 0.75]])"),
    ("list 2-D", "[[1, 2]]"),
    ("list 1-D", "[1, 2]"),
    ("float 1-D", "np.array([0.5])"),
    ("strings", "np.array([['a', 'b']])"),
    ("bools", "np.array([[True, False]])"),
    ("dict", "{'answer': 42, 'nested': [1, 2]}"),
    ("bytes", "b'raw'"),
    ("str", "'text'"),
    ("int", "3"),
]
META_FORMS = {
    "no meta": "dict()",
    "meta": "dict(meta={'tags': {'in': 'x'}, 'metrics': [{'key': 'm', 'type': 'COUNTER', 'value': 1}], "
    "'requestPath': {'upstream': 'img:2'}})",
    "runtime": "dict(custom_metrics=[{'key': 'r', 'type': 'GAUGE', 'value': 3}], runtime_tags={'run': 'y'})",
}
RESPONSE_JSON = f"""
{MODELS}
from seldon_core import utils
requests = [r for r in {JSON_REQUESTS!r} if isinstance(r, dict)]
result = {{}}
for model_name, model in MODELS.items():
    for i, request in enumerate(requests):
        for label, literal in {RESPONSES!r}:
            for is_request in (False, True):
                for meta_label, meta in {META_FORMS!r}.items():
                    kwargs = eval(meta)
                    key = f"{{model_name}} request {{i}} {{label}} is_request={{is_request}} {{meta_label}}"
                    result[key] = attempt(utils.construct_response_json, model, is_request, copy.deepcopy(request),
                                          eval(literal), **kwargs)
"""


@pytest.mark.parametrize("env", [{}, IN_A_DEPLOYMENT], ids=["standalone", "in a deployment"])
def test_json_answers_are_built_the_same(env):
    theirs, ours = both(RESPONSE_JSON, env)
    assert_same(theirs, ours)


@pytest.mark.parametrize("env", [{}, IN_A_DEPLOYMENT], ids=["standalone", "in a deployment"])
def test_protobuf_answers_are_built_the_same(env):
    theirs, ours = both(
        MODELS
        + textwrap.dedent(f"""
        from google.protobuf import any_pb2
        from seldon_core import utils
        from seldon_core.proto import prediction_pb2
        custom = any_pb2.Any()
        custom.Pack(prediction_pb2.Meta(puid="inside"))
        requests = [utils.json_to_seldon_message(r) for r in {JSON_REQUESTS!r} if isinstance(r, dict)]
        responses = [(label, literal) for label, literal in {RESPONSES!r} if label != "int"] + [("any", "custom")]
        result = {{}}
        for model_name, model in MODELS.items():
            for i, request in enumerate(requests):
                for label, literal in responses:
                    for is_request in (False, True):
                        for meta_label, meta in {META_FORMS!r}.items():
                            key = f"{{model_name}} request {{i}} {{label}} is_request={{is_request}} {{meta_label}}"
                            result[key] = attempt(utils.construct_response, model, is_request, request,
                                                  eval(literal), **eval(meta))
        """),
        env,
    )
    assert_same(theirs, ours)


def test_an_unknown_payload_type_is_a_seldon_error_not_a_type_error():
    request = utils.json_to_seldon_message({"data": {"ndarray": [1]}})
    for build, req in ((utils.construct_response, request), (utils.construct_response_json, {"strData": "s"})):
        with pytest.raises(seldon_serve.errors.SeldonMicroserviceException, match="Unknown data type returned"):
            build(user_model.SeldonComponent(), False, req, 3)


def test_meta_passed_in_is_not_modified():
    meta = {"tags": {"in": "x"}, "metrics": [{"key": "m", "type": "COUNTER", "value": 1}]}
    answer = utils.construct_response_json(
        user_model.SeldonComponent(), False, {"strData": "s"}, "t", meta, [{"key": "r", "type": "GAUGE", "value": 1}]
    )
    assert len(answer["meta"]["metrics"]) == 2
    assert meta == {"tags": {"in": "x"}, "metrics": [{"key": "m", "type": "COUNTER", "value": 1}]}


def test_tftensor_payloads_use_seldon_serves_numpy_conversion():
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    as_json = utils.array_to_rest_datadef("tftensor", array)["tftensor"]
    features, _, _, kind = utils.extract_request_parts_json({"data": {"tftensor": as_json}})
    assert kind == "data" and features.dtype == np.float32
    np.testing.assert_array_equal(features, array)
    np.testing.assert_array_equal(utils.grpc_datadef_to_array(utils.array_to_grpc_datadef("tftensor", array)), array)
    # A numeric answer to a tftensor request mirrors it, as Seldon's (with TensorFlow) does.
    answer = utils.construct_response_json(user_model.SeldonComponent(), False, {"data": {"tftensor": as_json}}, array)
    assert answer["data"]["tftensor"] == as_json
    request = utils.json_to_seldon_message({"data": {"tftensor": as_json}})
    proto = utils.construct_response(user_model.SeldonComponent(), False, request, array * 2)
    np.testing.assert_array_equal(tftensor.to_numpy(proto.data.tftensor), array * 2)


def test_a_tensor_whose_values_do_not_fit_its_shape_is_an_error():
    message = utils.json_to_seldon_message({"data": {"tensor": {"shape": [2], "values": [1, 2, 3]}}})
    with pytest.raises(ValueError):
        utils.get_data_from_proto(message)


# ---- environment, parameters, metrics, metadata, user_model helpers --------------------------

ENV_BODY = """
from seldon_core import env_utils, utils
result = {
    "getenv": [utils.getenv("UNSET_A", "FLAG_T"), utils.getenv("UNSET_A", default="d"), utils.getenv()],
    "bools": [utils.getenv_as_bool(name) for name in ("FLAG_T", "FLAG_1", "FLAG_TRUE", "FLAG_NO", "UNSET_A")],
    "default": utils.getenv_as_bool("UNSET_A", default=True),
    "first set wins": utils.getenv_as_bool("FLAG_NO", "FLAG_T"),
    "env_utils": [env_utils.get_model_name(), env_utils.get_image_name(), env_utils.get_deployment_name(),
                  env_utils.get_predictor_name(), env_utils.get_predictor_version(), env_utils.get_model_name("x"),
                  env_utils.get_predictor_version("none")],
    "request path": utils.get_request_path(),
}
"""


@pytest.mark.parametrize("env", [{}, IN_A_DEPLOYMENT], ids=["standalone", "in a deployment"])
def test_environment_helpers_match(env):
    flags = {"FLAG_T": "t", "FLAG_1": "1", "FLAG_TRUE": "TRUE", "FLAG_NO": "no"}
    theirs, ours = both(ENV_BODY, {**flags, **env})
    assert_same(theirs, ours)


def test_parameters_parse_the_same():
    cases = [
        [{"name": "n", "value": "3", "type": "INT"}, {"name": "f", "value": "0.5", "type": "FLOAT"}],
        [{"name": "d", "value": "1e-3", "type": "DOUBLE"}, {"name": "s", "value": "x", "type": "STRING"}],
        [{"name": "b", "value": v, "type": "BOOL"} for v in ("true", "Yes", "on", "0", "off", "F")],
        [{"name": "b", "value": "maybe", "type": "BOOL"}],
        [{"name": "n", "value": "three", "type": "INT"}],
        [{"name": "x", "value": "1", "type": "COMPLEX"}],
        [],
    ]
    theirs, ours = both(f"""
        from seldon_core.microservice import parse_parameters
        result = {{str(i): attempt(parse_parameters, case) for i, case in enumerate({cases!r})}}
    """)
    assert_same(theirs, ours)


def test_metric_helpers_match():
    theirs, ours = both(
        """
        from seldon_core import metrics
        cases = [
            [], [{"key": "a", "type": "COUNTER", "value": 1}], [{"key": "a", "type": "TIMER", "value": 2.5}],
            [{"key": "a", "type": "GAUGE", "value": "x"}], [{"key": "a", "type": "HISTOGRAM", "value": 1}],
            [{"key": "a", "value": 1}], ({"key": "a", "type": "COUNTER", "value": 1},), None, {"key": "a"},
            [{"key": "a", "type": "COUNTER", "value": True}],
        ]
        result = {f"valid {i}": metrics.validate_metrics(case) for i, case in enumerate(cases)}
        for create in (metrics.create_counter, metrics.create_gauge, metrics.create_timer):
            result[create.__name__] = [attempt(create, "k", value) for value in (1, 0.5, "x")]
        result["split"] = [metrics.split_image_tag(t) for t in ("a/b:1", "host:5000/a:2", "plain:")]
        result["labels"] = metrics.DEFAULT_LABELS
        result["bins"] = [float(b) for b in metrics.BINS]
        """,
        IN_A_DEPLOYMENT,
    )
    assert_same(theirs, ours)


def test_seldon_metrics_expose_the_same_prometheus_text():
    theirs, ours = both(
        """
        from seldon_core.metrics import SeldonMetrics
        seldon_metrics = SeldonMetrics(worker_id_func=lambda: 7, extra_default_labels={"extra": "e"})
        seldon_metrics.update([{"type": "COUNTER", "key": "calls", "value": 2, "tags": {"a": "b"}}], "predict")
        seldon_metrics.update([{"type": "COUNTER", "key": "calls", "value": 3, "tags": {"a": "b"}}], "predict")
        seldon_metrics.update([{"type": "GAUGE", "key": "load", "value": 0.5}], "predict")
        seldon_metrics.update([{"type": "GAUGE", "key": "load", "value": 0.25}], "predict")
        seldon_metrics.update([{"type": "TIMER", "key": "took", "value": 20}, {"type": "TIMER", "key": "took",
                               "value": 2000}], "inputtransform")
        seldon_metrics.update([{"type": "WEIRD", "key": "w", "value": 1}], "predict")
        seldon_metrics.update_reward(0.5)
        seldon_metrics.update_reward(0)
        text, content_type = seldon_metrics.generate_metrics()
        samples = sorted(line for line in text.splitlines() if line and not line.startswith("#"))
        samples = [re.sub(r'le="([0-9.e+-]+)"', lambda m: f'le="{float(m[1]):.12g}"', s) for s in samples]
        seldon_metrics.clear()
        result = {"samples": samples, "content type": content_type.split(";")[0],
                  "after clear": seldon_metrics.generate_metrics()[0]}
        """,
        IN_A_DEPLOYMENT,
    )
    assert_same(theirs, ours)


METADATA_CASES = [
    {},
    {"name": "m", "versions": ["1", "2"], "platform": "sklearn", "custom": {"author": "me"}},
    {"extra": 1},
    {"name": 3},
    {"versions": "1"},
    {"custom": {"n": 1}},
    {"inputs": "x"},
    {"inputs": [{"messagetype": "tensor", "schema": {"names": ["a"], "shape": [1, 2.0]}}]},
    {"inputs": [{"messagetype": "ndarray"}, {"messagetype": "tftensor", "schema": {}}]},
    {"inputs": [{"messagetype": "ndarray", "schema": {"shape": [1.5]}}]},
    {"inputs": [{"messagetype": "ndarray", "schema": {"names": [1]}}]},
    {"inputs": [{"messagetype": "ndarray", "schema": {"dtype": "f"}}]},
    {"inputs": [{"messagetype": "tensor", "schema": {"shape": [True]}}]},
    {"inputs": [{"messagetype": "jsonData", "schema": {"type": "object"}}, {"messagetype": "jsonData"}]},
    {"inputs": [{"messagetype": "jsonData", "schema": "x"}]},
    {"outputs": [{"messagetype": "strData"}, {"messagetype": "binData"}]},
    {"outputs": [{"messagetype": "strData", "schema": {}}]},
    {"outputs": [{"messagetype": "myType", "schema": {"anything": 1}}, {"messagetype": "myType"}]},
    {"outputs": [{"messagetype": 3}]},
    {"outputs": [{"messagetype": "ndarray", "other": 1}]},
    {"outputs": [{"name": "x", "datatype": "FP32", "shape": [1, -1]}, {}, {"name": "y"}]},
    {"outputs": [{"name": "x", "datatype": "FLOAT"}]},
    {"outputs": [{"name": 1}]},
    {"outputs": [{"name": "x", "shape": ["1"]}]},
    {"outputs": [{"name": "x", "messagetype": "ndarray"}]},
    {"outputs": [["not", "an", "object"]]},
]


@pytest.mark.parametrize("env", [{}, {"PREDICTIVE_UNIT_IMAGE": "seldonio/iris:0.3"}], ids=["no image", "image"])
def test_metadata_is_validated_the_same(env):
    theirs, ours = both(
        f"""
        from seldon_core.metadata import validate_model_metadata
        result = {{str(i): attempt(validate_model_metadata, case) for i, case in enumerate({METADATA_CASES!r})}}
        """,
        env,
    )
    assert_same(theirs, ours)


def test_invalid_metadata_says_what_is_wrong():
    with pytest.raises(metadata.SeldonInvalidMetadataError, match="datatype must be one of BOOL"):
        metadata.validate_model_metadata({"outputs": [{"name": "x", "datatype": "FLOAT"}]})


@pytest.mark.parametrize("include", ["true", "false"])
def test_user_model_helpers_match(include):
    theirs, ours = both(
        MODELS
        + textwrap.dedent("""
        from seldon_core import user_model as um

        class Recorder:
            def __init__(self):
                self.updates = []
            def update(self, metrics, method):
                self.updates.append([metrics, method])

        X = np.array([[1.0, 2.0]])
        result = {}
        for name, model in MODELS.items():
            result[name] = {
                "tags": attempt(um.client_custom_tags, model),
                "class names 2-D": attempt(um.client_class_names, model, X),
                "class names 1-D": attempt(um.client_class_names, model, np.array([1])),
                "feature names": attempt(um.client_feature_names, model, ["orig"]),
                "predict": attempt(um.client_predict, model, X, ["a", "b"], meta={"puid": "p"}),
                "transform_input": attempt(um.client_transform_input, model, X, ["a", "b"], meta={}),
                "transform_output": attempt(um.client_transform_output, model, "s", []),
                "send_feedback": attempt(um.client_send_feedback, model, X, [], 0.5, X, 1),
                "route": attempt(um.client_route, model, X, []),
                "aggregate": attempt(um.client_aggregate, model, [X, X], [[], []]),
                "health": attempt(um.client_health_status, model),
            }
            recorder = Recorder()
            runtime = [{"key": "r", "type": "GAUGE", "value": 1}]
            result[name]["metrics"] = attempt(um.client_custom_metrics, model, recorder, "predict", runtime)
            result[name]["recorded"] = recorder.updates
            result[name]["bad runtime"] = attempt(um.client_custom_metrics, model, Recorder(), "predict", [{}])
        """),
        {"INCLUDE_METRICS_IN_CLIENT_RESPONSE": include},
    )
    assert_same(theirs, ours)


# ---- seldon_core.storage ----------------------------------------------------------------------


def test_local_paths_download_the_same(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(b"w")
    (tmp_path / "model" / "sub").mkdir()
    (tmp_path / "single.pkl").write_bytes(b"p")
    model, single = tmp_path / "model", tmp_path / "single.pkl"
    theirs, ours = both(f"""
        import tempfile
        from seldon_core import Storage

        def into_new_dir(uri):
            out = os.path.join(tempfile.mkdtemp(), "out")
            answer = Storage.download(uri, out)
            links = {{name: os.readlink(os.path.join(out, name)) for name in sorted(os.listdir(out))}}
            return {{"answer is out_dir": answer == out, "links": links}}

        result = {{
            "dir": attempt(Storage.download, {str(model)!r}),
            "file uri": attempt(Storage.download, "file://" + {str(model)!r}),
            "file": attempt(Storage.download, {str(single)!r}),
            "dir into out_dir": attempt(into_new_dir, {str(model)!r}),
            "file uri into out_dir": attempt(into_new_dir, "file://" + {str(model)!r}),
            "file into out_dir": attempt(into_new_dir, {str(single)!r}),
            "missing file uri": attempt(Storage.download, "file://" + {str(tmp_path / "absent")!r}),
        }}
    """)
    assert_same(theirs, ours)


class _Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_files(directory: Path, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve a model file from `directory` over http (or https with `tls`) on a free local port."""
    (directory / "model.joblib").write_bytes(b"\x00weights" * 1000)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Files, directory=str(directory)))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def file_server(tmp_path):
    (tmp_path / "served").mkdir()
    yield from serve_files(tmp_path / "served")


@pytest.fixture
def https_file_server(tmp_path):
    """(URL, the certificate that signs it): a self-signed certificate for 127.0.0.1, by openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed, to make the test server's certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(key),
         "-out", str(cert), "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    (tmp_path / "served").mkdir()
    for url in serve_files(tmp_path / "served", tls):
        yield url, cert


def test_http_urls_are_downloaded_into_out_dir(file_server, tmp_path):
    out = tmp_path / "out"
    assert seldon_core.Storage.download(f"{file_server}/model.joblib", str(out)) == str(out)
    assert (out / "model.joblib").read_bytes() == b"\x00weights" * 1000
    assert os.listdir(out) == ["model.joblib"]


def test_http_urls_without_out_dir_land_in_a_new_temporary_directory(file_server):
    where = Path(seldon_core.Storage.download(f"{file_server}/model.joblib"))
    assert (where / "model.joblib").stat().st_size == 8000


def test_a_failed_download_names_the_url_and_leaves_nothing(file_server, tmp_path):
    with pytest.raises(RuntimeError, match=r"Cannot download http://127\.0\.0\.1:\d+/absent\.bin: HTTP Error 404"):
        seldon_core.Storage.download(f"{file_server}/absent.bin", str(tmp_path / "out"))
    assert os.listdir(tmp_path / "out") == []


def test_https_trusts_the_system_bundle_or_the_one_the_environment_names(https_file_server, monkeypatch, tmp_path):
    url, cert = https_file_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    with pytest.raises(RuntimeError, match="CERTIFICATE_VERIFY_FAILED"):  # not among the system's CAs
        seldon_core.Storage.download(f"{url}/model.joblib", str(tmp_path / "untrusted"))
    for variable in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        monkeypatch.setenv(variable, str(cert))
        out = tmp_path / variable
        assert seldon_core.Storage.download(f"{url}/model.joblib", str(out)) == str(out)
        assert (out / "model.joblib").stat().st_size == 8000


@pytest.mark.parametrize("uri", ["s3://bucket/model", "gs://bucket/model", "pvc://claim/model", "azure://a/b"])
def test_cloud_storage_fails_naming_the_scheme(uri, tmp_path):
    scheme = uri.split(":")[0]
    with pytest.raises(storage.UnsupportedStorageError) as raised:
        seldon_core.Storage.download(uri, str(tmp_path / "out"))
    message = str(raised.value)
    assert f"{scheme}://" in message and "credentials" in message and "mount" in message
    assert not (tmp_path / "out").exists()


def test_a_missing_local_path_says_so(tmp_path):
    with pytest.raises(RuntimeError, match=r"Local path .*absent does not exist"):
        seldon_core.Storage.download(str(tmp_path / "absent"))
