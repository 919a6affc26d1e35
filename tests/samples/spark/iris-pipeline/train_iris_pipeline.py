"""Train a small PySpark ML PipelineModel on the iris data set and save it for the samples.

The pipeline is VectorAssembler (the four measurements -> ``features``) followed by a multinomial
LogisticRegression predicting ``label`` (0 = setosa, 1 = versicolor, 2 = virginica). The fitted model
is written, exactly as Spark writes it, to ``../pipeline-only/model/`` (the no-code sample, which this
folder's IrisClassifier.py serves too), so ``PipelineModel.load`` can read it.

Needs Java 17+, scikit-learn, numpy and the pyspark versions.yaml pins (``pip install pyspark==<pin>``). Run with:

    python tests/samples/spark/iris-pipeline/train_iris_pipeline.py
"""

from pathlib import Path

from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import DataFrame, SparkSession
from sklearn.datasets import load_iris

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
MODEL_DIR = Path(__file__).resolve().parent.parent / "pipeline-only" / "model"


def iris_frame(spark: SparkSession) -> DataFrame:
    """Return iris as a DataFrame of double feature columns plus a double ``label``."""
    iris = load_iris()
    rows = [(*map(float, x), float(y)) for x, y in zip(iris.data, iris.target, strict=True)]
    return spark.createDataFrame(rows, schema=", ".join(f"{c} double" for c in [*FEATURES, "label"]))


def main() -> None:
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("train-iris-pipeline")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        pipeline = Pipeline(
            stages=[
                VectorAssembler(inputCols=FEATURES, outputCol="features"),
                LogisticRegression(featuresCol="features", labelCol="label", maxIter=50, family="multinomial"),
            ]
        )
        model = pipeline.fit(iris_frame(spark))
        model.write().overwrite().save(str(MODEL_DIR))
        print(f"saved PipelineModel to {MODEL_DIR}")
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
