"""A model that cannot start says why in one line and exits non-zero, in every family: the same
`model` sample started with a setting that cannot work."""

from __future__ import annotations

import pytest

from harness import run_to_exit

MISTAKES = {
    "parameters-not-json": ({"PREDICTIVE_UNIT_PARAMETERS": "[{not json"}, "PREDICTIVE_UNIT_PARAMETERS"),
    "parameter-of-a-bad-type": (
        {"PREDICTIVE_UNIT_PARAMETERS": '[{"name": "x", "value": "abc", "type": "INT"}]'},
        "abc",
    ),
    "unknown-protocol": ({"PROTOCOL": "v3"}, "PROTOCOL"),
    "model-name-of-nothing": ({"MODEL_NAME": "NoSuchModel"}, "NoSuchModel"),
    "port-not-a-number": ({"PREDICTIVE_UNIT_HTTP_SERVICE_PORT": "ninety"}, "PREDICTIVE_UNIT_HTTP_SERVICE_PORT"),
}


@pytest.mark.parametrize("mistake", MISTAKES, ids=list(MISTAKES))
def test_a_setting_that_cannot_work_stops_start_up_with_one_clear_line(sample_image, docker_client, mistake):
    env, cause = MISTAKES[mistake]
    status, logs = run_to_exit(docker_client, sample_image("model"), env)
    assert status != 0, logs
    assert cause in logs, logs
    assert "Traceback" not in logs and "\tat " not in logs, logs
    lines_naming_it = [line for line in logs.splitlines() if cause in line]
    assert len(lines_naming_it) <= 2, logs  # the cause, and at most the setting echoed once
