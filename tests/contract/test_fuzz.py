"""Bad input over the wire, a fast subset for every family's `model` sample (identity) serving
both protocols: schemathesis from the model's own /seldon.json, the hand-written malformed
requests, and broken protobuf to every gRPC method -- judged by tests/fuzzing.py's one rule.
tests/benchmark/fuzz_wrappers.py sends the same with tens of thousands of requests."""

from __future__ import annotations

import pytest
import requests

import fuzzing

SEED = 20261201  # fixed, so a failure here reproduces; the benchmark varies it


@pytest.fixture(scope="module")
def identity(start):
    return start("model", env=fuzzing.FUZZ_ENV)


def model_name(model) -> str:
    return requests.get(f"{model.http}/metadata", timeout=10).json()["name"]


def test_the_contract_document_lists_what_the_protocol_serves(identity, start):
    paths = requests.get(f"{identity.http}/seldon.json", timeout=10).json()["paths"]
    assert {"/api/v1.0/predictions", "/v2/models/{model_name}/infer", "/seldon.json"} <= paths.keys()
    seldon_only = start("model")
    paths = requests.get(f"{seldon_only.http}/seldon.json", timeout=10).json()["paths"]
    assert "/api/v1.0/predictions" in paths
    assert not [path for path in paths if path.startswith("/v2")]


def test_schemathesis_from_the_served_document(identity):
    findings = fuzzing.schemathesis(identity.http, max_examples=10, seed=SEED, model_name=model_name(identity))
    assert findings.requests > 200, "schemathesis sent almost nothing: is /seldon.json served?"
    assert not findings.problems, "\n".join(findings.problems)
    assert fuzzing.still_serving(identity.http) is None


def test_malformed_requests_get_the_protocols_error_bodies(identity):
    findings = fuzzing.send_raw(identity.http, fuzzing.raw_cases(model_name(identity)))
    assert not findings.problems, "\n".join(findings.problems)
    assert fuzzing.still_serving(identity.http) is None


def test_broken_protobuf_on_every_grpc_method_is_refused(identity):
    findings = fuzzing.fuzz_grpc(identity.grpc, 300, SEED, fuzzing.valid_grpc_messages(model_name(identity)))
    assert not findings.problems, "\n".join(findings.problems[:20])
    assert fuzzing.still_serving(identity.http) is None
