"""reports/test-results.json: what the last test run tested and how it went, per image.

The test suite writes it (tests/conftest.py); CI uploads it; `push` reads it and refuses an
image this revision's tests did not pass with.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .paths import REPORTS_DIR

RESULTS_FILE = REPORTS_DIR / "test-results.json"
# An image counts as tested when tests of each of these tiers ran against it and none failed.
REQUIRED_TIERS = ("image", "s2i", "contract")


@dataclass
class CellResults:
    reference: str
    image_id: str = ""
    tiers: dict[str, Counter[str]] = field(default_factory=dict)

    def count(self, tier: str, outcome: str) -> None:
        self.tiers.setdefault(tier, Counter())[outcome] += 1


@dataclass
class Results:
    revision: str
    selection: dict[str, str]
    totals: Counter[str] = field(default_factory=Counter)
    cells: dict[str, CellResults] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "selection": self.selection,
            "totals": dict(self.totals),
            "cells": {
                slug: {
                    "reference": c.reference,
                    "image_id": c.image_id,
                    "tiers": {t: dict(n) for t, n in c.tiers.items()},
                }
                for slug, c in self.cells.items()
            },
            "failures": self.failures,
        }

    def write(self, path: Path = RESULTS_FILE) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")


def why_untested(slug: str, image_id: str, revision: str, path: Path = RESULTS_FILE) -> str | None:
    """None when the last run, at this revision, passed every test of this very image;
    otherwise the reason it does not count."""
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return f"no test results ({path.name}): run `make test` first"
    except (OSError, ValueError) as exc:
        return f"{path} is unreadable: {exc}"
    if doc.get("revision") != revision:
        return f"the last test run was at revision {doc.get('revision')}, not {revision}"
    bad = sum(doc.get("totals", {}).get(outcome, 0) for outcome in ("failed", "error"))
    if bad:
        return f"the last test run had {bad} failed test(s)"
    cell = doc.get("cells", {}).get(slug)
    if cell is None:
        return "the last test run did not test this image"
    if cell.get("image_id") != image_id:
        return f"the image was rebuilt after the last test run (tested {cell.get('image_id', '?')[:19]})"
    for tier in REQUIRED_TIERS:
        if not cell.get("tiers", {}).get(tier, {}).get("passed"):
            return f"no {tier} test passed against it in the last test run"
    return None
