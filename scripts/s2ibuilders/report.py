"""The summary table printed after a build."""

from __future__ import annotations

from collections.abc import Sequence

from .build import BuildResult


def table(results: Sequence[BuildResult]) -> str:
    rows = [("image", "tags", "size", "seconds", "result")]
    for r in results:
        rows.append(
            (
                r.cell.repository,
                ",".join(r.cell.tags),
                f"{r.size_bytes / 1e6:.0f} MB" if r.ok else "-",
                f"{r.seconds:.1f}",
                "ok" if r.ok else f"FAILED: {r.error}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
