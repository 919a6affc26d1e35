"""PySpark ML pipelines as Seldon models (the spark image).

Each worker makes one local SparkSession, in load(), and keeps it. A pipeline of a
VectorAssembler and a model answers small requests without a Spark job: the rows are
assembled here and the model scores each vector itself (`predictProbability`/`predict`, which
MLlib runs in the driver), the same numbers a DataFrame + transform() gives, in a fraction of
the time. Anything else -- and every request when SPARK_LOCAL_SCORING=off -- is a DataFrame
transformed by the pipeline.

A model holds a SparkPipeline, calls its load() from its own load() and its predict() from
predict(): tests/samples/spark/iris-pipeline/IrisClassifier.py is one. SparkPipelineModel is
that model already, for a source folder with no code.
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import re
import subprocess
import tempfile
import threading
from typing import Any

import numpy as np

from seldon_serve.contract import setting
from seldon_serve.errors import BadRequest, StartupError

LOCAL_SCORING_MAX_ROWS = 64  # above this a Spark job's fixed cost is worth paying


def name_this_user() -> None:
    """Spark's Hadoop login asks the OS for this user's name, and OpenShift's arbitrary UIDs have
    none: the login fails. nss_wrapper (preloaded into the JVM this process starts, not into
    this process) answers with a passwd file that has this UID in it."""
    try:
        pwd.getpwuid(os.getuid())
        return
    except KeyError:
        pass
    libraries = glob.glob("/usr/lib/*/libnss_wrapper.so")
    if not libraries:
        return  # no nss_wrapper here: the login may fail, and its error says why
    home = os.environ.get("HOME", "/tmp")
    with open("/etc/passwd") as system, tempfile.NamedTemporaryFile("w", prefix="passwd-", delete=False) as passwd:
        passwd.write(system.read())
        passwd.write(f"default:x:{os.getuid()}:{os.getgid()}:s2i application user:{home}:/usr/sbin/nologin\n")
    os.environ.update(LD_PRELOAD=libraries[0], NSS_WRAPPER_PASSWD=passwd.name, NSS_WRAPPER_GROUP="/etc/group")


def session() -> Any:
    """This worker's SparkSession: local, no UI, one shuffle partition, quiet; the one already
    made when there is one (a model may hold several pipelines)."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    if SparkContext._active_spark_context is not None:  # (pyspark's own test for one)
        return SparkSession.builder.getOrCreate()
    return start_session(driver_java_options())


def start_session(java_options: str) -> Any:
    """A new SparkSession whose driver JVM (the one py4j talks to) gets `java_options`."""
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    name_this_user()
    conf = (
        SparkConf()
        .setMaster(os.environ.get("SPARK_MASTER") or "local[1]")
        .setAppName("seldon-serve")
        .set("spark.ui.enabled", "false")
        .set("spark.ui.showConsoleProgress", "false")
        .set("spark.sql.shuffle.partitions", "1")
        .set("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY") or "512m")
        .set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.driver.extraClassPath", ":".join(spark_jars()))
        .set("spark.driver.extraJavaOptions", java_options)
    )
    gateway = jvm_logging_as_records(conf) if setting("LOG_FORMAT").read() == "json" else None
    SparkContext(conf=conf, gateway=gateway)
    spark = SparkSession.builder.getOrCreate()  # on the context just made
    spark.sparkContext.setLogLevel("WARN")
    return spark


DEFAULT_CLASS_ARCHIVE = "/opt/app-root/spark-classes.jsa"

# The JIT's second tier (C2) compiles a method after ten times its usual calls: on one CPU its
# compiler threads otherwise take the CPU from the session's start and the pipeline's first load
# (3.6 s of 10), for code that runs a few times. Serving's hot paths reach C2 later: its first ten
# seconds answer about 14% fewer single rows (make bench-spark).
JIT_OPTIONS = (
    "-XX:Tier4InvocationThreshold=50000",
    "-XX:Tier4MinInvocationThreshold=6000",
    "-XX:Tier4CompileThreshold=150000",
    "-XX:Tier4BackEdgeThreshold=400000",
)


def class_archive_path() -> str | None:
    """The class-data archive the image made of Spark's classes (SPARK_CLASS_ARCHIVE), when there
    is one: a JVM maps the classes in it rather than reading and verifying each from its jar."""
    path = os.environ.get("SPARK_CLASS_ARCHIVE", DEFAULT_CLASS_ARCHIVE)
    return path if path not in ("", "off") and os.path.isfile(path) else None


def driver_java_options(archive_to: str = "") -> str:
    """The driver JVM's options: the JIT's (JIT_OPTIONS), the class-data archive's (mapped, or
    written at exit to `archive_to`), then the deployment's own (SPARK_DRIVER_JAVA_OPTIONS, which
    win: the JVM takes an option's last value)."""
    options = list(JIT_OPTIONS)
    if archive_to:
        options += [f"-XX:ArchiveClassesAtExit={archive_to}", "-Xlog:cds=error", "-Xlog:cds+dynamic=error"]
    elif archive := class_archive_path():
        # The JVM checks the archive against its class path and, on a mismatch, goes on without
        # it: that is no error worth a log line.
        options += [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
    options += os.environ.get("SPARK_DRIVER_JAVA_OPTIONS", "").split()
    return " ".join(options)


def spark_jars() -> list[str]:
    """Spark's jars in a fixed order, slf4j's API first as Spark's launcher puts it. The launcher
    lists the jars folder in the order the file system gives, which differs from node to node,
    and a class-data archive holds only for the class path it was made with: with this one ahead
    of the launcher's, the archive holds wherever the image runs. (The launcher's own entries
    follow, each a second time; the JVM reads a class path entry once.)"""
    from pyspark.find_spark_home import _find_spark_home

    jars = sorted(glob.glob(os.path.join(_find_spark_home(), "jars", "*.jar")))
    return sorted(jars, key=lambda jar: not os.path.basename(jar).startswith("slf4j-api-"))


# A line of log4j's default layout, as Spark's JVM writes it: "26/12/04 18:36:08 WARN Class: text".
LOG4J_LINE = re.compile(r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) (.*)$")
LOG4J_LEVELS = {"TRACE": "DEBUG", "WARN": "WARNING", "FATAL": "CRITICAL"}


def jvm_logging_as_records(conf: Any) -> Any:
    """LOG_FORMAT=json: Spark's JVM started with its output piped here, each line it writes (log4j's,
    the JVM's own warnings, a native library's) becoming a record of the `spark` logger, so that
    every line of the log is JSON. The py4j gateway to hand to the SparkContext."""
    from pyspark.java_gateway import launch_gateway

    gateway = launch_gateway(conf, popen_kwargs={"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT})
    threading.Thread(target=_log_lines, args=(gateway.proc.stdout,), name="spark-jvm-log", daemon=True).start()
    return gateway


def _log_lines(stream: Any) -> None:
    log = logging.getLogger("spark")
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace").rstrip()
        if not line:
            continue
        found = LOG4J_LINE.match(line)
        if found:
            level = LOG4J_LEVELS.get(found[1], found[1])
            log.log(logging.getLevelName(level), "%s", found[2])
        else:
            log.log(logging.WARNING if line.startswith("WARNING") else logging.INFO, "%s", line)


class SparkPipeline:
    """A saved pyspark.ml PipelineModel, scored on rows named by the request's feature names."""

    def __init__(self, path: str, local_scoring: bool | None = None):
        self.path = path
        if local_scoring is None:
            local_scoring = os.environ.get("SPARK_LOCAL_SCORING", "on").lower() not in ("off", "false", "0")
        self.local_scoring = local_scoring
        self.spark: Any = None
        self.model: Any = None
        self.features: list[str] = []
        self.output = "prediction"
        self._scorer: Any = None  # the last stage, when it can score vectors without a job

    def load(self) -> None:
        from pyspark.ml import PipelineModel
        from pyspark.ml.feature import VectorAssembler

        if not os.path.isdir(os.path.join(self.path, "metadata")):
            raise StartupError(f"no saved PipelineModel at {os.path.abspath(self.path)} (it has no metadata/ folder)")
        self.spark = session()
        self.model = PipelineModel.load(self.path)
        stages = self.model.stages
        if stages and isinstance(stages[0], VectorAssembler):
            self.features = list(stages[0].getInputCols())
        last = stages[-1] if stages else None
        if last is not None and last.hasParam("probabilityCol"):
            self.output = last.getOrDefault("probabilityCol")
        elif last is not None and last.hasParam("predictionCol"):
            self.output = last.getOrDefault("predictionCol")
        if len(stages) == 2 and self.features and hasattr(last, "predict"):
            self._scorer = last

    @property
    def scores_locally(self) -> bool:
        return self.local_scoring and self._scorer is not None

    def predict(self, X: Any, feature_names: list[str]) -> np.ndarray:
        try:
            rows = np.asarray(X, dtype=float)
        except (TypeError, ValueError):
            raise BadRequest("a Spark pipeline scores rows of numbers") from None
        if rows.ndim == 1:
            rows = rows.reshape(1, -1)
        columns = self._columns(rows, feature_names)
        if self.scores_locally and len(rows) <= LOCAL_SCORING_MAX_ROWS:
            return self._score_locally(rows, columns)
        return self._transform(rows, columns)

    def _columns(self, rows: np.ndarray, names: list[str]) -> list[str]:
        if names:
            missing = [name for name in self.features if name not in names]
            if missing:
                raise BadRequest(f"the pipeline needs the columns {self.features}; the request lacks {missing}")
            if len(names) != rows.shape[1]:
                raise BadRequest(f"{len(names)} names for rows of {rows.shape[1]} values")
            return list(names)
        if not self.features:
            raise BadRequest("this pipeline does not start with a VectorAssembler: send the column names in data.names")
        if rows.shape[1] != len(self.features):
            raise BadRequest(f"rows of {rows.shape[1]} values for the pipeline's {len(self.features)} columns")
        return self.features

    def _score_locally(self, rows: np.ndarray, columns: list[str]) -> np.ndarray:
        from pyspark.ml.linalg import Vectors

        order = [columns.index(name) for name in self.features]
        probabilistic = self.output != "prediction" and hasattr(self._scorer, "predictProbability")
        out = []
        for row in rows[:, order]:
            vector = Vectors.dense(row.tolist())
            if probabilistic:
                out.append(self._scorer.predictProbability(vector).toArray())
            else:
                out.append([self._scorer.predict(vector)])
        return np.asarray(out, dtype=float)

    def _transform(self, rows: np.ndarray, columns: list[str]) -> np.ndarray:
        frame = self.spark.createDataFrame([tuple(map(float, row)) for row in rows], schema=columns)
        scored = self.model.transform(frame).select(self.output).collect()
        values = [row[0] for row in scored]
        return np.asarray([v.toArray() if hasattr(v, "toArray") else [v] for v in values], dtype=float)


class SparkPipelineModel:
    """The no-code model: serves the saved PipelineModel at `model_path` (or SPARK_MODEL_PATH,
    or ./model), its outputs named by `class_names` (comma-separated) when given."""

    def __init__(self, model_path: str = "", class_names: str = ""):
        self.pipeline = SparkPipeline(model_path or os.environ.get("SPARK_MODEL_PATH") or "model")
        self.names = [name.strip() for name in class_names.split(",") if name.strip()]

    def load(self) -> None:
        self.pipeline.load()

    def predict(self, X: Any, feature_names: list[str]) -> np.ndarray:
        return self.pipeline.predict(X, feature_names)

    def class_names(self) -> list[str] | None:
        return self.names or None

    def init_metadata(self) -> dict[str, Any]:
        return {
            "platform": "spark",
            "inputs": [{"messagetype": "ndarray", "schema": {"names": self.pipeline.features}}],
            "outputs": [{"messagetype": "ndarray", "schema": {"names": self.names}}] if self.names else [],
        }
