"""Our own static pickle opcode walker: what a pickle would import and call, without loading it.

`walk(data)` decodes every opcode of protocols 0-5 with a table of argument formats,
simulates the unpickler's stack, MARK stack and memo closely enough to know, at every
call site, *which* callable is invoked, and records each distinct callable once as a
`Site` (first reference, first invocation). It never imports, evaluates or allocates
what a length field claims: payloads are skipped by length over the caller's buffer.

What the simulation keeps (everything else is the shared `DATA` placeholder):
- `str` for decoded strings (STACK_GLOBAL takes module and name from them, memo included),
  `int` for integers, real tuples (call arguments) and small dicts (object state);
- `Ref`: a global pushed by GLOBAL / STACK_GLOBAL / INST / EXT, or one whose name is
  computed at load time (`DYNAMIC`), which is how scanners get bypassed;
- `Result`: what a call returned, remembering the callable, its arguments and the state
  BUILD gave it; calling a `Result` is a gadget chain (getattr(...)(...));
- `Persistent`: what the loader's persistent_load returned (torch storages).

Semantics follow CPython's C unpickler: MARK fences the stack (ops cannot reach below
it), POP on an empty fenced stack drops the mark, GET of an unset memo key, calling a
non-callable, a STACK_GLOBAL on non-strings, an unknown opcode or a truncated argument
end the walk with a `WalkError` (the loader stops there too); every site seen before the
break is kept. Pickles are walked back to back until the data ends.
"""

from __future__ import annotations

import codecs
import re
import struct
import warnings
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

# Bounds on what hostile input can make us hold; real pickles stay far below them.
MAX_MARK_DEPTH = 1 << 16
MAX_STACK_ITEMS = 1 << 23
MAX_MEMO_ENTRIES = 1 << 23
MAX_DICT_KEPT = 32  # entries of a dict we remember (object state); the rest only counts
MAX_TEXT = 1024  # longer strings are not decoded: no module or attribute name is that long
CHECK_EVERY = 1 << 16  # opcodes between checks of the stack and memo sizes
MEMO_GAP = 1 << 12  # a PUT further than this past the dense memo goes to a side dict
HIGHEST_PROTOCOL = 5
MIN_STORED = 20  # the shortest pickle that calls something, `cos\nsystem\n(S'x'\ntR.`, has 21 bytes
MAX_STORED = 1 << 20  # values remembered for a later look (past it: Walk.stored_overflow)
# Starts of stored values worth a look as files: zip, npy, HDF5, GGUF, zlib, gzip, bz2, xz, lzma.
STORED_MAGICS = (
    b"PK\x03\x04",
    b"\x93NUMPY",
    b"\x89HDF",
    b"GGUF",
    b"\x78\x01",
    b"\x78\x5e",
    b"\x78\x9c",
    b"\x78\xda",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"\x5d\x00\x00",
    b"\x80",
)
_ESCAPED_TEXT = (0x53, 0x56)  # STRING, UNICODE: a newline in the value is written as an escape
_BASE64_TEXT = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_"

_U32 = struct.Struct("<I").unpack_from
_I32 = struct.Struct("<i").unpack_from
_U64 = struct.Struct("<Q").unpack_from


_Unpack = Callable[..., tuple]


def _unpackers(data) -> tuple[_Unpack, _Unpack, _Unpack]:
    """`_U32`, `_I32`, `_U64` for a buffer (bytes, mmap, memoryview); for any other indexable
    bytes (a remote file read on demand, see `mlgate.online.ranged`), the same on a slice."""
    try:
        memoryview(data).release()
    except TypeError:
        return _on_slice(struct.Struct("<I")), _on_slice(struct.Struct("<i")), _on_slice(struct.Struct("<Q"))
    return _U32, _I32, _U64


def _on_slice(fmt: struct.Struct) -> _Unpack:
    return lambda data, at: fmt.unpack(data[at : at + fmt.size])


DATA = type("Data", (), {"__slots__": (), "__repr__": lambda self: "DATA"})()
LONG_TEXT = type("LongText", (), {"__slots__": (), "__repr__": lambda self: "LONG_TEXT"})()
_UNSET = object()


class SiteKind(Enum):
    GLOBAL = "global"  # module.name resolved from the stream
    DYNAMIC = "dynamic"  # a global whose module or name is computed at load time
    EXTENSION = "extension"  # EXT1/2/4: whatever the copyreg extension registry maps the code to
    RESULT = "result"  # a value returned by one call, called in turn (gadget chain)
    PERSISTENT = "persistent"  # an object returned by the loader's persistent_load, called
    MUTATION = "mutation"  # BUILD/SETITEM/APPEND applied to a global object itself


@dataclass
class Site:
    """One distinct thing a pickle references or invokes, with where it first did.

    For a GLOBAL, `name` is `module.qualname` and `module` the part the unpickler imports;
    the rest is walked attribute by attribute (see callables.py)."""

    kind: SiteKind
    name: str
    offset: int  # first reference (or the call, for kinds that only exist when called)
    call_offset: int | None = None  # first invocation
    how: str = ""  # opcode (and route) of the first invocation, e.g. "REDUCE"
    producer: str | None = None  # RESULT: the global whose return value is called, if known
    module: str = ""  # GLOBAL: the module imported

    @property
    def qualname(self) -> str:
        return self.name[len(self.module) + 1 :] if self.module else self.name

    @property
    def first_offset(self) -> int:
        return self.offset if self.call_offset is None else self.call_offset


@dataclass
class Walk:
    sites: dict[tuple[SiteKind, str], Site] = field(default_factory=dict)
    pickles: int = 0  # complete pickles (STOP reached)
    end: int = 0  # offset just after the last complete pickle
    error: str | None = None
    error_offset: int | None = None
    truncated: bool = False  # the break is the data running out
    first_op_error: bool = False  # the break happened on the first opcode of a pickle
    # (opcode, start, end) of the str/bytes values a later loads() could read as a pickle or a
    # model file (see PickleWalker._keep_if_stored)
    embedded: list[tuple[int, int, int]] = field(default_factory=list)
    stored_overflow: bool = False  # more such values than MAX_STORED: the rest were not kept
    repeats: int = 0  # DUP and GET pushes
    irregular_frames: bool = False  # see PickleWalker.irregular_frames
    stored_in_memo: int = 0  # memo entries of the complete pickles

    def merge(self, other: Walk, keep: Callable[[Site], bool]) -> None:
        """Adds the sites `keep` selects from another reading of the same bytes."""
        for key, site in other.sites.items():
            if not keep(site):
                continue
            mine = self.sites.get(key)
            if mine is None:
                self.sites[key] = site
                continue
            mine.offset = min(mine.offset, site.offset)
            if site.call_offset is not None and (mine.call_offset is None or site.call_offset < mine.call_offset):
                mine.call_offset, mine.how = site.call_offset, site.how


class WalkError(Exception):
    """Where and why the loader would stop; `truncated` when the data simply ran out."""

    def __init__(self, message: str, offset: int, *, truncated: bool = False):
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.truncated = truncated


class Ref:
    __slots__ = ("kind", "name", "module")

    def __init__(self, kind: SiteKind, name: str, module: str = ""):
        self.kind = kind
        self.name = name
        self.module = module


# dill's `_load_type(name)`: the types of dill's `_reverse_typemap` (the `types` module's `*Type`
# names, plus four of its own), by the name a pickle passes.
DILL_LOAD_TYPE = "dill._dill._load_type"
DILL_TYPES: dict[str, tuple[str, str]] = {
    **{
        name: ("types", name)
        for name in (
            "AsyncGeneratorType BuiltinFunctionType BuiltinMethodType CellType ClassMethodDescriptorType CodeType "
            "CoroutineType EllipsisType FrameType FunctionType GeneratorType GetSetDescriptorType LambdaType "
            "MappingProxyType MemberDescriptorType MethodDescriptorType MethodType MethodWrapperType ModuleType "
            "NoneType NotImplementedType TracebackType UnionType WrapperDescriptorType"
        ).split()
    },
    "PartialType": ("functools", "partial"),
    "SuperType": ("builtins", "super"),
    "ItemGetterType": ("operator", "itemgetter"),
    "AttrGetterType": ("operator", "attrgetter"),
}


def global_ref(module: str, name: str) -> Ref:
    """The global `find_class(module, name)` resolves, named as Python 3 resolves it."""
    module, name = global_name(module, name)
    return Ref(SiteKind.GLOBAL, f"{module}.{name}", module)


class Result:
    __slots__ = ("callee", "cls", "args", "state")

    def __init__(self, callee: object, cls: str | None, args: object):
        self.callee = callee
        self.cls = cls  # the class instantiated, when the call is a known constructor
        self.args = args
        self.state: object = None


class Persistent:
    __slots__ = ("pid",)

    def __init__(self, pid: object):
        self.pid = pid


# The argument positions at which the named callable calls the global passed to it.
CallsArguments = Callable[[str], Iterable[int]]


def _no_argument_called(callee: str) -> tuple[int, ...]:
    return ()


# A hook runs after BUILD on an instance of the class it is registered for, with the
# walker, the instance and the offset after BUILD; it returns where the stream resumes
# (joblib writes raw array bytes right after its NumpyArrayWrapper).
BuildHook = Callable[["PickleWalker", Result, int], int]

# copyreg helpers whose first argument is the class they instantiate.
_CONSTRUCTORS = frozenset({"copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__"})

_OPCODE_NAMES = {
    b"(": "MARK",
    b".": "STOP",
    b"0": "POP",
    b"1": "POP_MARK",
    b"2": "DUP",
    b"F": "FLOAT",
    b"I": "INT",
    b"J": "BININT",
    b"K": "BININT1",
    b"L": "LONG",
    b"M": "BININT2",
    b"N": "NONE",
    b"P": "PERSID",
    b"Q": "BINPERSID",
    b"R": "REDUCE",
    b"S": "STRING",
    b"T": "BINSTRING",
    b"U": "SHORT_BINSTRING",
    b"V": "UNICODE",
    b"X": "BINUNICODE",
    b"a": "APPEND",
    b"b": "BUILD",
    b"c": "GLOBAL",
    b"d": "DICT",
    b"}": "EMPTY_DICT",
    b"e": "APPENDS",
    b"g": "GET",
    b"h": "BINGET",
    b"i": "INST",
    b"j": "LONG_BINGET",
    b"l": "LIST",
    b"]": "EMPTY_LIST",
    b"o": "OBJ",
    b"p": "PUT",
    b"q": "BINPUT",
    b"r": "LONG_BINPUT",
    b"s": "SETITEM",
    b"t": "TUPLE",
    b")": "EMPTY_TUPLE",
    b"u": "SETITEMS",
    b"G": "BINFLOAT",
    b"\x80": "PROTO",
    b"\x81": "NEWOBJ",
    b"\x82": "EXT1",
    b"\x83": "EXT2",
    b"\x84": "EXT4",
    b"\x85": "TUPLE1",
    b"\x86": "TUPLE2",
    b"\x87": "TUPLE3",
    b"\x88": "NEWTRUE",
    b"\x89": "NEWFALSE",
    b"\x8a": "LONG1",
    b"\x8b": "LONG4",
    b"B": "BINBYTES",
    b"C": "SHORT_BINBYTES",
    b"\x8c": "SHORT_BINUNICODE",
    b"\x8d": "BINUNICODE8",
    b"\x8e": "BINBYTES8",
    b"\x8f": "EMPTY_SET",
    b"\x90": "ADDITEMS",
    b"\x91": "FROZENSET",
    b"\x92": "NEWOBJ_EX",
    b"\x93": "STACK_GLOBAL",
    b"\x94": "MEMOIZE",
    b"\x95": "FRAME",
    b"\x96": "BYTEARRAY8",
    b"\x97": "NEXT_BUFFER",
    b"\x98": "READONLY_BUFFER",
}
OPCODE_NAMES: dict[int, str] = {code[0]: name for code, name in _OPCODE_NAMES.items()}

# Opcodes that push one placeholder and carry a fixed-size argument we never need: size.
_PLAIN_PUSH = {b"N": 1, b"\x88": 1, b"\x89": 1, b"]": 1, b"\x8f": 1, b"G": 9, b"\x97": 1}
PLAIN_PUSH_SIZE = bytes(_PLAIN_PUSH.get(bytes([code]), 0) for code in range(256))

# Opcode groups for the first level of dispatch (see _walk_one).
_MEMO, _TEXT, _NUMBER, _SHAPE, _CALL, _BYTES, _OTHER = range(1, 8)
_GROUPS = {
    _MEMO: b"qr\x94phjg",
    _TEXT: b"\x8cX\x8dUTVS",
    _NUMBER: b"KJM\x8a\x8bILF",
    _SHAPE: b"(t\x85\x86\x87)}eu\x90sa02d1l\x91",
    _CALL: b"Rb\x81ci\x93Q\x92oP\x82\x83\x84",
    _BYTES: b"CB\x8e\x96",
    _OTHER: b".\x95\x80\x98",
}
OPCODE_GROUP = bytes(next((group for group, codes in _GROUPS.items() if code in codes), 0) for code in range(256))

# Argument bytes read by indexing (an IndexError there means truncation, not underflow).
_INDEXED_ARGUMENT = {0x71: 1, 0x68: 1, 0x4B: 1, 0x4D: 2, 0x80: 1, 0x82: 1, 0x83: 2, 0x8C: 1, 0x8A: 1, 0x43: 1, 0x55: 1}


def global_name(module: str, name: str) -> tuple[str, str]:
    """(module, name) as Python 3 resolves them (Python 2 names mapped like pickle's fix_imports)."""
    mapped = NAME_MAPPING.get((module, name))
    if mapped is not None:
        return mapped
    return IMPORT_MAPPING.get(module, module), name


def describe(value: object) -> str:
    """A short name for a value returned by calls: `f(...)`, or `f(...)(...)` for any longer chain."""
    calls = 0
    while type(value) is Result and calls < 3:  # bounded: a chain can be 100 000 calls long
        value = value.callee
        calls += 1
    if type(value) is Persistent:
        base, calls = "persistent_load", calls + 1
    else:
        base = value.name if type(value) is Ref else "<computed>"
    return base + "(...)" * min(calls, 2)


class PickleWalker:
    """Walks pickles in `data` (bytes, bytearray, mmap or memoryview) from `start`."""

    def __init__(
        self,
        data,
        *,
        calls_arguments: CallsArguments | None = None,
        hooks: Mapping[str, BuildHook] | None = None,
        shared_memo: bool = False,
    ):
        self.data = data
        self.end = len(data)
        self.calls_arguments = calls_arguments or _no_argument_called
        self._positions: dict[str, tuple[int, ...]] = {}
        self._called: set[str] = set()  # names of Refs already invoked (their site is complete)
        self.hooks = hooks or {}
        # A loader that calls Unpickler.load() repeatedly keeps one memo for all pickles.
        self.shared_memo = shared_memo
        self.sites: dict[tuple[SiteKind, str], Site] = {}
        self.hooked = False  # a BuildHook ran: the bytes have another reading (see pickles.py)
        self.stored_overflow = False  # more than MAX_STORED values were worth a later look
        # DUP/GET pushes and memo entries of completed pickles: many more of the first than of
        # the second is how an expansion bomb (billion laughs) looks (see expansion.py)
        self.repeats = 0
        self.stored_in_memo = 0
        # an opcode ran past its FRAME's end, or a FRAME began inside another: the C unpickler
        # reading a file object without peek() (io.BytesIO) reads other bytes (see frames.py)
        self.irregular_frames = False
        self.framed = False  # a FRAME was seen (a break after one may be an irregular frame too)
        self._find = data.find if hasattr(data, "find") else self._find_in_view
        self._unpack = _unpackers(data)
        self._memo_list: list = []
        self._memo_far: dict[int, object] = {}
        self._memo_holes = 0
        self.embedded: list[tuple[int, int, int]] = []

    # -- public -------------------------------------------------------------------------
    def walk(self, start: int = 0, max_pickles: int | None = None) -> Walk:
        result = Walk(sites=self.sites, end=start, embedded=self.embedded)
        pos = start
        while pos < self.end and (max_pickles is None or result.pickles < max_pickles):
            if not self.shared_memo:
                self._reset_memo()
            try:
                pos = self._walk_one(pos, self.hooks)
            except WalkError as error:
                result.error, result.error_offset, result.truncated = error.message, error.offset, error.truncated
                result.first_op_error = error.offset == pos
                break
            finally:
                result.stored_overflow, result.repeats, result.stored_in_memo = self.stored_overflow, self.repeats, self.stored_in_memo
                result.irregular_frames = self.irregular_frames or self.framed and result.error is not None
            result.pickles += 1
            result.end = pos
        return result

    def walk_nested(self, pos: int) -> int:
        """Walks one complete pickle embedded at `pos` (own stack and memo, no hooks), for
        formats that store a pickle inside a pickle's byte stream; returns its end."""
        saved = self._memo_list, self._memo_far, self._memo_holes
        self._reset_memo()
        try:
            return self._walk_one(pos, {})
        finally:
            self._memo_list, self._memo_far, self._memo_holes = saved

    # -- sites --------------------------------------------------------------------------
    def _see(self, ref: Ref, offset: int) -> None:
        key = (ref.kind, ref.name)
        if key not in self.sites:
            self.sites[key] = Site(ref.kind, ref.name, offset, module=ref.module)

    def _invoke(self, callee: object, offset: int, how: str) -> None:
        if type(callee) is Ref:
            key = (callee.kind, callee.name)
            site = self.sites.get(key)
            if site is None:
                site = self.sites[key] = Site(callee.kind, callee.name, offset, module=callee.module)
            if site.call_offset is None:
                site.call_offset, site.how = offset, how
        elif type(callee) is Result:
            producer = callee.callee
            name = describe(callee)
            key = (SiteKind.RESULT, name)
            if key not in self.sites:
                known = producer.name if type(producer) is Ref and producer.kind is SiteKind.GLOBAL else None
                self.sites[key] = Site(SiteKind.RESULT, name, offset, offset, how, known)
        elif type(callee) is Persistent:
            # torch's legacy persistent_load returns the class named in the id: call it.
            refs = [item for item in callee.pid if type(item) is Ref] if type(callee.pid) is tuple else []
            for ref in refs:
                self._invoke(ref, offset, f"{how} of a persistent object")
            if not refs:
                key = (SiteKind.PERSISTENT, "persistent_load(...)")
                if key not in self.sites:
                    self.sites[key] = Site(SiteKind.PERSISTENT, "persistent_load(...)", offset, offset, how)
        else:
            raise WalkError(f"{how} calls a value that is not callable ({_type_name(callee)})", offset)

    def _call(self, callee: object, args: object, offset: int, how: str) -> Result | Ref:
        if type(callee) is not Ref:
            self._invoke(callee, offset, how)
            return Result(callee, None, args)
        name = callee.name
        if name == DILL_LOAD_TYPE:
            return self._dill_type(args, offset)
        if name not in self._called:  # the common case: a rebuild function called again
            self._called.add(name)
            self._invoke(callee, offset, how)
        positions = self._positions.get(name)
        if positions is None:
            positions = self._positions[name] = tuple(self.calls_arguments(name))
        cls = name
        if type(args) is tuple:
            if how == "REDUCE" and name in _CONSTRUCTORS and args and type(args[0]) is Ref:
                cls = args[0].name
            # Some callees call the globals handed to them: copyreg._reconstructor(cls, base,
            # state) instantiates cls and base, _rebuild_from_type_v2(func, type, ...) calls func.
            for position in positions:
                if position < len(args) and type(args[position]) is Ref:
                    self._invoke(args[position], offset, f"{name} ({how})")
        return Result(callee, cls, args)

    def _dill_type(self, args: object, offset: int) -> Ref:
        """dill's `_load_type(name)` returns the type its table holds under `name`: it is judged as
        a reference to that type (`types.CodeType` is dangerous, `functools.partial` is not), and a
        name the table does not hold, or one computed at load time, as a dynamic global."""
        type_name = args[0] if type(args) is tuple and len(args) == 1 else None
        target = DILL_TYPES.get(type_name) if type(type_name) is str else None
        if target is not None:
            ref = global_ref(*target)
        else:
            shown = type_name if type(type_name) is str else "<computed>"
            ref = Ref(SiteKind.DYNAMIC, f"{DILL_LOAD_TYPE}({shown})")
        self._see(ref, offset)
        return ref

    def _mutate(self, target: Ref, offset: int, how: str) -> None:
        key = (SiteKind.MUTATION, target.name)
        if key not in self.sites:
            self.sites[key] = Site(SiteKind.MUTATION, target.name, offset, offset, how)

    # -- values kept for a later loads() ---------------------------------------------------
    def _keep_if_stored(self, op: int, start: int, end: int) -> None:
        """Remembers a str/bytes value that may hold a pickle or a model file for later.

        A pickle that calls anything holds a GLOBAL/INST line (a newline) or a STACK_GLOBAL
        (0x93); an encoded one starts with base64/hex text; a model file or compressed data with
        its magic. Anything else (dictionary keys, most vocabulary) is not worth a look.
        """
        if len(self.embedded) >= MAX_STORED:
            self.stored_overflow = True
            return
        head = bytes(self.data[start : start + MIN_STORED])
        if (
            head.startswith(STORED_MAGICS)
            or not head.translate(None, _BASE64_TEXT)
            or self._find_between(b"\n", start, end) >= 0
            or self._find_between(b"\x93", start, end) >= 0
            or op in _ESCAPED_TEXT
            and self._find_between(b"\\", start, end) >= 0
        ):
            self.embedded.append((op, start, end))

    def _find_between(self, needle: bytes, start: int, end: int) -> int:
        if hasattr(self.data, "find"):
            return self.data.find(needle, start, end)
        hit = self._find_in_view(needle, start)
        return hit if hit < end else -1

    # -- memo -----------------------------------------------------------------------------
    def _reset_memo(self) -> None:
        self._memo_list = []
        self._memo_far = {}
        self._memo_holes = 0

    def _memo_put(self, index: int, value: object, offset: int) -> bool:
        """The general PUT; returns whether the memo is no longer dense (MEMOIZE's slow path)."""
        memo = self._memo_list
        if index < 0:
            raise WalkError("negative memo index", offset)
        if index < len(memo):
            if memo[index] is _UNSET:
                self._memo_holes -= 1
            memo[index] = value
        elif index - len(memo) <= MEMO_GAP and index not in self._memo_far:
            gap = index - len(memo)
            memo.extend([_UNSET] * gap)
            self._memo_holes += gap
            memo.append(value)
        else:
            self._memo_far[index] = value
        if len(memo) + len(self._memo_far) > MAX_MEMO_ENTRIES:
            raise WalkError(f"memo exceeds {MAX_MEMO_ENTRIES} entries: too large to analyse", offset)
        return bool(self._memo_holes or self._memo_far)

    def _memo_count(self) -> int:
        return len(self._memo_list) - self._memo_holes + len(self._memo_far)

    # -- bytes ----------------------------------------------------------------------------
    def _find_in_view(self, needle: bytes, start: int) -> int:
        """`find` for a memoryview: search growing windows so a long line costs O(n)."""
        view, size = self.data, 256
        while start < self.end:
            chunk = bytes(view[start : start + size])
            hit = chunk.find(needle)
            if hit >= 0:
                return start + hit
            start += len(chunk)
            size = min(size * 4, 1 << 24)
        return -1

    def _line(self, start: int, op: str, offset: int) -> tuple[int, int]:
        """(start, end) of the newline-terminated argument of the opcode at `offset`."""
        stop = self._find(b"\n", start)
        if stop < 0:
            raise WalkError(f"pickle truncated inside the {op} argument", offset, truncated=True)
        return start, stop

    def _text(self, start: int, stop: int, encoding: str, errors: str = "strict") -> object:
        if stop - start > MAX_TEXT:
            return LONG_TEXT
        return str(self.data[start:stop], encoding, errors)

    def _payload_end(self, pos: int, header: int, size: int, op: str) -> int:
        end = pos + 1 + header + size
        if end > self.end:
            remain = max(self.end - pos - 1 - header, 0)
            raise WalkError(f"pickle truncated: {op} declares {size} bytes, {remain} remain", pos, truncated=True)
        return end

    # -- the walk -------------------------------------------------------------------------
    def _walk_one(self, pos: int, hooks: Mapping[str, BuildHook]) -> int:  # noqa: C901 -- the opcode loop, kept whole for speed (see below)
        """Walks one pickle from `pos` to its STOP; returns the offset after STOP.

        Dispatch is two-level (a group table, then the opcodes of the group by frequency)
        so that no opcode waits behind more than a handful of comparisons.
        """
        data = self.data
        end = self.end
        plain = PLAIN_PUSH_SIZE
        group = OPCODE_GROUP
        stack: list = []
        metastack: list[list] = []
        push = stack.append
        memo = self._memo_list
        sparse = bool(self._memo_holes or self._memo_far)
        u32, i32, u64 = self._unpack
        op = -1
        frame_end = _NO_FRAME  # where the current FRAME's bytes end
        try:
            while True:
                for _ in range(CHECK_EVERY):
                    if pos >= frame_end:
                        if pos > frame_end:  # the last opcode's argument ran past the frame (see frames.py)
                            self.irregular_frames = True
                        frame_end = _NO_FRAME
                    op = data[pos]
                    size = plain[op]
                    if size:
                        if pos + size > end:
                            raise WalkError(f"pickle truncated inside {OPCODE_NAMES[op]}", pos, truncated=True)
                        push(DATA)
                        pos += size
                        continue
                    if op == 0x94 and not sparse:  # MEMOIZE, the commonest opcode of protocols 4-5
                        memo.append(stack[-1])
                        pos += 1
                        continue
                    kind = group[op]
                    if kind == 1:  # _MEMO (literals: no global lookups on the hot path)
                        if op == 0x71 or op == 0x72 or op == 0x94 or op == 0x70:  # BINPUT, LONG_BINPUT, MEMOIZE, PUT
                            if op == 0x71:
                                index, nxt = data[pos + 1], pos + 2
                            elif op == 0x72:
                                index, nxt = u32(data, pos + 1)[0], pos + 5
                            elif op == 0x94:
                                index, nxt = self._memo_count() if sparse else len(memo), pos + 1
                            else:
                                start, stop = self._line(pos + 1, "PUT", pos)
                                index, nxt = _decimal(data[start:stop], pos, "PUT"), stop + 1
                            if index == len(memo) and not sparse:
                                memo.append(stack[-1])
                            else:
                                sparse = self._memo_put(index, stack[-1], pos)
                            pos = nxt
                        else:  # BINGET, LONG_BINGET, GET
                            if op == 0x68:
                                index, nxt = data[pos + 1], pos + 2
                            elif op == 0x6A:
                                index, nxt = u32(data, pos + 1)[0], pos + 5
                            else:
                                start, stop = self._line(pos + 1, "GET", pos)
                                index, nxt = _decimal(data[start:stop], pos, "GET"), stop + 1
                            push(self._memo_get(memo, index, pos))
                            self.repeats += 1
                            pos = nxt
                    elif kind == 2:  # _TEXT
                        if op == 0x8C:  # SHORT_BINUNICODE
                            nxt = pos + 2 + data[pos + 1]
                            if nxt > end:
                                self._payload_end(pos, 1, data[pos + 1], "SHORT_BINUNICODE")
                            push(str(data[pos + 2 : nxt], "utf-8", "surrogatepass"))
                            if nxt - pos >= MIN_STORED:
                                self._keep_if_stored(op, pos + 2, nxt)
                        elif op == 0x58 or op == 0x8D:  # BINUNICODE, BINUNICODE8
                            header = 4 if op == 0x58 else 8
                            length = u32(data, pos + 1)[0] if op == 0x58 else u64(data, pos + 1)[0]
                            nxt = self._payload_end(pos, header, length, OPCODE_NAMES[op])
                            push(str(data[pos + 1 + header : nxt], "utf-8", "surrogatepass") if length <= MAX_TEXT else LONG_TEXT)
                            if length >= MIN_STORED:
                                self._keep_if_stored(op, pos + 1 + header, nxt)
                        elif op == 0x55 or op == 0x54:  # SHORT_BINSTRING, BINSTRING
                            if op == 0x55:
                                header, length = 1, data[pos + 1]
                            else:
                                header, length = 4, u32(data, pos + 1)[0]  # unsigned in the C unpickler
                            nxt = self._payload_end(pos, header, length, OPCODE_NAMES[op])
                            push(self._text(pos + 1 + header, nxt, "latin-1"))
                            if length >= MIN_STORED:
                                self._keep_if_stored(op, pos + 1 + header, nxt)
                        elif op == 0x56:  # UNICODE
                            start, stop = self._line(pos + 1, "UNICODE", pos)
                            push(self._text(start, stop, "raw-unicode-escape"))
                            nxt = stop + 1
                            if stop - start >= MIN_STORED:
                                self._keep_if_stored(op, start, stop)
                        else:  # STRING
                            start, stop = self._line(pos + 1, "STRING", pos)
                            push(self._quoted(start, stop, pos))
                            nxt = stop + 1
                            if stop - start >= MIN_STORED:
                                self._keep_if_stored(op, start, stop)
                        pos = nxt
                    elif kind == 3:  # _NUMBER
                        if op == 0x4B:  # BININT1
                            push(data[pos + 1])
                            pos += 2
                        elif op == 0x4A:  # BININT
                            push(i32(data, pos + 1)[0])
                            pos += 5
                        elif op == 0x4D:  # BININT2
                            push(data[pos + 1] | data[pos + 2] << 8)
                            pos += 3
                        elif op == 0x8A:  # LONG1
                            nxt = self._payload_end(pos, 1, data[pos + 1], "LONG1")
                            push(int.from_bytes(data[pos + 2 : nxt], "little", signed=True) if nxt - pos <= 10 else DATA)
                            pos = nxt
                        elif op == 0x8B:  # LONG4
                            length = i32(data, pos + 1)[0]
                            if length < 0:
                                raise WalkError("LONG4 with a negative byte count", pos)
                            pos = self._payload_end(pos, 4, length, "LONG4")
                            push(DATA)
                        else:  # INT, LONG, FLOAT
                            start, stop = self._line(pos + 1, OPCODE_NAMES[op], pos)
                            push(_number(bytes(data[start:stop]), op, pos))
                            pos = stop + 1
                    elif kind == 4:  # _SHAPE
                        if op == 0x28:  # MARK
                            if len(metastack) >= MAX_MARK_DEPTH:
                                raise WalkError(f"MARK nesting deeper than {MAX_MARK_DEPTH}", pos)
                            metastack.append(stack)
                            stack = []
                            push = stack.append
                        elif op == 0x74:  # TUPLE
                            members = tuple(stack)
                            stack = metastack.pop()
                            push = stack.append
                            push(members)
                        elif op == 0x85:  # TUPLE1
                            stack[-1] = (stack[-1],)
                        elif op == 0x86:  # TUPLE2
                            second = stack.pop()
                            stack[-1] = (stack[-1], second)
                        elif op == 0x87:  # TUPLE3
                            third = stack.pop()
                            second = stack.pop()
                            stack[-1] = (stack[-1], second, third)
                        elif op == 0x29:  # EMPTY_TUPLE
                            push(())
                        elif op == 0x7D:  # EMPTY_DICT
                            push({})
                        elif op == 0x65 or op == 0x75 or op == 0x90:  # APPENDS, SETITEMS, ADDITEMS
                            items = stack
                            stack = metastack.pop()
                            push = stack.append
                            target = stack[-1]
                            if op == 0x75:
                                if len(items) & 1:
                                    raise WalkError("SETITEMS with an odd number of items", pos)
                                if type(target) is dict:
                                    _keep_items(target, items)
                            if type(target) is Ref:
                                self._mutate(target, pos, OPCODE_NAMES[op])
                        elif op == 0x73:  # SETITEM
                            value = stack.pop()
                            key = stack.pop()
                            target = stack[-1]
                            if type(target) is dict:
                                _keep_items(target, (key, value))
                            elif type(target) is Ref:
                                self._mutate(target, pos, "SETITEM")
                        elif op == 0x61:  # APPEND
                            stack.pop()
                            if type(stack[-1]) is Ref:
                                self._mutate(stack[-1], pos, "APPEND")
                        elif op == 0x30:  # POP
                            if stack:
                                stack.pop()
                            else:  # an empty fenced stack: POP drops the MARK
                                stack = metastack.pop()
                                push = stack.append
                        elif op == 0x32:  # DUP
                            push(stack[-1])
                            self.repeats += 1
                        elif op == 0x64:  # DICT
                            items = stack
                            if len(items) & 1:
                                raise WalkError("DICT with an odd number of items", pos)
                            stack = metastack.pop()
                            push = stack.append
                            made: dict = {}
                            _keep_items(made, items)
                            push(made)
                        elif op == 0x31:  # POP_MARK
                            stack = metastack.pop()
                            push = stack.append
                        else:  # LIST, FROZENSET
                            stack = metastack.pop()
                            push = stack.append
                            push(DATA)
                        pos += 1
                    elif kind == 5:  # _CALL
                        if op == 0x52:  # REDUCE
                            args = stack.pop()
                            stack[-1] = self._call(stack[-1], args, pos, "REDUCE")
                            pos += 1
                        elif op == 0x62:  # BUILD
                            state = stack.pop()
                            target = stack[-1]
                            pos += 1
                            if type(target) is Result:
                                target.state = state
                                hook = hooks.get(target.cls) if target.cls else None
                                if hook is not None:
                                    self.hooked = True
                                    pos = hook(self, target, pos)
                            elif type(target) is Ref:
                                self._mutate(target, pos - 1, "BUILD")
                        elif op == 0x81:  # NEWOBJ
                            args = stack.pop()
                            stack[-1] = self._call(stack[-1], args, pos, "NEWOBJ")
                            pos += 1
                        elif op == 0x63 or op == 0x69:  # GLOBAL, INST
                            start, stop = self._line(pos + 1, OPCODE_NAMES[op], pos)
                            start2, stop2 = self._line(stop + 1, OPCODE_NAMES[op], pos)
                            if stop2 - start > MAX_TEXT:
                                raise WalkError(f"{OPCODE_NAMES[op]} names a global longer than {MAX_TEXT} bytes", pos)
                            ref = global_ref(str(data[start:stop], "utf-8"), str(data[start2:stop2], "utf-8"))
                            self._see(ref, pos)
                            if op == 0x63:
                                push(ref)
                            else:
                                args = tuple(stack)
                                stack = metastack.pop()
                                push = stack.append
                                push(self._call(ref, args, pos, "INST"))
                            pos = stop2 + 1
                        elif op == 0x93:  # STACK_GLOBAL
                            name = stack.pop()
                            stack[-1] = self._stack_global(stack[-1], name, pos)
                            pos += 1
                        elif op == 0x51:  # BINPERSID
                            stack[-1] = Persistent(stack[-1])
                            pos += 1
                        elif op == 0x92:  # NEWOBJ_EX
                            stack.pop()  # keyword arguments
                            args = stack.pop()
                            stack[-1] = self._call(stack[-1], args, pos, "NEWOBJ_EX")
                            pos += 1
                        elif op == 0x6F:  # OBJ
                            items = stack
                            stack = metastack.pop()
                            push = stack.append
                            push(self._call(items[0], tuple(items[1:]), pos, "OBJ"))
                            pos += 1
                        elif op == 0x50:  # PERSID
                            start, stop = self._line(pos + 1, "PERSID", pos)
                            push(Persistent(DATA))
                            pos = stop + 1
                        else:  # EXT1, EXT2, EXT4
                            if op == 0x82:
                                code, nxt = data[pos + 1], pos + 2
                            elif op == 0x83:
                                code, nxt = data[pos + 1] | data[pos + 2] << 8, pos + 3
                            else:
                                code, nxt = i32(data, pos + 1)[0], pos + 5
                            if code <= 0:
                                raise WalkError(f"{OPCODE_NAMES[op]} with code {code} <= 0", pos)
                            ref = Ref(SiteKind.EXTENSION, f"copyreg extension code {code}")
                            self._see(ref, pos)
                            push(ref)
                            pos = nxt
                    elif kind == 6:  # _BYTES  # SHORT_BINBYTES, BINBYTES, BINBYTES8, BYTEARRAY8: skipped by length
                        if op == 0x43:
                            header, length = 1, data[pos + 1]
                        elif op == 0x42:
                            header, length = 4, u32(data, pos + 1)[0]
                        else:
                            header, length = 8, u64(data, pos + 1)[0]
                        payload = pos + 1 + header
                        pos = self._payload_end(pos, header, length, OPCODE_NAMES[op])
                        if length >= MIN_STORED:
                            self._keep_if_stored(op, payload, pos)
                        push(DATA)
                    elif op == 0x2E:  # STOP
                        stack.pop()
                        self.stored_in_memo += self._memo_count()
                        return pos + 1
                    elif op == 0x95:  # FRAME: read straight, its opcodes are ordinary (but see frames.py)
                        if pos + 9 > end:
                            raise WalkError("pickle truncated inside FRAME", pos, truncated=True)
                        if frame_end != _NO_FRAME:  # a FRAME inside a frame: the buffer is not what it says
                            self.irregular_frames = True
                        self.framed = True
                        frame_end = pos + 9 + u64(data, pos + 1)[0]
                        pos += 9
                    elif op == 0x80:  # PROTO
                        if data[pos + 1] > HIGHEST_PROTOCOL:
                            raise WalkError(f"unsupported pickle protocol {data[pos + 1]}", pos)
                        pos += 2
                    elif op == 0x98:  # READONLY_BUFFER
                        stack[-1]  # noqa: B018 - an empty stack is an underflow, as in the loader
                        pos += 1
                    else:
                        raise WalkError(f"unknown opcode 0x{op:02x}", pos)
                if len(stack) + sum(map(len, metastack)) > MAX_STACK_ITEMS:
                    raise WalkError(f"stack exceeds {MAX_STACK_ITEMS} items: too large to analyse", pos)
        except IndexError:
            raise self._diagnose(pos, op) from None
        except struct.error:
            raise WalkError(f"pickle truncated inside {OPCODE_NAMES.get(op, 'an opcode')}", pos, truncated=True) from None
        except UnicodeDecodeError:
            raise WalkError(f"undecodable text in {OPCODE_NAMES.get(op, 'an opcode')}", pos) from None

    def _memo_get(self, memo: list, index: int, offset: int) -> object:
        try:
            value = memo[index]
        except IndexError:
            value = self._memo_far.get(index, _UNSET)
        if value is _UNSET:
            raise WalkError(f"memo key {index} read before it is set", offset)
        return value

    def _stack_global(self, module: object, name: object, offset: int) -> Ref:
        if type(module) is str and type(name) is str:
            ref = global_ref(module, name)
        elif all(type(part) in (str, Ref, Result, Persistent) or part is LONG_TEXT for part in (module, name)):
            parts = [part if type(part) is str else "<computed>" for part in (module, name)]
            ref = Ref(SiteKind.DYNAMIC, ".".join(parts))
        else:
            raise WalkError("STACK_GLOBAL needs two strings", offset)
        self._see(ref, offset)
        return ref

    def _quoted(self, start: int, stop: int, offset: int) -> object:
        """STRING's argument: a repr-quoted, backslash-escaped byte string."""
        raw = bytes(self.data[start:stop]).rstrip(_C_BLANKS)  # the C unpickler strips bytes <= ' '
        if len(raw) < 2 or raw[0] != raw[-1] or raw[:1] not in (b"'", b'"'):
            raise WalkError("STRING argument is not quoted", offset)
        if len(raw) > MAX_TEXT:
            return LONG_TEXT
        try:
            return unescaped(raw[1:-1]).decode("latin-1")
        except ValueError:
            raise WalkError("bad escape in STRING argument", offset) from None

    def _diagnose(self, pos: int, op: int) -> WalkError:
        """An IndexError came from reading past the data or popping an empty (fenced) stack."""
        if pos >= self.end:
            return WalkError("pickle truncated: data ends before STOP", pos, truncated=True)
        name = OPCODE_NAMES.get(op, "an opcode")
        if pos + 1 + _INDEXED_ARGUMENT.get(op, 0) > self.end:
            return WalkError(f"pickle truncated inside {name}", pos, truncated=True)
        return WalkError(f"stack underflow at {name} (too few items above the last MARK)", pos)


def _keep_items(target: dict, items) -> None:
    """Remembers up to MAX_DICT_KEPT str/int-keyed entries (object state such as joblib's)."""
    room = MAX_DICT_KEPT - len(target)
    for index in range(0, min(len(items), 2 * max(room, 0)), 2):
        key = items[index]
        if type(key) is str or type(key) is int:
            target[key] = items[index + 1]


# Text arguments are read the way either unpickler reads them, whichever accepts more: the C
# one stops at a NUL (C strings) and parses INT with strtol first (`010` is octal 8), the pure-
# Python one (joblib's) uses int(x, 0) / int(x) / float(x) (underscores, surrounding blanks).
_OCTAL = re.compile(rb"\s*[+-]?0[0-7]+\s*")


_C_BLANKS = bytes(range(33))
_NO_FRAME = 1 << 64


def unescaped(raw: bytes) -> bytes:
    """STRING's escapes decoded as the unpicklers decode them (codecs.escape_decode), silenced:
    an invalid escape warns, and the warning would print scanned bytes to stderr, which is the
    job log in the Action. Raises ValueError as escape_decode does."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return codecs.escape_decode(raw)[0]


def _readings(raw) -> tuple[bytes, ...]:
    raw = bytes(raw)
    cut = raw.find(b"\0")
    return (raw,) if cut < 0 else (raw, raw[:cut])


def _decimal(raw, offset: int, op: str) -> int:
    """GET/PUT's memo key: base 10 in both unpicklers."""
    for text in _readings(raw):
        try:
            return int(text)
        except ValueError:
            continue
    raise WalkError(f"{op} argument is not a decimal number", offset)


# What C's strtol(s, &end, 0) reads: leading white space, a sign, then hex, octal or decimal digits.
_STRTOL = re.compile(rb"[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")


def _strtol(raw: bytes) -> int | None:
    """INT's argument as the C unpickler's strtol reads it, or None where it falls back to
    Python's int(). It accepts the line when strtol stops at the newline or at a NUL byte, and
    strtol stops at the very start when there are no digits: `I\0junk` is the int 0."""
    match = _STRTOL.match(raw)
    end = match.end() if match else 0
    if end != len(raw) and raw[end] != 0:
        return None
    if match is None:
        return 0
    sign, digits = match.groups()
    base = 16 if digits[1:2] in (b"x", b"X") else 8 if digits.startswith(b"0") else 10
    value = int(digits, base)
    return -value if sign == b"-" else value


def _number(raw: bytes, op: int, offset: int) -> object:
    """INT, LONG or FLOAT's argument (the line without its newline)."""
    if op == 0x49 and raw not in (b"00", b"01") and (value := _strtol(bytes(raw))) is not None:
        return value
    for text in _readings(raw):
        if op == 0x4C and text.endswith(b"L"):
            text = text[:-1]
        try:
            if op == 0x46:
                float(text)
                return DATA
            if op == 0x49 and text in (b"00", b"01"):
                return DATA  # protocol 0 booleans
            return int(text, 0)
        except ValueError:
            if op == 0x49 and _OCTAL.fullmatch(text):
                return int(text, 8)  # strtol's base 0
    raise WalkError(f"{OPCODE_NAMES[op]} argument is not a number", offset)


def _type_name(value: object) -> str:
    if value is DATA:
        return "data"
    if value is LONG_TEXT:
        return "str"
    return type(value).__name__


def walk(
    data,
    *,
    start: int = 0,
    max_pickles: int | None = None,
    calls_arguments: CallsArguments | None = None,
    hooks: Mapping[str, BuildHook] | None = None,
    shared_memo: bool = False,
) -> Walk:
    """Walks the pickles in `data` back to back (at most `max_pickles`)."""
    walker = PickleWalker(data, calls_arguments=calls_arguments, hooks=hooks, shared_memo=shared_memo)
    return walker.walk(start, max_pickles)
