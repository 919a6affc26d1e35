"""R sample sources built into model images with the real s2i CLI, then run and queried:
a real model (nnet on iris) whose packages come from Debian and install.R, incremental
builds, a package that needs a shared library, and the mistakes users make."""

from __future__ import annotations

import re
import time
import uuid

import grpc
import pytest
import requests
from google.protobuf import json_format

from seldon_serve.proto import prediction_pb2 as pb
from seldon_serve.proto import prediction_pb2_grpc as pb_grpc

from harness import (
    IRIS_CLASSES,
    IRIS_ROWS,
    SAMPLES,
    predicted_classes,
    record_build,
    remove_container,
    run_model,
    run_to_exit,
    s2i_build,
    source_tree,
)

FAMILIES = {"r"}
FEATURES = ["Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]


def test_iris_model_builds_from_debian_packages_and_install_r_then_incrementally(cell, builder_image, docker_client):
    sample = SAMPLES / "r" / "iris"
    image = f"s2i-test/r-iris:{cell.version}"
    try:
        cold = s2i_build(sample, builder_image, image)
        assert cold.returncode == 0, cold.output
        assert "Downloading r-cran-nnet=" in cold.output
        assert "Installing package into" in cold.output  # install.R built irisfeatures
        warm = s2i_build(sample, builder_image, image, "--incremental")
        assert warm.returncode == 0, warm.output
        assert "Unpacking the previous build's artifacts" in warm.output  # packed (zstd, base64)
        assert "Restoring the R packages of the previous build" in warm.output
        assert "R_DEBIAN_PACKAGES: every package is already unpacked" in warm.output
        assert "Downloading" not in warm.output and "Installing package into" not in warm.output
        record_build(cell, "iris", "cold", cold.seconds)
        record_build(cell, "iris", "incremental", warm.seconds)
        model = run_model(docker_client, image, user="123456:0")
        try:
            named = {"data": {"names": FEATURES, "ndarray": IRIS_ROWS}}
            reply = requests.post(f"{model.http}/predict", json=named, timeout=5).json()
            assert predicted_classes(reply) == ["setosa", "virginica"]
            unnamed = {"data": {"ndarray": IRIS_ROWS[1:]}}  # columns by position
            assert predicted_classes(requests.post(f"{model.http}/predict", json=unnamed, timeout=5).json()) == [
                "virginica"
            ]
            request = json_format.ParseDict(
                {"data": {"tensor": {"shape": [1, 4], "values": IRIS_ROWS[0]}}}, pb.SeldonMessage()
            )
            with grpc.insecure_channel(model.grpc) as channel:
                reply = json_format.MessageToDict(pb_grpc.ModelStub(channel).Predict(request, timeout=5))
            assert reply["data"]["names"] == IRIS_CLASSES and reply["data"]["tensor"]["shape"] == [1, 3]
            wrong = requests.post(f"{model.http}/predict", json={"data": {"ndarray": [[1.0, 2.0]]}}, timeout=5)
            assert wrong.status_code == 500 and "expected 4 features" in wrong.json()["status"]["info"]
        finally:
            remove_container(model)
    finally:
        docker_client.images.remove(image, force=True)


def test_a_debian_package_needing_a_shared_library_brings_it_along(cell, builder_image, docker_client):
    image = f"s2i-test/r-xml-reader:{cell.version}"
    build = s2i_build(SAMPLES / "r" / "xml-reader", builder_image, image)
    try:
        assert build.returncode == 0, build.output
        assert "libxml2=" in build.output  # downloaded beside r-cran-xml2
        model = run_model(docker_client, image)
        try:
            reply = requests.post(f"{model.http}/predict", json={"strData": "<a><b/><c/></a>"}, timeout=5).json()
            assert reply["strData"] == "b,c"
        finally:
            remove_container(model)
    finally:
        docker_client.images.remove(image, force=True)


IDENTITY = "initialise_seldon <- function(params) structure(list(), class = 'm')\npredict.m <- function(m, x) x\n"
ENVIRONMENT = "MODEL_NAME=MyModel.R\n"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"MyModel.R": "initialise_seldon <- function(params) {\n  list(\n", ".s2i/environment": ENVIRONMENT},
            "sourcing MyModel.R failed:",
        ),
        (
            {"MyModel.R": "predict.m <- function(m, x) x\n", ".s2i/environment": ENVIRONMENT},
            "MyModel.R defines no function initialise_seldon(params)",
        ),
        (
            {"MyModel.R": "library(notinstalledpkg)\n" + IDENTITY, ".s2i/environment": ENVIRONMENT},
            "there is no package called",
        ),
        (
            {"MyModel.R": IDENTITY, ".s2i/environment": ENVIRONMENT, "install.R": 'stop("cannot reach CRAN")\n'},
            "install.R failed (see R's messages above)",
        ),
        (
            # Seldon's r_iris example: install.packages() only warns when CRAN cannot be reached.
            {
                "MyModel.R": IDENTITY,
                ".s2i/environment": ENVIRONMENT + "CRAN_MIRROR=http://127.0.0.1:9\n",
                "install.R": "install.packages('rpart')\n",
            },
            "install.R asked for packages that are not installed after it ran: rpart (see R's warnings above)."
            " CRAN_MIRROR=http://127.0.0.1:9 may be unreachable from the build. Debian ships r-cran-rpart",
        ),
        (
            {"MyModel.R": IDENTITY, ".s2i/environment": ENVIRONMENT + "R_DEBIAN_PACKAGES=r-cran-nosuchthing\n"},
            "apt cannot resolve R_DEBIAN_PACKAGES=r-cran-nosuchthing",
        ),
        (
            {"MyModel.R": IDENTITY, ".s2i/environment": "MODEL_NAME=MyModle.R\n"},
            "cannot find the R model file",
        ),
    ],
    ids=[
        "syntax-error",
        "no-initialise-seldon",
        "missing-package",
        "install-r-fails",
        "install-r-installs-nothing",
        "no-such-debian-package",
        "typo",
    ],
)
def test_user_mistakes_fail_the_build_with_a_clear_message(cell, builder_image, tmp_path, files, message):
    build = s2i_build(source_tree(tmp_path, files), builder_image, f"s2i-test/bad-r-source:{uuid.uuid4().hex[:8]}")
    assert build.returncode != 0, build.output
    assert message in build.output
    assert "Traceback" not in build.output


def test_what_install_r_could_not_install_comes_from_debian_when_asked(cell, builder_image, docker_client, tmp_path):
    model = "library(rpart)\n" + IDENTITY  # sourced by the build's model check: rpart must be there
    files = {
        "MyModel.R": model,
        ".s2i/environment": ENVIRONMENT + "CRAN_MIRROR=http://127.0.0.1:9\nR_CRAN_FALLBACK=debian\n",
        "install.R": "install.packages('rpart')\n",
    }
    image = f"s2i-test/r-cran-fallback:{uuid.uuid4().hex[:8]}"
    build = s2i_build(source_tree(tmp_path, files), builder_image, image)
    try:
        assert build.returncode == 0, build.output
        assert "install.R could not install rpart; R_CRAN_FALLBACK=debian: installing them from Debian" in build.output
        assert re.search(r"Downloading .*r-cran-rpart=", build.output), build.output
    finally:
        if build.returncode == 0:
            docker_client.images.remove(image, force=True)


def test_a_failing_initialise_seldon_stops_start_up_with_one_clear_line(cell, builder_image, docker_client, tmp_path):
    failing = 'initialise_seldon <- function(params) stop("model.rds is missing")\npredict.m <- function(m, x) x\n'
    files = {"MyModel.R": failing, ".s2i/environment": ENVIRONMENT}
    image = f"s2i-test/r-start-fails:{uuid.uuid4().hex[:8]}"
    build = s2i_build(source_tree(tmp_path, files), builder_image, image)
    assert build.returncode == 0, build.output
    try:
        status, logs = run_to_exit(docker_client, image)
        assert status != 0
        assert "MyModel.R: initialise_seldon(params) failed: model.rds is missing" in logs
        assert "Traceback" not in logs
    finally:
        docker_client.images.remove(image, force=True)


def test_a_call_stuck_past_the_time_limit_ends_its_worker_and_a_new_one_serves(
    cell, builder_image, docker_client, tmp_path
):
    """Embedded R does not check its time limit inside Sys.sleep(), as native code would not:
    10 s past REQUEST_TIMEOUT_SECONDS the watchdog ends that worker (exit 124), never raising
    into rpy2's callbacks (a traceback in the log), and the supervisor starts another."""
    stuck = 'initialise_seldon <- function(params) structure(list(), class = "stuck")\n'
    stuck += "predict.stuck <- function(model, newdata) { Sys.sleep(60); newdata }\n"
    image = f"s2i-test/r-stuck:{uuid.uuid4().hex[:8]}"
    files = {"MyModel.R": stuck, ".s2i/environment": ENVIRONMENT}
    build = s2i_build(source_tree(tmp_path, files), builder_image, image)
    assert build.returncode == 0, build.output
    model = run_model(docker_client, image, env={"REQUEST_TIMEOUT_SECONDS": "1", "GUNICORN_WORKERS": "2"})
    try:
        with pytest.raises(requests.ConnectionError):  # the worker holding the connection is gone
            requests.post(f"{model.http}/api/v1.0/predictions", json={"data": {"ndarray": [[1]]}}, timeout=40)
        replaced = "died while serving (exit status 124): starting a new one"
        deadline = time.monotonic() + 10  # the supervisor logs it a moment after the worker ended
        while replaced not in model.logs() and time.monotonic() < deadline:
            time.sleep(0.2)
        logs = model.logs()
        assert replaced in logs and "still running 10 s after it was interrupted" in logs, logs
        assert "Traceback" not in logs, logs
        assert requests.get(f"{model.http}/health/ping", timeout=5).text == "pong"
    finally:
        remove_container(model)
        docker_client.images.remove(image, force=True)
