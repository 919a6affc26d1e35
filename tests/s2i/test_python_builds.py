"""Sample sources built into model images with the real s2i CLI, then run and queried."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import uuid
import zipfile
from pathlib import Path

import docker.errors
import grpc
import pytest
import requests
from google.protobuf import json_format

from seldon_serve.proto import prediction_pb2 as pb
from seldon_serve.proto import prediction_pb2_grpc as pb_grpc

from harness import (
    IRIS_ROWS,
    S2I,
    SAMPLES,
    command_output,
    predicted_classes,
    record_build,
    remove_container,
    run_model,
    run_to_exit,
    s2i_build,
    source_tree,
)

FAMILIES = {"python"}


def output_image(cell, sample: str) -> str:
    return f"s2i-test/{cell.family.name}-{sample}:{cell.version}"


@pytest.fixture(scope="module")
def identity_image(cell, builder_image, docker_client):
    image = output_image(cell, "model")
    build = s2i_build(SAMPLES / "python" / "model", builder_image, image)
    assert build.returncode == 0, build.output
    record_build(cell, "model", "cold", build.seconds)
    yield image
    docker_client.images.remove(image, force=True)


@pytest.fixture
def identity_model(identity_image, docker_client):
    model = run_model(docker_client, identity_image, user="123456:0")  # an arbitrary UID, as OpenShift runs it
    yield model
    remove_container(model)


def test_a_models_layer_holds_what_assemble_added_and_nothing_of_the_builders(identity_image, docker_client):
    """The source of a few lines makes a layer of a few kB: the builder's files stay in its own
    layers (a chmod on one would copy it up), and every file is the group's as much as the owner's."""
    added = docker_client.images.get(identity_image).history()[0]  # newest first: s2i's commit
    assert added["Size"] < 1_000_000, added
    lacking = ["(", "-perm", "-u=w", "!", "-perm", "-g=w", ")", "-o", "(", "-perm", "-u=x", "!", "-perm", "-g=x", ")"]
    mine = ["-user", str(docker_client.images.get(identity_image).attrs["Config"]["User"])]
    out = command_output(docker_client, identity_image, ["find", "/opt/app-root", *mine, "(", *lacking, ")"])
    assert out == ""


def test_identity_model_answers_rest_predictions(identity_model):
    body = {"meta": {"puid": "abc"}, "data": {"names": ["a", "b"], "ndarray": [[1, 2]]}}
    response = requests.post(f"{identity_model.http}/api/v1.0/predictions", json=body, timeout=5)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"names": ["t:0", "t:1"], "ndarray": [[1, 2]]}, "meta": {"puid": "abc"}}


def test_identity_model_answers_grpc_predict(identity_model):
    request = json_format.ParseDict(
        {"meta": {"puid": "g1"}, "data": {"names": ["a", "b"], "tensor": {"shape": [1, 2], "values": [1.5, 2.5]}}},
        pb.SeldonMessage(),
    )
    with grpc.insecure_channel(identity_model.grpc) as channel:
        for stub in (pb_grpc.ModelStub(channel), pb_grpc.SeldonStub(channel)):
            reply = stub.Predict(request, timeout=5)
            assert reply.meta.puid == "g1"
            assert list(reply.data.names) == ["t:0", "t:1"]
            assert list(reply.data.tensor.shape) == [1, 2] and list(reply.data.tensor.values) == [1.5, 2.5]
        with pytest.raises(grpc.RpcError) as excinfo:
            pb_grpc.ModelStub(channel).Predict(pb.SeldonMessage(), timeout=5)
        assert excinfo.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_bad_request_gets_seldons_error_body(identity_model):
    response = requests.post(
        f"{identity_model.http}/api/v1.0/predictions", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    status = response.json()["status"]
    assert status["status"] == 1 and status["code"] == -1 and status["reason"] == "MICROSERVICE_BAD_DATA"
    assert "not valid JSON" in status["info"]


def test_sigterm_stops_the_model_cleanly(identity_image, docker_client):
    model = run_model(docker_client, identity_image)
    try:
        assert model.stop(timeout=20) == 0, model.logs()
        assert "shutting down" in model.logs()
    finally:
        remove_container(model)


def test_s2i_usage_runs_the_builders_usage_script(builder_image, cell):
    result = subprocess.run(
        [str(S2I), "usage", builder_image, "--pull-policy", "never"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert cell.reference in result.stdout + result.stderr


# What each installer says when an incremental build found everything in the saved cache.
FROM_CACHE = {
    "uv": ("the package cache", "Installed requirements.txt from the package cache: nothing downloaded"),
    "pip": ("the wheel cache", "Installed requirements.txt from the wheel cache: nothing downloaded"),
}


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_incremental_build_installs_from_the_saved_cache_even_offline(cell, builder_image, docker_client, installer):
    sample = SAMPLES / "python" / "sklearn-iris"
    image = output_image(cell, f"sklearn-iris-{installer}")
    cache, installed = FROM_CACHE[installer]
    chosen = ("-e", f"PIP_INSTALLER={installer}")
    try:
        cold = s2i_build(sample, builder_image, image, *chosen)
        assert cold.returncode == 0, cold.output
        assert "Restoring" not in cold.output
        assert re.search(r"Downloading scikit[-_]learn", cold.output), cold.output
        # No network for the incremental build: only the saved cache can serve it.
        warm = s2i_build(sample, builder_image, image, "--incremental", "--network", "none", *chosen)
        assert warm.returncode == 0, warm.output
        assert "Unpacking the previous build's artifacts" in warm.output  # they came packed (zstd, base64)
        assert f"Restoring {cache} of the previous build" in warm.output
        assert installed in warm.output
        assert "Downloading" not in warm.output
        record_build(cell, f"sklearn-iris-{installer}", "cold", cold.seconds)
        record_build(cell, f"sklearn-iris-{installer}", "incremental", warm.seconds)
        model = run_model(docker_client, image)
        try:
            reply = requests.post(f"{model.http}/predict", json={"data": {"ndarray": IRIS_ROWS}}, timeout=5).json()
            assert predicted_classes(reply) == ["setosa", "virginica"]
        finally:
            remove_container(model)
    finally:
        docker_client.images.remove(image, force=True)


def test_a_package_cache_mounted_from_the_host_serves_the_next_build_with_no_network(
    cell, builder_image, docker_client, tmp_path
):
    """`s2i build -v <dir>:/opt/app-root/.cache/uv` (the image's usage): uv fills the host's folder,
    the next build installs from it alone, and the images hold none of it."""
    cache = tmp_path / "uv-cache"
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)  # the builder's user writes it
    files = {
        "MyModel.py": "import six  # noqa: F401\n\n" + IDENTITY,
        "requirements.txt": "six==1.16.0\n",
        ".s2i/environment": "MODEL_NAME=MyModel\n",
    }
    source = source_tree(tmp_path, files)
    mount = ("-v", f"{cache}:/opt/app-root/.cache/uv")
    images = [f"s2i-test/mounted-cache:{uuid.uuid4().hex[:8]}" for _ in range(2)]
    try:
        first = s2i_build(source, builder_image, images[0], *mount)
        assert first.returncode == 0, first.output
        assert "Using the package cache mounted at /opt/app-root/.cache/uv" in first.output
        assert any(cache.iterdir()), "uv left nothing in the mounted cache"
        second = s2i_build(source, builder_image, images[1], *mount, "--network", "none")
        assert second.returncode == 0, second.output
        assert "Installed requirements.txt from the package cache: nothing downloaded" in second.output
        kept = command_output(docker_client, images[1], ["ls", "-A", "/opt/app-root/.cache/uv"])
        assert kept == ""
    finally:
        for image in images:
            with contextlib.suppress(docker.errors.ImageNotFound):
                docker_client.images.remove(image, force=True)


def test_the_most_used_ml_wheels_find_their_system_libraries(cell, builder_image, docker_client):
    """lightgbm needs libgomp.so.1 from the system (versions.yaml's system_packages); the others
    bundle theirs. The build's model check imports every one; the model then trains and predicts
    with lightgbm's OpenMP threads."""
    image = output_image(cell, "ml-wheels")
    build = s2i_build(SAMPLES / "python" / "ml-wheels", builder_image, image)
    try:
        assert build.returncode == 0, build.output
        record_build(cell, "ml-wheels", "cold", build.seconds)
        model = run_model(docker_client, image)
        try:
            rows = {"data": {"ndarray": [[2.0, 0.0], [-2.0, 0.0]]}}
            reply = requests.post(f"{model.http}/predict", json=rows, timeout=10)
            assert reply.status_code == 200, reply.text
            assert reply.json()["data"]["ndarray"] == [1, 0]
        finally:
            remove_container(model)
    finally:
        if build.returncode == 0:
            docker_client.images.remove(image, force=True)


IDENTITY = "class MyModel:\n    def predict(self, X, names):\n        return X\n"
# A model whose wheel would link to a library the image lacks: here, directly.
NEEDS_LIBSNDFILE = "import ctypes\n\nctypes.CDLL('libsndfile.so.1')\n\n" + IDENTITY


def test_a_shared_library_from_debian_is_unpacked_for_the_model(cell, builder_image, docker_client, tmp_path):
    """DEBIAN_PACKAGES, without root: the library and what it depends on land in $APP_ROOT/lib,
    on LD_LIBRARY_PATH for the build's model check and at run time (as an arbitrary UID)."""
    environment = "MODEL_NAME=MyModel\nDEBIAN_PACKAGES=libsndfile1\n"
    files = {"MyModel.py": NEEDS_LIBSNDFILE, ".s2i/environment": environment}
    image = f"s2i-test/debian-library:{uuid.uuid4().hex[:8]}"
    build = s2i_build(source_tree(tmp_path, files), builder_image, image)
    try:
        assert build.returncode == 0, build.output
        assert "Resolving DEBIAN_PACKAGES=libsndfile1 against Debian's package lists" in build.output
        assert re.search(r"Downloading .*libogg0=", build.output), build.output  # a dependency, too
        model = run_model(docker_client, image, user="123456:0")
        try:
            reply = requests.post(f"{model.http}/predict", json={"data": {"ndarray": [[1]]}}, timeout=5)
            assert reply.json()["data"]["ndarray"] == [[1]]
        finally:
            remove_container(model)
    finally:
        if build.returncode == 0:
            docker_client.images.remove(image, force=True)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"MyModel.py": IDENTITY}, "MODEL_NAME is not set. Add a line 'MODEL_NAME=MyModel' to .s2i/environment"),
        (
            {"MyModel.py": IDENTITY, ".s2i/environment": "MODEL_NAME=MyModle\n"},
            "cannot find MyModle: no MyModle.py in /opt/app-root/src",
        ),
        (
            {"MyModel.py": IDENTITY, ".s2i/environment": "MODEL_NAME=MyModel\nSERVICE_TYPE=ROUTER\n"},
            "a ROUTER must define route or route_raw; MyModel defines neither",
        ),
        (
            {"MyModel.py": IDENTITY, ".s2i/environment": "MODEL_NAME=MyModel\nSERVICE_TYPE=MODLE\n"},
            "SERVICE_TYPE=MODLE is not one of",
        ),
        (
            {
                "MyModel.py": IDENTITY,
                ".s2i/environment": "MODEL_NAME=MyModel\n",
                "requirements.txt": "this-package-does-not-exist-anywhere-4711==1.0\n",
            },
            "Installing requirements.txt failed: see uv's messages above.",
        ),
        (
            {"MyModel.py": "import joblibb\n" + IDENTITY, ".s2i/environment": "MODEL_NAME=MyModel\n"},
            "needs module 'joblibb', which is not installed",
        ),
        (
            {
                "MyModel.py": IDENTITY,
                ".s2i/environment": "MODEL_NAME=MyModel\n",
                "requirements.txt": "protobuf==3.20.3\n",
            },
            "A conflict with a package the wrapper needs names both versions",
        ),
        (
            {
                "MyModel.py": IDENTITY,
                ".s2i/environment": "MODEL_NAME=MyModel\n",
                "environment.yml": "dependencies:\n  - six\n  - conda-forge::xgboost\n  - bioconda::pysam\n",
            },
            "environment.yml lists conda dependencies with no PyPI equivalent here (no conda channel is "
            "reachable): conda-forge::xgboost, bioconda::pysam.",
        ),
        (
            {
                "MyModel.py": IDENTITY,
                ".s2i/environment": "MODEL_NAME=MyModel\n",
                "environment.yml": "dependencies:\n  - six=1.16\n  - libgcc-ng=13.2\n  - libstdcxx-ng\n",
            },
            "environment.yml lists conda packages the package index does not have: libgcc-ng libstdcxx-ng.",
        ),
        (
            {"MyModel.py": NEEDS_LIBSNDFILE, ".s2i/environment": "MODEL_NAME=MyModel\n"},
            "libsndfile.so.1 is in Debian's package libsndfile1",
        ),
        (
            {"MyModel.py": IDENTITY, ".s2i/environment": "MODEL_NAME=MyModel\nDEBIAN_PACKAGES=hello\n"},
            "DEBIAN_PACKAGES needs Debian packages that are not shared libraries: hello.",
        ),
    ],
    ids=[
        "no-model-name",
        "typo-in-model-name",
        "router-without-route",
        "bad-service-type",
        "bad-requirement",
        "missing-dependency",
        "requirement-moves-a-wrapper-pin",
        "conda-channel-packages",
        "conda-names-pypi-lacks",
        "missing-shared-library",
        "debian-package-not-a-library",
    ],
)
def test_user_mistakes_fail_the_build_with_a_clear_message(
    cell, builder_image, docker_client, tmp_path, files, message
):
    image = f"s2i-test/bad-source:{uuid.uuid4().hex[:8]}"
    build = s2i_build(source_tree(tmp_path, files), builder_image, image)
    assert build.returncode != 0, build.output
    assert message in build.output
    assert "Traceback" not in build.output
    if "protobuf==3.20.3" in files.get("requirements.txt", ""):  # uv names both versions
        assert "protobuf==3.20.3" in build.output and f"protobuf=={cell.family.packages['protobuf']}" in build.output


LOCKED = SAMPLES / "python" / "locked"
SIX_MODEL = "import six\n\nassert six.__version__ == '1.16.0', six.__version__  # the locked one, not PyPI's latest\n"


@pytest.mark.parametrize("lock", ["pylock", "uv", "poetry", "pipenv", "hashes"])
def test_a_lock_file_installs_exactly_what_it_locks_then_again_offline(
    cell, builder_image, docker_client, tmp_path, lock
):
    """Each way of locking (tests/samples/python/locked/<lock>), built cold, then incrementally with
    no network at all: the saved cache alone serves the locked files, hashes checked."""
    source = tmp_path / lock
    shutil.copytree(LOCKED / lock, source)
    (source / "MyModel.py").write_text(SIX_MODEL + IDENTITY)
    (source / ".s2i").mkdir()
    (source / ".s2i" / "environment").write_text("MODEL_NAME=MyModel\n")
    image = f"s2i-test/locked-{lock}:{uuid.uuid4().hex[:8]}"
    try:
        cold = s2i_build(source, builder_image, image)
        assert cold.returncode == 0, cold.output
        if lock != "hashes":
            assert "every package at its locked version, checked against its locked hashes" in cold.output
        warm = s2i_build(source, builder_image, image, "--incremental", "--network", "none")
        assert warm.returncode == 0, warm.output
        assert "from the package cache: nothing downloaded" in warm.output
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(image, force=True)


def test_a_hash_that_does_not_match_fails_the_build(cell, builder_image, tmp_path):
    locked = (LOCKED / "hashes" / "requirements.txt").read_text()
    wrong = locked.replace("8abb2f1d", "00000000").replace("1e61c374", "00000000")
    files = {"MyModel.py": IDENTITY, ".s2i/environment": "MODEL_NAME=MyModel\n", "requirements.txt": wrong}
    build = s2i_build(source_tree(tmp_path, files), builder_image, f"s2i-test/bad-hash:{uuid.uuid4().hex[:8]}")
    assert build.returncode != 0
    assert "Hash mismatch" in build.output or "hash mismatch" in build.output.lower(), build.output
    assert "Installing requirements.txt failed" in build.output


def test_a_conda_environment_file_installs_from_the_package_index(cell, builder_image, docker_client, tmp_path):
    environment = (
        "name: seldon\nchannels: [defaults]\n"
        "dependencies:\n  - python=3.11\n  - pip\n  - six=1.16\n  - pip:\n    - text-unidecode==1.3\n"
    )
    model = "import six\nimport text_unidecode\n\n" + IDENTITY
    files = {"MyModel.py": model, ".s2i/environment": "MODEL_NAME=MyModel\nCONDA_ENV_NAME=seldon\n"}
    source = source_tree(tmp_path, {**files, "environment.yml": environment})
    image = f"s2i-test/conda:{uuid.uuid4().hex[:8]}"
    build = s2i_build(source, builder_image, image)
    try:
        assert build.returncode == 0, build.output
        assert "Using environment.yml (conda)" in build.output
        assert "(CONDA_ENV_NAME=seldon: the image has one environment, the venv)" in build.output
        assert "+ six==1.16.0" in build.output and "+ text-unidecode==1.3" in build.output
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(image, force=True)


def test_private_index_settings_are_used_and_their_credentials_masked(cell, builder_image, tmp_path):
    source = source_tree(
        tmp_path,
        {"MyModel.py": IDENTITY, ".s2i/environment": "MODEL_NAME=MyModel\n", "requirements.txt": "six==1.16.0\n"},
    )
    # Nothing listens on port 9 of the build container's loopback: the install must fail there.
    index = "http://builder:s3cret@127.0.0.1:9/simple"
    build = s2i_build(source, builder_image, f"s2i-test/index:{uuid.uuid4().hex[:8]}", "-e", f"PIP_INDEX_URL={index}")
    assert build.returncode != 0
    assert "Using PIP_INDEX_URL=http://***@127.0.0.1:9/simple" in build.output
    assert "WARNING: PIP_INDEX_URL carries credentials, and s2i keeps it in the built image" in build.output
    assert "Installing requirements.txt failed" in build.output
    assert "s3cret" not in build.output.replace(f"PIP_INDEX_URL={index}", "")


def test_a_password_injected_for_the_build_stays_out_of_the_model_image(cell, builder_image, docker_client, tmp_path):
    """usage's route for a private index's password: a pip.conf passed with --inject, named by
    PIP_CONFIG_FILE. It is read during assemble (uv is given its index, password and all), and
    nothing of it is left in the image -- not in uv's saved cache either."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    # PyPI itself, with a user and password it ignores: the install works only through the file.
    conf = "[global]\nindex-url = https://builder:s3cret@pypi.org/simple\n"
    (secrets / "pip.conf").write_text(conf)
    source = source_tree(
        tmp_path,
        {"MyModel.py": IDENTITY, ".s2i/environment": "MODEL_NAME=MyModel\n", "requirements.txt": "six==1.16.0\n"},
    )
    image = f"s2i-test/injected:{uuid.uuid4().hex[:8]}"
    build = s2i_build(
        source, builder_image, image, "-i", f"{secrets}:/opt/app-root/secrets",
        "-e", "PIP_CONFIG_FILE=/opt/app-root/secrets/pip.conf",
    )  # fmt: skip
    try:
        assert build.returncode == 0, build.output
        assert "pip's settings, for uv: --default-index https://***@pypi.org/simple" in build.output
        assert "s3cret" not in build.output
        assert "carries credentials" not in build.output  # PIP_CONFIG_FILE is a path, not a secret
        assert "s3cret" not in str(docker_client.images.get(image).attrs["Config"])
        left = command_output(
            docker_client, image,
            ["sh", "-c", "wc -c < /opt/app-root/secrets/pip.conf; grep -rls s3cret /opt /etc /tmp || true"],
            entrypoint="",
        ).split()  # fmt: skip
        assert left == ["0"], left
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(image, force=True)


def test_as_dockerfile_writes_a_recipe_docker_builds_into_a_working_model(cell, builder_image, docker_client, tmp_path):
    """`s2i build --as-dockerfile` is how buildah/kaniko users consume a builder."""
    dockerfile = tmp_path / "out" / "Dockerfile"
    build = s2i_build(SAMPLES / "python" / "model", builder_image, "unused", "--as-dockerfile", str(dockerfile))
    assert build.returncode == 0, build.output
    assert f"FROM docker.io/{builder_image}\n" in dockerfile.read_text()
    image = f"s2i-test/as-dockerfile:{cell.version}"
    docker_client.images.build(path=str(dockerfile.parent), tag=image, rm=True)
    model = run_model(docker_client, image)
    try:
        reply = requests.post(f"{model.http}/predict", json={"data": {"ndarray": [[3, 4]]}}, timeout=5).json()
        assert reply["data"]["ndarray"] == [[3, 4]]
    finally:
        remove_container(model)
        docker_client.images.remove(image, force=True)


def _wheel(folder: Path, name: str, version: str, module: str) -> Path:
    """A pure-Python wheel of one module: what `s2i build -i <dir>:/whl` brings along."""
    dist = f"{name.replace('-', '_')}-{version}"
    wheel = folder / f"{dist}-py3-none-any.whl"
    files = {
        f"{name.replace('-', '_')}.py": module,
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},,\n" for path in files) + f"{dist}.dist-info/RECORD,,\n"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in {**files, f"{dist}.dist-info/RECORD": record}.items():
            archive.writestr(path, text)
    return wheel


def test_a_seldon_source_builds_as_it_did_with_seldons_builder(cell, builder_image, docker_client, tmp_path):
    """Seldon's s2i conventions: requirements.txt naming seldon-core (this image's seldon_core
    package stands for it), a local wheel given with -i <dir>:/whl, an executable before-run run
    before the model starts."""
    wheels = tmp_path / "whl"
    wheels.mkdir()
    _wheel(wheels, "seldon-whl-probe", "0.1", "FACTOR = 3\n")
    model = (
        "import os\nimport numpy as np\nfrom seldon_core.user_model import SeldonComponent\n"
        "from seldon_whl_probe import FACTOR\n\n\nclass MyModel(SeldonComponent):\n"
        "    def predict(self, X, names, **kwargs):\n"
        "        return np.asarray(X) * FACTOR * int(open('before-run.out').read())\n"
    )
    source = source_tree(
        tmp_path,
        {
            "MyModel.py": model,
            ".s2i/environment": "MODEL_NAME=MyModel\nSERVICE_TYPE=MODEL\n",
            "requirements.txt": "seldon-core==1.18.2\nseldon-whl-probe==0.1\n",
            "before-run": "#!/bin/sh\necho 2 > before-run.out\n",
        },
    )
    (source / "before-run").chmod(0o755)
    image = output_image(cell, "seldon-source")
    build = s2i_build(source, builder_image, image, "-i", f"{wheels}:/whl")
    try:
        assert build.returncode == 0, build.output
        assert "requirements.txt names seldon-core: this image's seldon_core package" in build.output
        assert "Using the wheels in /whl (1 found)" in build.output
        running = run_model(docker_client, image, user="123456:0")
        try:
            reply = requests.post(f"{running.http}/predict", json={"data": {"ndarray": [[1, 2]]}}, timeout=5).json()
            assert reply["data"]["ndarray"] == [[6, 12]], reply
            assert "Running before-run" in running.logs()
        finally:
            remove_container(running)
        (source / "before-run").write_text("#!/bin/sh\nexit 3\n")
        failing = s2i_build(source, builder_image, image, "-i", f"{wheels}:/whl")
        assert failing.returncode == 0, failing.output
        status, logs = run_to_exit(docker_client, image)
        assert status != 0 and "before-run failed (exit status 3): the model is not started" in logs, logs
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(image, force=True)
