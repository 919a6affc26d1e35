class MyModel:
    """The seed's identity model: answers every prediction with its input.

    Load model parameters in __init__ from a location the running container can reach.
    """

    def __init__(self):
        print("Initializing")

    def predict(self, X, feature_names):
        """Return a prediction for X (a numpy array); feature_names may be empty."""
        return X
