"""Java sample sources built into model images with the real s2i CLI, then run and queried:
an H2O MOJO served by a Maven project and with no code at all, builds with no network (the
image brings what a model's build needs), incremental builds, and the mistakes users make."""

from __future__ import annotations

import re
import shutil
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
    command_output,
    predicted_classes,
    record_build,
    remove_container,
    run_model,
    run_to_exit,
    s2i_build,
    source_tree,
)

FAMILIES = {"java"}
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
MOJO = SAMPLES / "java" / "h2o-mojo" / "iris_gbm.zip"


def check_iris(model) -> dict:
    named = {"data": {"names": FEATURES, "ndarray": IRIS_ROWS}}
    assert predicted_classes(requests.post(f"{model.http}/predict", json=named, timeout=5).json()) == [
        "setosa",
        "virginica",
    ]
    unnamed = {"data": {"ndarray": IRIS_ROWS[1:]}}  # columns in the MOJO's own order
    assert predicted_classes(requests.post(f"{model.http}/predict", json=unnamed, timeout=5).json()) == ["virginica"]
    request = json_format.ParseDict({"data": {"tensor": {"shape": [1, 4], "values": IRIS_ROWS[0]}}}, pb.SeldonMessage())
    with grpc.insecure_channel(model.grpc) as channel:
        reply = json_format.MessageToDict(pb_grpc.ModelStub(channel).Predict(request, timeout=5))
    assert reply["data"]["tensor"]["shape"] == [1, 3] and reply["data"]["names"] == IRIS_CLASSES
    metadata = requests.get(f"{model.http}/metadata", timeout=5).json()
    assert metadata["platform"] == "h2o" and metadata["inputs"][0]["schema"]["names"] == FEATURES
    return metadata


@pytest.fixture
def built(docker_client):
    """Image names to remove after the test."""
    images: list[str] = []
    yield images
    for image in images:
        docker_client.images.remove(image, force=True)


def test_h2o_mojo_folder_serves_with_no_code(cell, builder_image, docker_client, built):
    image = f"s2i-test/java-h2o-mojo:{cell.version}"
    build = s2i_build(SAMPLES / "java" / "h2o-mojo", builder_image, image)
    built.append(image)
    assert build.returncode == 0, build.output
    assert "No pom.xml: serving the H2O MOJO iris_gbm.zip with no code" in build.output
    record_build(cell, "h2o-mojo", "cold", build.seconds)
    model = run_model(docker_client, image, user="123456:0")
    try:
        assert check_iris(model)["name"] == "iris_gbm"
        assert "serving io.seldon.serve.h2o.H2oMojoModel as MODEL" in model.logs()
    finally:
        remove_container(model)


def test_h2o_maven_project_uses_the_helper_and_refuses_bad_rows(cell, builder_image, docker_client, tmp_path, built):
    source = tmp_path / "h2o-model"
    shutil.copytree(SAMPLES / "java" / "h2o-model", source)
    shutil.copy(MOJO, source)  # the sample shares the MOJO committed beside the no-code sample
    image = f"s2i-test/java-h2o-model:{cell.version}"
    build = s2i_build(source, builder_image, image)
    built.append(image)
    assert build.returncode == 0, build.output
    record_build(cell, "h2o-model", "cold", build.seconds)
    model = run_model(docker_client, image, user="123456:0")
    try:
        check_iris(model)
        bad = requests.post(f"{model.http}/predict", json={"data": {"ndarray": [[5.1, -3.5, 1.4, 0.2]]}}, timeout=5)
        assert bad.status_code == 400 and "must be positive, got -3.5" in bad.json()["status"]["info"]
    finally:
        remove_container(model)


def test_a_model_without_pom_builds_with_no_network(cell, builder_image, built):
    """The image's Maven repository holds the wrapper and every plugin `mvn package` runs."""
    image = f"s2i-test/java-offline:{cell.version}"
    build = s2i_build(SAMPLES / "java" / "model", builder_image, image, "--network", "none")
    built.append(image)
    assert build.returncode == 0, build.output
    assert "No pom.xml: compiling the .java files with the image's pom.xml" in build.output


STATS_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>zscore</artifactId>
  <version>1</version>
  <properties>
    <maven.compiler.source>17</maven.compiler.source>
    <maven.compiler.target>17</maven.compiler.target>
  </properties>
  <dependencies>
    <dependency>
      <groupId>io.seldon.s2i</groupId>
      <artifactId>seldon-serve</artifactId>
      <version>${env.SELDON_SERVE_VERSION}</version>
      <scope>provided</scope>
    </dependency>
    <dependency>
      <groupId>org.apache.commons</groupId>
      <artifactId>commons-math3</artifactId>
      <version>3.6.1</version>
    </dependency>
  </dependencies>
</project>
"""
STATS_MODEL = """import io.seldon.serve.Payload;
import io.seldon.serve.PredictionService;
import org.apache.commons.math3.stat.StatUtils;

/** Each row standardised to z-scores, with a library the image does not bring. */
public class ZScore implements PredictionService {
  @Override
  public Payload predict(Payload input) {
    double[][] rows = input.rows();
    for (int i = 0; i < rows.length; i++) {
      rows[i] = StatUtils.normalize(rows[i]);
    }
    return Payload.of(rows);
  }
}
"""


def test_a_maven_dependency_is_downloaded_once_then_reused_incrementally(
    cell, builder_image, docker_client, tmp_path, built
):
    source = source_tree(
        tmp_path,
        {
            "pom.xml": STATS_POM,
            "src/main/java/ZScore.java": STATS_MODEL,
            ".s2i/environment": "MODEL_NAME=ZScore\n",
        },
    )
    image = f"s2i-test/java-zscore:{cell.version}"
    offline = s2i_build(source, builder_image, image, "--network", "none")
    assert offline.returncode != 0, "commons-math3 is not in the image: an offline cold build must fail"
    # A shared library from Debian (DEBIAN_PACKAGES, as in every family) on the JVM's library path.
    library = ("-e", "DEBIAN_PACKAGES=libsndfile1")
    cold = s2i_build(source, builder_image, image, *library)
    built.append(image)
    assert cold.returncode == 0, cold.output
    assert re.search(r"Downloading .*libsndfile1=", cold.output), cold.output
    warm = s2i_build(source, builder_image, image, "--incremental", "--network", "none", *library)
    assert warm.returncode == 0, warm.output
    assert "Unpacking the previous build's artifacts" in warm.output  # packed (zstd, base64)
    assert "Restoring the Maven repository of the previous build" in warm.output
    assert "DEBIAN_PACKAGES: every package is already unpacked" in warm.output
    library_path = command_output(
        docker_client, image, ["sh", "-c", "ls $LD_LIBRARY_PATH; java -XshowSettings:properties -version 2>&1"]
    )
    assert "libsndfile.so.1" in library_path and "/opt/app-root/lib" in library_path.split("java.library.path")[1]
    record_build(cell, "zscore", "cold", cold.seconds)
    record_build(cell, "zscore", "incremental", warm.seconds)
    model = run_model(docker_client, image, user="123456:0")
    try:
        reply = requests.post(f"{model.http}/predict", json={"data": {"ndarray": [[1, 2, 3]]}}, timeout=5).json()
        assert reply["data"]["ndarray"] == [[-1.0, 0.0, 1.0]]
    finally:
        remove_container(model)


def test_a_maven_mirror_is_used_and_credentials_in_its_url_are_warned_about(cell, builder_image, tmp_path):
    """MAVEN_MIRROR_URL serves every repository (nothing listens there: the download must fail);
    a password in the URL is masked, and assemble says s2i keeps it in the image."""
    files = {"pom.xml": STATS_POM, "src/main/java/ZScore.java": STATS_MODEL, ".s2i/environment": "MODEL_NAME=ZScore\n"}
    mirror = "http://builder:s3cret@127.0.0.1:9/maven2"
    build = s2i_build(
        source_tree(tmp_path, files), builder_image, f"s2i-test/java-mirror:{uuid.uuid4().hex[:8]}",
        "-e", f"MAVEN_MIRROR_URL={mirror}",
    )  # fmt: skip
    assert build.returncode != 0, build.output
    assert "Using MAVEN_MIRROR_URL=http://***@127.0.0.1:9/maven2" in build.output
    assert "WARNING: MAVEN_MIRROR_URL carries credentials, and s2i keeps it in the built image" in build.output
    assert "127.0.0.1:9" in build.output.split("Building with Maven", 1)[1]  # Maven went to the mirror
    assert "mvn package failed" in "\n".join(build.output.splitlines()[-5:])


IDENTITY = SAMPLES / "java" / "model" / "MyModel.java"
MISTAKES = {
    "does-not-compile": (
        {"MyModel.java": IDENTITY.read_text().replace("return input;", "return input")},
        "MODEL_NAME=MyModel\n",
        "mvn package failed",
    ),
    "model-name-typo": ({"MyModel.java": IDENTITY.read_text()}, "MODEL_NAME=MyModle\n", "no such class"),
    "not-a-prediction-service": (
        {"MyModel.java": "public class MyModel { }\n"},
        "MODEL_NAME=MyModel\n",
        "MyModel does not implement io.seldon.serve.PredictionService",
    ),
    "router-without-route": (
        {"MyModel.java": IDENTITY.read_text()},
        "MODEL_NAME=MyModel\nSERVICE_TYPE=ROUTER\n",
        "a ROUTER must override route or routeRaw; MyModel overrides neither",
    ),
    "nothing-to-build": ({"README.md": "my model\n"}, "MODEL_NAME=MyModel\n", "nothing to build"),
    "missing-dependency": (
        {"pom.xml": STATS_POM.replace("3.6.1", "0.0.404"), "src/main/java/ZScore.java": STATS_MODEL},
        "MODEL_NAME=ZScore\n",
        "mvn package failed",
    ),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_build_mistakes_fail_with_the_cause_in_the_last_lines(cell, builder_image, tmp_path, mistake):
    files, environment, fragment = MISTAKES[mistake]
    source = source_tree(tmp_path, {**files, ".s2i/environment": environment})
    build = s2i_build(source, builder_image, f"s2i-test/java-mistake-{uuid.uuid4().hex[:8]}:{cell.version}")
    assert build.returncode != 0
    last_lines = "\n".join(build.output.strip().splitlines()[-12:])
    assert fragment in last_lines, build.output[-3000:]


FAILING_LOAD = """import io.seldon.serve.Payload;
import io.seldon.serve.PredictionService;
import java.nio.file.Files;
import java.nio.file.Path;

public class MyModel implements PredictionService {
  private byte[] weights;

  @Override
  public void load() throws Exception {
    weights = Files.readAllBytes(Path.of("weights.bin"));
  }

  @Override
  public Payload predict(Payload input) {
    return input;
  }
}
"""


def test_a_failing_load_stops_start_up_with_one_line(cell, builder_image, docker_client, tmp_path, built):
    source = source_tree(tmp_path, {"MyModel.java": FAILING_LOAD, ".s2i/environment": "MODEL_NAME=MyModel\n"})
    image = f"s2i-test/java-failing-load:{cell.version}"
    build = s2i_build(source, builder_image, image)
    built.append(image)
    assert build.returncode == 0, build.output
    status, logs = run_to_exit(docker_client, image)
    assert status != 0
    assert "cannot start: MyModel.load() failed: NoSuchFileException: weights.bin" in logs
    assert "\tat " not in logs  # no Java stack trace as the explanation
