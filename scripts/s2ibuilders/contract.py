"""The Seldon contract's facts the build tool needs (wrappers/proto/contract.yaml): the ports every
image serves and the settings both wrappers read, which every image's docs list."""

from __future__ import annotations

import functools
from typing import Any

import yaml

from .paths import CONTRACT_FILE


@functools.cache
def load() -> dict[str, Any]:
    return yaml.safe_load(CONTRACT_FILE.read_text())


def ports() -> dict[str, int]:
    """name (http, grpc, metrics) -> the port a unit serves it on."""
    return {name: int(port["default"]) for name, port in load()["ports"].items()}


def settings() -> list[dict[str, str]]:
    """The settings as an environment.yaml lists variables (name, default, when, description)."""
    return [
        {
            "name": item["name"],
            "default": str(item["default"]),
            "when": item["when"],
            "description": _described(item),
        }
        for item in load()["settings"]
    ]


def _described(item: dict[str, Any]) -> str:
    """A description that names the values a setting may take, when it is one of a list."""
    if isinstance(item["type"], list):
        return f"{', '.join(item['type'][:-1])} or {item['type'][-1]}. {item['description']}"
    return item["description"]
