from seldon_serve_spark import SparkPipeline

CLASSES = ["setosa", "versicolor", "virginica"]


class IrisClassifier:
    """Iris species from a saved PySpark pipeline (VectorAssembler + LogisticRegression, made by
    train_iris_pipeline.py). The worker's SparkSession starts in load(), once; single rows are
    scored without a Spark job. The saved model is the no-code sample's (../pipeline-only/model),
    copied beside this file by the build."""

    def __init__(self):
        self.pipeline = SparkPipeline("model")

    def load(self):
        self.pipeline.load()

    def predict(self, X, feature_names):
        return self.pipeline.predict(X, feature_names)

    def class_names(self):
        return CLASSES

    def tags(self):
        return {"scored_by": "model" if self.pipeline.scores_locally else "spark-job"}
