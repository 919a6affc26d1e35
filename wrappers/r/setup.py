"""Version the R plugin with the project's release, as seldon-serve is (../python/setup.py)."""

import runpy
from pathlib import Path

from setuptools import setup

setup(version=runpy.run_path(str(Path(__file__).resolve().parents[1] / "python" / "setup.py"))["release"]())
