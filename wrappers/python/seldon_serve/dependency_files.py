"""The files a model source declares its dependencies in, and lock files as requirements.

    python -m seldon_serve.dependency_files choose SOURCE_DIR
        the file assemble installs: the first of DEPENDENCY_FILES found (the others are named)
    python -m seldon_serve.dependency_files export LOCK_FILE REQUIREMENTS_OUT
        a lock file as a requirements file that installs exactly what it locks

An exported lock pins every package at its locked version with its locked hashes, so pip and uv
alike refuse a file whose hash differs. Read: `pylock.toml` (PEP 751), `uv.lock` (through
`uv export`, beside its pyproject.toml), `poetry.lock` (its main group) and `Pipfile.lock` (its
default packages). A locked package that is not a file from an index (a VCS checkout, a local
folder) has no hash, so it is refused by name: such a source can use requirements.txt instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Looked for in this order; the first found is installed (usage and the README say so too).
LOCK_FILES = ("pylock.toml", "uv.lock", "poetry.lock", "Pipfile.lock")
DEPENDENCY_FILES = (*LOCK_FILES, "requirements.txt", "environment.yml")


class LockError(Exception):
    """A lock file that cannot be installed exactly; the message says why."""


def _line(name: str, version: str, hashes: Iterable[str], marker: str | None = None) -> str:
    hashed = sorted(set(hashes))
    if not hashed:
        raise LockError(f"{name} {version} is locked without a hash")
    # One line a package, hashes and all: assemble's line filters (seldon-core) stay whole.
    requirement = f"{name}=={version}" + (f" ; {marker}" if marker else "")
    return " ".join([requirement, *(f"--hash={h}" for h in hashed)])


def _not_from_an_index(names: list[str], lock: str) -> None:
    if names:
        raise LockError(
            f"{lock} locks packages that are not files from a package index, which cannot be installed "
            f"by hash: {', '.join(names)}. List them in requirements.txt instead."
        )


def from_pylock(text: str) -> list[str]:
    lines, other = [], []
    for package in tomllib.loads(text).get("packages", []):
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        if not files or "version" not in package:
            other.append(package.get("name", "?"))
            continue
        hashes = [f"{algorithm}:{digest}" for f in files for algorithm, digest in f.get("hashes", {}).items()]
        lines.append(_line(package["name"], package["version"], hashes, package.get("marker")))
    _not_from_an_index(other, "pylock.toml")
    return lines


def from_pipfile_lock(text: str) -> list[str]:
    lines, other = [], []
    for name, entry in json.loads(text).get("default", {}).items():
        version = entry.get("version", "")
        if not version.startswith("=="):
            other.append(name)
            continue
        lines.append(_line(name, version[2:], entry.get("hashes", []), entry.get("markers")))
    _not_from_an_index(other, "Pipfile.lock")
    return lines


def _poetry_is_main(package: dict[str, Any]) -> bool:
    # poetry 2 lists groups; poetry 1 a category; neither: a lock of main dependencies only.
    if "groups" in package:
        return "main" in package["groups"]
    return package.get("category", "main") == "main"


def from_poetry_lock(text: str) -> list[str]:
    document = tomllib.loads(text)
    old_style_files = document.get("metadata", {}).get("files", {})  # poetry 1's [metadata.files]
    lines, other = [], []
    for package in document.get("package", []):
        if not _poetry_is_main(package):
            continue
        if package.get("source", {}).get("type") in {"git", "directory", "file", "url"}:
            other.append(package["name"])
            continue
        files = package.get("files") or old_style_files.get(package["name"], [])
        marker = package.get("markers") if isinstance(package.get("markers"), str) else None
        lines.append(_line(package["name"], package["version"], [f["hash"] for f in files], marker))
    _not_from_an_index(other, "poetry.lock")
    return lines


def from_uv_lock(lock: Path) -> list[str]:
    if not (lock.parent / "pyproject.toml").is_file():
        raise LockError("uv.lock needs the pyproject.toml it was made from, beside it")
    beside = Path(sys.executable).with_name("uv")  # the venv's own uv, on PATH or not
    exported = subprocess.run(
        [
            str(beside) if beside.exists() else "uv",
            "export",
            "--frozen",
            "--format",
            "requirements-txt",
            "--no-emit-project",
            "--no-dev",
            "--quiet",
        ],
        cwd=lock.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if exported.returncode != 0:
        raise LockError(f"uv export could not read uv.lock: {exported.stderr.strip()}")
    joined = exported.stdout.replace("\\\n", " ")  # uv continues a package's hashes on more lines
    lines = (" ".join(line.split()) for line in joined.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def requirements(lock: Path) -> list[str]:
    readers = {"pylock.toml": from_pylock, "Pipfile.lock": from_pipfile_lock, "poetry.lock": from_poetry_lock}
    if lock.name == "uv.lock":
        return from_uv_lock(lock)
    try:
        return readers[lock.name](lock.read_text())
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LockError(f"{lock.name} cannot be read: {exc}") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise LockError(f"{lock.name} is not a lock file this image understands (no {exc})") from None


def choose(source: Path) -> str | None:
    found = [name for name in DEPENDENCY_FILES if (source / name).is_file()]
    if len(found) > 1:
        print(f"---> Using {found[0]}; {', '.join(found[1:])} not used (the first of: "
              f"{', '.join(DEPENDENCY_FILES)})", file=sys.stderr)  # fmt: skip
    return found[0] if found else None


USAGE = "usage: python -m seldon_serve.dependency_files {choose SOURCE_DIR | export LOCK_FILE REQUIREMENTS_OUT}"


def main(arguments: list[str]) -> int:
    if arguments[:1] == ["choose"] and len(arguments) == 2:
        print(choose(Path(arguments[1])) or "")
        return 0
    if arguments[:1] != ["export"] or len(arguments) != 3 or Path(arguments[1]).name not in LOCK_FILES:
        print(USAGE, file=sys.stderr)
        return 2
    lock, target = Path(arguments[1]), Path(arguments[2])
    try:
        lines = requirements(lock)
    except LockError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    target.write_text("".join(f"{line}\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
