"""Render images/<family>/ into a Docker build context under build/<family>-<version>/.

Files ending in .j2 are Jinja templates (rendered without the suffix); everything else is
copied as is. The wrappers and the proto go into every context, so an image is built from
the repository's code and never from a package index.
"""

from __future__ import annotations

import shutil
import stat
from pathlib import Path
from typing import Any

import jinja2
import yaml

from .config import ImageVersion
from .paths import BUILD_DIR, IMAGES_DIR, WRAPPERS_DIR

CA_DIR = "ca-certificates"  # the build context folder an extra CA bundle is copied into
# What a family's folder holds for `make docs`, not for the image.
_NOT_IN_CONTEXT = {"environment.yaml", "README.md", "openshift"}
# Build output of the wrappers' own toolchains (pip, Maven) never goes into a context.
_WRAPPER_IGNORE = shutil.ignore_patterns(
    "build", "__pycache__", "*.egg-info", "*_pb2.py", "*_pb2_grpc.py", "target", ".flattened-pom.xml"
)


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(IMAGES_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def env_vars(cell: ImageVersion) -> list[dict[str, str]]:
    """The environment variables a family's image reads (images/<family>/environment.yaml,
    itself a template so that defaults such as ports come from versions.yaml)."""
    return _env_file(cell, IMAGES_DIR / cell.family.name / "environment.yaml")


def _env_file(cell: ImageVersion, path: Path) -> list[dict[str, str]]:
    """One environment.yaml; an item `include: <path under images/>` stands for that file's list,
    and a later item of the same name replaces an included one."""
    if not path.exists():
        return []
    config = cell.family.config
    items = yaml.safe_load(environment().from_string(path.read_text()).render(config=config, ports=config.ports))
    expanded: list[dict[str, str]] = []
    for item in items:
        for var in _env_file(cell, IMAGES_DIR / item["include"]) if "include" in item else [item]:
            # A variable listed again (after an include) is the family's own default: it replaces.
            same = [i for i, known in enumerate(expanded) if known["name"] == var["name"]]
            if same:
                expanded[same[0]] = var
            else:
                expanded.append(var)
    return expanded


def template_vars(cell: ImageVersion) -> dict[str, Any]:
    config = cell.family.config
    return {
        "cell": cell,
        "family": cell.family,
        "version": cell.version,
        "base": cell.base,
        "config": config,
        "ports": config.ports,
        "uid": config.uid,
        "gid": config.gid,
        "env_vars": env_vars(cell),
        "ca_dir": CA_DIR,
    }


def context_dir(cell: ImageVersion) -> Path:
    return BUILD_DIR / cell.slug


def render(cell: ImageVersion, out: Path | None = None) -> Path:
    out = out or context_dir(cell)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    env = environment()
    variables = template_vars(cell)
    source = IMAGES_DIR / cell.family.name
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source)
        if relative.parts[0] in _NOT_IN_CONTEXT:
            continue
        target = out / (relative.with_suffix("") if relative.suffix == ".j2" else relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        if relative.suffix == ".j2":
            template = env.get_template(f"{cell.family.name}/{relative.as_posix()}")
            target.write_text(
                template.render(**variables, template_path=f"images/{cell.family.name}/{relative.as_posix()}")
            )
        else:
            shutil.copyfile(path, target)
        if "bin" in relative.parts or path.stat().st_mode & stat.S_IXUSR:
            target.chmod(0o755)
    shutil.copytree(WRAPPERS_DIR, out / "wrappers", ignore=_WRAPPER_IGNORE)
    (out / CA_DIR).mkdir()
    return out
