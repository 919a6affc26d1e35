"""What only the R builder images promise, checked inside them with testinfra."""

from __future__ import annotations

FAMILIES = {"r"}


def r(host, expression: str) -> str:
    return host.check_output(f"Rscript -e '{expression}'")


def test_the_user_library_comes_first_and_is_group_writable(host):
    assert r(host, "cat(.libPaths()[1])") == "/opt/app-root/R-library"
    library = host.file("/opt/app-root/R-library")
    assert library.gid == 0 and library.mode & 0o070 == 0o070


def test_install_packages_uses_cran_mirror(host):
    script = 'cat(getOption("repos")[["CRAN"]])'
    assert (
        host.check_output(f"CRAN_MIRROR=https://cran.example.org Rscript -e '{script}'") == "https://cran.example.org"
    )


def test_r_reaches_the_wrapper_through_rpy2(host):
    code = (
        "from seldon_serve_r import runtime; ri = runtime.session(); "
        'print(ri.evalr(\'exists(\\"seldon_error\\") && requireNamespace(\\"jsonlite\\", quietly = TRUE)\')[0])'
    )
    assert host.check_output(f'python -c "{code}"') == "True"


def test_no_compilers_are_left_in_the_image(host):
    """rpy2 is compiled in a build stage; Debian's r-cran-* packages come prebuilt."""
    for tool in ("gcc", "cc", "g++", "gfortran", "make"):
        assert not host.exists(tool), tool
