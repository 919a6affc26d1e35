"""Model metadata: defaults, the user's init_metadata(), and MODEL_METADATA, merged once."""

from __future__ import annotations

import os
from typing import Any

import yaml

from .errors import StartupError

FIELDS = ("name", "versions", "platform", "inputs", "outputs", "custom")


def defaults(model_name: str) -> dict[str, Any]:
    """Name and version from the image Seldon says this unit runs (PREDICTIVE_UNIT_IMAGE)."""
    image = os.environ.get("PREDICTIVE_UNIT_IMAGE", "")
    repository, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    return {
        "name": repository.rsplit("/", 1)[-1] or model_name,
        "versions": [tag] if tag else [],
        "platform": "seldon",
        "inputs": [],
        "outputs": [],
        "custom": {},
    }


def from_environment() -> dict[str, Any]:
    raw = os.environ.get("MODEL_METADATA", "").strip()
    if not raw:
        return {}
    try:
        value = yaml.safe_load(raw)  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise StartupError(f"MODEL_METADATA is neither YAML nor JSON: {exc}") from None
    if not isinstance(value, dict):
        raise StartupError("MODEL_METADATA must be a mapping of name, versions, platform, inputs, outputs, custom")
    return value


def open_inference_name(user: dict[str, Any] | None, model_name: str) -> str:
    """The name the Open Inference Protocol serves the model by (/v2/models/<name>): the
    metadata's when MODEL_METADATA or init_metadata() gives one; else the graph node's, as
    Seldon's operator passes it to a v2 unit (MLSERVER_MODEL_NAME, then PREDICTIVE_UNIT_ID),
    since its executor calls /v2/models/<node name>/infer; else model_name (the class's)."""
    for given in (from_environment(), user if isinstance(user, dict) else {}):
        if "name" in given:
            return str(given["name"])
    return os.environ.get("MLSERVER_MODEL_NAME") or os.environ.get("PREDICTIVE_UNIT_ID") or model_name


def merge(model_name: str, user: dict[str, Any] | None) -> dict[str, Any]:
    """Defaults, overridden by init_metadata(), overridden by MODEL_METADATA; then validated."""
    if user is not None and not isinstance(user, dict):
        raise StartupError(f"init_metadata() must return a dict, not {type(user).__name__}")
    merged = {**defaults(model_name), **(user or {}), **from_environment()}
    unknown = set(merged) - set(FIELDS)
    if unknown:
        raise StartupError(
            f"model metadata has unknown field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(FIELDS)}"
        )
    if not isinstance(merged["versions"], list):
        raise StartupError("model metadata: versions must be a list of strings")
    merged["versions"] = [str(v) for v in merged["versions"]]
    for key in ("inputs", "outputs"):
        if not isinstance(merged[key], list) or not all(isinstance(item, dict) for item in merged[key]):
            raise StartupError(f"model metadata: {key} must be a list of mappings")
    if not isinstance(merged["custom"], dict):
        raise StartupError("model metadata: custom must be a mapping of strings")
    merged["custom"] = {str(k): str(v) for k, v in merged["custom"].items()}
    merged["name"], merged["platform"] = str(merged["name"]), str(merged["platform"])
    return merged
