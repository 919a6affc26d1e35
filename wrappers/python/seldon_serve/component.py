"""The user's class: found, constructed with its parameters, and bound to the Seldon verbs.

Everything that needs reflection (which methods exist, whether they take `meta`) is decided
once here at start-up, so the request path only calls what was bound.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from .contract import SERVICE_TYPES
from .errors import BAD_PARAMETER, StartupError

__all__ = ["SERVICE_TYPES", "import_class"]

_PARAMETER_TYPES: dict[str, Callable[[str], Any]] = {
    "INT": int,
    "FLOAT": float,
    "DOUBLE": float,
    "STRING": str,
    "BOOL": lambda v: {"true": True, "false": False, "1": True, "0": False}[v.strip().lower()],
}


# Model files in other languages, served by the package registered for their suffix.
LANGUAGE_PLUGINS = "seldon_serve.languages"
KNOWN_LANGUAGES = {"R": "R"}


def import_class(interface: str, search_path: str | None = None) -> type:
    """`MyModel` (module and class of one name), `package.module.Class`, or a model file in a
    language a plugin serves (`MyModel.R`, or `MyModel` when only MyModel.R exists)."""
    directory = search_path or os.getcwd()
    other_language = language_class(interface, directory)
    if other_language is not None:
        return other_language
    module_name, _, class_name = interface.rpartition(".")
    module_name = module_name or class_name
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name.split(".")[0] and exc.name != module_name:
            raise StartupError(
                f"importing {module_name} failed: it needs module {exc.name!r}, which is not installed"
            ) from exc
        raise StartupError(f"cannot find {module_name}: no {module_name.replace('.', '/')}.py in {directory}") from exc
    except Exception as exc:
        raise StartupError(f"importing {module_name} failed: {type(exc).__name__}: {exc}") from exc
    cls = getattr(module, class_name, None)
    if not inspect.isclass(cls):
        found = sorted(n for n, v in vars(module).items() if inspect.isclass(v) and v.__module__ == module.__name__)
        raise StartupError(f"{module_name} defines no class {class_name} (classes found: {', '.join(found) or 'none'})")
    return cls


def language_class(interface: str, directory: str) -> type | None:
    plugins = {plugin.name: plugin for plugin in entry_points(group=LANGUAGE_PLUGINS)}
    stem, dot, suffix = interface.rpartition(".")
    if dot and suffix in plugins:
        return plugins[suffix].load()(os.path.join(directory, interface))
    if dot and suffix in KNOWN_LANGUAGES and not os.path.exists(os.path.join(directory, stem + ".py")):
        raise StartupError(f"{interface} is an {KNOWN_LANGUAGES[suffix]} model: this image serves Python only")
    if not os.path.exists(os.path.join(directory, interface + ".py")):
        for suffix, plugin in plugins.items():
            path = os.path.join(directory, f"{interface}.{suffix}")
            if os.path.isfile(path):
                return plugin.load()(path)
    return None


def parse_parameters(raw: str | None) -> dict[str, Any]:
    """PREDICTIVE_UNIT_PARAMETERS: [{"name": .., "value": "<string>", "type": "INT|FLOAT|DOUBLE|STRING|BOOL"}]."""
    if not raw or not raw.strip():
        return {}
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise StartupError(f"PREDICTIVE_UNIT_PARAMETERS is not JSON: {exc}", BAD_PARAMETER) from None
    if not isinstance(items, list):
        raise StartupError("PREDICTIVE_UNIT_PARAMETERS must be a JSON list of {name, value, type}", BAD_PARAMETER)
    parameters = {}
    for item in items:
        if not isinstance(item, dict) or "name" not in item or "value" not in item:
            raise StartupError(f"parameter {item!r} needs a name and a value", BAD_PARAMETER)
        name, value, kind = item["name"], item["value"], str(item.get("type", "STRING")).upper()
        if kind not in _PARAMETER_TYPES:
            raise StartupError(
                f"parameter {name!r}: unknown type {kind!r} (use {', '.join(_PARAMETER_TYPES)})", BAD_PARAMETER
            )
        try:
            parameters[name] = _PARAMETER_TYPES[kind](str(value))
        except (ValueError, KeyError):
            raise StartupError(f"parameter {name!r}: {value!r} is not a valid {kind}", BAD_PARAMETER) from None
    return parameters


def construct(cls: type, parameters: dict[str, Any]) -> Any:
    try:
        return cls(**parameters)
    except StartupError:
        raise
    except TypeError as exc:
        raise StartupError(f"{cls.__name__}({', '.join(parameters)}) failed: {exc}", BAD_PARAMETER) from exc
    except Exception as exc:
        raise StartupError(f"{cls.__name__}.__init__ failed: {type(exc).__name__}: {exc}") from exc


def takes_meta(method: Callable[..., Any]) -> str:
    """How to hand `meta` to a user method: 'keyword', 'positional' or 'no'."""
    try:
        params = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return "no"
    if any(p.name == "meta" or p.kind is p.VAR_KEYWORD for p in params):
        return "keyword"
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return "positional" if len(positional) >= 3 or any(p.kind is p.VAR_POSITIONAL for p in params) else "no"


def routing_style(method: Callable[..., Any]) -> str:
    """How send_feedback takes Seldon's `routing`: 'keyword' (a parameter of that name, as
    Seldon's wrapper always passes it), 'positional' (a fifth positional parameter of another
    name) or 'no' (four parameters: it is left out, where Seldon's call would fail)."""
    try:
        params = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return "no"
    if any(p.name == "routing" or p.kind is p.VAR_KEYWORD for p in params):
        return "keyword"
    return "positional" if any(p.kind is p.VAR_POSITIONAL for p in params) or len(params) >= 5 else "no"


def bind_with_meta(method: Callable[..., Any]) -> Callable[[Any, Any, dict[str, Any]], Any]:
    """A (X, names, meta) callable for a method that may or may not accept meta."""
    style = takes_meta(method)
    if style == "keyword":
        return lambda X, names, meta: method(X, names, meta=meta)
    if style == "positional":
        return method
    return lambda X, names, meta: method(X, names)
