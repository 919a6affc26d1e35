"""seldon_serve.component: finding the user's class and its parameters."""

import pytest

from seldon_serve import component
from seldon_serve.check import main as check_main
from seldon_serve.errors import BAD_PARAMETER, StartupError


def test_parameters_are_converted_by_their_declared_type():
    raw = (
        '[{"name": "n", "value": "3", "type": "INT"}, {"name": "f", "value": "0.5", "type": "FLOAT"},'
        ' {"name": "s", "value": "x", "type": "STRING"}, {"name": "b", "value": "true", "type": "BOOL"},'
        ' {"name": "d", "value": "1e-3", "type": "DOUBLE"}]'
    )
    assert component.parse_parameters(raw) == {"n": 3, "f": 0.5, "s": "x", "b": True, "d": 0.001}
    assert component.parse_parameters(None) == {} and component.parse_parameters("  ") == {}


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ('[{"name": "n", "value": "three", "type": "INT"}]', "parameter 'n': 'three' is not a valid INT"),
        ('[{"name": "b", "value": "maybe", "type": "BOOL"}]', "parameter 'b': 'maybe' is not a valid BOOL"),
        ('[{"name": "x", "value": "1", "type": "COMPLEX"}]', "parameter 'x': unknown type 'COMPLEX'"),
        ('{"name": "x"}', "must be a JSON list"),
        ("[{", "is not JSON"),
        ('[{"value": "1"}]', "needs a name and a value"),
    ],
)
def test_bad_parameters_fail_start_up_naming_the_parameter(raw, error):
    with pytest.raises(StartupError) as excinfo:
        component.parse_parameters(raw)
    assert error in str(excinfo.value) and excinfo.value.reason == BAD_PARAMETER


def write_module(tmp_path, name, source):
    (tmp_path / f"{name}.py").write_text(source)
    return str(tmp_path)


def test_import_class_by_bare_name_and_dotted_path(tmp_path):
    path = write_module(tmp_path, "Bare", "class Bare:\n    pass\n")
    assert component.import_class("Bare", path).__name__ == "Bare"
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "models.py").write_text("class Deep:\n    pass\n")
    assert component.import_class("pkg.models.Deep", path).__name__ == "Deep"


def test_import_errors_say_what_is_wrong(tmp_path):
    path = write_module(tmp_path, "Typo", "class Other:\n    pass\n")
    with pytest.raises(StartupError, match=r"Typo defines no class Typo \(classes found: Other\)"):
        component.import_class("Typo", path)
    with pytest.raises(StartupError, match=r"cannot find Absent: no Absent.py in"):
        component.import_class("Absent", path)
    write_module(tmp_path, "NeedsDep", "import not_installed_anywhere\nclass NeedsDep: pass\n")
    with pytest.raises(StartupError, match="needs module 'not_installed_anywhere', which is not installed"):
        component.import_class("NeedsDep", path)
    write_module(tmp_path, "Broken", "class Broken(:\n")
    with pytest.raises(StartupError, match="importing Broken failed: SyntaxError"):
        component.import_class("Broken", path)


def test_constructor_errors_name_the_class():
    class Model:
        def __init__(self, alpha):
            self.alpha = alpha

    with pytest.raises(StartupError, match=r"Model\(beta\) failed"):
        component.construct(Model, {"beta": 1})
    assert component.construct(Model, {"alpha": 2}).alpha == 2


def test_meta_is_passed_only_to_methods_that_take_it():
    class Model:
        def two(self, X, names):
            return ("two", X)

        def keyword(self, X, names, meta=None):
            return ("kw", meta)

        def positional(self, X, feature_names, request_meta):
            return ("pos", request_meta)

    model = Model()
    assert component.bind_with_meta(model.two)(1, [], {"m": 1}) == ("two", 1)
    assert component.bind_with_meta(model.keyword)(1, [], {"m": 1}) == ("kw", {"m": 1})
    assert component.bind_with_meta(model.positional)(1, [], {"m": 1}) == ("pos", {"m": 1})


def test_check_command_refuses_a_model_without_predict(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_module(tmp_path, "NoPredict", "class NoPredict:\n    def route(self, X, names):\n        return 0\n")
    assert check_main(["NoPredict", "--service-type", "MODEL"]) == 1
    assert "a MODEL must define predict or predict_raw" in capsys.readouterr().err
    assert check_main(["NoPredict", "--service-type", "ROUTER"]) == 0


class FakePlugin:
    """An entry point of group seldon_serve.languages, as seldon_serve_r registers one."""

    name = "R"

    def __init__(self, loaded: list[str]):
        self.loaded = loaded

    def load(self):
        def define(path: str) -> type:
            self.loaded.append(path)
            return type("FromR", (), {})

        return define


def test_model_files_in_other_languages_go_to_their_plugin(tmp_path, monkeypatch):
    loaded: list[str] = []
    monkeypatch.setattr(component, "entry_points", lambda group: [FakePlugin(loaded)])
    (tmp_path / "MyModel.R").write_text("initialise_seldon <- function(params) NULL\n")
    assert component.import_class("MyModel.R", str(tmp_path)).__name__ == "FromR"
    assert component.import_class("MyModel", str(tmp_path)).__name__ == "FromR"  # only MyModel.R exists
    assert loaded == [str(tmp_path / "MyModel.R")] * 2


def test_an_r_file_without_the_r_plugin_is_named_as_such(tmp_path, monkeypatch):
    monkeypatch.setattr(component, "entry_points", lambda group: [])
    with pytest.raises(StartupError, match=r"MyModel\.R is an R model: this image serves Python only"):
        component.import_class("MyModel.R", str(tmp_path))


def test_a_language_check_may_warn_without_failing_the_build(tmp_path, monkeypatch, capsys):
    class Checked:
        source_file = "MyModel.R"

        @classmethod
        def seldon_check(cls, service_type):
            return ["warning: no route.<class> method"] if service_type == "ROUTER" else []

    monkeypatch.setattr(component, "entry_points", lambda group: [])
    monkeypatch.setattr("seldon_serve.check.import_class", lambda interface: Checked)
    assert check_main(["MyModel.R", "--service-type", "ROUTER"]) == 0
    captured = capsys.readouterr()
    assert "warning: no route.<class> method" in captured.err
    assert "MyModel.R: MyModel.R can serve as ROUTER" in captured.out


def test_a_startup_error_from_a_constructor_is_not_wrapped_again():
    class Failing:
        def __init__(self):
            raise StartupError("MyModel.R: initialise_seldon(params) failed: no model file", BAD_PARAMETER)

    with pytest.raises(StartupError) as excinfo:
        component.construct(Failing, {})
    assert str(excinfo.value) == "MyModel.R: initialise_seldon(params) failed: no model file"


def test_send_feedback_gets_routing_as_seldons_wrapper_passes_it():
    """Seldon passes routing=<branch> by keyword; a fifth positional parameter of another name
    gets it by position; four parameters do without."""
    from seldon_serve.component import routing_style

    def named(features, names, reward, truth, routing=None): ...
    def fifth(features, names, reward, truth, branch): ...
    def four(features, names, reward, truth): ...
    def anything(*args, **kwargs): ...

    assert [routing_style(f) for f in (named, fifth, four, anything)] == ["keyword", "positional", "no", "keyword"]
