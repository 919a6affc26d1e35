import numpy as np
from seldon_core.user_model import SeldonResponse


class ResponseModel:
    """Answers a SeldonResponse: the data, tags for this request and runtime metrics."""

    def predict(self, X, names, meta=None):
        rows = np.asarray(X).shape[0] if isinstance(X, np.ndarray) and X.ndim else 1
        return SeldonResponse(
            data=X,
            tags={"rows": rows},
            metrics=[{"type": "COUNTER", "key": "rows_seen", "value": rows}],
        )

    def transform_input(self, X, names, meta=None):
        return SeldonResponse.create(X)
