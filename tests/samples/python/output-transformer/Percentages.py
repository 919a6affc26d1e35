import numpy as np


class Percentages:
    """Output transformer: turns a model's probabilities into percentages with one decimal."""

    def transform_output(self, X, feature_names):
        return np.round(np.asarray(X, dtype=float) * 100, 1)

    def class_names(self):
        return ["percent"]
