"""`python -m seldon_serve.check MyModel --service-type MODEL`: can this class be served?

Run by the s2i assemble script so that a typo in MODEL_NAME, a syntax error or a missing
dependency fails the build with a message, not the container at start-up.
"""

from __future__ import annotations

import argparse
import sys

from .component import SERVICE_TYPES, import_class
from .errors import StartupError

# A service type needs one of these methods; transformers default to the identity.
REQUIRED_METHODS = {
    "MODEL": ("predict", "predict_raw"),
    "ROUTER": ("route", "route_raw"),
    "COMBINER": ("aggregate", "aggregate_raw"),
}


def problems(cls: type, service_type: str) -> list[str]:
    """What stops `cls` serving as `service_type`; lines starting "warning:" do not."""
    language_check = getattr(cls, "seldon_check", None)
    if callable(language_check):  # another language's model, whose methods only the object knows
        return list(language_check(service_type))
    required = REQUIRED_METHODS.get(service_type)
    if required and not any(callable(getattr(cls, name, None)) for name in required):
        return [f"a {service_type} must define {' or '.join(required)}; {cls.__name__} defines neither"]
    return []


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m seldon_serve.check")
    p.add_argument("interface")
    p.add_argument("--service-type", type=str.upper, choices=SERVICE_TYPES, default="MODEL")
    args = p.parse_args(argv)
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
