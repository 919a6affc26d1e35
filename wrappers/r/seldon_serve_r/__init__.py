"""Serve an R model (MyModel.R) over the Seldon microservice API through seldon_serve.

seldon_serve finds this package by its entry point (group `seldon_serve.languages`, name
`R`) when MODEL_NAME names an R file; R itself starts in each worker, on first use.
"""

from .model import define

__all__ = ["define"]
