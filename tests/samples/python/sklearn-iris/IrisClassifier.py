from pathlib import Path

import joblib


class IrisClassifier:
    """Class probabilities for iris flowers from a scikit-learn pipeline saved by train.py."""

    def __init__(self, model_file: str = "iris.joblib"):
        self.model_file = Path(__file__).with_name(model_file)
        self.model = None

    def load(self):
        # Called once per worker before it serves: the place for slow loading.
        self.model = joblib.load(self.model_file)

    def predict(self, X, feature_names):
        return self.model.predict_proba(X)

    def class_names(self):
        return ["setosa", "versicolor", "virginica"]
