"""Generate the gRPC stubs from wrappers/proto/ while the wheel is built, and bring along the
REST contract (openapi.yaml) that the wrapper serves at /seldon.json.

The contract lives once, in ../proto, for every language's wrapper; nothing generated or copied is
committed. protoc writes top-level imports (`import tf_tensor_pb2`), which are rewritten to
package-relative ones so the stubs cannot collide with another package's modules.
"""

import re
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
PROTO_DIR = HERE.parent / "proto"
OUT_DIR = HERE / "seldon_serve" / "proto"
TOP_LEVEL_IMPORT = re.compile(r"^import (\w+_pb2) as (\w+)$", re.MULTILINE)


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
        shutil.copyfile(PROTO_DIR / "openapi.yaml", Path(self.build_lib) / "seldon_serve" / "proto" / "openapi.yaml")


setup(cmdclass={"build_py": BuildPyWithStubs})
