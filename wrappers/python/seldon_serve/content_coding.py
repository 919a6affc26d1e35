"""Compressed REST bodies (HTTP content codings, RFC 9110 8.4): a request's Content-Encoding,
gzip or deflate, undone before anything reads the body, the decompressed size held to the body
limit; an answer compressed when the client's Accept-Encoding asks for it and it is big enough
to be worth it (REST_COMPRESS_MIN_BYTES). Every path, Seldon's and /v2, alike.
"""

from __future__ import annotations

import zlib
from typing import NamedTuple

# What an answer may be compressed with, preferred first.
CODINGS = (b"gzip", b"deflate")
_GZIP_WBITS = 16 + zlib.MAX_WBITS
# Level 1: most of the size saved for a fraction of the time the default level takes.
_LEVEL = 1


class CodingError(Exception):
    """A request body that cannot be decoded: answered `status` with the message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def decode(coding: bytes, body: bytes, limit: int, setting: str) -> bytes:
    """The body as sent before its Content-Encoding; past `limit` bytes decompressed it is a 413
    (decompression stops there: a small bomb allocates no more than the limit)."""
    name = coding.strip().lower()
    if name in (b"", b"identity"):
        return body
    if name in (b"gzip", b"x-gzip"):
        label, wbits = "gzip", _GZIP_WBITS
    elif name == b"deflate":
        # deflate means the zlib format; some clients send the bare deflate stream it wraps.
        label, wbits = "deflate", zlib.MAX_WBITS if _has_zlib_header(body) else -zlib.MAX_WBITS
    else:
        shown = coding.decode(errors="replace")
        raise CodingError(415, f"Content-Encoding {shown!r} is not supported: send gzip, deflate or identity")
    try:
        return _inflate(body, wbits, limit, setting)
    except zlib.error as exc:
        raise CodingError(400, f"the request body is not valid {label}: {exc}") from None


def _inflate(body: bytes, wbits: int, limit: int, setting: str) -> bytes:
    """Decompress every member (gzip allows several, one after another) up to limit + 1 bytes."""
    parts: list[bytes] = []
    size, rest = 0, body
    while True:
        inflater = zlib.decompressobj(wbits)
        part = inflater.decompress(rest, limit + 1 - size)
        size += len(part)
        if size > limit:
            raise CodingError(413, f"request body over {limit} bytes once decompressed ({setting})")
        parts.append(part)
        if not inflater.eof:
            raise zlib.error("the compressed data ends early")
        rest = inflater.unused_data
        if not rest:
            return b"".join(parts)
        if wbits != _GZIP_WBITS:
            raise zlib.error(f"{len(rest)} bytes after the end of the compressed data")


def _has_zlib_header(body: bytes) -> bool:
    return len(body) >= 2 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0


def accepted(accept_encoding: bytes) -> bytes | None:
    """The coding to answer in for an Accept-Encoding header: the most wanted of CODINGS (gzip
    on a tie), None when it accepts neither (q=0 refuses one; * stands for those not named)."""
    weights: dict[bytes, float] = {}
    for item in accept_encoding.lower().split(b","):
        name, _, params = item.partition(b";")
        weights[name.strip()] = _quality(params)
    default = weights.get(b"*", 0.0)
    best, best_weight = None, 0.0
    for coding in CODINGS:
        weight = weights.get(coding, weights.get(b"x-gzip", default) if coding == b"gzip" else default)
        if weight > best_weight:
            best, best_weight = coding, weight
    return best


def _quality(params: bytes) -> float:
    for param in params.split(b";"):
        key, _, value = param.partition(b"=")
        if key.strip() == b"q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


class Compressed(NamedTuple):
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]


def compress(body: bytes, coding: bytes) -> Compressed:
    """The body in `coding` (one of CODINGS), and the header lines that say so."""
    wbits = _GZIP_WBITS if coding == b"gzip" else zlib.MAX_WBITS
    deflater = zlib.compressobj(_LEVEL, zlib.DEFLATED, wbits)
    return Compressed(
        deflater.compress(body) + deflater.flush(), ((b"Content-Encoding", coding), (b"Vary", b"Accept-Encoding"))
    )
