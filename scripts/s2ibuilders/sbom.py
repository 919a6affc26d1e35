"""A software bill of materials per builder image: every Debian, Python and Java package in
it, as SPDX JSON, listed by syft from the image in the engine (reports/sbom/<image>.spdx.json)."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from . import config, tools


@dataclass(frozen=True)
class Sbom:
    image: str
    path: Path
    packages: Counter[str]  # package count by ecosystem (deb, pypi, maven, ...)

    def summary(self) -> str:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(self.packages.items()))
        return f"{self.image}: {sum(self.packages.values())} packages ({kinds}) -> {self.path}"


def write(cell: config.ImageVersion, syft: Path, out_dir: Path) -> Sbom:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{cell.slug}.spdx.json"
    command = [str(syft), "scan", f"docker:{cell.reference}", "--quiet", "--output", f"spdx-json={path}"]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise tools.ToolError(f"syft could not list {cell.reference}: {run.stderr.strip()[-500:]}")
    return Sbom(cell.reference, path, ecosystems(json.loads(path.read_text())))


def ecosystems(document: dict) -> Counter[str]:
    """Packages by the type of their package URL (pkg:deb/..., pkg:pypi/..., pkg:maven/...)."""
    kinds: Counter[str] = Counter()
    for package in document.get("packages", []):
        purls = [ref["referenceLocator"] for ref in package.get("externalRefs", []) if ref["referenceType"] == "purl"]
        if purls:
            kinds[purls[0].removeprefix("pkg:").split("/", 1)[0]] += 1
    return kinds


def packages(document: dict) -> dict[str, set[str]]:
    """name -> the versions listed, over every ecosystem."""
    found: dict[str, set[str]] = {}
    for package in document.get("packages", []):
        found.setdefault(package["name"].lower(), set()).add(package.get("versionInfo", ""))
    return found
