class ClassNamesAttribute:
    """Seldon's older style: class_names as a list attribute, not a method."""

    def __init__(self):
        self.class_names = ["first", "second"]

    def predict(self, X, feature_names):
        return X
