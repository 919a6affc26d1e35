import numpy as np


class GenericNode:
    """One class for every role, as Seldon's examples deploy a "generic node" built as MODEL as
    a router, a combiner and both transformers."""

    def __init__(self, branch=0):
        self.branch = int(branch)
        self.rewards = 0.0

    def predict(self, X, names, meta=None):
        return np.asarray(X) * 2 if isinstance(X, np.ndarray) and X.dtype.kind in "if" else X

    def transform_input(self, X, names, meta=None):
        return np.asarray(X) + 1 if isinstance(X, np.ndarray) and X.dtype.kind in "if" else X

    def transform_output(self, X, names, meta=None):
        return np.asarray(X) - 1 if isinstance(X, np.ndarray) and X.dtype.kind in "if" else X

    def route(self, X, names, meta=None):
        return self.branch

    def aggregate(self, Xs, names_list):
        return Xs[0]

    def send_feedback(self, X, names, reward, truth, routing=None):
        self.rewards += reward
        return [[self.rewards]]

    def tags(self):
        return {"node": "generic"}
