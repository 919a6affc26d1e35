"""Real Open Inference Protocol clients against every family's image: Triton's
(`tritonclient[http,grpc]`) and KServe's (`kserve`'s InferenceRESTClient and InferenceGRPCClient),
from PyPI at the versions versions.yaml pins, each in a venv of its own.

Each client, over REST and over gRPC, once with its default settings (binary tensor data) and
once with binary_data=False, runs the checks of tests/contract/oip_clients.py against the model
sample served with PROTOCOL=v2: health, server and model metadata, every datatype sent and read
back with the client's own as_numpy, one-column inputs, requested outputs (and an unknown one),
request and answer compression, an unknown model and an unknown version. It proves that a user of
either client, left at its defaults or not, gets the model's answers from our images -- the binary
tensor extension, content codings and gRPC compression as those clients speak them, not as our
own tests assume. Any failed check fails the test, listed with the client's error.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from s2ibuilders import tools

from contract_client import ANSWER_DATATYPE, OIP_DATA
from harness import ROOT, RunningModel, config, free_port

MODEL = "identity"
VERSION = "1"
SCRIPT = Path(__file__).with_name("oip_clients.py")
CLIENTS = ("triton", "kserve")
TRANSPORTS = ("rest", "grpc")
# Checks every client can make: a run that skipped them proved nothing.
ALWAYS_RUN = {"server live", "server ready", "model ready", "infer FP64", "infer BYTES", "unknown model"}
# What a model of another name cannot pass.
NEED_THE_MODEL = {"model ready", "infer FP64", "infer two one-column inputs", "requested output output-0"}


def client_python(client: str) -> Path:
    pins = config.load(ROOT / "versions.yaml").tools
    ensure = {"triton": tools.ensure_tritonclient, "kserve": tools.ensure_kserve}[client]
    return ensure(pins["tritonclient" if client == "triton" else "kserve"]) / "bin" / "python"


def run_checks(
    client: str, transport: str, address: str, *, binary: bool = True, model: str = MODEL, answers: Any = None
) -> list[dict[str, Any]]:
    """oip_clients.py's results: [{"check", "ok", "error"(, "skipped")}]."""
    job = {
        "client": client,
        "transport": transport,
        "binary": binary,
        "url": address,
        "model": model,
        "version": VERSION,
        "answer_datatypes": answers or {},
        "values": OIP_DATA,
    }
    # Without this process's OTEL_* settings: kserve starts OpenTelemetry at import, and the
    # propagators our wrapper's tracing names (b3multi, set here when a test traced in-process)
    # are not installed in its venv.
    env = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    done = subprocess.run(
        [str(client_python(client)), str(SCRIPT)],
        input=json.dumps(job), capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert done.returncode == 0, f"{SCRIPT.name} crashed:\n{done.stderr[-3000:]}"
    results = json.loads(done.stdout)
    assert results, f"{SCRIPT.name} ran no checks"
    return results


def failed(results: list[dict[str, Any]]) -> dict[str, str]:
    return {result["check"]: result["error"] for result in results if not result["ok"]}


def ran(results: list[dict[str, Any]]) -> set[str]:
    return {result["check"] for result in results if "skipped" not in result}


def address(model: RunningModel, transport: str) -> str:
    """host:port, as both clients take it (tritonclient refuses a scheme; the script adds
    kserve's)."""
    return model.http.removeprefix("http://") if transport == "rest" else model.grpc


@pytest.fixture(scope="module")
def identity(start) -> RunningModel:
    return start("model", env={"PROTOCOL": "v2", "MODEL_METADATA": json.dumps({"name": MODEL, "versions": [VERSION]})})


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("client", CLIENTS)
def test_the_client_gets_the_models_answers(cell, identity, client, transport, binary):
    answers = ANSWER_DATATYPE.get(cell.family.contract_samples, {})
    results = run_checks(client, transport, address(identity, transport), binary=binary, answers=answers)
    failures = failed(results)
    assert not failures, f"{len(failures)} of {len(results)} checks failed:\n" + "\n".join(
        f"  {check}: {error}" for check, error in failures.items()
    )
    assert ran(results) >= ALWAYS_RUN, f"skipped: {sorted(ALWAYS_RUN - ran(results))}"


# ---- the checks can fail: the tier above cannot pass by checking nothing --------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("client", CLIENTS)
def test_every_check_fails_when_nothing_answers(client, transport):
    results = run_checks(client, transport, f"127.0.0.1:{free_port()}")
    passed = ran(results) - set(failed(results))
    assert not passed, f"passed with no server: {sorted(passed)}"
    assert ran(results) >= ALWAYS_RUN


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("client", CLIENTS)
def test_the_checks_fail_against_a_model_of_another_name(identity, client, transport):
    results = run_checks(client, transport, address(identity, transport), model="not-served")
    assert set(failed(results)) >= NEED_THE_MODEL, f"passed: {sorted(NEED_THE_MODEL - set(failed(results)))}"
    assert "no model 'not-served'" in failed(results)["infer FP64"]
