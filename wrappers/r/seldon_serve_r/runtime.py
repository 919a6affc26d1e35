"""The embedded R session: started once per worker process, with seldon.R attached.

R is single-threaded; the wrapper calls user code from one thread per worker (its event
loop), so every call into R comes from the thread that started it.
"""

from __future__ import annotations

import functools
import logging
import sys
from importlib import resources
from typing import TYPE_CHECKING, Any

from rpy2.rinterface_lib.embedded import RRuntimeError

from seldon_serve import deadlines
from seldon_serve.contract import REASONS, setting
from seldon_serve.errors import SeldonMicroserviceException

from . import capi

if TYPE_CHECKING:
    from .convert import FrameParts

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
    # rpy2 gives R's event processing a Python callback (for graphics windows' event loops, which a
    # server has none of); R calls it at every interrupt check, about once a request, each call a
    # trip back into Python. Without it R still acts on a pending interrupt at those checks.
    capi.stop_processing_events()
    runtime = resources.files(__package__).joinpath("seldon.R").read_text()
    seldon = ri.evalr("new.env()")
    # The error reasons seldon_error() answers with, from the contract (wrappers/proto/contract.yaml).
    seldon["seldon_reasons"] = ri.baseenv["names<-"](
        ri.StrSexpVector(list(REASONS.values())), ri.StrSexpVector(list(REASONS))
    )
    ri.baseenv["eval"](ri.baseenv["parse"](text=ri.StrSexpVector([runtime])), seldon)
    ri.baseenv["attach"](seldon, name="seldon", **{"warn.conflicts": False})
    # REQUEST_TIMEOUT_SECONDS: the watchdog raises R's pending interrupt, which R acts on where it
    # next checks for one (while computing), as it would on Ctrl-C; seldon_on_interrupt() answers it.
    deadlines.interrupt_calls_with(functools.partial(capi.set_interrupt_pending, True))
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
    deadlines.clear_late_interrupt(_clear_interrupt)
    try:
        answer = function("seldon_invoke")(fun, ri.ListSexpVector(list(args)), _r_flag(flatten))
    except RRuntimeError as exc:
        raise _failure(str(exc)) from None
    sexp = capi.cdata(answer)
    _log_warnings(capi.read(capi.element(sexp, 1)))
    # Without flatten the value is any R object (the model's, a function...), kept as it is.
    return capi.read(capi.element(sexp, 0)) if flatten else answer[0]


def frame_caller(fun: Any, obj: Any) -> capi.FrameCall:
    """seldon_frame_caller(fun, obj), as invoke_on_frame calls it."""
    return capi.FrameCall(function("seldon_frame_caller")(fun, obj))


def invoke_on_frame(caller: capi.FrameCall, frame: FrameParts, meta: Any = None) -> Any:
    """invoke(fun, obj, <the data.frame seldon_numeric_frame makes of frame's parts>[, meta],
    flatten=True) for the frame_caller(fun, obj) made, in one call into R (meta: an R list, or
    None for a method that takes none)."""
    deadlines.clear_late_interrupt(_clear_interrupt)
    try:
        value, warnings = caller(frame.values, frame.attributes, frame.rows, meta, (frame.names, frame.labels))
    except RuntimeError as exc:
        raise _failure(str(exc)) from None
    _log_warnings(warnings)
    return value


_clear_interrupt = functools.partial(capi.set_interrupt_pending, False)


def _log_warnings(warnings: list[str | None]) -> None:
    for warning in warnings:
        log.warning("R warning: %s", warning)


def _failure(r_message: str) -> Exception:
    """The error to raise for the failure seldon_fail() left (its layout is written there): a
    504 for a call past its time, the Seldon error seldon_error() asked for, or an RError,
    logged with the R call stack. Without a failure left (R's evaluation failed before a
    condition could be signalled: R out of memory), an RError with R's own message."""
    failed = capi.read(capi.cdata(function("seldon_failure")()))
    if failed is None:
        return RError(r_message.strip(), "RuntimeError", [])
    warnings, message, error_class, status, reason, stack = failed
    _log_warnings(warnings)
    message, error_class = _first(message) or "", _first(error_class)
    if error_class == "interrupt":  # only the watchdog interrupts R
        seconds = deadlines.deadline_seconds()
        message = f"the model did not return within {seconds:g} s (REQUEST_TIMEOUT_SECONDS)"
        return SeldonMicroserviceException(message, status_code=504, reason=REASONS["INTERNAL_ERROR"])
    status = _first(status)
    if status is not None and status != NA_INTEGER:
        reason = _first(reason) or REASONS["BAD_DATA"]
        return SeldonMicroserviceException(message, status_code=int(status), reason=reason)
    log.error("R error (%s): %s\n  R call stack:\n    %s", error_class, message, "\n    ".join(stack))
    return RError(message, error_class, stack)


NA_INTEGER = -(2**31)  # R's NA_integer_, as capi.read gives it


def _first(values: Any) -> Any:
    """The first of what capi.read gave; None for NULL or an empty vector."""
    return values[0] if values is not None and len(values) else None


# The constant of every call, made into R once rather than per call.
@functools.cache
def _r_flag(value: bool) -> Any:
    return session().BoolSexpVector([value])
