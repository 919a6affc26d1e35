import os
import time

import numpy as np

from seldon_serve import SeldonMicroserviceException


class ExtrasModel:
    """An identity model using every optional hook: tags, metrics, metadata, class names,
    health, and errors. jsonData {"fail": "refuse"} answers 422 through the wrapper's exception;
    {"fail": "crash"} raises a plain exception (500); {"sleep": s} takes s seconds. Faults
    (tests/contract/test_faults.py): {"fail": "exit"} ends the worker's process at once, as a
    crash in native code would; {"leak": n} keeps n more MiB for good. The parameter load_seconds
    makes load() take that long (tests/contract/test_startup_failures.py)."""

    def __init__(self, load_seconds=0):
        self.load_seconds = float(load_seconds)
        self.calls = 0
        self.last_ms = 0.0
        self.hoard = []

    def load(self):
        time.sleep(self.load_seconds)

    def predict(self, X, feature_names, meta=None):
        started = time.perf_counter()
        self.calls += 1
        if isinstance(X, dict) and X.get("fail") == "refuse":
            raise SeldonMicroserviceException("refusing this input", status_code=422)
        if isinstance(X, dict) and X.get("fail") == "crash":
            raise ValueError("the model crashed")
        if isinstance(X, dict) and X.get("fail") == "exit":
            os._exit(3)
        if isinstance(X, dict) and "leak" in X:
            self.hoard.append(b"\x01" * (int(X["leak"]) << 20))  # written, so resident
        if isinstance(X, dict) and "sleep" in X:
            time.sleep(float(X["sleep"]))
        self.last_ms = (time.perf_counter() - started) * 1000
        return X

    def class_names(self):
        return ["first", "second"]

    def tags(self):
        return {"model": "extras", "calls": self.calls}

    def metrics(self):
        return [
            {"type": "COUNTER", "key": "extras_calls", "value": 1},
            {"type": "GAUGE", "key": "extras_last_calls", "value": self.calls, "tags": {"kind": "gauge"}},
            {"type": "TIMER", "key": "extras_predict_ms", "value": self.last_ms},
        ]

    def init_metadata(self):
        return {
            "name": "extras-model",
            "versions": ["extras/v1"],
            "inputs": [{"messagetype": "ndarray", "schema": {"names": ["a", "b"], "shape": [2]}}],
            "outputs": [{"messagetype": "ndarray", "schema": {"names": ["first", "second"], "shape": [2]}}],
            "custom": {"author": "tests"},
        }

    def health_status(self):
        return np.array([[self.calls]])
