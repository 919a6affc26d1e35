"""`python -m seldon_serve.check MyModel --service-type MODEL`: can this class be served?

Run by the s2i assemble script so that a typo in MODEL_NAME, a syntax error or a missing
dependency fails the build with a message, not the container at start-up.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
from pathlib import Path

from . import legacy_hooks
from .component import import_class
from .contract import REQUIRED_VERB, SERVICE_TYPES
from .errors import StartupError
from .user_model import implemented

# Every module a request can reach: a dependency the model's requirements moved (protobuf,
# numpy, grpcio, ...) breaks one of these at import, so the build fails rather than the pod.
TRANSPORTS = (
    "seldon_serve.cli", "seldon_serve.supervisor", "seldon_serve.deadlines", "seldon_serve.http_server",
    "seldon_serve.rest", "seldon_serve.bridge", "seldon_serve.grpc_server", "seldon_serve.v2",
    "seldon_serve.v2.codec", "seldon_serve.v2.raw", "seldon_serve.v2.dataplane", "seldon_serve.v2.rest",
    "seldon_serve.v2.grpc", "seldon_serve.metrics", "seldon_serve.proto.prediction_pb2",
    "seldon_serve.proto.open_inference_pb2", "seldon_core", "seldon_core.user_model", "seldon_core.utils",
)  # fmt: skip
ENTRY_POINT = "seldon-core-microservice"

# A service type needs one of these methods; transformers default to the identity.
REQUIRED_METHODS = {service_type: (verb, f"{verb}_raw") for service_type, verb in REQUIRED_VERB.items()}


def problems(cls: type, service_type: str) -> list[str]:
    """What stops `cls` serving as `service_type`; lines starting "warning:" do not."""
    language_check = getattr(cls, "seldon_check", None)
    if callable(language_check):  # another language's model, whose methods only the object knows
        return list(language_check(service_type))
    required = REQUIRED_METHODS.get(service_type)
    # Seldon's oldest hooks serve too (legacy_hooks), though the message names today's.
    accepted = (*required, *(required[0] + suffix for suffix in legacy_hooks.SUFFIXES)) if required else ()
    if required and not any(
        callable(getattr(cls, name, None)) and implemented(getattr(cls, name)) for name in accepted
    ):
        return [f"a {service_type} must define {' or '.join(required)}; {cls.__name__} defines neither"]
    return []


def wrapper_problems() -> list[str]:
    """What keeps this wrapper from serving: a transport that no longer imports, an entry point
    or a seldon_core package that another distribution (Seldon's own) replaced."""
    found = []
    for module in TRANSPORTS:
        try:
            importlib.import_module(module)
        except Exception as exc:
            found.append(f"the wrapper's {module} no longer imports ({type(exc).__name__}: {exc}): a requirement "
                         "probably replaced a package it needs (see pip's messages above)")  # fmt: skip
    ours = Path(__file__).resolve().parent.parent
    seldon_core = sys.modules.get("seldon_core")
    if seldon_core is not None and Path(seldon_core.__file__).resolve().parent.parent != ours:
        found.append(f"seldon_core comes from {seldon_core.__file__}, not this image's compatibility package: "
                     "do not install Seldon's seldon-core next to this wrapper")  # fmt: skip
    beside = Path(sys.executable).with_name(ENTRY_POINT)  # the venv's own, which `run` finds first
    script = str(beside) if beside.exists() else shutil.which(ENTRY_POINT)
    if script is None or "seldon_serve" not in Path(script).read_text(errors="replace"):
        found.append(f"{ENTRY_POINT} ({script or 'not on PATH'}) is not this wrapper's: a requirement replaced it")
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m seldon_serve.check")
    p.add_argument("interface", nargs="?")
    p.add_argument("--service-type", type=str.upper, choices=SERVICE_TYPES, default="MODEL")
    p.add_argument("--wrapper-only", action="store_true", help="check the wrapper's own install, not a model")
    args = p.parse_args(argv)
    broken = wrapper_problems()
    for problem in broken:
        print(f"error: {problem}", file=sys.stderr)
    if args.wrapper_only or broken:
        return 1 if broken else 0
    if not args.interface:
        p.error("name the model class (MyModel), or give --wrapper-only")
    try:
        cls = import_class(args.interface)
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    notes = problems(cls, args.service_type)
    found = [note for note in notes if not note.startswith("warning:")]
    for note in notes:
        print(note if note.startswith("warning:") else f"error: {note}", file=sys.stderr)
    if not found:
        what = getattr(cls, "source_file", None) or f"class {cls.__module__}.{cls.__name__}"
        print(f"{args.interface}: {what} can serve as {args.service_type}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
