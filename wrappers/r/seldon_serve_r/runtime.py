"""The embedded R session: started once per worker process, with seldon.R attached.

R is single-threaded; the wrapper calls user code from one thread per worker (its event
loop), so every call into R comes from the thread that started it.
"""

from __future__ import annotations

import functools
import logging
import sys
from importlib import resources
from typing import Any

import numpy as np

from seldon_serve import deadlines
from seldon_serve.contract import REASONS, setting
from seldon_serve.errors import SeldonMicroserviceException

from . import capi

log = logging.getLogger("seldon_serve.r")


class RError(Exception):
    """An error signalled by the model's R code; `error_class` is its R condition class."""

    def __init__(self, message: str, error_class: str, stack: list[str]):
        super().__init__(message)
        self.error_class = error_class
        self.stack = stack


class ConsoleLines:
    """Text R writes to its console, a log record (WARNING) for each line it completes."""

    def __init__(self, logger: logging.Logger):
        self.logger = logger
        self.pending = ""

    def write(self, text: str) -> None:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            if line.strip():
                self.logger.warning("%s", line)


@functools.cache
def session() -> Any:
    """rpy2's rinterface with R started and seldon.R attached (first call only)."""
    import rpy2.rinterface as ri
    from rpy2.rinterface_lib import callbacks

    # R's console goes to the container's log as it is, without rpy2's prefixes; under
    # LOG_FORMAT=json, R's warnings and errors are log records (the model's prints stay as they are).
    callbacks.consolewrite_print = lambda text: sys.stdout.write(text)
    if setting("LOG_FORMAT").read() == "json":
        callbacks.consolewrite_warnerror = ConsoleLines(logging.getLogger("seldon_serve.r.console")).write
    else:
        callbacks.consolewrite_warnerror = lambda text: sys.stderr.write(text)
    logging.getLogger("rpy2").setLevel(logging.WARNING)  # its start-up report is not ours to log
    ri.initr()
    runtime = resources.files(__package__).joinpath("seldon.R").read_text()
    seldon = ri.evalr("new.env()")
    # The error reasons seldon_error() answers with, from the contract (wrappers/proto/contract.yaml).
    seldon["seldon_reasons"] = ri.baseenv["names<-"](
        ri.StrSexpVector(list(REASONS.values())), ri.StrSexpVector(list(REASONS))
    )
    ri.baseenv["eval"](ri.baseenv["parse"](text=ri.StrSexpVector([runtime])), seldon)
    ri.baseenv["attach"](seldon, name="seldon", **{"warn.conflicts": False})
    return ri


@functools.cache
def function(name: str) -> Any:
    """A function of seldon.R."""
    return session().globalenv.find(name)


def invoke(fun: Any, *args: Any, flatten: bool = False) -> Any:
    """fun(*args) in R -- with flatten, its value as seldon_flatten() reduces it, read into
    Python (capi.read). seldon_error() becomes the Seldon error it asks for; any other R
    error becomes RError (a 500 naming its condition class), logged with the R call stack."""
    ri = session()
    deadlines.callee_enforces_deadline()
    limit = _r_seconds(deadlines.deadline_seconds())
    return _outcome(function("seldon_invoke")(fun, ri.ListSexpVector(list(args)), _r_flag(flatten), limit), flatten)


def frame_caller(fun: Any, obj: Any) -> capi.FrameCall:
    """seldon_frame_caller(fun, obj), as invoke_on_frame calls it."""
    return capi.FrameCall(function("seldon_frame_caller")(fun, obj))


def invoke_on_frame(caller: capi.FrameCall, values: np.ndarray, names: Any, rows: Any, *more: Any) -> Any:
    """invoke(fun, obj, <the data.frame seldon_numeric_frame(values, names, rows) makes>,
    *more, flatten=True) for the frame_caller(fun, obj) made, in one call into R: values are
    the numbers column after column (float64), names and rows as R vectors."""
    deadlines.callee_enforces_deadline()
    limit = _r_seconds(deadlines.deadline_seconds())
    more_args = session().ListSexpVector(list(more)) if more else None
    try:
        return _answer(caller(values, names, rows, more_args, limit))
    except RuntimeError as exc:
        raise RError(str(exc), "RuntimeError", []) from exc


def _outcome(outcome: Any, flatten: bool) -> Any:
    """What seldon_invoke answered, as an rpy2 object: its value (read, with flatten; else the
    R object itself), or the error raised."""
    sexp = capi.cdata(outcome)
    if flatten:
        return _answer(capi.read(sexp))
    # the value is any R object (the model's, a function...): only the rest is read
    _answer([capi.read(capi.element(sexp, i)) if i != 1 else None for i in range(capi.length(sexp))])
    return outcome[1]


def _answer(outcome: list[Any]) -> Any:
    """seldon_invoke's outcome, read (its layout is written there): the value, or the error raised."""
    for warning in outcome[2]:
        log.warning("R warning: %s", warning)
    if outcome[0][0]:
        return outcome[1]
    message, error_class, status, reason, stack = outcome[3:8]
    message, error_class = _first(message) or "", _first(error_class)
    status = _first(status)
    if status is not None and status != NA_INTEGER:
        reason = _first(reason) or REASONS["BAD_DATA"]
        raise SeldonMicroserviceException(message, status_code=int(status), reason=reason)
    log.error("R error (%s): %s\n  R call stack:\n    %s", error_class, message, "\n    ".join(stack))
    raise RError(message, error_class, stack)


NA_INTEGER = -(2**31)  # R's NA_integer_, as capi.read gives it


def _first(values: Any) -> Any:
    """The first of what capi.read gave; None for NULL or an empty vector."""
    return values[0] if values is not None and len(values) else None


# The constants of every call, made into R once rather than per call (each cache holds one type:
# True and 1.0 are the same key).
@functools.cache
def _r_flag(value: bool) -> Any:
    return session().BoolSexpVector([value])


@functools.cache
def _r_seconds(value: float) -> Any:
    return session().FloatSexpVector([value])
