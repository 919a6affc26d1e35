"""The R wrapper's own units (wrappers/r/seldon_serve_r), run where R and rpy2 are: inside the R
builder image. Each test hands the image's python a short script and reads what it prints."""

from __future__ import annotations

import json
import shlex

FAMILIES = {"r"}


def in_image(host, script: str) -> object:
    """The JSON the script prints as its last line, run by the image's python."""
    result = host.run(f"python -c {shlex.quote(script)}")
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_seldon_error_answers_with_the_contracts_reasons(host):
    script = """
import json
from seldon_serve.errors import SeldonMicroserviceException
from seldon_serve_r import runtime
found = []
for call in ('seldon_error("no such customer", status = 404)', 'seldon_error("bad", reason = "X_REASON")'):
    try:
        runtime.invoke(runtime.session().evalr(f"function() {call}"))
    except SeldonMicroserviceException as exc:
        found.append([exc.status_code, exc.reason, exc.message])
print(json.dumps(found))
"""
    assert in_image(host, script) == [
        [404, "MICROSERVICE_BAD_DATA", "no such customer"],
        [400, "X_REASON", "bad"],
    ]


def test_a_call_past_its_time_is_a_504_with_the_internal_error_reason_and_the_next_call_is_not(host):
    """The watchdog raises R's pending interrupt once the call has run too long; R stops where it
    next checks for one, and the calls after it run as usual. (An interrupt landing as a call
    ends is dropped by the next: test_wrapper_deadlines' flagged runtime.)"""
    script = """
import json, time
from seldon_serve import deadlines
from seldon_serve.errors import SeldonMicroserviceException
from seldon_serve_r import runtime
r = runtime.session()
deadlines.watch_deadlines(0.2)
found = []
began = time.monotonic()
try:
    deadlines.call_user(runtime.invoke, r.evalr("function() { repeat { x <- sum(runif(1e4)) } }"))
except SeldonMicroserviceException as exc:
    found += [exc.status_code, exc.reason, exc.message, time.monotonic() - began < 1]
spin = r.evalr("function(s) { began <- proc.time()[[3]]; while (proc.time()[[3]] - began < s) NULL; 7 }")
short = r.FloatSexpVector([0.05])
answers = {str(deadlines.call_user(lambda: runtime.invoke(spin, short, flatten=True))[1][0]) for _ in range(5)}
found.append(sorted(answers))
print(json.dumps(found))
"""
    assert in_image(host, script) == [
        504,
        "MICROSERVICE_INTERNAL_ERROR",
        "the model did not return within 0.2 s (REQUEST_TIMEOUT_SECONDS)",
        True,
        ["7.0"],
    ]


def test_rows_reach_r_as_a_data_frame_with_the_requests_names_and_come_back(host):
    script = """
import json
import numpy as np
from seldon_serve_r import convert, runtime
frame = convert.frame_to_r(np.array([[1.5, 2.0], [3.0, 4.5]]), ["a", "b"])
r = runtime.session()
described = r.evalr("function(f) paste(class(f), paste(names(f), collapse = ','), nrow(f))")(frame)[0]
back = convert.from_flat(runtime.invoke(r.evalr("function(f) f$a + f$b"), frame, flatten=True))
print(json.dumps([described, np.asarray(back).tolist()]))
"""
    assert in_image(host, script) == ["data.frame a,b 2", [3.5, 7.5]]


def test_a_model_file_without_initialise_seldon_is_refused_naming_it(host):
    script = """
import json, os, tempfile
from seldon_serve.errors import StartupError
from seldon_serve_r import model
path = os.path.join(tempfile.mkdtemp(), "Broken.R")
open(path, "w").write("predict.broken <- function(m, newdata) newdata")
try:
    model.define(path)
except StartupError as exc:
    print(json.dumps(str(exc)))
"""
    assert "Broken.R defines no function initialise_seldon(params)" in in_image(host, script)


def test_every_kind_of_answer_reads_back_as_the_wrapper_takes_it(host):
    """seldon_flatten's kinds, read out of R's memory (capi.py) and made into what the
    payload encoder takes: (type, dtype, names, values) for each R expression."""
    script = r"""
import json
import numpy as np
from seldon_serve.payload import Table
from seldon_serve_r import convert, runtime
ri = runtime.session()
def plain(values):  # NaN as a string: NaN equals nothing, itself included
    if isinstance(values, list):
        return [plain(value) for value in values]
    return "NaN" if isinstance(values, float) and values != values else values
def described(value):
    if isinstance(value, Table):
        return ["Table", str(value.values.dtype), value.names, plain(value.values.tolist())]
    if isinstance(value, np.ndarray):
        return ["ndarray", str(value.dtype), None, plain(value.tolist())]
    return [type(value).__name__, None, None, list(value) if isinstance(value, bytes) else value]
answers = {}
for expression in (
    "NULL", "as.raw(c(1, 255))", "list(a = 1, b = 'x')", "c(1.5, NA)", "1:3", "c(1L, NA)",
    "c(TRUE, FALSE)", "c(TRUE, NA)", "c('\u00e9', NA)", "iconv('\u00e9', 'UTF-8', 'latin1')",
    "factor(c('b', 'a'))", "numeric(0)", "character(0)",
    "matrix(c(1, 2, 3, 4), 2, dimnames = list(NULL, c('x', 'y')))", "array(1:8, c(2, 2, 2))",
    "data.frame(a = c(1.5, 2), b = c(3, 4))", "data.frame(a = c('u', 'v'), b = 1:2, c = c(TRUE, FALSE))",
):
    flat = runtime.invoke(ri.evalr(f"function() {expression}"), flatten=True)
    answers[expression] = described(convert.from_flat(flat))
print(json.dumps(answers))
"""
    assert in_image(host, script) == {
        "NULL": ["NoneType", None, None, None],
        "as.raw(c(1, 255))": ["bytes", None, None, [1, 255]],
        "list(a = 1, b = 'x')": ["dict", None, None, {"a": 1, "b": "x"}],
        "c(1.5, NA)": ["ndarray", "float64", None, [1.5, "NaN"]],
        "1:3": ["ndarray", "int64", None, [1, 2, 3]],
        "c(1L, NA)": ["ndarray", "float64", None, [1.0, "NaN"]],
        "c(TRUE, FALSE)": ["ndarray", "bool", None, [True, False]],
        "c(TRUE, NA)": ["ndarray", "float64", None, [1.0, "NaN"]],
        "c('\u00e9', NA)": ["ndarray", "object", None, ["\u00e9", None]],
        "iconv('\u00e9', 'UTF-8', 'latin1')": ["ndarray", "object", None, ["\u00e9"]],
        "factor(c('b', 'a'))": ["ndarray", "object", None, ["b", "a"]],
        "numeric(0)": ["ndarray", "float64", None, []],
        "character(0)": ["ndarray", "object", None, []],
        "matrix(c(1, 2, 3, 4), 2, dimnames = list(NULL, c('x', 'y')))": [
            "Table",
            "float64",
            ["x", "y"],
            [[1, 3], [2, 4]],
        ],
        "array(1:8, c(2, 2, 2))": ["ndarray", "int64", None, [[[1, 5], [3, 7]], [[2, 6], [4, 8]]]],
        "data.frame(a = c(1.5, 2), b = c(3, 4))": ["Table", "float64", ["a", "b"], [[1.5, 3], [2, 4]]],
        "data.frame(a = c('u', 'v'), b = 1:2, c = c(TRUE, FALSE))": [
            "Table",
            "object",
            ["a", "b", "c"],
            [["u", 1, True], ["v", 2, False]],
        ],
    }


def test_an_r_error_names_its_class_keeps_the_models_frames_and_logs_its_warnings(host):
    script = """
import json, logging
from seldon_serve_r import runtime
from seldon_serve_r.runtime import RError
warned = []
class Kept(logging.Handler):
    def emit(self, record):
        warned.append(record.getMessage())
runtime.log.addHandler(Kept())
r = runtime.session()
r.evalr("helper <- function(x) stop('broke on ', x)")
failing = r.evalr("function(model, data) { warning('careful'); helper(data) }")
try:
    runtime.invoke(failing, r.StrSexpVector(["m"]), r.StrSexpVector(["row 3"]), flatten=True)
except RError as exc:
    print(json.dumps([str(exc), exc.error_class, exc.stack, [w for w in warned if w.startswith("R warning")]]))
"""
    message, error_class, stack, warnings = in_image(host, script)
    assert (message, error_class) == ("broke on row 3", "simpleError")
    assert stack[0] == "helper(data)", stack  # the model's frames, none of the wrapper's
    assert not any(line.startswith(("seldon_", "fun(", "switch(", "tryCatch", "withCallingHandlers")) for line in stack)
    assert warnings == ["R warning: careful"]


def test_a_hook_receives_every_argument_it_is_called_with(host):
    """Up to three arguments are passed directly, more through do.call: each count arrives whole."""
    script = """
import json
from seldon_serve_r import convert, runtime
r = runtime.session()
counts = []
for n in range(7):
    args = [r.IntSexpVector([i]) for i in range(n)]
    flat = runtime.invoke(r.evalr("function(...) c(nargs(), ...)"), *args, flatten=True)
    counts.append(convert.from_flat(flat).tolist())
print(json.dumps(counts))
"""
    assert in_image(host, script) == [[n, *range(n)] for n in range(7)]
