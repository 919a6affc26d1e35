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

from seldon_serve import deadlines
from seldon_serve.contract import REASONS, setting
from seldon_serve.errors import SeldonMicroserviceException

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
    """fun(*args) in R -- with flatten, its value as seldon_flatten() reduces it. seldon_error()
    becomes the Seldon error it asks for; any other R error becomes RError (a 500 naming its
    condition class), logged with the R call stack."""
    ri = session()
    call_args = ri.ListSexpVector(list(args))
    deadlines.callee_enforces_deadline()
    limit = _r_seconds(deadlines.deadline_seconds())
    outcome = fields(function("seldon_invoke")(fun, call_args, _r_flag(flatten), limit))
    for warning in outcome["warnings"]:
        log.warning("R warning: %s", warning)
    if _scalar(outcome["ok"]):
        return outcome["value"]
    message = _scalar(outcome["message"])
    status = _scalar(outcome["status"])
    if status is not None:
        reason = _scalar(outcome["reason"]) or REASONS["BAD_DATA"]
        raise SeldonMicroserviceException(message, status_code=status, reason=reason)
    stack = [str(line) for line in outcome["stack"]]
    log.error("R error (%s): %s\n  R call stack:\n    %s", _scalar(outcome["class"]), message, "\n    ".join(stack))
    raise RError(message, _scalar(outcome["class"]), stack)


# The constants of every call, made into R once rather than per call (each cache holds one type:
# True and 1.0 are the same key).
@functools.cache
def _r_flag(value: bool) -> Any:
    return session().BoolSexpVector([value])


@functools.cache
def _r_seconds(value: float) -> Any:
    return session().FloatSexpVector([value])


def fields(value: Any) -> dict[str, Any]:
    """A named R list as a dict. Its names are read as the attribute they are: rpy2's .names
    evaluates a call to names() in R, which cost a request as much as the model's own call."""
    return dict(zip(value.do_slot("names"), value, strict=True))


def _scalar(vector: Any) -> Any:
    """The single value of an R vector; None for NULL and NA."""
    ri = session()
    if vector is ri.NULL or len(vector) == 0:
        return None
    item = vector[0]
    return None if any(item is na for na in (ri.NA_Character, ri.NA_Integer, ri.NA_Logical)) else item
