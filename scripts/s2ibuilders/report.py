"""What a build measured: the table printed after it, and reports/images.json for CI."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from .build import BuildResult


def table(results: Sequence[BuildResult]) -> str:
    rows = [("image", "tags", "size", "layers", "steps run", "seconds", "result")]
    for r in results:
        rows.append(
            (
                r.cell.repository,
                ",".join(r.cell.tags),
                f"{r.size_bytes / 1e6:.0f} MB" if r.ok else "-",
                str(r.layers) if r.ok else "-",
                f"{r.steps.run}/{r.steps.total}" if r.ok else "-",
                f"{r.seconds:.1f}",
                "ok" if r.ok else f"FAILED: {r.error}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def write_json(results: Sequence[BuildResult], path: Path) -> None:
    doc = [
        {
            "image": r.cell.reference,
            "ok": r.ok,
            "image_id": r.image_id,
            "size_bytes": r.size_bytes,
            "layers": r.layers,
            "steps": r.steps.total,
            "steps_run": r.steps.run,
            "seconds": round(r.seconds, 2),
            "error": r.error,
        }
        for r in results
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
