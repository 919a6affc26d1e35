"""Errors and the Seldon error body they become on the wire."""

from __future__ import annotations

from typing import Any

from .contract import REASONS

BAD_DATA = REASONS["BAD_DATA"]
INTERNAL_ERROR = REASONS["INTERNAL_ERROR"]
BAD_PARAMETER = REASONS["BAD_PARAMETER"]
NOT_IMPLEMENTED = REASONS["NOT_IMPLEMENTED"]
BAD_METRIC = REASONS["BAD_METRIC"]


class SeldonMicroserviceException(Exception):
    """Raise from user code to answer with a chosen HTTP status and Seldon reason.

    `raise SeldonMicroserviceException("no such customer", status_code=404)` answers 404 with
    the Seldon error body instead of the 500 that any other exception gets.
    """

    status_code = 400  # a subclass may set its own, as Seldon's do

    # Seldon's signature, positions included: models written for it construct it this way.
    def __init__(self, message: str, status_code: int | None = None, payload: Any = None, reason: str = BAD_DATA):
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.reason = reason
        self.payload = payload

    def to_dict(self) -> dict[str, Any]:
        return error_body(self.message, self.reason)


class BadRequest(SeldonMicroserviceException):
    """The request could not be decoded or does not fit the verb: HTTP 400."""

    def __init__(self, message: str):
        super().__init__(message, status_code=400, reason=BAD_DATA)


class NotSupported(SeldonMicroserviceException):
    """The component's service type or class does not offer this verb."""

    def __init__(self, message: str, status_code: int = 404):
        super().__init__(message, status_code=status_code, reason=NOT_IMPLEMENTED)


class MethodNotAllowed(SeldonMicroserviceException):
    """The path exists but does not take this HTTP method: 405, with the methods it takes (Allow)."""

    def __init__(self, method: str, allowed: tuple[str, ...]):
        super().__init__(f"this endpoint takes {' or '.join(allowed)}, not {method}", status_code=405)
        self.allowed = allowed


class UserCodeError(SeldonMicroserviceException):
    """An exception escaped the user's code: HTTP 500 with its message."""

    def __init__(self, exc: BaseException):
        # Errors from another language's code name their own kind (an R condition class).
        kind = getattr(exc, "error_class", None) or type(exc).__name__
        super().__init__(f"{kind}: {exc}", status_code=500, reason=INTERNAL_ERROR)


# The exit status of a worker that cannot start: its supervisor stops the service rather than
# starting it again.
EXIT_CANNOT_START = 2


class StartupError(RuntimeError):
    """The microservice cannot start; the message tells the user what to fix."""

    def __init__(self, message: str, reason: str = INTERNAL_ERROR):
        super().__init__(message)
        self.reason = reason


def error_body(info: str, reason: str) -> dict[str, Any]:
    # Seldon's error body: status 1 is FAILURE, code -1 marks an error raised by the wrapper.
    return {"status": {"status": 1, "info": info, "code": -1, "reason": reason}}


def http_headers(exc: SeldonMicroserviceException) -> tuple[tuple[bytes, bytes], ...]:
    """The header lines an error's HTTP answer carries besides the body: a 405's Allow."""
    if isinstance(exc, MethodNotAllowed):
        return ((b"Allow", ", ".join(exc.allowed).encode()),)
    return ()
