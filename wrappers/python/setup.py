"""Generate the gRPC stubs from wrappers/proto/ while the wheel is built, bring along the REST
contract (openapi.yaml, served at /seldon.json) and the contract's facts (contract.yaml), version
the wheel with the project's release and tell seldon_core which Seldon release it stands in for
(both from versions.yaml).

The contract lives once, in ../proto, for every language's wrapper; nothing generated or copied is
committed. protoc writes top-level imports (`import tf_tensor_pb2`), which are rewritten to
package-relative ones so the stubs cannot collide with another package's modules.
"""

import os
import re
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
PROTO_DIR = HERE.parent / "proto"
OUT_DIR = HERE / "seldon_serve" / "proto"
TOP_LEVEL_IMPORT = re.compile(r"^import (\w+_pb2) as (\w+)$", re.MULTILINE)
CARRIED = ("openapi.yaml", "contract.yaml")  # read by the wrapper at run time
SELDON_CORE_VERSION_FILE = "SELDON_CORE_VERSION"  # written into seldon_core, read by seldon_core.version
VERSIONS_FILE = HERE.parents[1] / "versions.yaml"  # in the repository; an image's build passes the release


def release() -> str:
    """This project's release, which versions the wheel."""
    return from_versions("SELDON_SERVE_VERSION", "release", r'^release:\s*"?([^"\s#]+)')


def seldon_core_release() -> str:
    """The Seldon Core release whose API the seldon_core package stands in for."""
    return from_versions("SELDON_CORE_VERSION", "tools.seldon-core", r'^\s+seldon-core:\s*"?([^"\s#]+)')


def from_versions(variable: str, key: str, pattern: str) -> str:
    """A value of versions.yaml: the variable when the image's build sets it (its context holds
    no versions.yaml), else read from the repository's versions.yaml."""
    if os.environ.get(variable):
        return os.environ[variable]
    text = VERSIONS_FILE.read_text() if VERSIONS_FILE.exists() else ""
    found = re.search(pattern, text, re.MULTILINE)
    if not found:
        raise SystemExit(f"no {key}: set {variable}, or build from the repository (no {VERSIONS_FILE})")
    return found.group(1)


def generate_stubs() -> None:
    from grpc_tools import protoc  # a build requirement (pyproject.toml)

    protos = sorted(str(p) for p in PROTO_DIR.glob("*.proto"))
    if not protos:
        raise SystemExit(f"no .proto files in {PROTO_DIR}: the wrapper is built from the repository layout")
    include = str(Path(protoc.__file__).parent / "_proto")
    args = ["protoc", f"-I{PROTO_DIR}", f"-I{include}", f"--python_out={OUT_DIR}", f"--grpc_python_out={OUT_DIR}"]
    if protoc.main(args + protos) != 0:
        raise SystemExit("protoc failed on " + ", ".join(protos))
    for stub in OUT_DIR.glob("*_pb2*.py"):
        stub.write_text(TOP_LEVEL_IMPORT.sub(r"from . import \1 as \2", stub.read_text()))


class BuildPyWithStubs(build_py):
    def run(self) -> None:
        generate_stubs()
        super().run()
        # Into the build tree, not the source tree: the source stays as git has it.
        for name in CARRIED:
            shutil.copyfile(PROTO_DIR / name, Path(self.build_lib) / "seldon_serve" / "proto" / name)
        (Path(self.build_lib) / "seldon_core" / SELDON_CORE_VERSION_FILE).write_text(seldon_core_release() + "\n")


if __name__ == "__main__":  # as setuptools runs it; the R plugin's setup.py imports release()
    setup(version=release(), cmdclass={"build_py": BuildPyWithStubs})
