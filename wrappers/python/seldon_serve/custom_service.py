"""A model's custom_service(): Seldon's wrapper runs it once, in a process of its own beside its
servers (extra endpoints of the model's, say). Here the first worker to load its model starts it
in a child process, which holds a lock for as long as it runs: other workers see the lock taken
and start none. The child ends with the worker that started it (a worker replaced after dying
takes its custom service with it, and the replacement starts one again).
"""

from __future__ import annotations

import ctypes
import fcntl
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from typing import IO, Any

log = logging.getLogger("seldon_serve")

LOCK_FILE = "custom-service.lock"
_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def start(user: Any, runtime_dir: str) -> multiprocessing.process.BaseProcess | None:
    """The process running user.custom_service(), if the model has one and no other worker of
    this server runs it already."""
    method = getattr(user, "custom_service", None)
    if not callable(method):
        return None
    lock = open(os.path.join(runtime_dir, LOCK_FILE), "a")  # noqa: SIM115 (the child keeps it open)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()  # another worker's child runs it
        return None
    process = multiprocessing.get_context("fork").Process(
        target=_run, args=(method, lock), name="custom-service", daemon=True
    )
    process.start()
    lock.close()  # the lock is the child's now: it is released when the child ends
    log.info("started %s.custom_service() in process %d", type(user).__name__, process.pid)
    return process


def _run(method: Callable[[], Any], lock: IO[str]) -> None:
    # The worker's handlers came with the fork: SIGTERM would only wake the worker's event loop.
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    _end_with_parent()
    try:
        method()
    except Exception:
        log.exception("custom_service() failed")
    finally:
        lock.close()


def _end_with_parent() -> None:
    """SIGKILL when the worker that started this process dies, however it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("custom_service() may outlive its worker: prctl failed (errno %d)", ctypes.get_errno())
