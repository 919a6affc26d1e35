"""The Seldon Core release whose python wrapper (`seldon_core`) this package stands in for: the
one versions.yaml pins (tools.seldon-core), which the differential tests compare with, written
into the package when its wheel is built."""

from importlib import resources

SELDON_CORE_VERSION = resources.files(__package__).joinpath("SELDON_CORE_VERSION").read_text().strip()

__version__ = SELDON_CORE_VERSION
