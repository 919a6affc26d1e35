"""Serve a user's Python class over the Seldon v1 microservice API, REST and gRPC."""

from importlib.metadata import PackageNotFoundError, version

from .errors import SeldonMicroserviceException

__all__ = ["SeldonMicroserviceException"]
try:
    __version__ = version("seldon-serve")  # the release in versions.yaml, given to the wheel at build
except PackageNotFoundError:  # imported from a source tree, not installed
    __version__ = "unknown"
