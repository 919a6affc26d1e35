"""`python -m seldon_serve.conda_env environment.yml requirements.txt`: a conda environment file
as a requirements set, for images that install from PyPI (no conda channel is used).

Its `pip:` section is kept as written. Its plain dependencies `name`, `name=version` (conda's
prefix match: 1.26 means 1.26.*), `name==version` or `name>=version` become requirements;
`python` and `pip` themselves are the image's. A channel-qualified dependency (`conda-forge::x`)
cannot be mapped: the translation stops with one line naming every such dependency. The names
of the conda dependencies are written to stdout, one a line, so that an install that fails can
tell which of them PyPI does not have.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

CONDA_SPEC = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)\s*(?P<op>==|>=|<=|>|<|!=|=)?\s*(?P<version>[^=\s]*)(=\S+)?$")
THE_IMAGES_OWN = {"python", "pip"}


class Unmappable(Exception):
    """Dependencies that have no PyPI requirement."""


def requirement(spec: str) -> str | None:
    """The PyPI requirement of one conda dependency; None for the image's own (python, pip)."""
    if "::" in spec or "/" in spec:
        raise Unmappable(spec)
    match = CONDA_SPEC.match(spec.strip())
    if not match:
        raise Unmappable(spec)
    name, op, version = match["name"], match["op"], match["version"]
    if name.lower() in THE_IMAGES_OWN:
        return None
    if not op:
        return name
    if op == "=":  # conda's =1.26 is 1.26.*; a full version with a wildcard already is kept
        return f"{name}=={version}" if version.endswith("*") else f"{name}=={version}.*"
    return f"{name}{op}{version}"


def translate(document: object) -> tuple[list[str], list[str]]:
    """(requirements lines, names of the conda dependencies among them)."""
    if not isinstance(document, dict) or not isinstance(document.get("dependencies", []), list):
        raise ValueError("environment.yml must be a mapping with a `dependencies:` list")
    lines: list[str] = []
    names: list[str] = []
    unmappable: list[str] = []
    for dependency in document.get("dependencies") or []:
        if isinstance(dependency, dict) and set(dependency) == {"pip"}:
            lines += [str(line) for line in dependency["pip"] or []]
            continue
        if not isinstance(dependency, str):
            unmappable.append(str(dependency))
            continue
        try:
            line = requirement(dependency)
        except Unmappable:
            unmappable.append(str(dependency))
            continue
        if line:
            lines.append(line)
            names.append(re.split(r"[=<>!]", line, maxsplit=1)[0])
    if unmappable:
        raise Unmappable(", ".join(unmappable))
    return lines, names


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: python -m seldon_serve.conda_env ENVIRONMENT_YML REQUIREMENTS_OUT", file=sys.stderr)
        return 2
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    try:
        lines, names = translate(yaml.safe_load(source.read_text()))
    except yaml.YAMLError as exc:
        print(f"{source} is not valid YAML: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except Unmappable as exc:
        print(
            f"{source} lists conda dependencies with no PyPI equivalent here (no conda channel is "
            f"reachable): {exc}. Move them to its `pip:` section under their PyPI names.",
            file=sys.stderr,
        )
        return 1
    target.write_text("".join(f"{line}\n" for line in lines))
    print("\n".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
