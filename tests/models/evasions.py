"""Adversarial pickles, one list per class of evasion: written opcode by opcode, never loaded.

Each entry is (id, data, rule, offset): the rule mlgate must report first for the file and the
byte offset it must point at. The same list feeds the specific tests (test_evasions.py) and the
differential oracle (test_oracle.py), which checks that every global CPython resolves in them
is one mlgate reports.
"""

from __future__ import annotations

import base64
import zlib

from picklegen import MARK, NONE, REDUCE, STOP, TUPLE, TUPLE1, Pickle, binbytes, frame, global_, short_unicode, stack_global, string

Case = tuple[str, bytes, str, int]


def _reduce(module: str, name: str, protocol: int = 4, *, stacked: bool = True) -> tuple[bytes, int]:
    stream = Pickle(protocol)
    stream.add(stack_global(module, name) if stacked else global_(module, name), short_unicode("id"), TUPLE1)
    at = stream.add(REDUCE, STOP)
    return stream.bytes(), at


def _case(case_id: str, module: str, name: str, rule: str, *, stacked: bool = True) -> Case:
    data, at = _reduce(module, name, stacked=stacked)
    return case_id, data, rule, at


# 1. Dotted names resolve through attribute chains: judged by the resolved target.
RESOLUTION: list[Case] = [
    _case("allowed-package-submodule-reaches-subprocess", "sklearn.utils", "subprocess.Popen", "MOD001"),
    _case("allowed-package-errors-reaches-ctypes", "numpy.errors", "ctypes.CDLL", "MOD001"),
    _case("torch-module-reaches-os-system", "torch.serialization", "os.system", "MOD001"),
    _case("module-path-alias-of-builtins", "six.moves.builtins", "eval", "MOD001"),
    _case("dotted-class-chain-to-dunder", "collections", "OrderedDict.__init__.__globals__", "MOD001"),
    _case("camelcase-class-under-allowed-package", "sklearn.utils.fixes", "Popen", "MOD001"),
    _case("numpy-alias-reaches-load", "pandas.core.common", "np.load", "MOD001"),
    _case("dangerous-name-anywhere-in-chain", "mypkg.helpers", "runner.system", "MOD001"),
    _case("allowed-object-through-a-longer-path", "torch", "_utils._rebuild_tensor_v2", "MOD002"),
    _case("allowed-package-unlisted-class", "sklearn.ensemble._forest", "RandomForestClassifierX", "MOD002"),
    _case("dotted-qualname-of-allowed-class", "collections", "OrderedDict.fromkeys", "MOD002"),
    _case("gadget-iterating-a-map", "builtins", "map", "MOD001"),
]


def _text_pickle(first: bytes) -> tuple[bytes, int]:
    """A protocol 0 pickle calling os.system after `first` (a value then POP)."""
    data = first + b"0cos\nsystem\n(S'id'\ntR."
    return data, data.rindex(b"R")


def _no_stop() -> tuple[bytes, int]:
    data = b"cos\nsystem\n(S'id'\ntR"
    return data, len(data) - 1


def _mid_stream_proto() -> tuple[bytes, int]:
    stream = Pickle()
    stream.add(MARK, NONE, b"\x80\x04", TUPLE, b"0")  # PROTO after other opcodes: CPython accepts it anywhere
    stream.add(stack_global("os", "system"), short_unicode("id"), TUPLE1)
    at = stream.add(REDUCE, STOP)
    return stream.bytes(), at


def _frame_shorter_than_its_opcodes() -> tuple[bytes, int]:
    """A FRAME whose length covers only part of what follows: the C unpickler ignores it."""
    stream = Pickle(4)
    stream.add(frame(3), stack_global("os", "system"), short_unicode("id"), TUPLE1)
    at = stream.add(REDUCE, STOP)
    return stream.bytes(), at


def _frame_hides_bytes() -> tuple[bytes, int]:
    """torch.load hands the C unpickler an io.BytesIO: it drops what is left of a FRAME when an
    argument does not fit, so GLOBAL reads `os` where a straight reader reads `XXos`."""
    data = b"\x80\x04" + frame(3) + b"cXX" + b"os\nsystem\n(S'id'\ntR."
    return data, data.rindex(b"R")


def _second_pickle_reads_the_first_ones_memo() -> tuple[bytes, int]:
    """A second pickle that starts with a memo GET: garbage after the first pickle to a fresh
    unpickler, os.system to one whose load() is called again (it keeps its memo)."""
    stream = Pickle(4)
    stream.add(short_unicode("os"), b"\x94", b"0", short_unicode("system"), b"\x94", b"0", NONE, STOP)
    stream.add(b"h\x00h\x01\x93", short_unicode("id"), TUPLE1)
    at = stream.add(REDUCE, STOP)
    return stream.bytes(), at


def _text_case(case_id: str, built: tuple[bytes, int]) -> Case:
    return case_id, built[0], "MOD001", built[1]


# 2. The walker accepts everything CPython's unpickler accepts.
READINGS: list[Case] = [
    _text_case("int-hexadecimal", _text_pickle(b"I0x1f\n")),
    _text_case("int-underscores", _text_pickle(b"I1_000\n")),
    _text_case("int-octal-strtol", _text_pickle(b"I010\n")),
    _text_case("int-after-nul", _text_pickle(b"I12\x00junk\n")),
    _text_case("int-nul-first-is-zero", _text_pickle(b"I\x00junk\n")),  # strtol reads no digit, stops at NUL
    _text_case("int-signed-hex-then-nul", _text_pickle(b"I -0x1F\x00\xff\n")),
    _text_case("long-hexadecimal", _text_pickle(b"L0x10L\n")),
    _text_case("float-underscores", _text_pickle(b"F1_0.5\n")),
    _text_case("string-trailing-blanks", _text_pickle(b"S'x'  \t\n")),
    _text_case("long-first-string-no-control-byte", _text_pickle(b"V" + b"a" * 3000 + b"\n")),
    _text_case("no-stop-reduce-runs-first", _no_stop()),
    _text_case("proto-mid-stream", _mid_stream_proto()),
    _text_case("frame-length-disagrees", _frame_shorter_than_its_opcodes()),
    _text_case("frame-hides-bytes-from-bytesio", _frame_hides_bytes()),
    _text_case("second-pickle-reads-the-first-ones-memo", _second_pickle_reads_the_first_ones_memo()),
]


def _stored(payload: bytes) -> tuple[bytes, int]:
    """{'state': payload} with the payload as BINBYTES; (stream, payload offset)."""
    stream = Pickle(4)
    stream.add(b"}", short_unicode("state"))
    at = stream.add(binbytes(b""))
    data = stream.bytes()[:-4] + len(payload).to_bytes(4, "little") + payload + b"s."
    return data, at + 5


def _stored_text(text: bytes) -> tuple[bytes, int]:
    """{'state': text} with the text as BINUNICODE."""
    stream = Pickle(4)
    stream.add(b"}", short_unicode("state"))
    at = stream.add(b"X" + len(text).to_bytes(4, "little") + text, b"s.")
    return stream.bytes(), at + 5


_INNER = b"cos\nsystem\n(S'id'\ntR."  # protocol 0: no PROTO header to spot


def _stored_case(case_id: str, built: tuple[bytes, int], inner_offset: int = 0) -> Case:
    """Findings in a value read as stored point into it; in a decoded value, at its start."""
    return case_id, built[0], "MOD001", built[1] + inner_offset


# Pickles carried as data inside a pickle, for a later loads().
STORED: list[Case] = [
    _stored_case("protocol-0-pickle-as-bytes", _stored(_INNER), _INNER.index(b"R")),
    _stored_case("base64-pickle-as-text", _stored_text(base64.b64encode(_reduce("os", "system")[0]))),
    _stored_case("hex-pickle-as-text", _stored_text(_reduce("subprocess", "check_output")[0].hex().encode())),
    _stored_case("zlib-pickle-as-bytes", _stored(zlib.compress(_INNER))),
    _stored_case("base64-of-zlib-pickle", _stored_text(base64.b64encode(zlib.compress(_INNER)))),
    _stored_case(
        "protocol-0-pickle-as-string", (b"(dS'state'\n" + string(_INNER.decode().replace("\n", "\\n").replace("'", "\\'")) + b"s.", 12)
    ),
]

ALL: list[Case] = RESOLUTION + READINGS + STORED
