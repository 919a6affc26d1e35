"""A request's way into R and its answer's way out, through R's C API as rpy2 exposes it (cffi).

rpy2's objects cost a request more than the model's own R call: each value made or read is a
Python object, preserved from R's garbage collector and released again, and each call builds
its R call anew. So a data hook's call is built once (FrameCall) and a request only puts its
numbers in it, and the answer -- a few vectors in a list -- is copied out of R's memory with no
object between (read).

Only what seldon.R hands back is read: NULL, logical, integer, double, character and raw
vectors, and lists of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rpy2.rinterface_lib import openrlib

_lib = openrlib.rlib
_ffi = openrlib.ffi
NILSXP, LGLSXP, INTSXP, REALSXP, STRSXP, VECSXP, RAWSXP = (
    _lib.NILSXP,
    _lib.LGLSXP,
    _lib.INTSXP,
    _lib.REALSXP,
    _lib.STRSXP,
    _lib.VECSXP,
    _lib.RAWSXP,
)


class FrameCall:
    """caller(values, attributes, rows, meta) for a seldon_frame_caller(fun, object): the call
    made once and kept from the garbage collector; a request's arguments put in its place for
    the call and taken out after it."""

    def __init__(self, caller: Any):
        self._call = _lib.Rf_lang5(cdata(caller), *([_lib.R_NilValue] * 4))
        _lib.R_PreserveObject(self._call)
        cells, cell = [], self._call
        for _ in range(4):
            cell = _lib.CDR(cell)
            cells.append(cell)
        self._cells = cells
        self._failed = _ffi.new("int *")
        # R's NULL and global environment, read once (each read of one of R's globals makes an object)
        self._null, self._globals = _lib.R_NilValue, _lib.R_GlobalEnv

    def __del__(self) -> None:
        _lib.R_ReleaseObject(self._call)

    def __call__(
        self, values: np.ndarray, attributes: Any, rows: Any, meta: Any, known: tuple[Any, Any]
    ) -> tuple[Any, list[str | None]]:
        """What the call answered, read: its value and its warnings. The arguments other than
        values as rpy2 objects (meta may be None); known as read() takes it: the names vector in
        attributes, and the names in Python, so that an answer handing the names back as they
        came (an identity, a transformer adding no column) is read as those. A RuntimeError,
        with R's last error message, if the call failed (the model's error, whose failure
        seldon_failure() then has; or R out of memory)."""
        null = self._null
        with openrlib.rlock:
            vector = _lib.Rf_protect(_lib.Rf_allocVector(REALSXP, values.size))
            try:
                _ffi.memmove(_lib.REAL(vector), _ffi.from_buffer(values), values.nbytes)  # never empty
                arguments = (vector, cdata(attributes), cdata(rows), null if meta is None else cdata(meta))
                for cell, argument in zip(self._cells, arguments, strict=True):
                    _lib.SETCAR(cell, argument)
                answer = _lib.Rf_protect(_lib.R_tryEval(self._call, self._globals, self._failed))
                try:
                    if self._failed[0]:
                        raise RuntimeError(_error_message())
                    # list(value, warnings), whose two parts are read as what they are
                    return read(_lib.VECTOR_ELT(answer, 0), known), strings(_lib.VECTOR_ELT(answer, 1))
                finally:
                    _lib.Rf_unprotect(1)
            finally:
                for cell in self._cells:  # the request's values are garbage once it is answered
                    _lib.SETCAR(cell, null)
                _lib.Rf_unprotect(1)


def _error_message() -> str:
    import rpy2.rinterface as ri

    return str(ri.baseenv["geterrmessage"]()[0]).strip()


def set_interrupt_pending(pending: bool) -> None:
    """R's pending interrupt, as Ctrl-C raises it: acted on where R next checks for one."""
    _lib.R_interrupts_pending = int(pending)


def stop_processing_events() -> None:
    """No callback for R_ProcessEvents (R's hook for a GUI's events) from here on."""
    _lib.ptr_R_ProcessEvents = _ffi.NULL


def cdata(value: Any) -> Any:
    """The SEXP of an rpy2 object."""
    return value.__sexp__._cdata


def type_of(sexp: Any) -> int:
    return sexp.sxpinfo.type


def element(sexp: Any, index: int) -> Any:
    """A list's element, as a SEXP."""
    return _lib.VECTOR_ELT(sexp, index)


def length(sexp: Any) -> int:
    return _lib.Rf_xlength(sexp)


def read(sexp: Any, known: tuple[Any, Any] | None = None) -> Any:
    """NULL as None, a double or integer vector as float64 or int64, a logical one as bool
    (seldon_plain made one with NA double), character as a list of str (NA as None), raw as
    bytes, a list as a list of what its elements read as; known (sexp, value): that R object,
    wherever it is in the answer, as the value it was made from."""
    if known is not None and sexp == known[0]:
        return known[1]
    kind = type_of(sexp)
    if kind == NILSXP:
        return None
    length = _lib.Rf_xlength(sexp)
    if kind == REALSXP:
        return _numbers(_lib.REAL, sexp, length, np.float64).copy()
    if kind == INTSXP:
        return _numbers(_lib.INTEGER, sexp, length, np.int32).astype(np.int64)
    if kind == LGLSXP:
        return _numbers(_lib.LOGICAL, sexp, length, np.int32).astype(bool)
    if kind == STRSXP:
        return strings(sexp)
    if kind == RAWSXP:
        return bytes(_ffi.buffer(_lib.RAW(sexp), length)) if length else b""
    if kind == VECSXP:
        return [read(_lib.VECTOR_ELT(sexp, i), known) for i in range(length)]
    raise TypeError(f"an R value of SEXP type {kind} has no reading here")


def strings(sexp: Any) -> list[str | None]:
    count = _lib.Rf_xlength(sexp)
    if not count:  # a call's warnings, mostly
        return []
    na = _lib.R_NaString
    texts: list[str | None] = []
    for i in range(count):
        item = _lib.STRING_ELT(sexp, i)
        # in UTF-8, as rpy2 reads them: R hands back a string already in UTF-8 (or ASCII) as it is
        texts.append(None if item == na else _ffi.string(_lib.Rf_translateCharUTF8(item)).decode("utf-8"))
    return texts


def _numbers(pointer: Any, sexp: Any, length: int, dtype: type) -> np.ndarray:
    if length == 0:  # an empty vector's data pointer is not one to read from
        return np.empty(0, dtype=dtype)
    size = np.dtype(dtype).itemsize
    return np.frombuffer(_ffi.buffer(pointer(sexp), length * size), dtype=dtype)
