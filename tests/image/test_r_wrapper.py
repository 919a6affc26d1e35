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


def test_a_call_past_its_time_is_a_504_with_the_internal_error_reason(host):
    script = """
import json
from seldon_serve import deadlines
from seldon_serve.errors import SeldonMicroserviceException
from seldon_serve_r import runtime
deadlines.deadline_seconds = lambda: 0.2
try:
    runtime.invoke(runtime.session().evalr("function() { repeat { x <- sum(runif(1e4)) } }"))
except SeldonMicroserviceException as exc:
    print(json.dumps([exc.status_code, exc.reason]))
"""
    assert in_image(host, script) == [504, "MICROSERVICE_INTERNAL_ERROR"]


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
