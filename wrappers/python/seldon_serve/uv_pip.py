"""`python -m seldon_serve.uv_pip install ARGS...`: `uv pip install ARGS...` with the settings
pip itself would use -- PIP_* variables, PIP_CONFIG_FILE, pip.conf in any of pip's places --
since uv reads none of them. The builder images' assemble installs a model's requirements with
it. Settings are read with `pip config list`, so they mean what they mean to pip."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

# pip's options, each turned into uv's command-line arguments.
AS_ARGUMENTS = {
    "index-url": lambda value: ["--default-index", value],
    "extra-index-url": lambda value: [arg for url in value.split() for arg in ("--index", url)],
    "trusted-host": lambda value: [arg for host in value.split() for arg in ("--allow-insecure-host", host)],
    "find-links": lambda value: [arg for place in value.split() for arg in ("--find-links", place)],
    "no-index": lambda value: ["--no-index"] if _true(value) else [],
    "pre": lambda value: ["--prerelease", "allow"] if _true(value) else [],
}
# pip's options that are variables to uv. pip's own setting wins over the standard variable (as
# in pip); a UV_* variable the user set wins over pip's.
AS_VARIABLES = {
    "cert": ("SSL_CERT_FILE",),
    "proxy": ("HTTPS_PROXY", "HTTP_PROXY"),
    "timeout": ("UV_HTTP_TIMEOUT",),
    "default-timeout": ("UV_HTTP_TIMEOUT",),
    "retries": ("UV_HTTP_RETRIES",),
}
# Set by this image or harmless to uv: not worth a warning. (`installer` is PIP_INSTALLER, the
# image's own choice of installer, which pip reads as an option of that name.)
IGNORED = {
    "installer", "config-file", "disable-pip-version-check", "no-input", "no-cache-dir", "constraint",
    "quiet", "verbose", "progress-bar", "root-user-action", "no-warn-script-location",
}  # fmt: skip


def _true(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def pip_settings() -> dict[str, str]:
    """pip's effective settings for `pip install`: its variables over its [install] section over
    its [global] one, files in pip's own order of precedence."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    by_section: dict[str, dict[str, str]] = {":env:": {}, "install": {}, "global": {}}
    for line in listed.splitlines():
        key, _, shown = line.partition("=")
        section, _, name = key.rpartition(".")
        if section in by_section and shown:
            by_section[section][name] = str(ast.literal_eval(shown))
    return {**by_section["global"], **by_section["install"], **by_section[":env:"]}


def masked(text: str) -> str:
    """A URL's user and password as ***, as the build log shows them."""
    return re.sub(r"://[^/@\s]+@", "://***@", text)


def uv_command(arguments: list[str], settings: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    command = ["uv", "pip", "install", *arguments]
    environment = dict(os.environ)
    translated: list[str] = []
    for name, value in settings.items():
        if name in AS_ARGUMENTS:
            translated += AS_ARGUMENTS[name](value)
        elif name in AS_VARIABLES:
            for variable in AS_VARIABLES[name]:
                if not (variable.startswith("UV_") and variable in environment):
                    environment[variable] = value
        elif name not in IGNORED:
            print(
                f"---> pip setting {name!r} has no uv equivalent here and is not used "
                "(PIP_INSTALLER=pip installs with pip, which reads it)",
                file=sys.stderr,
            )
    # pip takes the best version from every index it is given; uv, by default, the first index
    # that has the package. Extra indexes keep pip's meaning unless UV_INDEX_STRATEGY says otherwise.
    if "extra-index-url" in settings:
        environment.setdefault("UV_INDEX_STRATEGY", "unsafe-best-match")
    if translated:
        print(f"---> pip's settings, for uv: {masked(' '.join(translated))}", file=sys.stderr)
    return command + translated, environment


def main() -> int:
    if sys.argv[1:2] != ["install"]:
        print("usage: python -m seldon_serve.uv_pip install [uv pip install arguments...]", file=sys.stderr)
        return 2
    command, environment = uv_command(sys.argv[2:], pip_settings())
    os.execvpe(command[0], command, environment)


if __name__ == "__main__":
    sys.exit(main())
