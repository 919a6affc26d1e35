"""Every environment variable the s2i scripts and the wrappers read is documented in the image's
environment.yaml (and so in its usage and README)."""

import re

from s2ibuilders import render

from conftest import CFG
from harness import ROOT


def documented_variables(cell) -> set[str]:
    """The names an image's environment.yaml documents (an entry may name several)."""
    documented = set()
    for var in render.env_vars(cell):
        documented.update(name.strip() for name in var["name"].split(","))
    return documented


def test_every_variable_the_scripts_read_is_documented(rendered):
    cell, context = rendered
    documented = documented_variables(cell)
    read = set()
    for name in ("assemble", "run"):
        read.update(re.findall(r"\$\{([A-Z][A-Z0-9_]*):-", (context / "s2i" / "bin" / name).read_text()))
    assert read <= documented, f"undocumented in images/{cell.family.name}/environment.yaml: {read - documented}"


WRAPPER_INTERNAL = {"PATH_INFO", "PROMETHEUS_MULTIPROC_DIR", "HOME"}


# Where the python wrapper and its plugins live, by the family whose image documents them.
PYTHON_SOURCES = {
    "python": ROOT / "wrappers" / "python" / "seldon_serve",
    "r": ROOT / "wrappers" / "r" / "seldon_serve_r",
    "spark": ROOT / "wrappers" / "spark" / "seldon_serve_spark",
}


def test_every_variable_the_python_wrapper_and_its_plugins_read_is_documented():
    from seldon_serve import metrics

    read: dict[str, set[str]] = {"python": set(metrics._IDENTITY_LABELS.values())}  # read through a table
    for family, folder in PYTHON_SOURCES.items():
        for source in folder.rglob("*.py"):
            text = source.read_text()
            found = read.setdefault(family, set())
            found.update(re.findall(r'environ(?:\.get)?[(\[]"([A-Z][A-Z0-9_]*)"', text))
            found.update(re.findall(r'(?:_env_int|setting|_read)\("([A-Z][A-Z0-9_]*)"', text))
    assert {"GUNICORN_WORKERS", "REQUEST_TIMEOUT_SECONDS", "SPARK_MASTER"} <= set().union(*read.values())
    for family, names in read.items():
        undocumented = names - WRAPPER_INTERNAL - documented_variables(CFG.matrix(family)[0])
        assert not undocumented, f"undocumented in images/{family}/environment.yaml: {undocumented}"


def test_usage_names_the_image_and_every_documented_variable(rendered):
    cell, context = rendered
    usage = (context / "s2i" / "bin" / "usage").read_text()
    assert cell.reference in usage and f"s2i build ./my-model-src {cell.repository}:{cell.version}" in usage
    for var in render.env_vars(cell):
        assert var["name"] in usage


JAVA_WRAPPER = ROOT / "wrappers" / "java"
_JAVA_ENV_READS = (
    r'(?:getenv|\.get|getOrDefault)\("([A-Z][A-Z0-9_]*)"',  # System.getenv("X"), env.get("X"), ...
    r'Contract\.\w+\(env, "([A-Z][A-Z0-9_]*)"',  # Settings' typed reads: Contract.whole(env, "X"), ...
    r'"[a-z_]+", "([A-Z][A-Z0-9_]*)"',  # PrometheusMetrics' label -> variable table
)


def test_every_variable_the_java_wrapper_reads_is_documented():
    cell = CFG.matrix("java")[0]
    documented = documented_variables(cell)
    read = set()
    for source in JAVA_WRAPPER.rglob("src/main/java/**/*.java"):
        for pattern in _JAVA_ENV_READS:
            read.update(re.findall(pattern, source.read_text()))
    assert {"MODEL_NAME", "SERVER_THREADS", "PREDICTIVE_UNIT_ID"} <= read  # the patterns still find them
    assert read <= documented, f"undocumented in images/java/environment.yaml: {read - documented}"
