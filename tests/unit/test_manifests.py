"""The generated OpenShift and Seldon manifests, validated field by field.

OpenShift's and Kubernetes' own types come from openshift/api's openapi.json (pinned in
versions.yaml, fetched through the Go module proxy), made strict as `kubeconform -strict` is:
a field the type does not have is an error. SeldonDeployment's CRD is not served by any
registry reachable here, so its fields are checked against SELDON_DEPLOYMENT below, written
from Seldon Core v1's documented SeldonDeployment spec; its pods are Kubernetes PodSpecs again.
"""

import copy
import functools
import json
import re

import jsonschema
import pytest
import yaml

from s2ibuilders import config, manifests, tools

from harness import ROOT

CFG = config.load(ROOT / "versions.yaml")
FAMILIES = list(CFG.families.values())
KIND_DEFINITIONS = {
    ("image.openshift.io/v1", "ImageStream"): "com.github.openshift.api.image.v1.ImageStream",
    ("build.openshift.io/v1", "BuildConfig"): "com.github.openshift.api.build.v1.BuildConfig",
    ("template.openshift.io/v1", "Template"): "com.github.openshift.api.template.v1.Template",
}
UNIT_TYPES = ["MODEL", "ROUTER", "COMBINER", "TRANSFORMER", "OUTPUT_TRANSFORMER"]
PARAMETER_TYPES = ["INT", "FLOAT", "DOUBLE", "STRING", "BOOL"]


def _strict_object(properties, required=()):
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


_NODE = _strict_object(
    {
        "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
        "type": {"enum": UNIT_TYPES},
        "implementation": {"type": "string"},
        "endpoint": _strict_object({"type": {"enum": ["REST", "GRPC"]}}),
        "parameters": {
            "type": "array",
            "items": _strict_object(
                {"name": {"type": "string"}, "type": {"enum": PARAMETER_TYPES}, "value": {"type": "string"}},
                required=("name", "type", "value"),
            ),
        },
        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
    },
    required=("name",),
)
SELDON_DEPLOYMENT = {
    "$defs": {"node": _NODE},
    **_strict_object(
        {
            "apiVersion": {"const": "machinelearning.seldon.io/v1"},
            "kind": {"const": "SeldonDeployment"},
            "metadata": _strict_object({"name": {"type": "string"}, "namespace": {"type": "string"}}, ["name"]),
            "spec": _strict_object(
                {
                    "name": {"type": "string"},
                    "protocol": {"enum": ["seldon", "tensorflow", "v2"]},
                    "predictors": {
                        "type": "array",
                        "minItems": 1,
                        "items": _strict_object(
                            {
                                "name": {"type": "string"},
                                "replicas": {"type": "integer", "minimum": 0},
                                "graph": {"$ref": "#/$defs/node"},
                                "componentSpecs": {
                                    "type": "array",
                                    "items": _strict_object({"spec": {"type": "object"}}, ["spec"]),
                                },
                            },
                            required=("name", "graph"),
                        ),
                    },
                },
                required=("predictors",),
            ),
        },
        required=("apiVersion", "kind", "metadata", "spec"),
    ),
}


@functools.cache
def openapi_definitions() -> dict:
    """openshift/api's definitions, every object type closed to unknown fields."""
    schema = tools.openshift_openapi(CFG.tools["openshift-api"])
    definitions = json.loads(schema.read_text())["definitions"]
    for definition in definitions.values():
        if "properties" in definition and "additionalProperties" not in definition:
            definition["additionalProperties"] = False
    return definitions


def openapi_errors(document: dict, definition: str) -> list[str]:
    schema = {"$ref": f"#/definitions/{definition}", "definitions": openapi_definitions()}
    validator = jsonschema.Draft4Validator(schema)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def kubernetes_errors(document: dict) -> list[str]:
    return openapi_errors(document, KIND_DEFINITIONS[(document["apiVersion"], document["kind"])])


def load(family, name):
    return yaml.safe_load((ROOT / manifests.paths(family)[name]).read_text())


@pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])
def test_the_builder_imagestream_is_a_valid_imagestream_of_every_version(family):
    stream = load(family, "imagestream")
    assert kubernetes_errors(stream) == []
    assert stream["metadata"]["name"] == family.image
    tags = {tag["name"]: tag for tag in stream["spec"]["tags"]}
    assert set(tags) == {*family.versions, "latest"}
    for version, cell in family.versions.items():
        assert tags[version]["from"] == {"kind": "DockerImage", "name": f"{CFG.registry}/{cell.reference}"}
    assert tags["latest"]["from"] == {"kind": "ImageStreamTag", "name": f"{family.image}:{family.default_version}"}


def substituted(template: dict) -> tuple[list[dict], set[str]]:
    """The template's objects with each ${PARAMETER} replaced by its value (or a stand-in), and
    the parameters it used."""
    text = json.dumps(template["objects"])
    used = set(re.findall(r"\$\{(\w+)\}", text))
    values = {p["name"]: p.get("value", f"example-{p['name'].lower()}") for p in template["parameters"]}
    return json.loads(re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text)), used


@pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])
def test_the_build_template_is_a_valid_template_of_a_source_build_with_this_builder(family):
    template = load(family, "build-template")
    assert kubernetes_errors(template) == []
    objects, used = substituted(template)
    declared = {p["name"] for p in template["parameters"]}
    assert used == declared, "every parameter declared is used, and only declared ones are used"
    for document in objects:
        assert kubernetes_errors(document) == [], document["kind"]

    by_kind = {document["kind"]: document for document in objects}
    build = by_kind["BuildConfig"]["spec"]
    assert build["strategy"]["type"] == "Source"
    builder = build["strategy"]["sourceStrategy"]["from"]
    stream, tag = builder["name"].split(":")
    assert (builder["kind"], stream, builder["namespace"]) == ("ImageStreamTag", family.image, "openshift")
    assert tag == family.default_version, "the template builds with the family's default version"
    output = build["output"]["to"]
    assert output["kind"] == "ImageStreamTag"
    assert output["name"].split(":")[0] == by_kind["ImageStream"]["metadata"]["name"]


@pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])
def test_the_example_seldondeployment_is_valid_and_its_graph_names_its_containers(family):
    deployment = load(family, "seldondeployment")
    assert list(jsonschema.Draft202012Validator(SELDON_DEPLOYMENT).iter_errors(deployment)) == []
    for predictor in deployment["spec"]["predictors"]:
        containers = set()
        for component in predictor["componentSpecs"]:
            assert openapi_errors(component["spec"], "io.k8s.api.core.v1.PodSpec") == []
            containers |= {c["name"] for c in component["spec"]["containers"]}
        nodes, stack = [], [predictor["graph"]]
        while stack:
            nodes.append(stack.pop())
            stack += nodes[-1].get("children", [])
        # Seldon Core serves a graph node from the container of the same name
        assert {node["name"] for node in nodes} == containers


def test_a_misspelt_field_fails_validation():
    family = FAMILIES[0]
    objects, _ = substituted(load(family, "build-template"))
    build = copy.deepcopy(next(o for o in objects if o["kind"] == "BuildConfig"))
    build["spec"]["strategy"]["sourceStrategy"]["form"] = build["spec"]["strategy"]["sourceStrategy"].pop("from")
    assert any("form" in error for error in kubernetes_errors(build))
    assert any("'from' is a required property" in error for error in kubernetes_errors(build))
    deployment = load(family, "seldondeployment")
    deployment["spec"]["predictors"][0]["graph"]["type"] = "MODLE"
    deployment["spec"]["predictors"][0]["componentSpecs"][0]["spec"]["containers"][0]["imagePullPolicy"] = 1
    assert list(jsonschema.Draft202012Validator(SELDON_DEPLOYMENT).iter_errors(deployment))
    pod = deployment["spec"]["predictors"][0]["componentSpecs"][0]["spec"]
    assert openapi_errors(pod, "io.k8s.api.core.v1.PodSpec")
