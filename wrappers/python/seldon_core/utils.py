"""`seldon_core.utils`: SeldonMessage conversions (JSON <-> protobuf <-> numpy) and the response
builders of Seldon's wrapper, behaving as Seldon 1.18.2's on the same inputs.

Where Seldon calls TensorFlow (tftensor payloads) this uses seldon_serve.tftensor, the numpy
conversion seldon_serve serves with, since TensorFlow is not installed. Deliberate differences:
- grpc_datadef_to_array: a tensor whose value count does not fit its shape is a ValueError (Seldon
  reads the last shape-many values of its serialised bytes), and the array is writeable;
- construct_response[_json] do not modify the `meta` dict passed in (Seldon adds the tags and
  metrics to it); an unknown payload type is a SeldonMicroserviceException, not a TypeError;
- array_to_rest_datadef with names=None answers names [] (Seldon: None);
- Seldon's setup_tracing (Jaeger) is not offered.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from typing import Any

import numpy as np
from google.protobuf import any_pb2, json_format
from google.protobuf.struct_pb2 import ListValue

from seldon_serve import tftensor
from seldon_serve.errors import SeldonMicroserviceException
from seldon_serve.proto import tf_tensor_pb2

from .env_utils import NONIMPLEMENTED_MSG, get_image_name, get_model_name
from .proto import prediction_pb2
from .user_model import client_class_names, client_custom_tags, client_feature_names

# ---- environment ------------------------------------------------------------------------------


def getenv(*env_vars: str, default: Any = None) -> Any:
    """The value of the first of `env_vars` that is set, else `default`."""
    for env_var in env_vars:
        if env_var in os.environ:
            return os.environ[env_var]
    return default


def getenv_as_bool(*env_vars: str, default: bool = False) -> bool:
    """getenv, as a boolean: true for 1, true or t (any case); `default` when none is set."""
    value = getenv(*env_vars)
    if value is None:
        return default
    return value.lower() in ("1", "true", "t")


def get_request_path() -> dict[str, str]:
    """{model name: image} for this unit, for meta.requestPath; {} outside a Seldon deployment."""
    model_name = get_model_name()
    if model_name == NONIMPLEMENTED_MSG:
        return {}
    return {model_name: get_image_name()}


# ---- JSON <-> protobuf ------------------------------------------------------------------------


def _parse(message_json: Any, message: Any, error: str, ignore_unknown_fields: bool = False) -> Any:
    try:
        return json_format.ParseDict(message_json, message, ignore_unknown_fields=ignore_unknown_fields)
    except json_format.ParseError as exc:
        raise SeldonMicroserviceException(f"{error}{exc}") from None


def json_to_seldon_message(message_json: dict[str, Any] | None) -> prediction_pb2.SeldonMessage:
    """A SeldonMessage from its JSON form (None is an empty message); invalid JSON is a
    SeldonMicroserviceException ("Invalid JSON: ...", 400)."""
    return _parse({} if message_json is None else message_json, prediction_pb2.SeldonMessage(), "Invalid JSON: ")


def json_to_seldon_model_metadata(metadata_json: dict[str, Any] | None) -> prediction_pb2.SeldonModelMetadata:
    """SeldonModelMetadata from JSON, ignoring unknown fields."""
    return _parse(
        {} if metadata_json is None else metadata_json,
        prediction_pb2.SeldonModelMetadata(),
        "Invalid metadata: ",
        ignore_unknown_fields=True,
    )


def json_to_feedback(message_json: dict[str, Any]) -> prediction_pb2.Feedback:
    return _parse(message_json, prediction_pb2.Feedback(), "Invalid JSON: ")


def json_to_seldon_messages(message_json: dict[str, Any]) -> prediction_pb2.SeldonMessageList:
    return _parse(message_json, prediction_pb2.SeldonMessageList(), "Invalid JSON: ")


def _to_json(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message)


def seldon_message_to_json(message_proto: prediction_pb2.SeldonMessage) -> dict[str, Any]:
    return _to_json(message_proto)


def seldon_messages_to_json(message_protos: prediction_pb2.SeldonMessageList) -> dict[str, Any]:
    return _to_json(message_protos)


def feedback_to_json(message_proto: prediction_pb2.Feedback) -> dict[str, Any]:
    return _to_json(message_proto)


# ---- payloads <-> numpy -----------------------------------------------------------------------


def get_data_from_proto(request: prediction_pb2.SeldonMessage) -> Any:
    """The payload: a numpy array for `data`, bytes, str, a dict for jsonData, or the Any of
    customData; a message without one is a SeldonMicroserviceException."""
    data_type = request.WhichOneof("data_oneof")
    if data_type == "data":
        return grpc_datadef_to_array(request.data)
    if data_type == "binData":
        return request.binData
    if data_type == "strData":
        return request.strData
    if data_type == "jsonData":
        return json_format.MessageToDict(request.jsonData)
    if data_type == "customData":
        return request.customData
    raise SeldonMicroserviceException("Unknown data in SeldonMessage")


def grpc_datadef_to_array(datadef: prediction_pb2.DefaultData) -> np.ndarray:
    """DefaultData as numpy: a tensor is float64 in its shape; an ndarray goes through JSON, so its
    numbers are floats; a tftensor keeps its dtype; no data is an empty array."""
    data_type = datadef.WhichOneof("data_oneof")
    if data_type == "tensor":
        return np.array(datadef.tensor.values, dtype=np.float64).reshape(list(datadef.tensor.shape))
    if data_type == "ndarray":
        return np.array(json_format.MessageToDict(datadef.ndarray))
    if data_type == "tftensor":
        return tftensor.to_numpy(datadef.tftensor)
    return np.array([])


def get_meta_from_proto(request: prediction_pb2.SeldonMessage) -> dict[str, Any]:
    return json_format.MessageToDict(request.meta)


def array_to_rest_datadef(data_type: str, array: np.ndarray, names: list[str] | None = None) -> dict[str, Any]:
    """The JSON form of `data` for an array: tensor, ndarray or tftensor (anything else: ndarray)."""
    datadef: dict[str, Any] = {"names": [] if names is None else names}
    if data_type == "tensor":
        datadef["tensor"] = {"shape": array.shape, "values": array.ravel().tolist()}
    elif data_type == "tftensor":
        datadef["tftensor"] = json_format.MessageToDict(tftensor.from_numpy(array))
    else:
        datadef["ndarray"] = array.tolist()
    return datadef


def array_to_grpc_datadef(
    data_type: str, array: np.ndarray, names: Iterable[str] | None = None
) -> prediction_pb2.DefaultData:
    """DefaultData for an array: tensor, ndarray or tftensor (anything else: ndarray)."""
    if data_type == "tensor":
        tensor = prediction_pb2.Tensor(shape=array.shape, values=array.ravel().tolist())
        return prediction_pb2.DefaultData(names=names, tensor=tensor)
    if data_type == "tftensor":
        return prediction_pb2.DefaultData(names=names, tftensor=tftensor.from_numpy(array))
    return prediction_pb2.DefaultData(names=names, ndarray=array_to_list_value(array))


def array_to_list_value(array: np.ndarray, lv: ListValue | None = None) -> ListValue:
    """A protobuf ListValue (nested for each dimension past the first) holding the array; with
    `lv`, extends that one."""
    if lv is None:
        lv = ListValue()
    if len(array.shape) == 1:
        lv.extend(array.tolist())
    else:
        for sub_array in array:
            array_to_list_value(sub_array, lv.add_list())
    return lv


# ---- requests ---------------------------------------------------------------------------------


def extract_request_parts_json(request: Any) -> tuple[Any, dict[str, Any] | None, dict[str, Any] | None, str]:
    """(features, meta, data, payload kind) of a SeldonMessage's JSON form. A tensor keeps the
    type of its JSON values (ints stay ints); an ndarray is np.array of the list; binData is
    decoded. Not a dict, or no payload: SeldonMicroserviceException."""
    if not isinstance(request, dict):
        raise SeldonMicroserviceException(f"Invalid request data type: {request}")
    meta = request.get("meta", None)
    datadef = None
    if "data" in request:
        data_type = "data"
        datadef = request["data"]
        if "tensor" in datadef:
            features = np.array(datadef["tensor"]["values"]).reshape(datadef["tensor"]["shape"])
        elif "ndarray" in datadef:
            features = np.array(datadef["ndarray"])
        elif "tftensor" in datadef:
            tensor = json_format.ParseDict(datadef["tftensor"], tf_tensor_pb2.TensorProto())
            features = tftensor.to_numpy(tensor)
        else:
            features = np.array([])
    elif "jsonData" in request:
        data_type, features = "jsonData", request["jsonData"]
    elif "strData" in request:
        data_type, features = "strData", request["strData"]
    elif "binData" in request:
        data_type, features = "binData", base64.b64decode(request["binData"])
    else:
        raise SeldonMicroserviceException(f"Invalid request data type: {request}")
    return features, meta, datadef, data_type


def extract_request_parts(
    request: prediction_pb2.SeldonMessage,
) -> tuple[Any, dict[str, Any], prediction_pb2.DefaultData, str | None]:
    """(features, meta, data, payload kind) of a SeldonMessage."""
    return get_data_from_proto(request), get_meta_from_proto(request), request.data, request.WhichOneof("data_oneof")


def extract_feedback_request_parts(
    request: prediction_pb2.Feedback,
) -> tuple[prediction_pb2.DefaultData, np.ndarray, np.ndarray, float]:
    """(the request's data, its features, the truth's features, the reward) of a Feedback."""
    features = grpc_datadef_to_array(request.request.data)
    truth = grpc_datadef_to_array(request.truth.data)
    return request.request.data, features, truth, request.reward


# ---- responses --------------------------------------------------------------------------------


def _response_meta(
    user_model: Any, meta: dict[str, Any] | None, custom_metrics: list[dict[str, Any]] | None, runtime_tags: Any
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """(tags, metrics, requestPath) of an answer: the request's, then the model's tags(), the
    runtime tags and the custom metrics added; requestPath has this unit's entry first."""
    meta = meta or {}
    tags = {**(meta.get("tags") or {})}
    metrics = [*(meta.get("metrics") or [])]
    custom_tags = client_custom_tags(user_model)
    if custom_tags:
        tags.update(custom_tags)
    if runtime_tags:
        tags.update(runtime_tags)
    if custom_metrics:
        metrics.extend(custom_metrics)
    return tags, metrics, {**get_request_path(), **meta.get("requestPath", {})}


def _is_number(array: np.ndarray) -> bool:
    return np.issubdtype(array.dtype, np.number)


def construct_response_json(
    user_model: Any,
    is_request: bool,
    client_request_raw: dict[str, Any],
    client_raw_response: Any,
    meta: dict[str, Any] | None = None,
    custom_metrics: list[dict[str, Any]] | None = None,
    runtime_tags: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON answer to a JSON request, built without going through the protobuf (which would
    turn every int into a float). A dict answers as jsonData, bytes as binData (base64), a str as
    strData; an array or list as data: numbers mirror a request's tensor or tftensor and are a
    tensor when the request had no `data`, anything else is an ndarray. Names are the model's
    feature_names() (`is_request`: a transformer's output) or class_names()."""
    response: dict[str, Any] = {}
    if isinstance(client_raw_response, dict):
        response["jsonData"] = client_raw_response
    elif isinstance(client_raw_response, bytes | bytearray):
        response["binData"] = base64.b64encode(client_raw_response).decode("utf-8")
    elif isinstance(client_raw_response, str):
        response["strData"] = client_raw_response
    elif isinstance(client_raw_response, np.ndarray | list):
        array = np.array(client_raw_response)
        as_list = client_raw_response.tolist() if isinstance(client_raw_response, np.ndarray) else client_raw_response
        if not _is_number(array):
            kind = "ndarray"
        elif "data" not in client_request_raw or "tensor" in client_request_raw["data"]:
            kind = "tensor"
        elif "tftensor" in client_request_raw["data"]:
            kind = "tftensor"
        else:
            kind = "ndarray"
        if kind == "tensor":
            values: Any = {"values": array.ravel().tolist(), "shape": array.shape}
        elif kind == "tftensor":
            values = json_format.MessageToDict(tftensor.from_numpy(array))
        else:
            values = as_list
        if is_request:
            names = client_feature_names(user_model, client_request_raw.get("data", {}).get("names", []))
        else:
            names = client_class_names(user_model, array)
        response["data"] = {kind: values, "names": names}
    else:
        raise SeldonMicroserviceException(
            f"Unknown data type returned as payload (must be list or np array):{client_raw_response}"
        )

    tags, metrics, request_path = _response_meta(user_model, meta, custom_metrics, runtime_tags)
    response["meta"] = {}
    if tags:
        response["meta"]["tags"] = tags
    if metrics:
        response["meta"]["metrics"] = metrics
    puid = client_request_raw.get("meta", {}).get("puid", None)
    if puid:
        response["meta"]["puid"] = puid
    if request_path:
        response["meta"]["requestPath"] = request_path
    return response


def construct_response(
    user_model: Any,
    is_request: bool,
    client_request: prediction_pb2.SeldonMessage,
    client_raw_response: Any,
    meta: dict[str, Any] | None = None,
    custom_metrics: list[dict[str, Any]] | None = None,
    runtime_tags: dict[str, Any] | None = None,
) -> prediction_pb2.SeldonMessage:
    """The SeldonMessage answer to a SeldonMessage request. An array or list answers as data: a
    number array mirrors the request's kind of data (tensor when the request had none), anything
    else is an ndarray; a str is strData, a dict jsonData, bytes binData, an Any customData."""
    tags, metrics, request_path = _response_meta(user_model, meta, custom_metrics, runtime_tags)
    meta_json: dict[str, Any] = {}
    if request_path:
        meta_json["requestPath"] = request_path
    if tags:
        meta_json["tags"] = tags
    if metrics:
        meta_json["metrics"] = metrics
    if client_request.meta.puid:
        meta_json["puid"] = client_request.meta.puid
    meta_pb = json_format.ParseDict(meta_json, prediction_pb2.Meta())

    if isinstance(client_raw_response, np.ndarray | list):
        array = np.array(client_raw_response)
        if is_request:
            names = client_feature_names(user_model, client_request.data.names)
        else:
            names = client_class_names(user_model, array)
        if not _is_number(array):
            kind = "ndarray"
        elif client_request.WhichOneof("data_oneof") == "data":
            kind = client_request.data.WhichOneof("data_oneof")
        else:
            kind = "tensor"
        data = array_to_grpc_datadef(kind, array, names)
        return prediction_pb2.SeldonMessage(data=data, meta=meta_pb)
    if isinstance(client_raw_response, str):
        return prediction_pb2.SeldonMessage(strData=client_raw_response, meta=meta_pb)
    if isinstance(client_raw_response, dict):
        json_data = json_format.ParseDict(client_raw_response, prediction_pb2.SeldonMessage().jsonData)
        return prediction_pb2.SeldonMessage(jsonData=json_data, meta=meta_pb)
    if isinstance(client_raw_response, bytes | bytearray):
        return prediction_pb2.SeldonMessage(binData=bytes(client_raw_response), meta=meta_pb)
    if isinstance(client_raw_response, any_pb2.Any):
        return prediction_pb2.SeldonMessage(customData=client_raw_response, meta=meta_pb)
    raise SeldonMicroserviceException(f"Unknown data type returned as payload:{client_raw_response}")
