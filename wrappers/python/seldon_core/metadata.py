"""`seldon_core.metadata`: validate_model_metadata and SeldonInvalidMetadataError, as Seldon 1.18.2.

The user's metadata is merged over the defaults (name and version from PREDICTIVE_UNIT_IMAGE,
empty platform, inputs, outputs and custom) and checked against Seldon's metadata schema: its
fields and their types, and each input or output being one of Seldon's message kinds (tensor,
ndarray, tftensor, jsonData, strData, binData, a custom messagetype) or a v2 tensor {name,
datatype, shape}. Seldon checks with jsonschema; this checks the same schema by hand, so the
error says what is wrong in its own words. The image is read when called (Seldon: at import).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from .metrics import split_image_tag

logger = logging.getLogger(__name__)


class SeldonInvalidMetadataError(Exception):
    pass


ARRAY_MESSAGE_TYPES = ("tensor", "ndarray", "tftensor")
SELDON_MESSAGE_TYPES = (*ARRAY_MESSAGE_TYPES, "jsonData", "strData", "binData")
TENSOR_DATA_TYPES = (
    "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
    "FP16", "FP32", "FP64", "BYTES",
)  # fmt: skip


def _integer(value: Any) -> bool:
    """JSON Schema's integer: an int that is not a bool, or a float with no fraction."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())


def _list_of(value: Any, check: Any) -> bool:
    return isinstance(value, list) and all(check(item) for item in value)


def _string(value: Any) -> bool:
    return isinstance(value, str)


def _fields(value: Any, allowed: tuple[str, ...]) -> bool:
    """An object with no field but the allowed ones."""
    return isinstance(value, dict) and set(value) <= set(allowed)


def _io_problem(item: Any) -> str | None:
    """Why an input or output fits none of Seldon's forms, or None when it fits one."""
    if not isinstance(item, dict):
        return f"{item!r} is not an object"
    if "messagetype" in item:  # one of Seldon's message kinds
        kind, schema = item["messagetype"], item.get("schema", {})
        if not _string(kind):
            return f"{item!r}: messagetype must be a string"
        allowed = ("messagetype",) if kind in ("strData", "binData") else ("messagetype", "schema")
        if not _fields(item, allowed) or not isinstance(schema, dict):
            return f"{item!r}: a {kind} message is described by {' and '.join(allowed)} (an object) only"
        if kind in ARRAY_MESSAGE_TYPES and not (
            _fields(schema, ("names", "shape"))
            and _list_of(schema.get("names", []), _string)
            and _list_of(schema.get("shape", []), _integer)
        ):
            return f"{item!r}: an array message's schema holds names (strings) and shape (integers) only"
        return None
    # A v2 tensor: every field optional, no other field.
    if not _fields(item, ("name", "datatype", "shape")):
        return f"{item!r} has fields other than messagetype/schema or name/datatype/shape"
    if "name" in item and not _string(item["name"]):
        return f"{item!r}: name must be a string"
    if "datatype" in item and item["datatype"] not in TENSOR_DATA_TYPES:
        return f"{item!r}: datatype must be one of {', '.join(TENSOR_DATA_TYPES)}"
    if "shape" in item and not _list_of(item["shape"], _integer):
        return f"{item!r}: shape must be a list of integers"
    return None


def _problem(data: dict[str, Any]) -> str | None:
    unknown = set(data) - {"name", "versions", "platform", "inputs", "outputs", "custom"}
    if unknown:
        return f"unknown field(s) {', '.join(sorted(map(str, unknown)))}"
    for field in ("name", "platform"):
        if not _string(data[field]):
            return f"{field} must be a string, not {data[field]!r}"
    if not _list_of(data["versions"], _string):
        return f"versions must be a list of strings, not {data['versions']!r}"
    if not isinstance(data["custom"], dict) or not all(_string(v) for v in data["custom"].values()):
        return f"custom must map names to strings, not {data['custom']!r}"
    for field in ("inputs", "outputs"):
        if not isinstance(data[field], list):
            return f"{field} must be a list, not {data[field]!r}"
        for item in data[field]:
            problem = _io_problem(item)
            if problem:
                return f"{field}: {problem}"
    return None


def validate_model_metadata(data: dict[str, Any]) -> dict[str, Any]:
    """The metadata with Seldon's defaults filled in; SeldonInvalidMetadataError if it does not
    fit Seldon's metadata schema."""
    image = os.environ.get("PREDICTIVE_UNIT_IMAGE")
    image_name, image_version = split_image_tag(image) if image is not None else ("", "")
    defaults = {
        "name": image_name,
        "versions": [image_version],
        "platform": "",
        "inputs": [],
        "outputs": [],
        "custom": {},
    }
    data = {**defaults, **data}
    problem = _problem(data)
    if problem:
        raise SeldonInvalidMetadataError(f"invalid model metadata: {problem}")
    return data
