"""Serve a user's Python class over the Seldon v1 microservice API, REST and gRPC."""

from .errors import SeldonMicroserviceException

__all__ = ["SeldonMicroserviceException"]
__version__ = "0.1.0"
