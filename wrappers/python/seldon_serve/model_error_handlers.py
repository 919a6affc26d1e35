"""A model's own error handlers: Seldon's wrapper registers a model's `model_error_handler` -- a
flask.Blueprint whose app_errorhandler functions turn the model's exceptions into responses of
its choosing -- on its Flask app. Here a Flask app of the model's own holds that blueprint, and
is asked for the answer to an exception a REST request's model call raised (gRPC answers as
Seldon's does, with the exception's message). Flask is the model's own requirement (Seldon's
images had it through seldon-core), imported only for a model that has such a blueprint.
"""

from __future__ import annotations

import logging
from typing import Any

from .errors import StartupError
from .http_server import Response

log = logging.getLogger(__name__)

# Written by the server itself from the body it sends.
_SERVER_HEADERS = frozenset(("content-type", "content-length"))


class ModelErrorHandlers:
    def __init__(self, blueprint: Any):
        import flask  # the model imported it already, to make the blueprint

        self._app = flask.Flask("seldon_serve.model_error_handler")
        self._app.register_blueprint(blueprint)

    def response(self, exc: BaseException) -> Response | None:
        """The model's handler's answer to exc, or None when it has no handler for it (or the
        handler itself fails, which is logged): the wrapper's own answer stands."""
        if not isinstance(exc, Exception):
            return None
        with self._app.test_request_context():
            try:
                answer = self._app.make_response(self._app.handle_user_exception(exc))
            except Exception as raised:
                if raised is not exc:
                    log.exception("the model's error handler for %s failed", type(exc).__name__)
                return None
        headers = tuple(
            (name.encode(), value.encode("latin-1"))
            for name, value in answer.headers.items()
            if name.lower() not in _SERVER_HEADERS
        )
        return Response(answer.status_code, (answer.content_type or "").encode(), answer.get_data(), headers)


def of_model(user: Any) -> ModelErrorHandlers | None:
    """The handlers of a model with a `model_error_handler` blueprint, else None."""
    blueprint = getattr(user, "model_error_handler", None)
    if blueprint is None:
        return None
    try:
        return ModelErrorHandlers(blueprint)
    except Exception as exc:
        raise StartupError(
            f"{type(user).__name__}.model_error_handler cannot be registered on a Flask app "
            f"(it must be a flask.Blueprint, with Flask in the model's requirements): {type(exc).__name__}: {exc}"
        ) from None
