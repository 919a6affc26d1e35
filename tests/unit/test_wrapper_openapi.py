"""The REST contract document (wrappers/proto/openapi.yaml) as the python wrapper serves it."""

from __future__ import annotations

from unittest import mock

import pytest
from openapi_spec_validator import validate

from seldon_serve import openapi, rest

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("seldon", "v2"), [(True, False), (False, True), (True, True)])
def test_the_served_document_is_valid_openapi(seldon, v2):
    validate(openapi.document(seldon, v2))


def test_each_protocol_serves_only_its_own_paths():
    seldon_paths = openapi.document(True, False)["paths"].keys()
    v2_paths = openapi.document(False, True)["paths"].keys()
    assert "/seldon.json" in seldon_paths & v2_paths
    assert all(path.startswith("/v2") for path in v2_paths - {"/seldon.json"})
    assert not [path for path in seldon_paths if path.startswith("/v2")]
    assert [tag["name"] for tag in openapi.document(False, True)["tags"]] == ["v2"]


def test_the_document_and_the_seldon_routes_name_the_same_paths_and_methods():
    routes = rest.build_routes(mock.MagicMock())
    documented = openapi.document(True, False)["paths"]
    assert {path.decode() for path in routes} == documented.keys() - {"/seldon.json"}
    for path, (kind, _handler) in routes.items():
        methods = {method.decode().lower() for method in rest._METHODS.get(kind, rest._READ_ONLY)}
        assert methods == documented[path.decode()].keys() - {"parameters"}, path
