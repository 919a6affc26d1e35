from seldon_core.user_model import SeldonComponent


class InheritedRoute(SeldonComponent):
    """A model deployed as a router by mistake: route is SeldonComponent's, which raises."""

    def predict(self, X, features_names):
        return X

    def tags(self):
        return {"style": "component"}
