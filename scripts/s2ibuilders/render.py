"""Render images/<family>/ into a Docker build context under build/<family>-<version>/.

Files ending in .j2 are Jinja templates (rendered without the suffix); everything else is
copied as is. The wrappers and the proto go into every context, so an image is built from
the repository's code and never from a package index.
"""

from __future__ import annotations

import functools
import runpy
import shutil
import stat
from pathlib import Path
from typing import Any

import jinja2
import yaml

from . import contract
from .config import ImageVersion
from .paths import BUILD_DIR, IMAGES_DIR, WRAPPERS_DIR

CA_DIR = "ca-certificates"  # the build context folder an extra CA bundle is copied into
# What a family's folder holds for `make docs`, not for the image.
_NOT_IN_CONTEXT = {"environment.yaml", "README.md", "openshift"}
# Build output of the wrappers' own toolchains (pip, Maven, Cargo) never goes into a context.
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
    itself a template so that defaults such as ports come from the contract)."""
    return _env_file(cell, IMAGES_DIR / cell.family.name / "environment.yaml")


def _env_file(cell: ImageVersion, path: Path) -> list[dict[str, str]]:
    """One environment.yaml. An item `include: <path under images/>` stands for that file's list,
    `include: contract` for the settings both wrappers read (wrappers/proto/contract.yaml); a
    later item of a name already listed changes only the fields it gives (a family's own
    default, or more to say in its description: `description+`)."""
    if not path.exists():
        return []
    config = cell.family.config
    items = yaml.safe_load(environment().from_string(path.read_text()).render(config=config, ports=config.ports))
    expanded: list[dict[str, str]] = []
    for item in items:
        for var in _included(cell, item["include"]) if "include" in item else [item]:
            same = next((known for known in expanded if known["name"] == var["name"]), None)
            if same is None:
                expanded.append(dict(var))
                continue
            addition = var.get("description+")
            same.update({key: value for key, value in var.items() if key != "description+"})
            if addition:
                same["description"] = f"{same['description']} {addition}"
    return expanded


def _included(cell: ImageVersion, include: str) -> list[dict[str, str]]:
    return contract.settings() if include == "contract" else _env_file(cell, IMAGES_DIR / include)


@functools.cache
def dependency_files() -> tuple[str, ...]:
    """The files assemble installs a model's dependencies from, in the order it looks for them:
    the python wrapper's own list (seldon_serve.dependency_files), for usage and the README."""
    module = runpy.run_path(str(WRAPPERS_DIR / "python" / "seldon_serve" / "dependency_files.py"))
    return module["DEPENDENCY_FILES"]


def template_vars(cell: ImageVersion) -> dict[str, Any]:
    config = cell.family.config
    return {
        "dependency_files": dependency_files(),
        "cell": cell,
        "family": cell.family,
        "version": cell.version,
        "base": cell.base,
        "config": config,
        "ports": config.ports,
        "contract": contract.load(),
        "uid": config.uid,
        "gid": config.gid,
        "env_vars": env_vars(cell),
        "ca_dir": CA_DIR,
    }


def context_dir(cell: ImageVersion) -> Path:
    return BUILD_DIR / cell.slug


def layers(cell: ImageVersion) -> list[str]:
    """The folders under images/ a cell's context is rendered from, lowest first: what every
    family's context holds (common/context), the family it extends, the family itself. A file
    of a higher layer replaces the one at the same path below it."""
    family = cell.family
    return ["common/context", *([family.extends] if family.extends else []), family.name]


def context_files(cell: ImageVersion) -> dict[Path, str]:
    """Path in the context (templates with their .j2) -> the layer it comes from."""
    files: dict[Path, str] = {}
    for layer in layers(cell):
        source = IMAGES_DIR / layer
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            relative = path.relative_to(source)
            if relative.parts[0] not in _NOT_IN_CONTEXT:
                files[relative] = layer
    return files


def _render_template(env: jinja2.Environment, variables: dict[str, Any], layer: str, relative: Path) -> str:
    name = f"{layer}/{relative.as_posix()}"
    return env.get_template(name).render(**variables, template_path=f"images/{name}")


def dockerfile(cell: ImageVersion) -> str:
    """The cell's Dockerfile as render() writes it, without writing the context."""
    relative = Path("Dockerfile.j2")
    return _render_template(environment(), template_vars(cell), context_files(cell)[relative], relative)


def render(cell: ImageVersion, out: Path | None = None) -> Path:
    out = out or context_dir(cell)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    env = environment()
    variables = template_vars(cell)
    for relative, layer in sorted(context_files(cell).items()):
        path = IMAGES_DIR / layer / relative
        target = out / (relative.with_suffix("") if relative.suffix == ".j2" else relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        if relative.suffix == ".j2":
            target.write_text(_render_template(env, variables, layer, relative))
        else:
            shutil.copyfile(path, target)
        if "bin" in relative.parts or path.stat().st_mode & stat.S_IXUSR:
            target.chmod(0o755)
    shutil.copytree(WRAPPERS_DIR, out / "wrappers", ignore=_WRAPPER_IGNORE)
    (out / CA_DIR).mkdir()
    return out
