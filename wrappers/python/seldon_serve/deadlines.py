"""Calls into the model, and REQUEST_TIMEOUT_SECONDS: call_user runs one, a watchdog thread
interrupts it (SIGALRM) once it has run too long, answered 504, and ends the process if even
that does not stop it. An exception escaping the model becomes a 500 (errors.UserCodeError).

A language runtime that a signal cannot interrupt (R, inside rpy2) hands the watchdog its own
way to interrupt a call (interrupt_calls_with).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from .errors import EXIT_CANNOT_START, INTERNAL_ERROR, SeldonMicroserviceException, UserCodeError

# The name these lines have always been logged under, kept so that a log filter still matches.
log = logging.getLogger("seldon_serve.microservice")


class RequestTimeout(SeldonMicroserviceException):
    """A call into the model ran past REQUEST_TIMEOUT_SECONDS: 504 (gRPC DEADLINE_EXCEEDED)."""

    def __init__(self, method: Callable[..., Any], seconds: float):
        name = getattr(method, "__qualname__", "the model")
        super().__init__(
            f"{name} did not return within {seconds:g} s (REQUEST_TIMEOUT_SECONDS)", status_code=504,
            reason=INTERNAL_ERROR,
        )  # fmt: skip


class _Deadline(BaseException):
    """Raised into the model's code by SIGALRM; a BaseException so the model's own
    `except Exception` cannot swallow it."""


# A call still running this long after SIGALRM was sent has not returned to Python (native
# code): the watchdog ends the worker's process, so a new worker (or container) serves instead
# of this one staying stuck; the status says why, like timeout(1)'s.
STUCK_GRACE_SECONDS = 10.0
EXIT_STUCK = 124


class _Deadlines:
    """The call into the model in progress (a number and when it began) and the watchdog thread
    that interrupts it with SIGALRM once it has run too long, and ends the process if even that
    does not stop it. Stamping a call costs two clock reads; an interval timer armed per call
    would cost two system calls (about 3 us here)."""

    def __init__(self) -> None:
        self.seconds = 0.0  # 0: calls are not timed (unit tests, the build-time check)
        self.main = threading.main_thread().ident
        self.call = 0  # the number of the latest call, odd while it runs
        self.began = 0.0
        self.target = -1  # the call the watchdog interrupted
        self.grace = STUCK_GRACE_SECONDS
        self.interrupt: Callable[[], None] | None = None  # in place of SIGALRM (interrupt_calls_with)
        # Held while the watchdog interrupts a call, and while a call clears an interrupt that
        # came too late for the call before it: one meant for a call never reaches the next.
        self.lock = threading.Lock()

    def start(self, seconds: float, grace: float = STUCK_GRACE_SECONDS) -> None:
        if seconds <= 0:
            return
        self.seconds = seconds
        self.grace = grace
        signal.signal(signal.SIGALRM, self._interrupt)
        threading.Thread(target=self._watch, name="request-deadlines", daemon=True).start()

    def _watch(self) -> None:
        tick = min(0.1, self.seconds / 10)
        while True:
            time.sleep(tick)
            call, began = self.call, self.began
            if not call % 2:
                continue
            running = time.monotonic() - began
            if call != self.target and running > self.seconds:
                self.target = call
                if self.interrupt is None:
                    signal.pthread_kill(self.main, signal.SIGALRM)  # type: ignore[arg-type]
                else:
                    with self.lock:
                        if self.call == call:
                            self.interrupt()
            elif call == self.target and running > self.seconds + self.grace:
                log.critical(
                    "a call into the model ran past %g s (REQUEST_TIMEOUT_SECONDS) and was still running %g s "
                    "after it was interrupted (stuck in native code?): ending this worker (exit status %d)",
                    self.seconds, self.grace, EXIT_STUCK,
                )  # fmt: skip
                os._exit(EXIT_STUCK)

    def _interrupt(self, _signum: int, _frame: Any) -> None:
        if self.call == self.target:  # not a later call that began meanwhile
            raise _Deadline


_deadlines = _Deadlines()


def watch_deadlines(seconds: float, grace: float = STUCK_GRACE_SECONDS) -> None:
    """From now on, a call into the model in this process's main thread that runs for more than
    `seconds` is interrupted: at its next Python bytecode, so code inside one long native call
    (a numpy kernel, an R function) is interrupted only if it returns to Python in time. One
    still running `grace` seconds later ends the process with EXIT_STUCK (native code holding
    the GIL stops the watchdog too: then only the liveness probe notices)."""
    _deadlines.start(seconds, grace)


@contextlib.contextmanager
def load_deadline(seconds: float, what: str) -> Iterator[None]:
    """MODEL_LOAD_TIMEOUT_SECONDS: a load still running `seconds` after it began ends the process
    with one line and EXIT_CANNOT_START. A thread waits, not a signal: R and native code keep the
    main thread, and this thread runs meanwhile (rpy2 lets it)."""
    if seconds <= 0:
        yield
        return
    loaded = threading.Event()

    def watch() -> None:
        if not loaded.wait(seconds):
            log.critical("cannot start: %s did not finish within %g s (MODEL_LOAD_TIMEOUT_SECONDS)", what, seconds)
            os._exit(EXIT_CANNOT_START)

    threading.Thread(target=watch, name="load-deadline", daemon=True).start()
    try:
        yield
    finally:
        loaded.set()


def interrupt_calls_with(interrupt: Callable[[], None]) -> None:
    """From now on a call past REQUEST_TIMEOUT_SECONDS is interrupted by interrupt(), called from
    the watchdog's thread, instead of SIGALRM: for a runtime that checks a flag of its own (R's
    pending interrupt), where a signal would land in one of rpy2's callbacks and be lost. A call
    that does not stop still ends the process after the grace."""
    _deadlines.interrupt = interrupt


def callee_enforces_deadline() -> None:
    """The call in progress enforces REQUEST_TIMEOUT_SECONDS itself (as the R bridge did with
    R's time limit, before interrupt_calls_with; `make bench --baseline` still runs that bridge):
    the watchdog sends it no SIGALRM, but still ends the process if it is stuck past the grace."""
    if threading.get_ident() == _deadlines.main and _deadlines.call % 2:
        _deadlines.target = _deadlines.call


def clear_late_interrupt(clear: Callable[[], None]) -> None:
    """clear() the interrupt flag at a call's start, with no interrupt landing meanwhile: one
    the watchdog raised as the call before ended is not this call's."""
    if _deadlines.seconds > 0:
        with _deadlines.lock:
            clear()


def deadline_seconds() -> float:
    """REQUEST_TIMEOUT_SECONDS as this process enforces it (0: calls are not timed)."""
    return _deadlines.seconds


def call_user(method: Callable[..., Any], *args: Any) -> Any:
    """method(*args): the model's code, timed when called from the main thread; an exception it
    raises becomes a UserCodeError (a SeldonMicroserviceException it raises is its answer)."""
    deadlines = _deadlines
    timed = deadlines.seconds > 0 and threading.get_ident() == deadlines.main
    try:
        if timed:
            deadlines.began = time.monotonic()
            deadlines.call += 1
        try:
            return method(*args)
        finally:
            if timed:
                deadlines.call += 1
    except _Deadline:
        name = getattr(method, "__qualname__", "the model")
        log.error("%s ran past %g s (REQUEST_TIMEOUT_SECONDS): interrupted", name, deadlines.seconds)
        raise RequestTimeout(method, deadlines.seconds) from None
    except SeldonMicroserviceException:
        raise
    except Exception as exc:
        log.error("user code raised:\n%s", traceback.format_exc())
        raise UserCodeError(exc) from exc
