"""seldon_serve.dependency_files: which file a source's dependencies come from, and lock files as
requirements that install exactly what they lock (the samples in tests/samples/python/locked)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from seldon_serve import dependency_files

from harness import SAMPLES

pytestmark = pytest.mark.unit

LOCKED = SAMPLES / "python" / "locked"
SIX = "six==1.16.0"
WHEEL = "--hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"
SDIST = "--hash=sha256:1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926"


@pytest.mark.parametrize(
    ("lock", "marker"),
    [
        ("pylock/pylock.toml", ""),
        ("poetry/poetry.lock", ""),
        ("pipenv/Pipfile.lock", " ; python_version >= '2.7' and python_version not in '3.0, 3.1, 3.2'"),
    ],
)
def test_each_lock_file_becomes_one_hashed_line_a_package(lock, marker):
    lines = dependency_files.requirements(LOCKED / lock)
    assert lines == [f"{SIX}{marker} {SDIST} {WHEEL}"]  # development packages are left out


def test_a_uv_lock_is_exported_by_uv_without_the_project_itself():
    lines = dependency_files.requirements(LOCKED / "uv" / "uv.lock")
    assert lines == [f"{SIX} {SDIST} {WHEEL}"]


def test_a_uv_lock_needs_its_pyproject(tmp_path):
    shutil.copy(LOCKED / "uv" / "uv.lock", tmp_path)
    with pytest.raises(dependency_files.LockError, match=re.escape("needs the pyproject.toml it was made from")):
        dependency_files.requirements(tmp_path / "uv.lock")


def test_packages_that_are_not_index_files_are_named_not_installed_unchecked(tmp_path):
    lock = tmp_path / "Pipfile.lock"
    default = {
        "six": {"version": "==1.16.0", "hashes": ["sha256:ab"]},
        "mylib": {"git": "https://example.com/mylib.git", "ref": "abc"},
        "local": {"path": "./local", "editable": True},
    }
    lock.write_text(json.dumps({"default": default}))
    with pytest.raises(dependency_files.LockError) as refused:
        dependency_files.requirements(lock)
    assert "Pipfile.lock locks packages that are not files from a package index" in str(refused.value)
    assert "mylib, local" in str(refused.value)


def test_a_package_locked_without_a_hash_is_refused(tmp_path):
    lock = tmp_path / "poetry.lock"
    lock.write_text('[[package]]\nname = "six"\nversion = "1.16.0"\nfiles = []\n')
    with pytest.raises(dependency_files.LockError, match=re.escape("six 1.16.0 is locked without a hash")):
        dependency_files.requirements(lock)


def test_poetry_1_locks_keep_their_hashes_under_metadata(tmp_path):
    lock = tmp_path / "poetry.lock"
    lock.write_text(
        '[[package]]\nname = "six"\nversion = "1.16.0"\ncategory = "main"\n'
        '[[package]]\nname = "pytest"\nversion = "8.0.0"\ncategory = "dev"\n'
        '[metadata.files]\nsix = [{file = "six.whl", hash = "sha256:ab"}]\npytest = []\n'
    )
    assert dependency_files.requirements(lock) == [f"{SIX} --hash=sha256:ab"]


def test_a_broken_lock_file_is_one_line(tmp_path):
    lock = tmp_path / "pylock.toml"
    lock.write_text("[[packages]\n")
    run = subprocess.run(
        [sys.executable, "-m", "seldon_serve.dependency_files", "export", str(lock), str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert run.stderr.startswith("pylock.toml cannot be read:") and "Traceback" not in run.stderr


def test_the_first_dependency_file_is_used_and_the_others_named(tmp_path, capsys):
    assert dependency_files.choose(tmp_path) is None
    for name in ("environment.yml", "requirements.txt", "poetry.lock"):
        (tmp_path / name).write_text("")
    assert dependency_files.choose(tmp_path) == "poetry.lock"
    assert "Using poetry.lock; requirements.txt, environment.yml not used" in capsys.readouterr().err
