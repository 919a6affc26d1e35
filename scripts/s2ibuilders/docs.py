"""Generated parts of README.md, rendered from versions.yaml and images/common/docs/.

README.md marks each generated block with `<!-- generated:NAME -->` ... `<!-- end:NAME -->`;
`python -m s2ibuilders docs` rewrites the blocks, `--check` fails if any is stale.
"""

from __future__ import annotations

import re
from pathlib import Path

from .config import Config
from .paths import ROOT
from .render import environment

README = ROOT / "README.md"
BLOCKS = ("versions", "quickstart")


def render_block(name: str, cfg: Config) -> str:
    cells = cfg.matrix(all_versions=True)
    python = cfg.families["python"]
    variables = {
        "config": cfg,
        "cells": cells,
        "python_cells": list(python.versions.values()),
        "default": python.versions[python.default_version],
    }
    return environment().get_template(f"common/docs/{name}.md.j2").render(**variables).strip("\n")


def updated(text: str, cfg: Config) -> str:
    for name in BLOCKS:
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(\n<!-- end:{name} -->)", re.DOTALL)
        if not pattern.search(text):
            raise ValueError(f"README.md has no <!-- generated:{name} --> ... <!-- end:{name} --> block")
        block = render_block(name, cfg)
        text = pattern.sub(lambda m, block=block: m.group(1) + block + m.group(2), text)
    return text


def update(cfg: Config, readme: Path = README, *, check: bool = False) -> bool:
    """Rewrite the blocks (or only compare, with check). True when the file was already current."""
    current = readme.read_text()
    fresh = updated(current, cfg)
    if not check and fresh != current:
        readme.write_text(fresh)
    return fresh == current
