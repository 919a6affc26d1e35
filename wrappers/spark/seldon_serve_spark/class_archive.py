"""Makes the spark image's class-data archive, at image build:

    python -m seldon_serve_spark.class_archive [PATH]   (default: SPARK_CLASS_ARCHIVE's)

A session's driver JVM archives, as it exits, every class it loaded from Spark's jars; each
worker's JVM then maps them instead of reading and verifying them one by one (class data
sharing): its session starts and a pipeline's first load runs in about half the time. What
the session does decides what is archived, so it does what serving does: it loads a saved
pipeline (a VectorAssembler and a LogisticRegression) and scores it both ways, with the model
alone and with a Spark job. The pipeline is fitted and saved first by a session of its own (so
that training's classes, which serving never loads, stay out of the archive); that also checks
that Spark runs here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import Any

import numpy as np

from seldon_serve_spark import DEFAULT_CLASS_ARCHIVE, SparkPipeline, driver_java_options, session, start_session

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
ROWS = [(5.1, 3.5, 1.4, 0.2, 0.0), (7.0, 3.2, 4.7, 1.4, 1.0), (6.3, 3.3, 6.0, 2.5, 2.0), (4.9, 3.0, 1.4, 0.2, 0.0)]


def fit(folder: str) -> None:
    """Fit a small pipeline and save it in `folder`, in a session of this process."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import VectorAssembler

    spark = session()
    frame = spark.createDataFrame(ROWS, schema=[*FEATURES, "label"])
    stages = [VectorAssembler(inputCols=FEATURES, outputCol="features"), LogisticRegression(maxIter=5)]
    Pipeline(stages=stages).fit(frame).write().save(folder)
    spark.stop()


def score(folder: str) -> None:
    """Load and score the saved pipeline as a served model is loaded and scored."""
    pipeline = SparkPipeline(folder)
    pipeline.load()
    rows = np.asarray([row[:4] for row in ROWS])
    by_model = pipeline.predict(rows, FEATURES)
    pipeline.local_scoring = False
    by_job = pipeline.predict(rows, FEATURES)
    if not np.allclose(by_model, by_job):
        raise SystemExit(f"the model alone scored {by_model.tolist()}, a Spark job {by_job.tolist()}")


def stop(spark: Any) -> None:
    """Stops the session and waits for its JVM to exit, which is when it writes the archive."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    spark.stop()
    gateway.proc.stdin.close()  # the JVM exits when its standard input closes
    if gateway.proc.wait() != 0:
        raise SystemExit(f"Spark's JVM exited with {gateway.proc.returncode} while writing its class archive")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--fit"]:
        fit(argv[1])
        return 0
    path = argv[0] if argv else os.environ.get("SPARK_CLASS_ARCHIVE") or DEFAULT_CLASS_ARCHIVE
    with tempfile.TemporaryDirectory() as folder:
        pipeline = os.path.join(folder, "pipeline")
        subprocess.run([sys.executable, "-m", "seldon_serve_spark.class_archive", "--fit", pipeline], check=True)
        spark = start_session(driver_java_options(archive_to=path))
        score(pipeline)
        stop(spark)
    if not os.path.isfile(path):
        print(f"Spark's JVM exited without writing {path}", file=sys.stderr)
        return 1
    print(f"Spark's classes archived in {path} ({os.path.getsize(path) / 2**20:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
