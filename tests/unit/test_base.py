"""s2ibuilders.base: what a debootstrapped root file system keeps before it is imported."""

from s2ibuilders import base


def test_slim_down_removes_caches_docs_and_locales_and_configures_apt(tmp_path):
    rootfs = tmp_path
    for path in (
        "var/cache/apt/pkgcache.bin",
        "var/cache/apt/archives/python3_3.11.deb",
        "var/cache/apt/archives/lock",
        "var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease",
        "usr/share/doc/bash/copyright",
        "usr/share/locale/de/LC_MESSAGES/bash.mo",
        "usr/share/locale/locale.alias",
        "etc/dpkg/dpkg.cfg.d/.keep",
        "etc/apt/apt.conf.d/.keep",
    ):
        (rootfs / path).parent.mkdir(parents=True, exist_ok=True)
        (rootfs / path).write_text("x")
    base._slim_down(rootfs, "bookworm", base.DEFAULT_MIRROR)
    left = sorted(str(p.relative_to(rootfs)) for p in rootfs.rglob("*") if p.is_file() and p.name != ".keep")
    assert left == [
        "etc/apt/apt.conf.d/docker-clean",
        "etc/apt/apt.conf.d/slim",
        "etc/apt/sources.list",
        "etc/dpkg/dpkg.cfg.d/slim",
        "usr/share/locale/locale.alias",
        "var/cache/apt/archives/lock",
    ]
    sources = (rootfs / "etc/apt/sources.list").read_text()
    assert (
        "bookworm main" in sources and "bookworm-updates" in sources and "debian-security bookworm-security" in sources
    )
    assert 'Dir::Cache::pkgcache ""' in (rootfs / "etc/apt/apt.conf.d/docker-clean").read_text()
