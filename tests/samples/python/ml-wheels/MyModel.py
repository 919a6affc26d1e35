"""A gradient-boosted model trained at load, with every library of requirements.txt imported:
the build's model check fails if any of them cannot find a shared library."""

import cv2  # noqa: F401
import lightgbm
import numpy as np
import onnxruntime  # noqa: F401
import soundfile  # noqa: F401
import xgboost  # noqa: F401


class MyModel:
    def load(self):
        rows = np.random.default_rng(0).normal(size=(200, 2))
        labels = (rows[:, 0] > 0).astype(int)
        # num_threads=2: lightgbm's OpenMP threads, through libgomp.so.1. (lightgbm's own API:
        # its scikit-learn one needs scikit-learn.)
        params = {"objective": "binary", "num_threads": 2, "min_data_in_leaf": 5, "verbose": -1}
        self.booster = lightgbm.train(params, lightgbm.Dataset(rows, labels), num_boost_round=10)

    def predict(self, X, features_names=None):
        return (self.booster.predict(np.asarray(X, dtype=float)) > 0.5).astype(int)
