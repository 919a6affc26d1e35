import numpy as np


class MinMaxScaler:
    """Input transformer: scales features from [low, high] to [0, 1] before the model sees
    them. low and high come from PREDICTIVE_UNIT_PARAMETERS (type FLOAT)."""

    def __init__(self, low: float = 0.0, high: float = 10.0):
        if high <= low:
            raise ValueError(f"high ({high}) must be above low ({low})")
        self.low = low
        self.high = high

    def transform_input(self, X, feature_names):
        return (np.asarray(X, dtype=float) - self.low) / (self.high - self.low)
