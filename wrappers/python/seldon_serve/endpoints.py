"""What a worker serves, by PROTOCOL: the Seldon protocol, the Open Inference Protocol (v2),
or both on the same ports (their REST paths and gRPC services do not overlap)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .contract import SETTINGS
from .errors import StartupError

if TYPE_CHECKING:
    from .microservice import Microservice
    from .v2 import OpenInference

PROTOCOLS: tuple[str, ...] = tuple(SETTINGS["PROTOCOL"].type)


@dataclass(frozen=True)
class Endpoints:
    seldon: Microservice | None  # the Seldon protocol's verbs, when served
    v2: OpenInference | None  # the Open Inference Protocol's, when served


def for_protocol(service: Microservice, protocol: str, version: str) -> Endpoints:
    if protocol not in PROTOCOLS:
        raise StartupError(f"PROTOCOL={protocol!r} is not one of {', '.join(PROTOCOLS)}")
    from .v2 import OpenInference

    return Endpoints(
        seldon=service if protocol in ("seldon", "both") else None,
        v2=OpenInference(service, version) if protocol in ("v2", "both") else None,
    )
