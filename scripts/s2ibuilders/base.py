"""Make sure every base image named in versions.yaml exists in the local engine.

In order: use it if present; pull it if a registry answers; otherwise build the same Debian
release from Debian's packages (debootstrap --variant=minbase) and import it under that name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import docker
import docker.errors

from .config import Base

DEFAULT_MIRROR = "http://deb.debian.org/debian"

# Like the official -slim images: no docs, man pages or translations in any later layer.
_DPKG_SLIM = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
"""
_APT_SLIM = """\
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
"""
# As the official images do: downloaded packages and apt's binary caches leave no layer.
_CLEAN_CMD = "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"
_APT_CLEAN = f"""\
DPkg::Post-Invoke {{ "{_CLEAN_CMD}"; }};
APT::Update::Post-Invoke {{ "{_CLEAN_CMD}"; }};
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
"""


class BaseImageError(RuntimeError):
    pass


def ensure(base: Base, client: docker.DockerClient, *, say=print) -> str:  # type: ignore[no-untyped-def]
    """Returns how the base came to be there: 'present', 'pulled' or 'debootstrapped'."""
    try:
        client.images.get(base.image)
        say(f"{base.image}: present in the local engine")
        return "present"
    except docker.errors.ImageNotFound:
        pass
    repository, _, tag = base.image.partition(":")
    try:
        client.images.pull(repository, tag=tag or "latest")
        say(f"{base.image}: pulled from a registry")
        return "pulled"
    except docker.errors.APIError as exc:
        say(f"{base.image}: no registry answered ({_first_line(exc)}); building it with debootstrap")
    debootstrap(base, client, say=say)
    return "debootstrapped"


def debootstrap(base: Base, client: docker.DockerClient, *, say=print) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("debootstrap") is None:
        raise BaseImageError(
            "debootstrap is not installed (apt-get install debootstrap) and no registry has " + base.image
        )
    if os.geteuid() != 0:
        raise BaseImageError(f"debootstrap needs root to build {base.image}")
    mirror = os.environ.get("DEBIAN_MIRROR", DEFAULT_MIRROR)
    with tempfile.TemporaryDirectory(prefix=f"rootfs-{base.suite}-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        cmd = ["debootstrap", "--variant=minbase", base.suite, str(rootfs), mirror]
        say("$ " + " ".join(cmd))
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
            raise BaseImageError(f"debootstrap {base.suite} failed (exit {result.returncode}):\n{tail}")
        _slim_down(rootfs, base.suite, mirror)
        archive = Path(tmp) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            for entry in sorted(rootfs.iterdir()):
                tar.add(entry, arcname=entry.name, filter=_skip_virtual_filesystems)
        # The tag goes inside `repository` (the API allows it): podman's Docker API ignores `tag`.
        client.api.import_image_from_file(str(archive), repository=base.image, changes=['CMD ["bash"]'])
    say(f"{base.image}: imported ({_size_mb(client, base.image)} MB)")


def _slim_down(rootfs: Path, suite: str, mirror: str) -> None:
    (rootfs / "etc/dpkg/dpkg.cfg.d/slim").write_text(_DPKG_SLIM)
    (rootfs / "etc/apt/apt.conf.d/slim").write_text(_APT_SLIM)
    (rootfs / "etc/apt/apt.conf.d/docker-clean").write_text(_APT_CLEAN)
    security = "http://deb.debian.org/debian-security" if mirror == DEFAULT_MIRROR else mirror + "-security"
    (rootfs / "etc/apt/sources.list").write_text(
        f"deb {mirror} {suite} main\ndeb {mirror} {suite}-updates main\ndeb {security} {suite}-security main\n"
    )
    junk = ("var/cache/apt", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info")
    junk += ("usr/share/locale",)
    keep = {"lock", "partial", "archives", "locale.alias"}
    for folder in junk:
        for path in (rootfs / folder).glob("*"):
            if path.name in keep:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    for deb in (rootfs / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()


def _skip_virtual_filesystems(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    # The engine supplies /dev, /proc and /sys; device nodes in a layer are refused.
    top, _, rest = info.name.partition("/")
    if top in {"dev", "proc", "sys"} and rest:
        return None
    return info


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:160]


def _size_mb(client: docker.DockerClient, image: str) -> int:
    return round(client.images.get(image).attrs["Size"] / 1e6)
