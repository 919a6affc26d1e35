from seldon_core.user_model import SeldonComponent


class EchoComponent(SeldonComponent):
    """Seldon's base class with nothing overridden but predict: every other hook is inherited
    and raises SeldonNotImplementedError, which means "not implemented"."""

    def predict(self, X, features_names, **kwargs):
        return X
