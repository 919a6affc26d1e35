"""The contract's facts that are not messages -- ports, service types, error reasons, gRPC codes,
metric names and the settings both wrappers read -- from wrappers/proto/contract.yaml, which the
wheel carries beside the stubs. Java reads the same file; nothing here restates it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml


def _load() -> dict[str, Any]:
    text = resources.files("seldon_serve.proto").joinpath("contract.yaml").read_text()
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


_CONTRACT = _load()

PORTS: dict[str, int] = {name: port["default"] for name, port in _CONTRACT["ports"].items()}
SERVICE_TYPES: tuple[str, ...] = tuple(_CONTRACT["service_types"])
# The verb an Open Inference Protocol request calls, by service type (a combiner has none).
INFER_VERB: dict[str, str] = {t: spec["infer"] for t, spec in _CONTRACT["service_types"].items() if "infer" in spec}
# The verb the build checks a class defines, by service type (transformers default to the identity).
REQUIRED_VERB: dict[str, str] = {
    t: spec["requires"] for t, spec in _CONTRACT["service_types"].items() if "requires" in spec
}
REASONS: dict[str, str] = dict(_CONTRACT["reasons"])
GRPC_STATUS_BY_HTTP: dict[int, str] = {int(k): v for k, v in _CONTRACT["grpc_status_by_http"].items()}
METRICS: dict[str, dict[str, str]] = dict(_CONTRACT["metrics"])


def grpc_status_name(http_status: int) -> str:
    """The gRPC status (its name, as grpc.StatusCode spells it) an error REST answers with
    http_status is given."""
    fallback = "INTERNAL" if http_status >= 500 else "INVALID_ARGUMENT"
    return GRPC_STATUS_BY_HTTP.get(http_status, fallback)


@dataclass(frozen=True)
class Setting:
    name: str
    type: str | list[str]  # text, whole, or the values it may take
    default: Any
    entry: tuple[str, ...] = ()  # every name its entry gives (an entry may name several settings)

    def read(self, environ: os._Environ[str] | dict[str, str] | None = None) -> Any:
        """This setting from the environment, typed, or its default when unset or empty; a value
        it cannot take stops start-up with a message naming it."""
        raw = (os.environ if environ is None else environ).get(self.name, "").strip()
        if not raw:
            return self.default
        if self.type == "whole":
            try:
                return int(raw)
            except ValueError:
                raise SystemExit(f"{self.name}={raw!r} is not a whole number") from None
        if isinstance(self.type, list):
            value = _in_case_of(raw, self.type)
            if value is None:
                raise SystemExit(f"{self.name}={raw!r} is not one of {', '.join(self.type)}")
            return value
        return raw


def _in_case_of(raw: str, allowed: list[str]) -> str | None:
    """raw spelled as the allowed value it names in any case (model or MODEL is MODEL)."""
    return next((value for value in allowed if value.lower() == raw.lower()), None)


def _names(item: dict[str, Any]) -> tuple[str, ...]:
    return tuple(name.strip() for name in item["name"].split(","))


SETTINGS: dict[str, Setting] = {
    name: Setting(name, item["type"], item["default"], _names(item))
    for item in _CONTRACT["settings"]
    for name in _names(item)
}


def setting(name: str) -> Setting:
    """A setting the contract defines; a name it does not is a programming error."""
    return SETTINGS[name]
