"""joblib files: a pickle with raw array bytes inside it, possibly compressed as a whole.

    scan_compressed(data, where, options, *, expected=True, allowance=None, container=None) -> list[Finding]
    compression_of(head: bytes) -> str | None
    inflated_head(data, size: int) -> bytes: the first decompressed bytes (sniffing)
    open_decompressor(kind: str) -> (streaming decompressor, the exception it raises); ScanError without lz4
    Allowance(file_size): the decompressed bytes one scanned file may produce
    BUILD_HOOKS: the walker hooks that step over the array bytes of a plain joblib pickle

A plain joblib file is a pickle in which every numpy array is a NumpyArrayWrapper object
whose BUILD is followed by the array bytes (after one padding-length byte and its padding
since joblib 1.2), or, for object arrays, by a nested pickle. The walker reads the wrapper's
shape and dtype to step over them.

Compressed files are recognised as joblib.load recognises them (numpy_pickle_utils.
_detect_compressor: the first bytes, in joblib's order) and decompressed the way the file
readers of joblib and of the other loaders of compressed pickles (pandas, gzip.open) read
them: every stream of a multi-stream gzip, bz2, xz, lzma or lz4 file until data that is not
another stream; a zlib stream alone (joblib's BinaryZlibFile reads no second one); the "ZF"
layout of joblib < 0.10 (numpy_pickle_compat.read_zfile: a hexadecimal length as int(x, 16)
reads it, an optional space, one zlib stream). LZMA-alone files are any starting 5d 00,
whatever their dictionary size. Findings name the decompressed stream as the member and
carry offsets inside it; bytes decompressed before a corrupt part are scanned all the same
(a loader has read them by then).

Decompression bombs: the output one file may produce is an `Allowance` of FREE_OUTPUT bytes
plus MAX_RATIO bytes per byte of the file, at most MAX_DECOMPRESSED, shared by every
compressed stream in it (archive members included), and at most MAX_STREAM_PICKLES pickles of
a stream are walked. Walking costs time per byte and per pickle, so this keeps a file's scan
linear in its size; what lies past a bound is not analysed and says so (MOD004).
"""

from __future__ import annotations

from collections.abc import Callable

from mlgate.files import ScanError
from mlgate.findings import Finding
from mlgate.models.rules import UNPARSEABLE
from mlgate.models.walker import DATA, BuildHook, PickleWalker, Result, WalkError, walk
from mlgate.models.where import Where

MAX_DECOMPRESSED = 512 << 20  # decompressed bytes one file may produce, whatever its size; past it: MOD004
FREE_OUTPUT = 4 << 20  # ... and whatever the compression ratio, if less
MAX_RATIO = 16  # decompressed bytes per byte of the file (past FREE_OUTPUT)
# joblib.load and pickle.load read one pickle from a decompressed stream; a loop of loads reads
# more: that many are walked (each pickle costs the walker time of its own, however small)
MAX_STREAM_PICKLES = 1024
CHUNK = 16 << 10  # compressed bytes fed at a time: what came out before a corrupt chunk is kept
_SNIFF = 4096
# joblib's compressors in its registration order (compressor.py), prefixes as it checks them
_PREFIXES = (
    (b"\x78", "zlib"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\x5d\x00", "lzma"),
    (b"\xfd7zXZ", "xz"),
    (b"\x04\x22\x4d\x18", "lz4"),
)
_SINGLE_STREAM = frozenset({"zlib", "ZF"})
_MAX_DTYPE_DEPTH = 8
_ZF_HEADER = 2 + len(f"{2**64:#x}")  # b"ZF" + the hex length joblib < 0.9.3 wrote

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
    """The compressor joblib.load would pick from the first bytes (its prefixes, in its order),
    among those whose data can decompress at all: None otherwise."""
    if head.startswith(b"ZF"):
        return "ZF" if _zf_length(head) is not None else None
    for prefix, name in _PREFIXES:
        if head.startswith(prefix):
            return name if name != "zlib" or _zlib_header(head) else None
    return None


def _zf_length(head: bytes) -> int | None:
    """The length joblib < 0.10 reads from its "ZF" header (int(x, 16) of 19 bytes), or None
    when int() fails or the header is cut short."""
    try:
        return int(head[2:_ZF_HEADER], 16) if len(head) >= _ZF_HEADER else None
    except ValueError:
        return None


def _zlib_header(head: bytes) -> bool:
    """A zlib header zlib accepts: deflate, a valid check, no preset dictionary."""
    return len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0 and not head[1] & 0x20


class Allowance:
    """Decompressed bytes one scanned file may still produce (see the module docstring)."""

    def __init__(self, file_size: int):
        self.remaining = min(MAX_DECOMPRESSED, FREE_OUTPUT + MAX_RATIO * file_size)
        self.total = self.remaining


def scan_compressed(
    data,
    where: Where,
    options: dict,
    *,
    expected: bool = True,
    allowance: Allowance | None = None,
    container: Callable[[bytearray, Where], list[Finding] | None] | None = None,
) -> list[Finding]:
    """Decompresses a compressed joblib file (within the allowance) and scans the pickle inside.
    Content that is not a pickle is offered to `container`, which scans it when it is an archive
    its loaders read compressed (a `.tar.gz`: tarfile's "r:*", NeMo, SageMaker's model.tar.gz)
    and returns None for anything else."""
    from mlgate.models import pickles  # pickles imports this module for BUILD_HOOKS

    kind = compression_of(bytes(data[:_ZF_HEADER]))
    if kind is None:
        return [where.finding(UNPARSEABLE, "not a joblib compression format")] if expected else []
    allowance = allowance or Allowance(len(data))
    inner = where.inside(f"<{kind} stream>")
    content, problem = _inflate(data, kind, allowance.remaining)
    capped = len(content) > allowance.remaining
    del content[allowance.remaining :]
    allowance.remaining -= len(content)
    if container is not None and (inside := container(content, inner)) is not None:
        found = inside  # an archive (it judges the pickle reading of its own first bytes)
    elif pickles.looks_like_pickle(bytes(content[:_SNIFF])):
        found = pickles.scan_pickle(content, inner, options, expected=True, max_pickles=MAX_STREAM_PICKLES)
        if capped:  # the pickle cut at the cap is an artefact of the cut
            found = [finding for finding in found if finding.rule is not UNPARSEABLE]
        if walk(content, max_pickles=MAX_STREAM_PICKLES + 1, hooks=BUILD_HOOKS).pickles > MAX_STREAM_PICKLES:
            message = f"more than {MAX_STREAM_PICKLES} pickles in one compressed stream (joblib reads one): the rest were not analysed"
            found.append(inner.finding(UNPARSEABLE, message, 0))
    elif not expected:
        return []
    elif problem is not None and not content:
        return [where.finding(UNPARSEABLE, f"{kind} data cannot be decompressed: {problem}")]
    else:
        found = [inner.finding(UNPARSEABLE, "decompressed content is not a pickle")] if content or not capped else []
    if problem is not None and content:
        found.append(inner.finding(UNPARSEABLE, f"{kind} data cannot be decompressed past this point: {problem}", len(content)))
    if capped:
        message = (
            f"decompresses to more than {allowance.total} bytes ({MAX_RATIO} times the file's size plus {FREE_OUTPUT}, "
            f"at most {MAX_DECOMPRESSED}): the rest was not analysed"
        )
        found.append(inner.finding(UNPARSEABLE, message, len(content)))
    return found


def inflated_head(data, size: int) -> bytes:
    """The first `size` decompressed bytes of compressed data (b"" when they cannot be had,
    lz4 not installed included: only model-named files are worth an error)."""
    kind = compression_of(bytes(data[:_ZF_HEADER]))
    try:
        return bytes(_inflate(data, kind, size)[0][:size]) if kind is not None else b""
    except ScanError:
        return b""


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

        # joblib's lzma.LZMAFile auto-detects each stream, and then wants an LZMA-alone header's
        # dictionary size to be 2^n or 2^n + 2^(n-1); FORMAT_ALONE readers take any: the wider reading.
        return lzma.LZMADecompressor(lzma.FORMAT_ALONE if kind == "lzma" else lzma.FORMAT_AUTO), lzma.LZMAError
    try:
        import lz4.frame
    except ImportError:
        raise ScanError("lz4-compressed joblib file: install the lz4 package so mlgate can scan it") from None
    return lz4.frame.LZ4FrameDecompressor(), RuntimeError


def _inflate(data, kind: str, limit: int) -> tuple[bytearray, str | None]:
    """(up to limit + 1 decompressed bytes, why decompression stopped early or None)."""
    out = bytearray()
    view = memoryview(data)
    try:
        position = _body_start(data) if kind == "ZF" else 0
    except ValueError as error:
        return out, str(error)
    first = True
    while len(out) <= limit and position < len(view):
        decompressor, failure = open_decompressor(kind)
        try:
            position, ended = _stream(decompressor, view, position, out, limit)
        except failure as error:
            if first:
                return out, str(error) or type(error).__name__
            break  # data after a stream that is not another one: the file readers stop there
        if not ended or kind in _SINGLE_STREAM:
            break
        first = False
        kind = "xz" if kind == "lzma" else kind  # later streams are auto-detected: xz or LZMA-alone
        if kind == "gzip":
            while position < len(view) and view[position] == 0:
                position += 1  # gzip.GzipFile skips zero padding between members
    return out, None


def _body_start(data) -> int:
    """Where the zlib data of joblib < 0.10's "ZF" layout starts (numpy_pickle_compat.read_zfile)."""
    if _zf_length(bytes(data[:_ZF_HEADER])) is None:
        raise ValueError(f"the length in the ZF header is not hexadecimal: {bytes(data[2:_ZF_HEADER])!r}")
    return _ZF_HEADER + 1 if data[_ZF_HEADER : _ZF_HEADER + 1] == b" " else _ZF_HEADER


def _stream(decompressor, view: memoryview, start: int, out: bytearray, limit: int) -> tuple[int, bool]:
    """Feeds view[start:] to one decompressor until its stream ends or `out` passes `limit`:
    (where the stream's input ends, whether it ended)."""
    fed = start
    pending = b""
    while not decompressor.eof and len(out) <= limit:
        if not pending and getattr(decompressor, "needs_input", True):
            if fed >= len(view):
                return fed, False  # truncated: the readers hand out what came before
            pending = bytes(view[fed : fed + CHUNK])
            fed += len(pending)
        out += decompressor.decompress(pending, limit + 1 - len(out))
        # zlib hands back the input it did not use; bz2, lzma and lz4 keep it and want b"".
        pending = getattr(decompressor, "unconsumed_tail", b"")
    return fed - len(pending) - len(decompressor.unused_data or b""), decompressor.eof
