"""seldon_serve_spark's request handling, which needs no Spark: columns matched by name; and the
driver JVM's class path and options (the class-data archive)."""

import sys
import types

import numpy as np
import pytest

import seldon_serve_spark
from seldon_serve.errors import BadRequest
from seldon_serve_spark import SparkPipeline, driver_java_options, spark_jars

FEATURES = ["a", "b", "c"]


@pytest.fixture
def pipeline():
    pipeline = SparkPipeline("unused", local_scoring=True)
    pipeline.features = FEATURES  # what load() reads from the pipeline's VectorAssembler
    return pipeline


def test_request_names_may_come_in_any_order(pipeline):
    rows = np.array([[3.0, 1.0, 2.0]])
    assert pipeline._columns(rows, ["c", "a", "b"]) == ["c", "a", "b"]
    assert pipeline._columns(rows, []) == FEATURES  # no names: the pipeline's own order


@pytest.mark.parametrize(
    ("names", "width", "fragment"),
    [
        (["a", "b"], 2, "the request lacks ['c']"),
        (["a", "b", "c", "d"], 3, "4 names for rows of 3 values"),
        ([], 2, "rows of 2 values for the pipeline's 3 columns"),
    ],
)
def test_columns_that_do_not_fit_are_bad_requests(pipeline, names, width, fragment):
    with pytest.raises(BadRequest, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        pipeline._columns(np.zeros((1, width)), names)


def test_rows_that_are_not_numbers_are_bad_requests(pipeline):
    with pytest.raises(BadRequest, match="scores rows of numbers"):
        pipeline.predict([["x", "y", "z"]], FEATURES)


def test_local_scoring_follows_the_environment(monkeypatch):
    monkeypatch.setenv("SPARK_LOCAL_SCORING", "off")
    assert SparkPipeline("unused").local_scoring is False
    monkeypatch.setenv("SPARK_LOCAL_SCORING", "on")
    assert SparkPipeline("unused").local_scoring is True


@pytest.fixture
def archive(tmp_path, monkeypatch):
    path = tmp_path / "spark-classes.jsa"
    path.write_bytes(b"an archive")
    monkeypatch.setenv("SPARK_CLASS_ARCHIVE", str(path))
    monkeypatch.delenv("SPARK_DRIVER_JAVA_OPTIONS", raising=False)
    return path


def test_the_driver_maps_the_class_archive_when_the_image_has_one(archive, monkeypatch):
    options = driver_java_options().split()
    assert f"-XX:SharedArchiveFile={archive}" in options and "-Xlog:cds=off" in options
    assert set(seldon_serve_spark.JIT_OPTIONS) <= set(options)
    for value in ("off", ""):
        monkeypatch.setenv("SPARK_CLASS_ARCHIVE", value)
        assert "SharedArchive" not in driver_java_options()
    monkeypatch.setenv("SPARK_CLASS_ARCHIVE", str(archive.with_name("absent.jsa")))
    assert "SharedArchive" not in driver_java_options()


def test_the_archive_is_written_where_asked_and_the_deployments_options_come_last(archive, monkeypatch):
    options = driver_java_options(archive_to="/tmp/new.jsa").split()
    assert "-XX:ArchiveClassesAtExit=/tmp/new.jsa" in options
    assert not any(option.startswith("-XX:SharedArchiveFile") for option in options)
    monkeypatch.setenv("SPARK_DRIVER_JAVA_OPTIONS", "-Xshare:on  -XX:Tier4InvocationThreshold=5000")
    assert driver_java_options().split()[-2:] == ["-Xshare:on", "-XX:Tier4InvocationThreshold=5000"]


def test_spark_jars_come_sorted_with_slf4js_api_first(tmp_path, monkeypatch):
    """The order the launcher's listing cannot promise, so that the archive holds on any node."""
    jars = tmp_path / "jars"
    (jars / "connect-repl").mkdir(parents=True)  # a folder among the jars is no class path entry
    for name in ("zstd-jni-1.5.jar", "slf4j-api-2.0.17.jar", "jul-to-slf4j-2.0.17.jar", "avro-1.12.jar", "NOTICE"):
        (jars / name).write_text("")
    finder = types.ModuleType("pyspark.find_spark_home")
    finder._find_spark_home = lambda: str(tmp_path)
    monkeypatch.setitem(sys.modules, "pyspark", types.ModuleType("pyspark"))
    monkeypatch.setitem(sys.modules, "pyspark.find_spark_home", finder)
    assert [jar.rsplit("/", 1)[1] for jar in spark_jars()] == [
        "slf4j-api-2.0.17.jar",
        "avro-1.12.jar",
        "jul-to-slf4j-2.0.17.jar",
        "zstd-jni-1.5.jar",
    ]
