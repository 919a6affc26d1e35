"""Load and validate versions.yaml, the single source of truth for the image matrix."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import contract

VERSION_RE = re.compile(r"^\d+(\.\d+){0,2}$")
PIN_RE = re.compile(r"^\d+(\.\d+)*([a-z0-9.+-]*)$")
DEBIAN_PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
TOOL_TAG_RE = re.compile(r"^v\d+\.\d+\.\d+$")
GO_PSEUDO_VERSION_RE = re.compile(r"^v\d+\.\d+\.\d+-(\d+\.)?\d{14}-[0-9a-f]{12}$")


class ConfigError(ValueError):
    """versions.yaml is malformed; the message names the offending key."""


@dataclass(frozen=True)
class Base:
    name: str
    image: str
    suite: str


@dataclass(eq=False)
class ImageVersion:
    """One cell of the matrix: a family at one language version."""

    family: Family
    version: str
    base: Base
    default: bool

    @property
    def repository(self) -> str:
        return f"{self.family.config.namespace}/{self.family.image}"

    @property
    def slug(self) -> str:
        return f"{self.family.name}-{self.version}"

    @property
    def tags(self) -> list[str]:
        """Tags in order of precision; the first one is what tests use."""
        release = self.family.config.release
        tags = [f"{self.version}-{release}", self.version]
        if self.version == self.family.default_version:
            tags += [release, "latest"]
        return tags

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tags[0]}"

    @property
    def display_name(self) -> str:
        return self.family.display_name.format(version=self.version)


@dataclass(eq=False)
class Family:
    config: Config = field(repr=False)
    name: str
    image: str
    display_name: str
    description: str
    tags: tuple[str, ...]
    default_version: str
    packages: dict[str, str]
    contract_samples: str  # the tests/samples/<folder> of the contract samples (model, router, ...)
    extends: str = ""  # the family whose images/<folder> this one's files are laid over (render)
    system_packages: tuple[str, ...] = ()  # Debian packages models' wheels expect (libgomp1)
    # Installed beside the wrapper but not among its constraints: a model's requirements may move them
    tracing_packages: dict[str, str] = field(default_factory=dict)
    versions: dict[str, ImageVersion] = field(default_factory=dict, compare=False)

    @property
    def generic_display_name(self) -> str:
        """The display name without a version: "Seldon Core Python builder"."""
        return " ".join(self.display_name.format(version="").split())


@dataclass
class Config:
    path: Path
    digest: str
    release: str
    namespace: str
    registry: str
    tools: dict[str, str]
    ports: dict[str, int]
    uid: int
    gid: int
    bases: dict[str, Base]
    families: dict[str, Family] = field(default_factory=dict)
    front_builder: Base = field(default=None)  # type: ignore[assignment]

    def matrix(
        self, family: str | None = None, version: str | None = None, *, all_versions: bool = False
    ) -> list[ImageVersion]:
        """The cells selected by FAMILY=/VERSION=; default cells only unless asked for all."""
        if family is not None and family not in self.families:
            raise ConfigError(f"unknown family {family!r}; versions.yaml has {sorted(self.families)}")
        cells = [
            cell
            for fam in self.families.values()
            if family in (None, fam.name)
            for cell in fam.versions.values()
            if (version in (None, cell.version)) and (all_versions or version or cell.default)
        ]
        if version is not None and not cells:
            raise ConfigError(f"no version {version!r} in family {family or '(any)'}")
        return cells


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _keys(value: dict[str, Any], where: str, required: set[str], optional: frozenset[str] = frozenset()) -> None:
    unknown = set(value) - required - optional
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    missing = required - set(value)
    if missing:
        raise ConfigError(f"{where}: missing key(s) {', '.join(sorted(missing))}")


def _string(value: Any, where: str, pattern: re.Pattern[str] | None = None) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        # YAML reads 3.10 as the float 3.1: refuse rather than guess.
        raise ConfigError(f"{where}: {value!r} must be a quoted string (YAML reads 3.10 as 3.1)")
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
    if pattern is not None and not pattern.match(value):
        raise ConfigError(f"{where}: {value!r} is not a valid version")
    return value


def _port(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 65536:
        raise ConfigError(f"{where}: {value!r} is not a TCP port")
    return value


def load(path: str | Path) -> Config:
    path = Path(path)
    try:
        raw_text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        doc = yaml.safe_load(raw_text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    return parse(doc, path=path, digest=hashlib.sha256(raw_text.encode()).hexdigest())


def parse(doc: Any, *, path: Path = Path("versions.yaml"), digest: str = "") -> Config:
    top = _mapping(doc, "versions.yaml")
    _keys(
        top,
        "versions.yaml",
        {"release", "namespace", "registry", "tools", "user", "bases", "front_builder_base", "families"},
    )

    tools = _mapping(top["tools"], "tools")
    _keys(
        tools,
        "tools",
        {"s2i", "seldon-core", "uvicorn", "actionlint", "syft", "tritonclient", "kserve", "mlserver", "openshift-api"},
    )
    user = _mapping(top["user"], "user")
    _keys(user, "user", {"uid", "gid"})
    for key in ("uid", "gid"):
        if not isinstance(user[key], int) or isinstance(user[key], bool) or user[key] < 0:
            raise ConfigError(f"user.{key}: {user[key]!r} is not a numeric id")
    if user["uid"] == 0:
        raise ConfigError("user.uid: builder images must not run as root (0)")

    config = Config(
        path=path,
        digest=digest,
        release=_string(top["release"], "release", VERSION_RE),
        namespace=_string(top["namespace"], "namespace"),
        registry=_string(top["registry"], "registry"),
        tools={
            "s2i": _string(tools["s2i"], "tools.s2i", TOOL_TAG_RE),
            "seldon-core": _string(tools["seldon-core"], "tools.seldon-core", VERSION_RE),
            "uvicorn": _string(tools["uvicorn"], "tools.uvicorn", VERSION_RE),
            "actionlint": _string(tools["actionlint"], "tools.actionlint", TOOL_TAG_RE),
            "syft": _string(tools["syft"], "tools.syft", VERSION_RE),
            "tritonclient": _string(tools["tritonclient"], "tools.tritonclient", VERSION_RE),
            "kserve": _string(tools["kserve"], "tools.kserve", VERSION_RE),
            "mlserver": _string(tools["mlserver"], "tools.mlserver", VERSION_RE),
            "openshift-api": _string(tools["openshift-api"], "tools.openshift-api", GO_PSEUDO_VERSION_RE),
        },
        ports={name: _port(port, f"ports.{name} (contract.yaml)") for name, port in contract.ports().items()},
        uid=user["uid"],
        gid=user["gid"],
        bases=_parse_bases(top["bases"]),
    )
    config.front_builder = config.bases.get(top["front_builder_base"])  # type: ignore[assignment]
    if config.front_builder is None:
        raise ConfigError(
            f"front_builder_base: {top['front_builder_base']!r} is not one of bases ({', '.join(config.bases)})"
        )
    families = _mapping(top["families"], "families")
    if not families:
        raise ConfigError("families: at least one family is needed")
    for name, raw in families.items():
        config.families[name] = _parse_family(config, name, raw)
    for family in config.families.values():
        parent = config.families.get(family.extends) if family.extends else None
        if family.extends and (parent is None or parent.extends):
            raise ConfigError(
                f"families.{family.name}.extends: {family.extends!r} is not a family that extends none "
                f"({', '.join(n for n, f in config.families.items() if not f.extends)})"
            )
    return config


def _parse_bases(raw: Any) -> dict[str, Base]:
    bases = {}
    for name, spec in _mapping(raw, "bases").items():
        where = f"bases.{name}"
        _keys(_mapping(spec, where), where, {"image", "suite"})
        bases[name] = Base(name, _string(spec["image"], f"{where}.image"), _string(spec["suite"], f"{where}.suite"))
    return bases


def _parse_family(config: Config, name: str, raw: Any) -> Family:
    where = f"families.{name}"
    spec = _mapping(raw, where)
    _keys(
        spec,
        where,
        {"image", "display_name", "description", "tags", "default_version", "versions"},
        frozenset({"packages", "contract_samples", "extends", "system_packages", "tracing_packages"}),
    )
    tags = spec["tags"]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ConfigError(f"{where}.tags: expected a list of strings")
    packages = _mapping(spec.get("packages") or {}, f"{where}.packages")
    tracing_packages = _mapping(spec.get("tracing_packages") or {}, f"{where}.tracing_packages")
    system_packages = spec.get("system_packages") or []
    if not isinstance(system_packages, list) or not all(
        isinstance(p, str) and DEBIAN_PACKAGE_RE.match(p) for p in system_packages
    ):
        raise ConfigError(f"{where}.system_packages: expected a list of Debian package names, got {system_packages!r}")
    family = Family(
        config=config,
        name=name,
        image=_string(spec["image"], f"{where}.image"),
        display_name=_string(spec["display_name"], f"{where}.display_name"),
        description=_string(spec["description"], f"{where}.description"),
        tags=tuple(tags),
        default_version=_string(spec["default_version"], f"{where}.default_version", VERSION_RE),
        packages={pkg: _string(pin, f"{where}.packages.{pkg}", PIN_RE) for pkg, pin in packages.items()},
        contract_samples=_string(spec.get("contract_samples", name), f"{where}.contract_samples"),
        extends=_string(spec.get("extends", ""), f"{where}.extends") if "extends" in spec else "",
        system_packages=tuple(system_packages),
        tracing_packages={
            pkg: _string(pin, f"{where}.tracing_packages.{pkg}", PIN_RE) for pkg, pin in tracing_packages.items()
        },
    )
    versions = _mapping(spec["versions"], f"{where}.versions")
    for version, cell in versions.items():
        vwhere = f"{where}.versions.{version}"
        _string(version, vwhere, VERSION_RE)
        cell = _mapping(cell, vwhere)
        _keys(cell, vwhere, {"base"}, frozenset({"default"}))
        if cell["base"] not in config.bases:
            raise ConfigError(f"{vwhere}.base: {cell['base']!r} is not one of bases ({', '.join(config.bases)})")
        default = cell.get("default", False)
        if not isinstance(default, bool):
            raise ConfigError(f"{vwhere}.default: expected true or false, got {default!r}")
        family.versions[version] = ImageVersion(family, version, config.bases[cell["base"]], default)
    if family.default_version not in family.versions:
        raise ConfigError(f"{where}.default_version: {family.default_version!r} is not one of its versions")
    return family
