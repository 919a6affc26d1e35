"""seldon_serve.conda_env: a conda environment.yml as requirements for the package index."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from seldon_serve import conda_env

pytestmark = pytest.mark.unit

ENVIRONMENT = """
name: iris
channels: [defaults]
dependencies:
  - python=3.11
  - pip
  - numpy=1.26
  - pandas==2.2.3
  - scipy>=1.11
  - scikit-learn
  - joblib=1.4.*
  - requests=2.32.3=py311h06a4308_0
  - pip:
      - lightgbm==4.7.0
      - -e ./localpkg
"""


def test_plain_dependencies_and_the_pip_section_become_requirements():
    lines, names = conda_env.translate(yaml.safe_load(ENVIRONMENT))
    assert lines == [
        "numpy==1.26.*",  # conda's = is a prefix match
        "pandas==2.2.3",
        "scipy>=1.11",
        "scikit-learn",
        "joblib==1.4.*",
        "requests==2.32.3.*",  # the build string goes: PyPI has no builds
        "lightgbm==4.7.0",
        "-e ./localpkg",
    ]
    assert names == ["numpy", "pandas", "scipy", "scikit-learn", "joblib", "requests"]


def test_every_channel_qualified_dependency_is_named_at_once():
    document = {"dependencies": ["numpy", "conda-forge::xgboost", "pytorch/label/cpu::torch", {"other": ["x"]}]}
    with pytest.raises(conda_env.Unmappable) as refused:
        conda_env.translate(document)
    assert str(refused.value) == "conda-forge::xgboost, pytorch/label/cpu::torch, {'other': ['x']}"


def test_the_command_writes_requirements_and_prints_the_conda_names(tmp_path):
    source = tmp_path / "environment.yml"
    source.write_text(ENVIRONMENT)
    target = tmp_path / "requirements.txt"
    run = subprocess.run(
        [sys.executable, "-m", "seldon_serve.conda_env", str(source), str(target)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["numpy", "pandas", "scipy", "scikit-learn", "joblib", "requests"]
    assert target.read_text().splitlines()[0] == "numpy==1.26.*"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dependencies:\n  - conda-forge::xgboost\n  - bioconda::pysam\n", "conda-forge::xgboost, bioconda::pysam"),
        ("dependencies: [numpy\n", "is not valid YAML"),
        ("- numpy\n", "environment.yml must be a mapping with a `dependencies:` list"),
    ],
)
def test_a_file_that_cannot_be_translated_is_one_clear_line(tmp_path, text, message):
    source = tmp_path / "environment.yml"
    source.write_text(text)
    run = subprocess.run(
        [sys.executable, "-m", "seldon_serve.conda_env", str(source), str(tmp_path / "out.txt")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "out.txt").exists()
