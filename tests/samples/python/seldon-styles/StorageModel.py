import json
import os

import numpy as np
from seldon_core import Storage
from seldon_core.utils import getenv_as_bool


class StorageModel:
    """Loads its parameters through Seldon's Storage from a path in the source."""

    def __init__(self, model_uri="artifacts"):
        self.model_uri = model_uri
        self.scale = None

    def load(self):
        folder = Storage.download(self.model_uri)
        with open(os.path.join(folder, "model.json")) as f:
            self.scale = json.load(f)["scale"]
        self.verbose = getenv_as_bool("STORAGE_MODEL_VERBOSE", default=False)

    def predict(self, X, names):
        return np.asarray(X) * self.scale
