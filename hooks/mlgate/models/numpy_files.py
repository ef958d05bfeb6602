"""NumPy `.npy` files: an array header, then raw data, or a pickle when the dtype holds objects.

    scan_npy(data: bytes | memoryview | mmap, where, options, *, expected=True) -> list[Finding]
    read_header(data) -> Header       (the verdict numpy's reader would reach, and where data starts)
    NPY_MAGIC: the first six bytes of every .npy file

The header is read as `numpy.load(allow_pickle=True)` reads it (numpy/lib/format.py): format
version 1.0, 2.0 or 3.0, a length, latin-1 (UTF-8 for 3.0) text evaluated with
`ast.literal_eval` (literals only, nothing runs; Python 2 `3L` longs filtered out for 1.0
and 2.0 as numpy does), exactly the keys descr/fortran_order/shape, then the dtype built
from `descr` (numpy_dtypes.py). An array whose dtype holds objects is a pickle right after
the header, which goes to `scan_pickle`; other arrays are plain bytes and yield no finding.
A header numpy refuses loads nothing; one numpy may accept but mlgate cannot judge fails
closed (MOD004). `.npz` files are zips of `.npy` members (ziparchive.py).
"""

from __future__ import annotations

import io
import struct
import tokenize
from dataclasses import dataclass
from enum import Enum

from mlgate.findings import Finding
from mlgate.models import numpy_dtypes
from mlgate.models.pickles import scan_pickle
from mlgate.models.rules import UNPARSEABLE
from mlgate.models.where import Where

NPY_MAGIC = b"\x93NUMPY"
# numpy ignores its 10 000-byte header limit when allow_pickle=True: longer headers are read,
# up to this size, and past it fail closed.
MAX_HEADER = 1 << 20
_VERSIONS = {1: ("<H", "latin-1"), 2: ("<I", "latin-1"), 3: ("<I", "utf-8")}
_KEYS = {"descr", "fortran_order", "shape"}
_INT64 = range(-(1 << 63), 1 << 63)


class Verdict(Enum):
    OBJECTS = "objects"  # numpy unpickles the bytes after the header
    PLAIN = "plain"  # raw array bytes
    REJECTED = "rejected"  # numpy.load raises: nothing is read
    UNJUDGED = "unjudged"  # numpy may read it, mlgate cannot tell how: fails closed


@dataclass(frozen=True)
class Header:
    verdict: Verdict
    data_start: int = 0
    reason: str = ""


def scan_npy(data, where: Where, options: dict, *, expected: bool = True) -> list[Finding]:
    header = read_header(data)
    if header.verdict is Verdict.OBJECTS:
        return scan_pickle(data, where, options, expected=True, start=header.data_start)
    if header.verdict is Verdict.PLAIN or not expected:
        return []
    if header.verdict is Verdict.UNJUDGED:
        return [where.finding(UNPARSEABLE, f".npy header that numpy may load but mlgate cannot judge: {header.reason}")]
    return [where.finding(UNPARSEABLE, f".npy header cannot be parsed: {header.reason}")]


def read_header(data) -> Header:
    """What numpy.lib.format.read_array makes of the header (without the data)."""
    if bytes(data[:6]) != NPY_MAGIC or len(data) < 8:
        return Header(Verdict.REJECTED, reason="missing \\x93NUMPY magic")
    major, minor = data[6], data[7]
    if major not in _VERSIONS or minor != 0:
        return Header(Verdict.REJECTED, reason=f"unknown format version {major}.{minor}")
    length_format, encoding = _VERSIONS[major]
    start = 8 + struct.calcsize(length_format)
    if len(data) < start:
        return Header(Verdict.REJECTED, reason="truncated before the header length")
    length = struct.unpack_from(length_format, data, 8)[0]
    if start + length > len(data):
        return Header(Verdict.REJECTED, reason=f"header length {length} is past the end of the file")
    if length > MAX_HEADER:
        return Header(Verdict.UNJUDGED, reason=f"header of {length} bytes, over the {MAX_HEADER} mlgate reads")
    try:
        text = bytes(data[start : start + length]).decode(encoding)
        fields = _literal(text, python_2=major < 3)
        objects = _holds_objects(fields)
    except _Refused as error:
        return Header(Verdict.REJECTED, reason=str(error))
    except numpy_dtypes.Rejected as error:
        return Header(Verdict.REJECTED, reason=f"numpy refuses the dtype: {error}")
    except numpy_dtypes.Unjudged as error:
        return Header(Verdict.UNJUDGED, reason=str(error))
    except UnicodeDecodeError:
        return Header(Verdict.REJECTED, reason="header is not UTF-8")
    return Header(Verdict.OBJECTS if objects else Verdict.PLAIN, start + length)


class _Refused(Exception):
    """numpy's header reader raises: the array is never loaded."""


def _literal(text: str, *, python_2: bool) -> dict:
    try:
        try:
            header = numpy_dtypes.literal(text)
        except SyntaxError:
            if not python_2:
                raise
            header = numpy_dtypes.literal(_without_long_suffixes(text))
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError, tokenize.TokenError) as error:
        raise _Refused(f"not a Python literal ({type(error).__name__})") from None
    if type(header) is not dict or header.keys() != _KEYS:
        raise _Refused("not a dict with exactly the keys descr, fortran_order and shape")
    return header


def _without_long_suffixes(text: str) -> str:
    """The header with Python 2 long literals (`'shape': (3L, 4L)`) made plain integers, as
    numpy's _filter_header does: every `L` name token right after a number is dropped."""
    kept = []
    after_number = False
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if not (after_number and token.type == tokenize.NAME and token.string == "L"):
            kept.append(token)
        after_number = token.type == tokenize.NUMBER
    return tokenize.untokenize(kept)


def _holds_objects(header: dict) -> bool:
    shape = header["shape"]
    if type(shape) is not tuple or not all(isinstance(size, int) for size in shape):
        raise _Refused("shape is not a tuple of integers")
    if type(header["fortran_order"]) is not bool:
        raise _Refused("fortran_order is not a bool")
    objects = numpy_dtypes.dtype_of(header["descr"]).objects
    if shape and not all(size in _INT64 for size in shape):
        raise _Refused("shape does not fit numpy's 64-bit element count")  # numpy counts the elements first
    return objects
