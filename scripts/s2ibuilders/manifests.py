"""OpenShift and Seldon manifests for each builder image, generated from versions.yaml:

- imagestream.yaml: the builder's ImageStream, a tag per version (what a cluster admin loads
  into the `openshift` namespace, as the sclorg images ship theirs);
- build-template.yaml: a Template of a Source-strategy BuildConfig and its output ImageStream,
  building a model from a git repository with this builder;
- seldondeployment.yaml: a SeldonDeployment serving two models built with that template, the
  family's `transformer` sample in front of its `model` sample.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .config import Family, ImageVersion
from .paths import IMAGES_DIR, ROOT

OPENSHIFT_DIR = "openshift"
BUILDER_NAMESPACE = "openshift"  # where ImageStreams of builder images live on a cluster
INTERNAL_REGISTRY = "image-registry.openshift-image-registry.svc:5000"
# The example graph: sample name -> its place in the graph. Parameters as Seldon passes them.
EXAMPLE_NAMESPACE = "seldon"
EXAMPLE_GRAPH = [
    ("transformer", "TRANSFORMER", [("low", "FLOAT", "0"), ("high", "FLOAT", "10")]),
    ("model", "MODEL", []),
]


def paths(family: Family) -> dict[str, str]:
    """manifest name -> its path from the repository root."""
    folder = (IMAGES_DIR / family.name / OPENSHIFT_DIR).relative_to(ROOT)
    return {name: f"{folder}/{name}.yaml" for name in ("imagestream", "build-template", "seldondeployment")}


def render(family: Family) -> dict[Path, str]:
    documents = {
        "imagestream": imagestream(family),
        "build-template": build_template(family),
        "seldondeployment": seldondeployment(family),
    }
    return {
        ROOT / path: f"# Generated from versions.yaml by `make docs` (scripts/s2ibuilders/manifests.py).\n"
        f"# {usage(family)[name]}\n" + yaml.dump(documents[name], Dumper=_Dumper, sort_keys=False, width=120)
        for name, path in paths(family).items()
    }


class _Dumper(yaml.SafeDumper):
    """Writes a value used twice out twice: manifests are read by people, not YAML anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def usage(family: Family) -> dict[str, str]:
    """manifest name -> the command that uses it."""
    files = paths(family)
    samples = f"tests/samples/{family.contract_samples}"
    build = f"oc process -f {files['build-template']} -p SOURCE_REPOSITORY_URL=<this repository's URL>"
    return {
        "imagestream": f"oc apply -n {BUILDER_NAMESPACE} -f {files['imagestream']}",
        "build-template": f"{build} -p NAME=my-model -p CONTEXT_DIR=<model folder> | oc apply -f -",
        "seldondeployment": f"oc apply -f {files['seldondeployment']}, once `{build} -p NAME={family.name}-<sample> "
        f"-p CONTEXT_DIR={samples}/<sample>` built the transformer and model samples in namespace "
        f"{EXAMPLE_NAMESPACE}",
    }


def _image(cell: ImageVersion, tag: str) -> str:
    config = cell.family.config
    return f"{config.registry}/{config.namespace}/{cell.family.image}:{tag}"


def imagestream(family: Family) -> dict[str, Any]:
    tags = []
    for cell in family.versions.values():
        tags.append(
            {
                "name": cell.version,
                "annotations": {
                    "openshift.io/display-name": cell.display_name,
                    "description": family.description,
                    "iconClass": f"icon-{family.tags[1] if len(family.tags) > 1 else family.name}",
                    "tags": ",".join(family.tags),
                    "supports": f"{family.name}:{cell.version}",
                    "version": cell.version,
                },
                "from": {"kind": "DockerImage", "name": _image(cell, cell.tags[0])},
                "referencePolicy": {"type": "Local"},
            }
        )
    tags.append(
        {
            "name": "latest",
            "annotations": {"openshift.io/display-name": f"{family.generic_display_name} (latest)"},
            "from": {"kind": "ImageStreamTag", "name": f"{family.image}:{family.default_version}"},
            "referencePolicy": {"type": "Local"},
        }
    )
    return {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {
            "name": family.image,
            "annotations": {"openshift.io/display-name": family.generic_display_name},
        },
        "spec": {"tags": tags},
    }


TEMPLATE_PARAMETERS = [
    ("NAME", "Name of the BuildConfig and of the model's ImageStream", "my-model", True),
    ("SOURCE_REPOSITORY_URL", "Git repository holding the model source", "", True),
    ("SOURCE_REPOSITORY_REF", "Branch, tag or commit to build", "main", False),
    ("CONTEXT_DIR", "Folder of the repository holding MyModel and .s2i/environment", "", False),
    ("BUILDER_VERSION", "Tag of the builder ImageStream to build with", "", True),
    ("BUILDER_NAMESPACE", "Namespace holding the builder ImageStream", BUILDER_NAMESPACE, True),
]


def build_template(family: Family) -> dict[str, Any]:
    name = "${NAME}"
    labels = {"app": name}
    build_config = {
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildConfig",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "source": {
                "type": "Git",
                "git": {"uri": "${SOURCE_REPOSITORY_URL}", "ref": "${SOURCE_REPOSITORY_REF}"},
                "contextDir": "${CONTEXT_DIR}",
            },
            "strategy": {
                "type": "Source",
                "sourceStrategy": {
                    "from": {
                        "kind": "ImageStreamTag",
                        "namespace": "${BUILDER_NAMESPACE}",
                        "name": f"{family.image}:${{BUILDER_VERSION}}",
                    },
                    "incremental": True,
                },
            },
            "output": {"to": {"kind": "ImageStreamTag", "name": f"{name}:latest"}},
            "triggers": [{"type": "ConfigChange"}, {"type": "ImageChange", "imageChange": {}}],
        },
    }
    output_stream = {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": name, "labels": labels},
        "spec": {"lookupPolicy": {"local": True}},
    }
    parameters = []
    for parameter, description, value, required in TEMPLATE_PARAMETERS:
        entry: dict[str, Any] = {"name": parameter, "description": description, "required": required}
        if parameter == "BUILDER_VERSION":
            value = family.default_version
        if value:
            entry["value"] = value
        parameters.append(entry)
    return {
        "apiVersion": "template.openshift.io/v1",
        "kind": "Template",
        "metadata": {
            "name": f"{family.image}-build",
            "annotations": {
                "openshift.io/display-name": f"{family.generic_display_name}: build a model",
                "description": family.description,
                "tags": ",".join(family.tags),
            },
        },
        "message": f"Building ${{NAME}} with {family.image}:${{BUILDER_VERSION}}; it serves REST on "
        f"{family.config.ports['http']} and gRPC on {family.config.ports['grpc']}.",
        "labels": {"template": f"{family.image}-build"},
        "objects": [output_stream, build_config],
        "parameters": parameters,
    }


# A model may take this long to load before its container is restarted (startupProbe).
LOAD_ALLOWANCE_SECONDS = 600
PROBE_PERIOD_SECONDS = 5


def probes() -> dict[str, Any]:
    """The probes of a unit's container, in every family. Its REST and gRPC ports stay closed until
    the model is loaded, so /health/ping answering is both "started" and "ready"; liveness is a TCP
    connect, which a worker busy in a long call still accepts (its HTTP ping waits for the call),
    so a slow model is not restarted for being slow."""
    ping = {"httpGet": {"path": "/health/ping", "port": "http"}, "periodSeconds": PROBE_PERIOD_SECONDS}
    return {
        "startupProbe": {**ping, "failureThreshold": LOAD_ALLOWANCE_SECONDS // PROBE_PERIOD_SECONDS},
        "readinessProbe": {**ping, "timeoutSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 10, "failureThreshold": 3},
    }


def seldondeployment(family: Family) -> dict[str, Any]:
    node = None
    containers = []
    for sample, unit_type, parameters in reversed(EXAMPLE_GRAPH):
        name = f"{family.name}-{sample}"
        node = {
            "name": name,
            "type": unit_type,
            "endpoint": {"type": "REST"},
            **({"parameters": [{"name": n, "type": t, "value": v} for n, t, v in parameters]} if parameters else {}),
            "children": [node] if node else [],
        }
        # Seldon Core's operator gives each container its ports (http, grpc) and PREDICTIVE_UNIT_*
        # variables, and TCP probes to a container that has none: these replace them.
        image = f"{INTERNAL_REGISTRY}/{EXAMPLE_NAMESPACE}/{name}:latest"
        containers.insert(0, {"name": name, "image": image, **probes()})
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": {"name": f"{family.name}-example", "namespace": EXAMPLE_NAMESPACE},
        "spec": {
            "name": f"{family.name}-example",
            "predictors": [
                {
                    "name": "default",
                    "replicas": 1,
                    "graph": node,
                    "componentSpecs": [{"spec": {"containers": containers}}],
                }
            ],
        },
    }
