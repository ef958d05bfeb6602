"""Values kept inside a pickle that a later load reads: the bytes a later `loads()` would get.

    readings(data, op, start, end, budget) -> Iterator[tuple[bytes, str]]

Loading the outer pickle only builds a str or bytes value; the code that uses it later runs
`pickle.loads(value)`, `torch.load(io.BytesIO(value))`, `keras.saving` on a `.keras` blob
(what Keras 3's `Model.__reduce__` writes), often after decoding it first. Each value is read
every way such code reads it: as stored; a str re-encoded as latin-1 (how Python 2 strings and
`pickle.dumps(...).decode("latin-1")` round-trip); base64 or hex text decoded; zlib, gzip, bz2,
xz or lzma data decompressed (within `budget`, shared by the whole file). Decodings nest up to
MAX_DECODINGS deep (base64 of zlib of a pickle).
"""

from __future__ import annotations

import base64
import binascii
import bz2
import lzma
import zlib
from collections.abc import Iterator
from typing import Protocol

from mlgate.models import walker

MAX_DECODINGS = 2
MIN_ENCODED = 24  # base64/hex shorter than this cannot hold a pickle that calls something
_BASE64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_BASE64_URL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_BLANKS = b" \t\r\n"

_BYTES_OPS = frozenset(b"BC\x8e\x96TU")  # BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8, BINSTRING, SHORT_BINSTRING
_UTF8_OPS = frozenset(b"\x8cX\x8d")  # SHORT_BINUNICODE, BINUNICODE, BINUNICODE8
_STRING, _UNICODE = 0x53, 0x56


class Budget:
    """Decoded bytes one file may still produce (decompression bombs stop here)."""

    def __init__(self, remaining: int):
        self.remaining = remaining
        self.exhausted = False

    def take(self, size: int) -> bool:
        if size > self.remaining:
            self.exhausted = True
            return False
        self.remaining -= size
        return True


def readings(data, op: int, start: int, end: int, budget: Budget) -> Iterator[tuple[bytes, str]]:
    """(bytes, how they were obtained) for the value the opcode `op` stored at data[start:end]."""
    for value, how in _as_loaded(data, op, start, end):
        yield value, how
        yield from _decoded(value, how, budget, MAX_DECODINGS)


def _as_loaded(data, op: int, start: int, end: int) -> Iterator[tuple[bytes, str]]:
    raw = bytes(data[start:end])
    if op in _BYTES_OPS:
        yield raw, "bytes"
        return
    if op == _STRING:
        raw = raw.rstrip(bytes(range(33)))
        try:
            yield walker.unescaped(raw[1:-1]), "a string"
        except ValueError:
            pass
        return
    try:
        text = raw.decode("raw-unicode-escape" if op == _UNICODE else "utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return
    if op in _UTF8_OPS:
        yield raw, "a string"
    try:
        latin = text.encode("latin-1")
    except UnicodeEncodeError:
        return
    if latin != raw or op == _UNICODE:
        yield latin, "a latin-1 string"


def _decoded(value: bytes, how: str, budget: Budget, depth: int) -> Iterator[tuple[bytes, str]]:
    if depth <= 0:
        return
    for decoded, kind in _decodings(value, budget):
        step = f"{kind} {how}"
        yield decoded, step
        yield from _decoded(decoded, step, budget, depth - 1)


def _decodings(value: bytes, budget: Budget) -> Iterator[tuple[bytes, str]]:
    text = value.strip(_BLANKS)
    if len(text) >= MIN_ENCODED:
        letters = frozenset(text.translate(None, _BLANKS))
        if letters <= _HEX and not len(text.translate(None, _BLANKS)) % 2:
            yield bytes.fromhex(text.decode("ascii")), "hex-encoded"
        for alphabet, decode, name in ((_BASE64, base64.b64decode, "base64"), (_BASE64_URL, base64.urlsafe_b64decode, "base64url")):
            if letters <= alphabet:
                try:
                    yield decode(text.translate(None, _BLANKS)), f"{name}-encoded"
                except (binascii.Error, ValueError):
                    pass
    inflated = _decompressed(value, budget)
    if inflated is not None:
        yield inflated


class _Decompressor(Protocol):
    def decompress(self, data: bytes, max_length: int, /) -> bytes: ...


def _decompressed(value: bytes, budget: Budget) -> tuple[bytes, str] | None:
    decompressor: _Decompressor
    if value.startswith(b"\x1f\x8b") or value[:1] == b"\x78" and len(value) > 2 and int.from_bytes(value[:2], "big") % 31 == 0:
        decompressor, name = zlib.decompressobj(zlib.MAX_WBITS | 32), "zlib/gzip-compressed"
    elif value.startswith(b"BZh"):
        decompressor, name = bz2.BZ2Decompressor(), "bz2-compressed"
    elif value.startswith((b"\xfd7zXZ\x00", b"\x5d\x00\x00")):
        decompressor, name = lzma.LZMADecompressor(), "xz/lzma-compressed"
    else:
        return None
    try:
        inflated = decompressor.decompress(value, budget.remaining + 1)
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError):
        return None
    if not budget.take(len(inflated)):
        return None
    return inflated, name
