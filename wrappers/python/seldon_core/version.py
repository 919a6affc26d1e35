"""The Seldon Core release whose python wrapper (`seldon_core`) this package stands in for."""

SELDON_CORE_VERSION = "1.18.2"

__version__ = SELDON_CORE_VERSION
