"""NumPy `.npy` files: an array header, then raw data, or a pickle when the dtype holds objects.

    scan_npy(data: bytes | memoryview | mmap, where, options, *, expected=True) -> list[Finding]
    NPY_MAGIC: the first six bytes of every .npy file

The header is a Python dict literal read with `ast.literal_eval` (what numpy itself does:
literals only, nothing is evaluated). An array whose dtype holds Python objects (`O`, also
inside a structured or subarray dtype) is stored as a pickle right after the header, which
`numpy.load(allow_pickle=True)` runs: that pickle goes to `scan_pickle`. Other arrays are
plain bytes and yield no finding. `.npz` files are zips of `.npy` members (ziparchive.py).
"""

from __future__ import annotations

import ast
import struct

from mlgate.findings import Finding
from mlgate.models.pickles import scan_pickle
from mlgate.models.rules import UNPARSEABLE
from mlgate.models.where import Where

NPY_MAGIC = b"\x93NUMPY"
MAX_HEADER = 1 << 16  # numpy refuses headers over 10 000 bytes unless told otherwise
_MAX_DESCR_DEPTH = 32


class _BadHeader(Exception):
    pass


def scan_npy(data, where: Where, options: dict, *, expected: bool = True) -> list[Finding]:
    try:
        header, data_start = _header(data)
        holds_objects = _descr_holds_objects(header.get("descr"), 0)
    except _BadHeader as error:
        return [where.finding(UNPARSEABLE, f".npy header cannot be parsed: {error}")] if expected else []
    if not holds_objects:
        return []
    return scan_pickle(data, where, options, expected=True, start=data_start)


def _header(data) -> tuple[dict, int]:
    """The header dict and the offset where the array data starts."""
    if bytes(data[:6]) != NPY_MAGIC or len(data) < 10:
        raise _BadHeader("missing \\x93NUMPY magic")
    major = data[6]
    if major == 1:
        length, start = struct.unpack_from("<H", data, 8)[0], 10
    elif major in (2, 3):
        if len(data) < 12:
            raise _BadHeader("truncated before the header length")
        length, start = struct.unpack_from("<I", data, 8)[0], 12
    else:
        raise _BadHeader(f"unknown format version {major}")
    if length > MAX_HEADER or start + length > len(data):
        raise _BadHeader(f"header length {length} is too large or past the end of the file")
    text = bytes(data[start : start + length]).decode("utf-8" if major == 3 else "latin-1")
    try:
        try:
            header = ast.literal_eval(text)
        except SyntaxError:
            header = ast.literal_eval(_without_long_suffixes(text))
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError) as error:
        raise _BadHeader(f"not a Python literal ({type(error).__name__})") from None
    if type(header) is not dict or "descr" not in header:
        raise _BadHeader("not a dict with a 'descr' key")
    return header, start + length


def _without_long_suffixes(text: str) -> str:
    """The header with Python 2 long literals (`'shape': (3L, 4L)`) made plain integers, as
    numpy's reader does: the `L` that tokenizes as a name right after a number is dropped."""
    import io
    import tokenize

    kept = []
    previous = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if not (token.type == tokenize.NAME and token.string in ("L", "l") and previous is not None
                    and previous.type == tokenize.NUMBER and previous.end == token.start):
                kept.append((token.type, token.string))
            previous = token
    except (tokenize.TokenError, SyntaxError):
        return text
    return tokenize.untokenize(kept)


def _descr_holds_objects(descr: object, depth: int) -> bool:
    """Whether a dtype description (numpy's `descr`) has Python objects anywhere."""
    if depth > _MAX_DESCR_DEPTH:
        raise _BadHeader("dtype description nested too deeply")
    if type(descr) is str:
        return descr.lstrip("<>|=").startswith("O")
    if type(descr) is list:
        # [(name or (title, name), dtype descr[, shape]), ...]
        for field in descr:
            if type(field) is not tuple or len(field) < 2:
                raise _BadHeader("malformed structured dtype field")
            if _descr_holds_objects(field[1], depth + 1):
                return True
        return False
    raise _BadHeader(f"unexpected dtype description of type {type(descr).__name__}")
