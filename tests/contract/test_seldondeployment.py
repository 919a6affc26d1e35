"""The family's example SeldonDeployment (images/<family>/openshift/seldondeployment.yaml), run
as Seldon Core runs it: each graph node is the container of the same name, built here from the
sample that name ends with, and given what the operator gives it (its parameters, its identity);
its probes pass as the kubelet runs them; a request then walks the graph as Seldon's executor
does: transform-input, then predict."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
import yaml

from s2ibuilders import manifests

from contract_client import ok_json, post
from harness import ROOT, RunningModel

PATH_BY_UNIT_TYPE = {"TRANSFORMER": "/transform-input", "MODEL": "/predict"}


def test_the_example_graph_answers_a_request_the_way_seldon_core_would_route_it(cell, start):
    deployment = yaml.safe_load((ROOT / manifests.paths(cell.family)["seldondeployment"]).read_text())
    predictor = deployment["spec"]["predictors"][0]
    containers = {container["name"]: container for container in predictor["componentSpecs"][0]["spec"]["containers"]}
    message = {"data": {"names": ["a", "b"], "ndarray": [[5.0, 7.5]]}}
    node, visited = predictor["graph"], []
    while node is not None:
        sample = node["name"].removeprefix(f"{cell.family.name}-")
        unit = start(
            sample,
            env={
                "PREDICTIVE_UNIT_ID": node["name"],
                "PREDICTOR_ID": predictor["name"],
                "SELDON_DEPLOYMENT_ID": deployment["metadata"]["name"],
                "PREDICTIVE_UNIT_PARAMETERS": json.dumps(node.get("parameters", [])),
            },
        )
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert probe_passes(containers[node["name"]][kind], unit), f"{node['name']}'s {kind}"
        message = ok_json(post(unit, PATH_BY_UNIT_TYPE[node["type"]], message))
        visited.append(node["name"])
        node = node["children"][0] if node["children"] else None
    assert visited == [f"{cell.family.name}-transformer", f"{cell.family.name}-model"]
    # low 0, high 10 in the manifest: the transformer scales, the identity model answers it
    assert message["data"]["ndarray"] == [[0.5, 0.75]]


def probe_passes(probe: dict[str, Any], unit: RunningModel) -> bool:
    """One try of a probe, as the kubelet makes it: an HTTP GET answering 200-399, or a TCP connect.
    The operator names the container's REST port `http`."""
    timeout = probe.get("timeoutSeconds", 1)
    address = urlsplit(unit.http)
    if "httpGet" in probe:
        assert probe["httpGet"]["port"] == "http"
        answer = requests.get(f"{unit.http}{probe['httpGet']['path']}", timeout=timeout)
        return 200 <= answer.status_code < 400
    assert probe["tcpSocket"]["port"] == "http"
    with socket.create_connection((address.hostname, address.port), timeout=timeout):
        return True
