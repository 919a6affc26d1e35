"""A model's custom_service() (Seldon's extra process beside the servers, e.g. endpoints of the
model's own): run once whatever the number of workers, ended with the worker that started it,
and started again by the worker that replaces that one."""

from __future__ import annotations

import time

from harness import RunningModel

FAMILIES = {"python"}
STARTED = "custom_service() in process"
ASK = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9099', timeout=2).read().decode())"


def custom_service_pid(model: RunningModel, other_than: str = "", within: float = 30) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        code, output = model.container.exec_run(["python", "-c", ASK])
        if code == 0 and output.decode().strip() not in ("", other_than):
            return output.decode().strip()
        time.sleep(0.3)
    raise AssertionError(f"no custom service answered within {within} s:\n{model.logs()}")


def wait_for_log(model: RunningModel, text: str, count: int) -> None:
    logs = model.logs_once_they_show(text, count, within=30)
    assert logs.count(text) >= count, f"{count} x {text!r} not logged:\n{logs}"


def test_a_custom_service_runs_once_and_is_restarted_with_its_worker(start):
    model = start("seldon-styles", env={"MODEL_NAME": "CustomService", "GUNICORN_WORKERS": "2"})
    first = custom_service_pid(model)
    wait_for_log(model, "serving CustomService", 2)  # both workers have loaded their model
    assert model.logs().count(STARTED) == 1, model.logs()
    worker = process_status(model, first)["PPid"]
    killed = model.container.exec_run(["python", "-c", f"import os; os.kill({worker}, 9)"])
    assert killed.exit_code == 0, killed.output
    second = custom_service_pid(model, other_than=first)
    wait_for_log(model, STARTED, 2)
    assert process_status(model, first).get("State", "Z").startswith("Z"), "the first outlived its worker"
    assert second != first


def process_status(model: RunningModel, pid: str) -> dict[str, str]:
    """/proc/<pid>/status inside the container, by field; empty once the process is gone."""
    shown = model.container.exec_run(["cat", f"/proc/{pid}/status"])
    if shown.exit_code != 0:
        return {}
    return dict(line.split(":\t", 1) for line in shown.output.decode().splitlines() if ":\t" in line)


def test_a_custom_service_does_not_hold_the_server_at_stop(start):
    model = start("seldon-styles", env={"MODEL_NAME": "CustomService", "GUNICORN_WORKERS": "1"})
    custom_service_pid(model)
    began = time.monotonic()
    assert model.stop() == 0, model.logs()
    assert time.monotonic() - began < 10
