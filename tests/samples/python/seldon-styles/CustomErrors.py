import flask


class UserCustomException(Exception):
    """The exception of Seldon's custom error handling example: its own status and body."""

    def __init__(self, message, application_error_code, http_status_code=404):
        super().__init__(message)
        self.message = message
        self.application_error_code = application_error_code
        self.status_code = http_status_code

    def to_dict(self):
        return {"status": {"status": 1, "info": self.message, "code": self.application_error_code, "reason": "USER"}}


class CustomErrors:
    """Seldon's documented custom error handling: model_error_handler, a flask.Blueprint whose
    app_errorhandler answers the model's own exception with its status and body (REST). A string
    is refused that way; jsonData fails with an exception no handler takes (a 500)."""

    model_error_handler = flask.Blueprint("error_handlers", __name__)

    @model_error_handler.app_errorhandler(UserCustomException)
    def handle_custom_error(error):
        response = flask.jsonify(error.to_dict())
        response.status_code = error.status_code
        response.headers["X-Model-Error"] = str(error.application_error_code)
        return response

    def predict(self, X, features_names=None):
        if isinstance(X, str):
            raise UserCustomException(f"cannot predict from {X!r}", 1402, 418)
        if isinstance(X, dict):
            raise ValueError("no handler takes this one")
        return X
