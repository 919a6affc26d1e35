"""The `transformer` (min-max scaling, low/high parameters) and `output-transformer`
(probabilities to percentages, name "percent") samples, and typed constructor parameters."""

from __future__ import annotations

import time

import pytest

from contract_client import ENCODINGS, ok_json, post, rpc, to_dict, to_proto
from harness import run_to_exit

PARAMETERS = '[{"name": "low", "value": "2", "type": "FLOAT"}, {"name": "high", "value": "4", "type": "FLOAT"}]'


@pytest.fixture(scope="module")
def transformer(start):
    return start("transformer", env={"PREDICTIVE_UNIT_PARAMETERS": PARAMETERS})


@pytest.fixture(scope="module")
def output_transformer(start):
    return start("output-transformer")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_transform_input_scales_with_the_deployment_parameters(transformer, encoding):
    reply = ok_json(post(transformer, "/transform-input", {"data": {"ndarray": [[2, 3, 4]]}}, encoding))
    assert reply["data"]["ndarray"] == [[0.0, 0.5, 1.0]]


def test_transform_input_over_grpc_keeps_the_tensor_kind(transformer):
    request = to_proto({"data": {"tensor": {"shape": [1, 2], "values": [3, 4]}}})
    for service in ("Transformer", "Generic"):
        assert to_dict(rpc(transformer, service, "TransformInput", request))["data"]["tensor"]["values"] == [0.5, 1.0]
    # Deployed as an output transformer, a class without transform_output is the identity.
    assert to_dict(rpc(transformer, "OutputTransformer", "TransformOutput", request))["data"]["tensor"]["values"] == [
        3.0,
        4.0,
    ]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_transform_output(output_transformer, encoding):
    reply = ok_json(post(output_transformer, "/transform-output", {"data": {"ndarray": [[0.25, 0.75]]}}, encoding))
    assert reply["data"] == {"names": ["percent"], "ndarray": [[25.0, 75.0]]}
    request = to_proto({"data": {"ndarray": [[0.5]]}})
    assert to_dict(rpc(output_transformer, "OutputTransformer", "TransformOutput", request))["data"]["ndarray"] == [
        [50.0]
    ]
    assert ok_json(post(output_transformer, "/transform-input", {"data": {"ndarray": [[1]]}}))["data"]["ndarray"] == [
        [1]
    ]


@pytest.mark.parametrize(
    ("parameters", "fragment"),
    [
        ('[{"name": "high", "value": "lots", "type": "FLOAT"}]', "parameter 'high': 'lots' is not a valid FLOAT"),
        ('[{"name": "low", "value": "50", "type": "FLOAT"}]', "high (10.0) must be above low (50.0)"),
    ],
)
def test_a_bad_parameter_stops_start_up_with_a_message_naming_it(sample_image, docker_client, parameters, fragment):
    status, logs = run_to_exit(docker_client, sample_image("transformer"), {"PREDICTIVE_UNIT_PARAMETERS": parameters})
    assert status != 0
    assert fragment in logs
    assert "Traceback" not in logs


def test_parameters_survive_a_restart_as_the_same_values(transformer):
    time.sleep(0)  # the module fixture started it once; two calls prove the state is the constructor's
    first = ok_json(post(transformer, "/transform-input", {"data": {"ndarray": [[3]]}}))
    second = ok_json(post(transformer, "/transform-input", {"data": {"ndarray": [[3]]}}))
    assert first["data"] == second["data"] == {"names": ["t:0"], "ndarray": [[0.5]]}
