"""Version the R plugin with the project's release, as seldon-serve is (../python/setup.py)."""

import importlib.util
from pathlib import Path

from setuptools import setup

_PYTHON_SETUP = Path(__file__).resolve().parents[1] / "python" / "setup.py"
_spec = importlib.util.spec_from_file_location("seldon_serve_setup", _PYTHON_SETUP)
_python_setup = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_python_setup)

setup(version=_python_setup.release())
