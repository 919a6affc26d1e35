"""seldon_serve.uv_pip: the settings pip would use (PIP_* variables, pip.conf) handed to uv, which
reads neither. pip's own `pip config list` reads them, from this venv's pip."""

from __future__ import annotations

import os

import pytest

from seldon_serve import uv_pip

pytestmark = pytest.mark.unit


@pytest.fixture
def pip_conf(tmp_path, monkeypatch):
    """A pip.conf named by PIP_CONFIG_FILE, with no other PIP_* variable or file in the way."""
    for name in list(os.environ):
        if name.startswith(("PIP_", "UV_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    conf = tmp_path / "pip.conf"
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    return conf


def test_a_pip_conf_and_pip_variables_become_uvs_arguments(pip_conf, monkeypatch):
    pip_conf.write_text(
        "[global]\n"
        "index-url = https://user:pw@mirror.example/simple\n"
        "extra-index-url = https://a.example/simple\n    https://b.example/simple\n"
        "trusted-host = a.example b.example\n"
        "timeout = 7\n"
        "[install]\n"
        "index-url = https://install.example/simple\n"
    )
    monkeypatch.setenv("PIP_FIND_LINKS", "/whl")
    settings = uv_pip.pip_settings()
    assert settings["index-url"] == "https://install.example/simple"  # [install] over [global], as in pip
    command, environment = uv_pip.uv_command(["-r", "requirements.txt"], settings)
    assert command[:5] == ["uv", "pip", "install", "-r", "requirements.txt"]
    pairs = list(zip(command[5::2], command[6::2], strict=True))
    assert ("--default-index", "https://install.example/simple") in pairs
    assert ("--index", "https://a.example/simple") in pairs and ("--index", "https://b.example/simple") in pairs
    assert ("--allow-insecure-host", "a.example") in pairs and ("--allow-insecure-host", "b.example") in pairs
    assert ("--find-links", "/whl") in pairs
    assert environment["UV_HTTP_TIMEOUT"] == "7"
    # pip picks the best version over every index it is given; so does uv, told to.
    assert environment["UV_INDEX_STRATEGY"] == "unsafe-best-match"


def test_credentials_in_an_index_url_are_not_shown(pip_conf, capsys):
    pip_conf.write_text("[global]\nindex-url = https://builder:s3cret@mirror.example/simple\n")
    command, _ = uv_pip.uv_command([], uv_pip.pip_settings())
    assert command[-1] == "https://builder:s3cret@mirror.example/simple"
    shown = capsys.readouterr().err
    assert "pip's settings, for uv: --default-index https://***@mirror.example/simple" in shown
    assert "s3cret" not in shown


def test_a_pip_variable_wins_over_the_file(pip_conf, monkeypatch):
    pip_conf.write_text("[global]\nindex-url = https://file.example/simple\n")
    monkeypatch.setenv("PIP_INDEX_URL", "https://variable.example/simple")
    command, environment = uv_pip.uv_command([], uv_pip.pip_settings())
    assert command[3:] == ["--default-index", "https://variable.example/simple"]
    assert "UV_INDEX_STRATEGY" not in environment  # one index: nothing to choose between


def test_certificates_and_proxies_go_where_uv_reads_them(pip_conf, monkeypatch):
    pip_conf.write_text("[global]\ncert = /corp/ca.pem\nproxy = http://proxy:3128\nretries = 0\n")
    monkeypatch.setenv("UV_HTTP_RETRIES", "2")
    _, environment = uv_pip.uv_command([], uv_pip.pip_settings())
    assert environment["SSL_CERT_FILE"] == "/corp/ca.pem"
    assert environment["HTTPS_PROXY"] == environment["HTTP_PROXY"] == "http://proxy:3128"
    assert environment["UV_HTTP_RETRIES"] == "2"  # the user's UV_* setting wins


def test_a_pip_setting_uv_cannot_honour_is_named(pip_conf, capsys):
    pip_conf.write_text("[global]\nno-binary = :all:\n")
    command, _ = uv_pip.uv_command([], uv_pip.pip_settings())
    assert command == ["uv", "pip", "install"]
    assert "pip setting 'no-binary' has no uv equivalent" in capsys.readouterr().err


def test_the_images_own_pip_variables_are_not_taken_for_pip_settings(pip_conf, monkeypatch, capsys):
    """PIP_INSTALLER and PIP_CONSTRAINT are the image's; pip lists them as options all the same."""
    monkeypatch.setenv("PIP_INSTALLER", "uv")
    monkeypatch.setenv("PIP_CONSTRAINT", "/opt/app-root/wrapper-constraints.txt")
    command, _ = uv_pip.uv_command([], uv_pip.pip_settings())
    assert command == ["uv", "pip", "install"]
    assert capsys.readouterr().err == ""


def test_anything_but_install_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["uv_pip", "sync"])
    assert uv_pip.main() == 2
    assert "usage: python -m seldon_serve.uv_pip install" in capsys.readouterr().err
