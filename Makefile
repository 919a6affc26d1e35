# Seldon s2i builder images, built from versions.yaml. `make` (or `make help`) lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
FAMILY ?=
VERSION ?=
ALL_VERSIONS ?=
CA_BUNDLE ?=
REGISTRY ?=
NAMESPACE ?=
DRY_RUN ?=
PYTEST_ARGS ?=
JOBS ?= 2
TEST_JOBS ?= 3

PY := $(VENV)/bin/python
CLI := $(PY) -m s2ibuilders
SELECT := $(if $(FAMILY),--family $(FAMILY)) $(if $(VERSION),--version $(VERSION)) $(if $(ALL_VERSIONS),--all)
# The wrapper is installed (not editable: its stubs and contract files are made while it builds),
# so .venv is brought up to date whenever any of these changes; the tests refuse a stale one.
WRAPPER_SOURCES := $(shell find wrappers/python wrappers/spark wrappers/proto -name '*.py' -o -name '*.proto' -o -name '*.yaml' -o -name pyproject.toml | grep -v -e '/build/' -e '_pb2')
# The tests read these too: the matrix they test and the CA they expect to find in the images.
export FAMILY VERSION ALL_VERSIONS CA_BUNDLE

.PHONY: help venv generate base images s2i test test-unit lint docs bench bench-spark bench-build fuzz soak sbom list matrix push clean

help: ## show this help
	@echo "Seldon s2i builder images -- versions.yaml -> images/ templates -> images -> s2i-built samples -> tests"
	@echo
	@echo "usage: make <target> [FAMILY=python] [VERSION=3.11] [ALL_VERSIONS=1] [CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt]"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "  FAMILY/VERSION narrow the default matrix (see 'make list'); naming a VERSION builds it even"
	@echo "  if it is not a default one, and ALL_VERSIONS=1 takes every version (as the nightly CI does)."
	@echo "  CA_BUNDLE is a PEM file of extra CAs (a TLS-intercepting proxy) trusted inside the images,"
	@echo "  by apt, pip, Maven and the wrapper alike. REGISTRY/NAMESPACE default to versions.yaml's."
	@echo "  JOBS=2 images build at once; TEST_JOBS=3 test processes run side by side (0: one process)."
	@echo "  One cell of the matrix: make test FAMILY=python VERSION=3.11; one file: PYTEST_ARGS=tests/contract/test_model.py"
	@echo "  make bench BASELINE=<git ref> also measures the python wrapper and the R bridge as they were at that commit (before/after)."
	@echo "  make bench-build BASELINE=<git ref> also builds the samples with the python builder as it was at that commit (f6be9e2: pip before uv)."
	@echo
	@echo "  A data scientist then runs: s2i build ./src <a builder image from 'make list'> my-model"
	@echo "  (MyModel.py for python, MyModel.R for r, MyModel.java / a Maven project / an H2O MOJO for java)."

$(VENV)/.installed: pyproject.toml $(WRAPPER_SOURCES)
	$(PYTHON) -m venv $(VENV)
	rm -rf wrappers/python/build  # setuptools would carry a deleted module over into the new wheel
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]' './wrappers/python[tracing]' ./wrappers/spark
	@touch $@

venv: $(VENV)/.installed ## create .venv with the build tool, the test tools and the python wrapper (and Spark's plugin)

list: venv ## show the image matrix from versions.yaml (* = built by default)
	@$(CLI) list $(SELECT)

matrix: venv ## print the selected cells as JSON (a CI job matrix)
	@$(CLI) matrix $(SELECT)

generate: venv ## render build contexts (Dockerfile, s2i scripts, wrapper) into build/
	$(CLI) generate $(SELECT)

base: venv ## make sure the Debian base images exist: present, pulled, or built with debootstrap
	$(CLI) base $(SELECT)

images: venv ## build and tag the builder images, then print a size/time table
	$(CLI) build $(SELECT) $(if $(CA_BUNDLE),--ca-bundle $(CA_BUNDLE)) --jobs $(JOBS)

sbom: venv ## list every package of each built image (Debian, Python, Java) as SPDX JSON, by syft (reports/sbom/)
	$(CLI) sbom $(SELECT)

s2i: venv ## install the s2i CLI pinned in versions.yaml into .tools/bin
	$(CLI) s2i

test-unit: venv ## unit tests only: no Docker engine needed
	$(PY) -m pytest -m unit $(PYTEST_ARGS)

test: images s2i ## build the images, then run every test: unit, image (testinfra), s2i, contract
	$(PY) -m pytest -n $(TEST_JOBS) --dist loadscope --durations=10 $(PYTEST_ARGS)

push: venv ## push the images `make test` passed, under all their tags (REGISTRY=, NAMESPACE=, DRY_RUN=1)
	$(CLI) push $(SELECT) $(if $(REGISTRY),--registry $(REGISTRY)) $(if $(NAMESPACE),--namespace $(NAMESPACE)) $(if $(DRY_RUN),--dry-run)

lint: venv ## ruff (lint + format check) over the Python code
	$(VENV)/bin/ruff check scripts wrappers tests
	$(VENV)/bin/ruff format --check scripts wrappers tests

bench: venv ## REST/gRPC req/s and latency: the python wrapper against Seldon Core's (and MLServer for v2), every family's image, Seldon and v2 protocols (reports/benchmark.md)
	$(PY) tests/benchmark/bench_wrappers.py $(if $(BASELINE),--baseline $(BASELINE))

fuzz: venv ## bad input, REST (schemathesis from /seldon.json) and gRPC, at every family's image: 10,000+ requests each (reports/fuzz.md)
	$(PY) tests/benchmark/fuzz_wrappers.py

soak: venv ## minutes of steady REST and gRPC load at every family's image, memory sampled (reports/soak.md)
	$(PY) tests/benchmark/soak_wrappers.py

bench-build: venv ## s2i build seconds of the identity and scikit-learn samples, pip against uv, cold and incremental (reports/benchmark-build.md)
	$(PY) tests/benchmark/bench_build.py $(if $(BASELINE),--baseline $(BASELINE) $(if $(CA_BUNDLE),--ca-bundle $(CA_BUNDLE)))

bench-spark: venv ## a Spark pipeline model: start-up with and without the class archive, single-row latency by the model alone vs a Spark job (reports/benchmark-spark.md)
	$(PY) tests/benchmark/bench_spark.py

docs: venv ## write README.md's generated blocks, each image's README and OpenShift manifests (a unit test fails when stale)
	$(CLI) docs

clean: ## remove build/, reports/, .venv, .tools and the images the tests and bench-build's baselines built
	rm -rf build reports $(VENV) .tools wrappers/python/build
	-docker images --format '{{.Repository}}:{{.Tag}}' --filter 'reference=s2i-test/*' --filter 'reference=bench-baseline-*/*' | xargs -r docker rmi -f
