"""seldon_serve.settings: Seldon's command line, environment and pod annotations."""

from __future__ import annotations

import pytest

from seldon_serve import settings

SELDON_VARIABLES = (
    "SELDON_LOG_LEVEL", "LOG_LEVEL", "SELDON_DEBUG", "GUNICORN_ACCESS_LOG", "GUNICORN_MAX_REQUESTS",
    "GUNICORN_MAX_REQUESTS_JITTER", "PAYLOAD_PASSTHROUGH", "REQUEST_TIMEOUT_SECONDS", "GRPC_MAX_MESSAGE_BYTES",
    "GUNICORN_KEEPALIVE", "HTTP_KEEPALIVE_SECONDS", "HTTP_MAX_CONNECTIONS", "HTTP_MAX_URL_BYTES",
    "HTTP_MAX_HEADER_BYTES", "GUNICORN_THREADS", "GRPC_WORKERS", "GRPC_THREADS",
)  # fmt: skip


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in SELDON_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def parse(*argv: str, annotations: str = "/nonexistent") -> settings.Settings:
    return settings.from_args(["MyModel", *argv], annotations_file=annotations)


def test_seldons_log_level_variable_wins_and_debug_means_debug(monkeypatch):
    assert parse().log_level == "INFO" and not parse().access_log
    assert parse("--debug").log_level == "DEBUG" and parse("--debug").access_log
    monkeypatch.setenv("SELDON_LOG_LEVEL", "warning")
    assert parse("--log-level", "ERROR").log_level == "WARNING"
    monkeypatch.setenv("SELDON_LOG_LEVEL", "LOUD")
    with pytest.raises(SystemExit, match="SELDON_LOG_LEVEL='LOUD'"):
        parse()


def test_keepalive_from_our_variable_else_seldons_else_the_contracts_default(monkeypatch):
    assert parse().keepalive_seconds == 75 and parse("--keepalive", "5").keepalive_seconds == 5
    monkeypatch.setenv("GUNICORN_KEEPALIVE", "2")
    assert parse().keepalive_seconds == 2
    monkeypatch.setenv("HTTP_KEEPALIVE_SECONDS", "30")
    assert parse().keepalive_seconds == 30 and parse("--keepalive", "0").keepalive_seconds == 0


def test_http_limits_are_read_and_must_be_positive(monkeypatch):
    defaults = parse()
    assert (defaults.max_connections, defaults.max_url_bytes, defaults.max_header_bytes) == (1000, 65536, 65536)
    monkeypatch.setenv("HTTP_MAX_CONNECTIONS", "8")
    monkeypatch.setenv("HTTP_MAX_URL_BYTES", "100")
    assert (parse().max_connections, parse().max_url_bytes) == (8, 100)
    monkeypatch.setenv("HTTP_MAX_HEADER_BYTES", "0")
    with pytest.raises(SystemExit, match="HTTP_MAX_HEADER_BYTES=0 must be at least 1"):
        parse()


def test_access_log_recycling_and_passthrough_from_flags_or_seldons_variables(monkeypatch):
    assert parse("--access-log").access_log and parse("--max-requests", "100").max_requests == 100
    monkeypatch.setenv("GUNICORN_ACCESS_LOG", "true")
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS", "50")
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS_JITTER", "5")
    monkeypatch.setenv("PAYLOAD_PASSTHROUGH", "True")
    config = parse()
    assert (config.access_log, config.max_requests, config.max_requests_jitter) == (True, 50, 5)
    assert config.payload_passthrough


def test_the_pods_annotations_set_the_timeout_and_message_size_unless_a_variable_does(monkeypatch, tmp_path):
    notes = tmp_path / "annotations"
    notes.write_text('seldon.io/rest-timeout="2500"\nseldon.io/grpc-max-message-size="1048576"\nother="x"\n')
    config = parse(annotations=str(notes))
    assert (config.request_timeout, config.max_message_bytes) == (2, 1048576)
    monkeypatch.setenv("REQUEST_TIMEOUT_SECONDS", "7")
    monkeypatch.setenv("GRPC_MAX_MESSAGE_BYTES", "2048")
    config = parse(annotations=str(notes))
    assert (config.request_timeout, config.max_message_bytes) == (7, 2048)
    notes.write_text('seldon.io/rest-timeout="soon"\n')
    with pytest.raises(SystemExit, match=r"seldon\.io/rest-timeout='soon' is not a number"):
        parse(annotations=str(notes))
    monkeypatch.delenv("REQUEST_TIMEOUT_SECONDS")
    assert parse(annotations=str(tmp_path / "absent")).request_timeout == settings.DEFAULT_REQUEST_TIMEOUT_SECONDS


def test_payload_passthrough_hands_predict_raw_the_body_and_answers_its_bytes(tmp_path):
    """PAYLOAD_PASSTHROUGH=true, served on this host: predict_raw gets the REST body undecoded
    (not even JSON) and its bytes are the answer; a model without predict_raw is served as usual."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import requests
    from test_wrapper_supervisor import wait_for

    from harness import free_port

    (tmp_path / "Reverser.py").write_text(
        "class Reverser:\n    def predict_raw(self, body):\n        return b'{\"reversed\": \"' + body[::-1] + b'\"}'\n"
    )
    http = free_port()
    command = [
        str(Path(sys.executable).with_name("seldon-core-microservice")), "Reverser", "--workers", "1",
        "--http-port", str(http), "--grpc-port", str(free_port()), "--metrics-port", str(free_port()),
    ]  # fmt: skip
    env = {**os.environ, "SELDON_GRPC_FRONT": "off", "PAYLOAD_PASSTHROUGH": "true"}
    log = tmp_path / "log"
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=out)
    try:
        predict = f"http://127.0.0.1:{http}/api/v1.0/predictions"
        answer = wait_for(lambda: requests.post(predict, data=b"abc not json", timeout=2))
        assert answer.status_code == 200 and answer.json() == {"reversed": "nosj ton cba"}
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, log.read_text()


def test_seldons_thread_settings_change_nothing_and_asking_for_more_than_one_is_warned_of(monkeypatch):
    assert parse().thread_settings_warning() is None
    assert parse("--threads", "1", "--single-threaded", "1").thread_settings_warning() is None
    monkeypatch.setenv("GUNICORN_THREADS", "8")
    monkeypatch.setenv("GRPC_WORKERS", "2")
    config = parse("--grpc-threads=4", "--workers", "3")
    assert config.unused_thread_settings == ("GUNICORN_THREADS=8", "GRPC_WORKERS=2", "--grpc-threads 4")
    warning = config.thread_settings_warning()
    assert warning is not None and warning.startswith("GUNICORN_THREADS=8, GRPC_WORKERS=2, --grpc-threads 4: no effect")
    assert "(GUNICORN_WORKERS or --workers, 3 now)" in warning
    assert parse("--threads", "2").unused_thread_settings[0] == "--threads 2"  # the flag wins over the variable
    monkeypatch.setenv("GRPC_THREADS", "many")
    with pytest.raises(SystemExit, match="GRPC_THREADS='many' is not a whole number"):
        parse()
