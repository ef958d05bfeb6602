"""joblib files: a pickle with raw array bytes inside it, possibly compressed as a whole.

    scan_compressed(source: bytes | BinaryIO, where, options, *, expected=True) -> list[Finding]
    compression_of(head: bytes) -> str | None
    open_decompressor(kind: str) -> (streaming decompressor, the exception it raises); ScanError without lz4
    BUILD_HOOKS: the walker hooks that step over the array bytes of a plain joblib pickle

A plain joblib file is a pickle in which every numpy array is a NumpyArrayWrapper object
whose BUILD is followed by the array bytes (after one padding-length byte and its padding
since joblib 1.2), or, for object arrays, by a nested pickle. The walker reads the wrapper's
shape and dtype to step over them. Compressed files (joblib's zlib, gzip, bz2, lzma, xz,
lz4 or the pre-0.9.3 "ZF" layout) are decompressed in a stream with a hard output cap
(decompression bombs), then walked like a plain file; findings name the decompressed
stream as the member and carry offsets inside it.
"""

from __future__ import annotations

from typing import BinaryIO

from mlgate.files import ScanError
from mlgate.findings import Finding
from mlgate.models.rules import UNPARSEABLE
from mlgate.models.walker import DATA, BuildHook, PickleWalker, Result, WalkError
from mlgate.models.where import Where

MAX_DECOMPRESSED = 512 << 20  # bytes of decompressed pickle analysed; past it: MOD004
CHUNK = 1 << 20
_MAX_DTYPE_DEPTH = 8
_ZF_HEADER = 2 + len(f"{2 ** 64:#x}")  # b"ZF" + the hex length joblib < 0.9.3 wrote

WRAPPER_CLASSES = ("joblib.numpy_pickle.NumpyArrayWrapper", "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper")


def _skip_array(walker: PickleWalker, wrapper: Result, pos: int) -> int:
    """Where the pickle resumes after the array data that follows a NumpyArrayWrapper's BUILD."""
    state = wrapper.state
    if type(state) is not dict:
        raise WalkError("joblib NumpyArrayWrapper without array metadata", pos)
    itemsize, has_object = _dtype_layout(state.get("dtype"), pos, 0)
    if has_object:
        return walker.walk_nested(pos)  # object arrays are a nested pickle
    if type(state.get("numpy_array_alignment_bytes")) is int:
        if pos >= walker.end:
            raise WalkError("joblib array truncated before its padding byte", pos, truncated=True)
        pos += 1 + walker.data[pos]
    count = 1
    shape = state.get("shape")
    if type(shape) is not tuple or not all(type(size) is int and size >= 0 for size in shape):
        raise WalkError("joblib array with an unreadable shape", pos)
    for size in shape:
        count *= size
    end = pos + count * itemsize
    if end > walker.end:
        raise WalkError(f"joblib array data truncated: {count * itemsize} bytes declared", pos, truncated=True)
    return end


def _dtype_layout(dtype: object, offset: int, depth: int) -> tuple[int, bool]:
    """(itemsize, holds Python objects) of a pickled numpy.dtype(descr, ...) with its BUILD state."""
    if type(dtype) is not Result or type(dtype.args) is not tuple or not dtype.args or type(dtype.args[0]) is not str:
        raise WalkError("joblib array with an unreadable dtype", offset)
    descr = dtype.args[0]
    state = dtype.state if type(dtype.state) is tuple else ()
    elsize = state[5] if len(state) > 5 and type(state[5]) is int else -1
    flags = state[7] if len(state) > 7 and type(state[7]) is int else 0
    has_object = descr.startswith("O") or bool(flags & 1)
    if depth < _MAX_DTYPE_DEPTH:
        for sub in _sub_dtypes(state):
            has_object = _dtype_layout(sub, offset, depth + 1)[1] or has_object
    if descr[:1] in ("U", "S", "V") and elsize >= 0:
        return elsize, has_object
    try:
        width = int(descr[1:])
    except ValueError:
        raise WalkError(f"joblib array with an unreadable dtype {descr[:20]!r}", offset) from None
    return width * (4 if descr.startswith("U") else 1), has_object


def _sub_dtypes(state: tuple) -> list[object]:
    """The dtypes nested in a structured dtype's state: its subarray base and field types."""
    found = []
    if len(state) > 2 and type(state[2]) is tuple and state[2]:
        found.append(state[2][0])
    if len(state) > 4 and type(state[4]) is dict:
        found.extend(field[0] for field in state[4].values() if type(field) is tuple and field)
    return [sub for sub in found if sub is not DATA]


BUILD_HOOKS: dict[str, BuildHook] = dict.fromkeys(WRAPPER_CLASSES, _skip_array)


def compression_of(head: bytes) -> str | None:
    """The compressor joblib would detect from the first bytes, or None."""
    if head.startswith(b"ZF") and len(head) > 2 and head[2:4] == b"0x":
        return "ZF"
    if len(head) >= 2 and head[0] == 0x78 and (head[0] << 8 | head[1]) % 31 == 0:
        return "zlib"
    for magic, name in ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"\x5d\x00\x00", "lzma"), (b"\x04\x22\x4d\x18", "lz4")):
        if head.startswith(magic):
            return name
    return None


def scan_compressed(source: bytes | BinaryIO, where: Where, options: dict, *, expected: bool = True) -> list[Finding]:
    """Decompresses a compressed joblib file (capped) and scans the pickle inside."""
    from mlgate.models import pickles  # pickles imports this module for BUILD_HOOKS

    read = _reader(source)
    head = read(8)
    kind = compression_of(head)
    if kind is None:
        return [where.finding(UNPARSEABLE, "not a joblib compression format")] if expected else []
    inner = where.inside(f"<{kind} stream>")
    decompressor, failure = open_decompressor(kind)
    try:
        content, capped = _decompress(decompressor, kind, head, read)
    except failure as error:
        return [where.finding(UNPARSEABLE, f"{kind} data cannot be decompressed: {error}")] if expected else []
    if not pickles.looks_like_pickle(bytes(content[:4096])):
        if expected:
            return [inner.finding(UNPARSEABLE, "decompressed content is not a pickle")]
        return []
    found = pickles.scan_pickle(content, inner, options, expected=True)
    if capped:
        found = [finding for finding in found if finding.rule is not UNPARSEABLE]
        found.append(inner.finding(UNPARSEABLE, f"decompressed content exceeds {MAX_DECOMPRESSED} bytes: the rest was not analysed", MAX_DECOMPRESSED))
    return found


def _reader(source: bytes | BinaryIO):
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source)
        position = 0

        def read(size: int) -> bytes:
            nonlocal position
            chunk = bytes(view[position : position + size])
            position += len(chunk)
            return chunk

        return read
    return source.read


def open_decompressor(kind: str) -> tuple[object, type[Exception]]:
    """A streaming decompressor for `kind` and the exception it raises on corrupt data."""
    if kind in ("zlib", "ZF", "gzip"):
        import zlib

        return zlib.decompressobj(31 if kind == "gzip" else 15), zlib.error
    if kind == "bz2":
        import bz2

        return bz2.BZ2Decompressor(), OSError
    if kind in ("xz", "lzma"):
        import lzma

        return lzma.LZMADecompressor(), lzma.LZMAError
    try:
        import lz4.frame
    except ImportError:
        raise ScanError("lz4-compressed joblib file: install the lz4 package so mlgate can scan it") from None
    return lz4.frame.LZ4FrameDecompressor(), RuntimeError


def _decompress(decompressor, kind: str, head: bytes, read) -> tuple[bytearray, bool]:
    """Streams the whole input through the decompressor; (output up to the cap, capped)."""
    pending = head
    if kind == "ZF":
        header = head + read(_ZF_HEADER + 1 - len(head))
        pending = header[_ZF_HEADER:].lstrip(b" ")  # joblib <= 0.8.4 wrote one more space
    out = bytearray()
    while len(out) <= MAX_DECOMPRESSED and not decompressor.eof:
        if not pending:
            pending = read(CHUNK)
            if not pending:
                if hasattr(decompressor, "flush"):
                    out += decompressor.flush()
                break
        out += decompressor.decompress(pending, MAX_DECOMPRESSED + 1 - len(out))
        # zlib hands back the input it did not use; bz2, lzma and lz4 keep it and want b"".
        pending = getattr(decompressor, "unconsumed_tail", b"")
        while not pending and not getattr(decompressor, "needs_input", True) and not decompressor.eof and len(out) <= MAX_DECOMPRESSED:
            out += decompressor.decompress(b"", MAX_DECOMPRESSED + 1 - len(out))
    capped = len(out) > MAX_DECOMPRESSED
    del out[MAX_DECOMPRESSED:]
    return out, capped
