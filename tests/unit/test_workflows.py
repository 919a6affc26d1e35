"""The GitHub workflows take their job matrix from `make matrix` and stay valid workflows."""

import json
import os
import re
import shlex
import subprocess

import pytest
import yaml

from s2ibuilders import config, tools

from harness import ROOT

CFG = config.load(ROOT / "versions.yaml")
WORKFLOWS = ROOT / ".github" / "workflows"
# workflow -> the variables its `make matrix` takes, and the cells its matrix must hold
EXPECTED = {
    "pr.yml": ({}, CFG.matrix()),
    # every version, also those versions.yaml does not build by default (today all are)
    "nightly.yml": ({"ALL_VERSIONS": "1"}, CFG.matrix(all_versions=True)),
}


def load(name):
    # PyYAML reads the key `on` as True; nothing below needs it.
    return yaml.safe_load((WORKFLOWS / name).read_text())


def command_variables(command: str) -> dict[str, str]:
    words = shlex.split(command)
    assert words[:3] == ["make", "--silent", "matrix"], command
    return dict(word.split("=", 1) for word in words[3:])


def make_matrix(variables: dict[str, str]) -> dict:
    """Run `make matrix` with a workflow step's variables, and return its JSON."""
    # Not the cell this run was asked for: `make test FAMILY=r` hands FAMILY=r to every make
    # below it, through the environment and through MAKEFLAGS.
    chosen = ("FAMILY", "VERSION", "ALL_VERSIONS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    env = {k: v for k, v in os.environ.items() if k not in chosen}
    out = subprocess.run(
        ["make", "--silent", "matrix", *(f"{k}={v}" for k, v in variables.items())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def matrix_command(job: dict) -> tuple[str, str]:
    """The `make matrix` command of the job's step, and the output name it writes."""
    for step in job["steps"]:
        found = re.search(r'echo "(\w+)=\$\((make [^)]*matrix[^)]*)\)" >> "\$GITHUB_OUTPUT"', step.get("run", ""))
        if found:
            assert job["outputs"][found.group(1)] == f"${{{{ steps.{step['id']}.outputs.{found.group(1)} }}}}"
            return found.group(2), found.group(1)
    raise AssertionError("no step writes `make matrix` to $GITHUB_OUTPUT")


@pytest.mark.parametrize("workflow", sorted(EXPECTED))
def test_the_job_matrix_is_make_matrix_and_covers_versions_yaml(workflow):
    jobs = load(workflow)["jobs"]
    command, output = matrix_command(jobs["matrix"])
    variables, expected_cells = EXPECTED[workflow]
    assert command_variables(command) == variables
    cells = make_matrix(variables)["include"]
    expected = [{"family": c.family.name, "version": c.version} for c in expected_cells]
    assert [{"family": c["family"], "version": c["version"]} for c in cells] == expected

    cell_job = jobs["cell"]
    assert "matrix" in cell_job["needs"]
    assert cell_job["strategy"]["matrix"] == f"${{{{ fromJSON(needs.matrix.outputs.{output}) }}}}"
    assert cell_job["uses"] == "./.github/workflows/cell.yml"
    # every input the cell workflow takes comes from a key each matrix entry has
    inputs = load("cell.yml")[True]["workflow_call"]["inputs"]
    assert set(cell_job["with"]) == set(inputs)
    for name, value in cell_job["with"].items():
        assert value == f"${{{{ matrix.{name} }}}}"
        assert all(name in cell for cell in cells), f"matrix entries have no {name!r}"


def test_each_cell_job_builds_its_image_tests_it_and_keeps_the_json_report():
    job = load("cell.yml")["jobs"]["test"]
    assert job["env"] == {"FAMILY": "${{ inputs.family }}", "VERSION": "${{ inputs.version }}"}
    runs = [step.get("run", "") for step in job["steps"]]
    assert 'make test FAMILY="$FAMILY" VERSION="$VERSION"' in runs  # `test` builds the image first
    upload = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "reports/"  # test-results.json, s2i-builds.jsonl


def test_the_pr_workflow_runs_lint_and_unit_tests_before_the_cells():
    jobs = load("pr.yml")["jobs"]
    assert "make lint test-unit" in [step.get("run") for step in jobs["unit"]["steps"]]
    assert "unit" in jobs["cell"]["needs"]
    assert load("nightly.yml")[True]["schedule"], "the nightly workflow runs on a schedule"


def test_actionlint_finds_nothing():
    actionlint = tools.ensure_actionlint(CFG.tools["actionlint"], say=lambda _: None)
    # shellcheck (from the venv) checks each step's `run:` script too
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
    result = subprocess.run(
        [str(actionlint), "-no-color", "-oneline"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
