"""Install the pinned s2i CLI (versions.yaml tools.s2i) into .tools/bin.

`go install module@tag` refuses here when the module proxy will not list versions, so the
tagged module is downloaded and built with its own go.mod and go.sum -- the same dependency
versions upstream released -- and the build tags upstream's Makefile uses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .paths import TOOLS_DIR

S2I_MODULE = "github.com/openshift/source-to-image"
S2I_BUILD_TAGS = "exclude_graphdriver_btrfs exclude_graphdriver_devicemapper"


class ToolError(RuntimeError):
    pass


def s2i_path() -> Path:
    return TOOLS_DIR / "bin" / "s2i"


def installed_s2i_version(binary: Path) -> str | None:
    try:
        out = subprocess.run([str(binary), "version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.split()[-1] if out.strip() else None


def ensure_s2i(tag: str, *, say=print) -> Path:  # type: ignore[no-untyped-def]
    binary = s2i_path()
    if installed_s2i_version(binary) == tag:
        say(f"s2i {tag}: {binary}")
        return binary
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        raise ToolError("building s2i needs Go (https://go.dev/dl or apt-get install golang)")
    say(f"building s2i {tag} from the Go module proxy ...")
    info = _go(go, ["mod", "download", "-json", f"{S2I_MODULE}@{tag}"])
    source_dir = json.loads(info)["Dir"]
    with tempfile.TemporaryDirectory(prefix="s2i-src-") as tmp:
        work = Path(tmp) / "src"
        shutil.copytree(source_dir, work)
        for path in work.rglob("*"):
            path.chmod(path.stat().st_mode | 0o200)
        shutil.rmtree(work / "vendor", ignore_errors=True)  # the module zip carries only vendor/modules.txt
        binary.parent.mkdir(parents=True, exist_ok=True)
        ldflags = f"-X {S2I_MODULE}/pkg/version.versionFromGit={tag}"
        _go(
            go,
            ["build", "-mod=mod", "-tags", S2I_BUILD_TAGS, "-ldflags", ldflags, "-o", str(binary), "./cmd/s2i"],
            cwd=work,
        )
    if installed_s2i_version(binary) != tag:
        raise ToolError(f"built {binary} but `s2i version` does not report {tag}")
    say(f"s2i {tag}: {binary}")
    return binary


def _go(go: str, args: list[str], cwd: Path | None = None) -> str:
    env = {**os.environ, "GOFLAGS": "-mod=mod", "CGO_ENABLED": os.environ.get("CGO_ENABLED", "1")}
    result = subprocess.run([go, *args], cwd=cwd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.splitlines()[-15:])
        raise ToolError(f"go {' '.join(args[:3])} failed:\n{tail}")
    return result.stdout
