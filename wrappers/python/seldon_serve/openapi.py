"""The REST contract as an OpenAPI document, served at GET /seldon.json (Seldon's path for it).

The document is wrappers/proto/openapi.yaml, shipped inside the package; a model serves the
paths of the protocols PROTOCOL selects, so a client or a fuzzer sees only what answers.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import orjson
import yaml

PATH = b"/seldon.json"


def document(seldon: bool, v2: bool) -> dict[str, Any]:
    source = resources.files("seldon_serve.proto").joinpath("openapi.yaml").read_text()
    spec = yaml.safe_load(source)
    spec.pop("x-operations", None)  # the anchors' home in the YAML: every path already holds its copy

    def served(path: str) -> bool:
        if path == PATH.decode():
            return True
        is_v2 = path == "/v2" or path.startswith("/v2/")
        return v2 if is_v2 else seldon

    spec["paths"] = {path: item for path, item in spec["paths"].items() if served(path)}
    spec["tags"] = [tag for tag in spec["tags"] if {"seldon": seldon, "v2": v2}.get(tag["name"], True)]
    return spec


def document_bytes(seldon: bool, v2: bool) -> bytes:
    return orjson.dumps(document(seldon, v2))
