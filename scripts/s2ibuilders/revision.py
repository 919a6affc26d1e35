"""The git revision the images are built from, and whether the work tree has changes."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from .paths import ROOT


@dataclass(frozen=True)
class Revision:
    sha: str  # "unknown" outside a git work tree
    dirty: bool

    def __str__(self) -> str:
        return self.sha + ("-dirty" if self.dirty else "")


def current() -> Revision:
    try:
        sha = _git("rev-parse", "HEAD")
        return Revision(sha, bool(_git("status", "--porcelain")))
    except (OSError, subprocess.CalledProcessError):
        return Revision("unknown", True)


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
