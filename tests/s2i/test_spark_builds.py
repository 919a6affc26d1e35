"""Spark sample sources built into model images with the real s2i CLI, then run and queried:
a saved PySpark pipeline served by MyModel.py and with no code at all, its JVM on the image's
class-data archive; single rows scored by the model alone agree with a Spark job's answer;
start-up mistakes."""

from __future__ import annotations

import json
import os
import shutil

import grpc
import numpy as np
import pytest
import requests
from google.protobuf import json_format

from seldon_serve.proto import prediction_pb2 as pb
from seldon_serve.proto import prediction_pb2_grpc as pb_grpc
from seldon_serve_spark import DEFAULT_CLASS_ARCHIVE

from harness import (
    IRIS_ROWS,
    SAMPLES,
    predicted_classes,
    record_build,
    remove_container,
    run_model,
    run_to_exit,
    s2i_build,
)

FAMILIES = {"spark"}
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
MODEL = SAMPLES / "spark" / "pipeline-only" / "model"


def predict(model, body: dict) -> dict:
    response = requests.post(f"{model.http}/predict", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def iris_image(cell, builder_image, docker_client, tmp_path_factory):
    source = tmp_path_factory.mktemp("spark") / "iris-pipeline"
    shutil.copytree(SAMPLES / "spark" / "iris-pipeline", source)
    shutil.copytree(MODEL, source / "model")  # the sample shares the no-code sample's saved model
    image = f"s2i-test/spark-iris:{cell.version}"
    build = s2i_build(source, builder_image, image)
    assert build.returncode == 0, build.output
    record_build(cell, "iris-pipeline", "cold", build.seconds)
    yield image
    docker_client.images.remove(image, force=True)


def test_the_pipeline_scores_rows_named_or_in_its_own_order_over_rest_and_grpc(iris_image, docker_client):
    model = run_model(docker_client, iris_image, user="123456:0")
    try:
        reply = predict(model, {"data": {"names": FEATURES, "ndarray": IRIS_ROWS}})
        assert predicted_classes(reply) == ["setosa", "virginica"]
        assert reply["meta"]["tags"] == {"scored_by": "model"}
        shuffled = {"data": {"names": FEATURES[::-1], "ndarray": [row[::-1] for row in IRIS_ROWS]}}
        assert predict(model, shuffled)["data"]["ndarray"] == reply["data"]["ndarray"]
        assert predicted_classes(predict(model, {"data": {"ndarray": IRIS_ROWS[1:]}})) == ["virginica"]
        request = json_format.ParseDict(
            {"data": {"tensor": {"shape": [1, 4], "values": IRIS_ROWS[0]}}}, pb.SeldonMessage()
        )
        with grpc.insecure_channel(model.grpc) as channel:
            answer = json_format.MessageToDict(pb_grpc.ModelStub(channel).Predict(request, timeout=30))
        assert answer["data"]["tensor"]["shape"] == [1, 3]
        missing = requests.post(f"{model.http}/predict", json={"data": {"names": ["a"], "ndarray": [[1]]}}, timeout=30)
        assert missing.status_code == 400 and "lacks" in missing.json()["status"]["info"]
        assert jvms_mapping_the_class_archive(model) == 1, "the worker's Spark JVM runs without the image's archive"
    finally:
        remove_container(model)


def jvms_mapping_the_class_archive(model) -> int:
    """How many processes in the container have the image's class-data archive mapped (the JVM
    goes on without it, silently, when its class path does not match the archive's)."""
    archive = os.path.basename(DEFAULT_CLASS_ARCHIVE)
    command = ["sh", "-c", f"grep -l {archive} /proc/[0-9]*/maps 2>/dev/null | wc -l"]
    result = model.container.exec_run(command)
    assert result.exit_code == 0, result.output
    return int(result.output)


def test_scoring_without_a_job_agrees_with_a_spark_job(iris_image, docker_client):
    body = {"data": {"names": FEATURES, "ndarray": IRIS_ROWS}}
    answers = {}
    for scoring in ("on", "off"):
        model = run_model(docker_client, iris_image, env={"SPARK_LOCAL_SCORING": scoring})
        try:
            reply = predict(model, body)
            assert reply["meta"]["tags"]["scored_by"] == ("model" if scoring == "on" else "spark-job")
            answers[scoring] = np.asarray(reply["data"]["ndarray"])
        finally:
            remove_container(model)
    assert np.allclose(answers["on"], answers["off"], atol=1e-9)


def test_a_folder_holding_only_the_saved_pipeline_serves_it(cell, builder_image, docker_client):
    image = f"s2i-test/spark-pipeline-only:{cell.version}"
    build = s2i_build(SAMPLES / "spark" / "pipeline-only", builder_image, image)
    try:
        assert build.returncode == 0, build.output
        record_build(cell, "pipeline-only", "cold", build.seconds)
        model = run_model(docker_client, image)
        try:
            assert predicted_classes(predict(model, {"data": {"names": FEATURES, "ndarray": IRIS_ROWS}})) == [
                "setosa",
                "virginica",
            ]
            metadata = requests.get(f"{model.http}/metadata", timeout=10).json()
            assert metadata["platform"] == "spark" and metadata["inputs"][0]["schema"]["names"] == FEATURES
        finally:
            remove_container(model)
        status, logs = run_to_exit(docker_client, image, {"SPARK_MODEL_PATH": "/nowhere"})
        assert status != 0 and "no saved PipelineModel at /nowhere" in logs
        assert "Traceback" not in logs
    finally:
        docker_client.images.remove(image, force=True)


def test_under_log_format_json_every_line_spark_writes_is_json_too(iris_image, docker_client):
    """Spark's JVM writes its own lines (log4j's, the JVM's warnings, a native library's): under
    LOG_FORMAT=json each becomes a record of the `spark` logger, so the whole log parses."""
    model = run_model(docker_client, iris_image, env={"LOG_FORMAT": "json", "SPARK_LOCAL_SCORING": "off"})
    try:
        predict(model, {"data": {"names": FEATURES, "ndarray": IRIS_ROWS}})  # a Spark job
        assert model.stop() == 0
        records = []
        for line in filter(str.strip, model.logs().splitlines()):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                raise AssertionError(f"not a JSON line: {line!r}") from None
        assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
        assert any(record["logger"] == "spark" for record in records), "no line of Spark's own"
    finally:
        remove_container(model)
