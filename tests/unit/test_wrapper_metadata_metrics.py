"""seldon_serve.metadata, .metrics (validation) and the REST multipart reader."""

import base64

import pytest

from seldon_serve import metadata, metrics, rest, settings
from seldon_serve.errors import BadRequest, SeldonMicroserviceException, StartupError


def test_metadata_defaults_come_from_the_unit_image(monkeypatch):
    monkeypatch.setenv("PREDICTIVE_UNIT_IMAGE", "registry.example/team/iris-model:1.4")
    monkeypatch.delenv("MODEL_METADATA", raising=False)
    merged = metadata.merge("IrisModel", None)
    assert merged == {
        "name": "iris-model",
        "versions": ["1.4"],
        "platform": "seldon",
        "inputs": [],
        "outputs": [],
        "custom": {},
    }


def test_environment_overrides_the_user_which_overrides_defaults(monkeypatch):
    monkeypatch.delenv("PREDICTIVE_UNIT_IMAGE", raising=False)
    monkeypatch.setenv("MODEL_METADATA", '{"platform": "sklearn", "custom": {"n": 1}}')
    merged = metadata.merge("M", {"name": "mine", "platform": "custom", "versions": ["v2"]})
    assert merged["name"] == "mine" and merged["versions"] == ["v2"]
    assert merged["platform"] == "sklearn" and merged["custom"] == {"n": "1"}


@pytest.mark.parametrize(
    ("user", "env", "message"),
    [
        ({"colour": "red"}, "", "unknown field(s) colour"),
        ({"inputs": "x"}, "", "inputs must be a list of mappings"),
        ({"versions": "v1"}, "", "versions must be a list"),
        (None, "[1, 2]", "MODEL_METADATA must be a mapping"),
        (None, "name: [unclosed", "neither YAML nor JSON"),
        ([], "", "init_metadata() must return a dict"),
    ],
)
def test_bad_metadata_stops_start_up(monkeypatch, user, env, message):
    monkeypatch.setenv("MODEL_METADATA", env)
    with pytest.raises(StartupError) as excinfo:
        metadata.merge("M", user)
    assert message in str(excinfo.value)


def test_user_metrics_are_validated_and_normalised():
    checked = metrics.validate([{"key": "k", "type": "GAUGE", "value": 3, "tags": {"a": 1}}, {"key": "c", "value": 1}])
    assert checked == [
        {"key": "k", "type": "GAUGE", "value": 3.0, "tags": {"a": "1"}},
        {"key": "c", "type": "COUNTER", "value": 1.0},
    ]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"key": "k"}, "expected a list"),
        ([{"type": "COUNTER", "value": 1}], "needs a string key"),
        ([{"key": "k", "type": "HISTO", "value": 1}], "type 'HISTO'"),
        ([{"key": "k", "value": "1"}], "values are numbers"),
        ([{"key": "k", "value": True}], "values are numbers"),
        ([{"key": "k", "value": 1, "tags": ["a"]}], "tags are a mapping"),
    ],
)
def test_bad_user_metrics_are_a_500_naming_the_problem(value, fragment):
    with pytest.raises(SeldonMicroserviceException) as excinfo:
        metrics.validate(value)
    assert excinfo.value.status_code == 500 and fragment in excinfo.value.message


def multipart(parts: list[tuple[str, bytes, str | None]]) -> tuple[bytes, bytes]:
    boundary = "XyZ123"
    body = b""
    for name, content, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}".encode(), body


def test_multipart_parts_become_message_fields():
    content_type, body = multipart([("binData", b"\x00\xffraw", "f.bin"), ("meta", b'{"puid": "m1"}', None)])
    assert rest.multipart_message(content_type, body) == {
        "binData": base64.b64encode(b"\x00\xffraw").decode(),
        "meta": {"puid": "m1"},
    }
    content_type, body = multipart([("json", b'{"strData": "hi"}', None)])
    assert rest.multipart_message(content_type, body) == {"strData": "hi"}


def test_multipart_errors_are_bad_requests():
    content_type, body = multipart([("meta", b"{nope", None)])
    with pytest.raises(BadRequest, match="part 'meta' is not JSON"):
        rest.multipart_message(content_type, body)
    with pytest.raises(BadRequest, match="without parts"):
        rest.multipart_message(b"multipart/form-data; boundary=other", b"no parts here")


def test_cpu_quota_reads_cgroup_v2(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert settings.cpu_quota(tmp_path) == 1
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert settings.cpu_quota(tmp_path) >= 1


def test_a_user_metric_with_dashes_in_its_key_and_tags_keeps_the_scrape_parseable():
    import prometheus_client as prom
    from prometheus_client.parser import text_string_to_metric_families

    recorder = metrics.Metrics()
    recorder.record_user(
        metrics.validate([{"key": "my-metric", "value": 2, "tags": {"model-version": "v1", "9lives": "x"}}])
    )
    families = {family.name: family for family in text_string_to_metric_families(prom.generate_latest().decode())}
    (sample,) = [s for s in families["my_metric"].samples if s.name == "my_metric_total"]
    assert sample.labels["model_version"] == "v1" and sample.labels["_9lives"] == "x"
    assert sample.value == 2
