"""Files generated from versions.yaml and the image templates, committed so they can be read
without building: README.md's generated blocks, each image's README and its OpenShift and
Seldon manifests.

README.md marks each generated block with `<!-- generated:NAME -->` ... `<!-- end:NAME -->`.
`python -m s2ibuilders docs` rewrites everything; `--check` lists what is stale and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import nodes

from . import manifests
from .config import Config, Family, ImageVersion
from .paths import IMAGES_DIR, ROOT
from .render import env_vars, environment, template_vars

README = ROOT / "README.md"
BLOCKS = ("versions", "quickstart", "from-seldon")
SAMPLES_DIR = ROOT / "tests" / "samples"
# The contract samples first, in the order a graph is usually read; a family's others follow.
SAMPLE_ORDER = ("model", "transformer", "output-transformer", "router", "combiner", "model-with-extras", "raw-model")
LARGEST_SHOWN_FILE = 3000  # bytes; larger files (and models, training scripts) are only linked
FENCE = {".py": "python", ".R": "r", ".java": "java", ".xml": "xml", ".txt": "text", "environment": "sh"}


@dataclass
class Example:
    name: str
    service_type: str
    path: str  # from the repository root
    files: list[tuple[str, str, str]]  # (path in the sample, fence language, text)


def default_cell(family: Family) -> ImageVersion:
    return family.versions[family.default_version]


def usage_blocks(cell: ImageVersion) -> dict[str, str]:
    """The family's usage blocks (source layout, example request, incremental builds), as the
    image's `usage` prints them: its own, and those it inherits from the usage it extends (spark's
    from python's), below common/usage.j2's frame."""
    env = environment()
    chain = []  # the family's usage.j2, then each template it extends
    name: str | None = f"{cell.family.name}/s2i/bin/usage.j2"
    while name:
        chain.append(env.get_template(name))
        extends = env.parse(env.loader.get_source(env, name)[0]).find(nodes.Extends)
        name = extends.template.value if extends and isinstance(extends.template, nodes.Const) else None
    blocks = {}
    for template in reversed(chain):  # a block of a template overrides the one it extends
        blocks.update(template.blocks)
    context = chain[0].new_context({**template_vars(cell), "template_path": ""})
    return {name: "".join(block(context)).strip("\n") for name, block in blocks.items()}


def examples(family: Family) -> list[Example]:
    folder = SAMPLES_DIR / family.name
    # A sample has its .s2i/environment; other folders hold parts tests assemble (lock files).
    names = sorted(p.name for p in folder.iterdir() if (p / ".s2i" / "environment").is_file())
    ordered = [n for n in SAMPLE_ORDER if n in names] + [n for n in names if n not in SAMPLE_ORDER]
    return [_example(folder / name) for name in ordered]


def _example(folder: Path) -> Example:
    environment_file = folder / ".s2i" / "environment"
    settings = dict(
        line.split("=", 1) for line in environment_file.read_text().splitlines() if "=" in line and line[0] != "#"
    )
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if "model" in relative.parts[:-1] or relative.name.startswith("train") or not _shown(path):
            continue
        fence = FENCE.get(path.suffix or path.name, "")
        files.append((relative.as_posix(), fence, path.read_text().rstrip("\n")))
    files.sort(key=lambda f: f[0] != ".s2i/environment")
    return Example(folder.name, settings.get("SERVICE_TYPE", "MODEL"), folder.relative_to(ROOT).as_posix(), files)


def _shown(path: Path) -> bool:
    if path.stat().st_size > LARGEST_SHOWN_FILE:
        return False
    try:
        return "\0" not in path.read_text()
    except UnicodeDecodeError:
        return False


def image_readme(family: Family) -> str:
    cell = default_cell(family)
    variables = {
        **template_vars(cell),
        "cells": list(family.versions.values()),
        "usage": usage_blocks(cell),
        "examples": examples(family),
        "env_vars": env_vars(cell),
        "manifests": manifests.paths(family),
    }
    return environment().get_template("common/docs/image-readme.md.j2").render(**variables)


def readme_block(name: str, cfg: Config) -> str:
    python = cfg.families["python"]
    variables = {
        "config": cfg,
        "cells": cfg.matrix(all_versions=True),
        "python_cells": list(python.versions.values()),
        "default": default_cell(python),
    }
    return environment().get_template(f"common/docs/{name}.md.j2").render(**variables).strip("\n")


def readme(text: str, cfg: Config) -> str:
    for name in BLOCKS:
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(\n<!-- end:{name} -->)", re.DOTALL)
        if not pattern.search(text):
            raise ValueError(f"README.md has no <!-- generated:{name} --> ... <!-- end:{name} --> block")
        block = readme_block(name, cfg)
        text = pattern.sub(lambda m, block=block: m.group(1) + block + m.group(2), text)
    return text


def generated(cfg: Config) -> dict[Path, str]:
    """Every generated file and what it should hold."""
    files = {README: readme(README.read_text(), cfg)}
    for family in cfg.families.values():
        files[IMAGES_DIR / family.name / "README.md"] = image_readme(family)
        files.update(manifests.render(family))
    return files


def update(cfg: Config, *, check: bool = False) -> list[Path]:
    """The generated files that were stale; rewritten unless check."""
    stale = []
    for path, text in generated(cfg).items():
        if not path.exists() or path.read_text() != text:
            stale.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    return stale
