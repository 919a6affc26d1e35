"""`seldon_core.microservice`: the exception, constants and parameter helpers models import from
Seldon's entry point module.

Importing it starts nothing. `main()` runs seldon_serve's `seldon-core-microservice` (the same
command line as Seldon's: `seldon-core-microservice Model --service-type MODEL ...`); Seldon's
Flask, gunicorn and tracing internals (start_servers, setup_logger, ...) are not offered.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from seldon_serve.contract import PORTS
from seldon_serve.errors import BAD_PARAMETER, SeldonMicroserviceException

from .flask_utils import ANNOTATION_REST_TIMEOUT, ANNOTATIONS_FILE, DEFAULT_ANNOTATION_REST_TIMEOUT
from .version import __version__

__all__ = [
    "ANNOTATIONS_FILE",
    "ANNOTATION_REST_TIMEOUT",
    "DEFAULT_ANNOTATION_REST_TIMEOUT",
    "DEFAULT_GRPC_PORT",
    "DEFAULT_HTTP_PORT",
    "DEFAULT_METRICS_PORT",
    "SeldonMicroserviceException",
    "__version__",
    "load_annotations",
    "main",
    "parse_parameters",
]

logger = logging.getLogger(__name__)

PARAMETERS_ENV_NAME = "PREDICTIVE_UNIT_PARAMETERS"
HTTP_SERVICE_PORT_ENV_NAME = "PREDICTIVE_UNIT_HTTP_SERVICE_PORT"
GRPC_SERVICE_PORT_ENV_NAME = "PREDICTIVE_UNIT_GRPC_SERVICE_PORT"
METRICS_SERVICE_PORT_ENV_NAME = "PREDICTIVE_UNIT_METRICS_SERVICE_PORT"
FILTER_METRICS_ACCESS_LOGS_ENV_NAME = "FILTER_METRICS_ACCESS_LOGS"
LOG_LEVEL_ENV = "SELDON_LOG_LEVEL"
DEFAULT_LOG_LEVEL = "INFO"
DEFAULT_GRPC_PORT = PORTS["grpc"]
DEFAULT_HTTP_PORT = PORTS["http"]
DEFAULT_METRICS_PORT = PORTS["metrics"]
DEBUG_ENV = "SELDON_DEBUG"
GUNICORN_ACCESS_LOG_ENV = "GUNICORN_ACCESS_LOG"

_TRUE = ("y", "yes", "t", "true", "on", "1")
_FALSE = ("n", "no", "f", "false", "off", "0")


def _strtobool(value: str) -> bool:
    """distutils.util.strtobool, which Seldon uses (distutils is gone from Python 3.12)."""
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(f"invalid truth value {value!r}")


_CONVERTERS: dict[str, Any] = {"INT": int, "FLOAT": float, "DOUBLE": float, "STRING": str, "BOOL": _strtobool}


def parse_parameters(parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """PREDICTIVE_UNIT_PARAMETERS, decoded from JSON, to keyword arguments: each
    {"name", "value", "type": INT|FLOAT|DOUBLE|STRING|BOOL} converted by its type.

    A value its type cannot parse or an unknown type is a SeldonMicroserviceException with reason
    MICROSERVICE_BAD_PARAMETER; a BOOL that is not a truth value raises ValueError, as in Seldon.
    """
    parsed = {}
    for parameter in parameters:
        name, value, kind = parameter.get("name"), parameter.get("value"), parameter.get("type")
        if kind == "BOOL":
            parsed[name] = _strtobool(value)
            continue
        try:
            parsed[name] = _CONVERTERS[kind](value)
        except ValueError:
            raise SeldonMicroserviceException(
                f"Bad model parameter: {name} with value {value} can't be parsed as a {kind}",
                reason=BAD_PARAMETER,
            ) from None
        except KeyError:
            raise SeldonMicroserviceException(
                f"Bad model parameter type: {kind} valid are INT, FLOAT, DOUBLE, STRING, BOOL",
                reason=BAD_PARAMETER,
            ) from None
    return parsed


def load_annotations() -> dict[str, str]:
    """The pod's annotations from the downward-API file (ANNOTATIONS_FILE), `key="value"` a line;
    {} when the file is absent or unreadable."""
    annotations = {}
    try:
        if os.path.isfile(ANNOTATIONS_FILE):
            with open(ANNOTATIONS_FILE) as lines:
                for line in lines:
                    parts = [part.strip() for part in line.rstrip().split("=", 1)]
                    if len(parts) == 2:
                        annotations[parts[0]] = parts[1][1:-1]  # without the quotes
                    else:
                        logger.info("Bad annotation [%s]", line.rstrip())
    except Exception:
        logger.error("Failed to open annotations file %s", ANNOTATIONS_FILE)
    return annotations


def main() -> None:
    """`seldon-core-microservice`, served by seldon_serve (its command line, from sys.argv)."""
    from seldon_serve.cli import main as serve

    serve()


if __name__ == "__main__":  # python -m seldon_core.microservice Model --service-type MODEL ...
    main()
