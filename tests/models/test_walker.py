"""The opcode walker itself: every opcode, the loader's stack/memo semantics, hostile input."""

from __future__ import annotations

import collections
import datetime
import decimal
import mmap
import pickle
import pickletools
import struct
import uuid

import pytest
from picklegen import (
    ADDITEMS,
    APPEND,
    APPENDS,
    BINPERSID,
    BUILD,
    DICT,
    DUP,
    EMPTY_DICT,
    EMPTY_LIST,
    EMPTY_SET,
    EMPTY_TUPLE,
    LIST,
    MARK,
    MEMOIZE,
    NEWFALSE,
    NEWOBJ,
    NEWOBJ_EX,
    NEWTRUE,
    NEXT_BUFFER,
    NONE,
    OBJ,
    POP,
    POP_MARK,
    READONLY_BUFFER,
    REDUCE,
    SETITEM,
    SETITEMS,
    STACK_GLOBAL,
    STOP,
    TUPLE,
    TUPLE1,
    TUPLE2,
    TUPLE3,
    Pickle,
    binbytes,
    binbytes8_header,
    binget,
    binint,
    binint1,
    binput,
    binunicode,
    bytearray8,
    ext1,
    ext2,
    ext4,
    frame,
    get,
    global_,
    inst,
    integer,
    long_binget,
    long_binput,
    put,
    short_binstring,
    short_unicode,
    stack_global,
    string,
    unicode_line,
)

from mlgate.models import walker
from mlgate.models.walker import OPCODE_NAMES, SiteKind


def sites(reading: walker.Walk) -> list[tuple[str, str, int, int | None]]:
    return [(site.kind.value, site.name, site.offset, site.call_offset) for site in reading.sites.values()]


def test_every_pickle_opcode_has_a_handler():
    assert {op.code.encode("latin-1")[0] for op in pickletools.opcodes} == set(OPCODE_NAMES)
    assert {op.name for op in pickletools.opcodes} == set(OPCODE_NAMES.values())


def every_opcode_stream() -> bytes:
    """One well-formed pickle that uses every opcode of protocols 0-5 at least once."""
    stream = Pickle(5)
    stream.add(frame(0), MARK)
    stream.add(integer(7), b"L12L\n", b"F1.5\n", binint(-3), binint1(4), b"M\x01\x02", b"\x8a\x01\x05", b"\x8b\x01\x00\x00\x00\x06")
    stream.add(string("s"), b"T\x01\x00\x00\x00t", short_binstring("u"), unicode_line("v"), short_unicode("w"), binunicode("x"))
    stream.add(b"\x8d\x01\x00\x00\x00\x00\x00\x00\x00y", binbytes(b"z"), b"C\x01z", binbytes8_header(1) + b"z", bytearray8(b"q"))
    stream.add(NONE, NEWTRUE, NEWFALSE, b"G" + struct.pack(">d", 1.0), NEXT_BUFFER, READONLY_BUFFER)
    stream.add(EMPTY_LIST, binint1(1), APPEND, MARK, binint1(2), APPENDS, MARK, binint1(3), LIST, EMPTY_TUPLE)
    stream.add(MARK, binint1(4), TUPLE, binint1(5), TUPLE1, binint1(6), binint1(7), TUPLE2, NONE, NONE, NONE, TUPLE3)
    stream.add(
        EMPTY_DICT, short_unicode("k"), NONE, SETITEM, MARK, short_unicode("l"), NONE, SETITEMS, MARK, short_unicode("m"), NONE, DICT
    )
    stream.add(EMPTY_SET, MARK, binint1(8), ADDITEMS, MARK, binint1(9), b"\x91", POP, DUP, POP, MARK, POP_MARK)
    stream.add(MEMOIZE, put(10), binput(11), long_binput(12), get(10), binget(11), long_binget(12))
    stream.add(global_("collections", "OrderedDict"), EMPTY_TUPLE, REDUCE, NONE, BUILD)
    stream.add(
        stack_global("collections", "OrderedDict"),
        EMPTY_TUPLE,
        NEWOBJ,
        stack_global("collections", "OrderedDict"),
        EMPTY_TUPLE,
        EMPTY_DICT,
        NEWOBJ_EX,
    )
    stream.add(MARK, inst("collections", "OrderedDict"), MARK, global_("collections", "OrderedDict"), OBJ)
    stream.add(ext1(1), ext2(2), ext4(3), b"P0\n", binint1(0), BINPERSID)
    stream.add(b"t", STOP)  # the TUPLE closes the first MARK: everything becomes one value
    return stream.bytes()


def test_a_stream_with_every_opcode_walks_to_stop():
    data = every_opcode_stream()
    used = {op.name for op, _, _ in pickletools.genops(data)}
    assert used == set(OPCODE_NAMES.values())
    reading = walker.walk(data)
    assert (reading.error, reading.pickles, reading.end) == (None, 1, len(data))


class Plain:
    def __init__(self):
        self.values = [1, 2.5, "x" * 2000, b"y" * 70000, {"k": (1, 2)}, None]


VALUES = [
    None,
    True,
    -5,
    2**70,
    -(2**600),
    1.5,
    "h\xe9llo \u2603",
    b"bytes",
    bytearray(b"ba"),
    [1, [2, [3]]],
    (1, (2,)),
    {"a": {"b": 1}},
    {1, 2},
    frozenset({3}),
    collections.OrderedDict(a=1),
    collections.defaultdict(list, x=[1]),
    datetime.datetime(2020, 1, 2),
    decimal.Decimal("1.5"),
    uuid.UUID(int=5),
    complex(1, 2),
    range(5),
    slice(1, 2),
    Plain(),
    [Plain(), Plain()],
    list(range(3000)),
    {str(i): i for i in range(2500)},
    "x" * 5000,
]


@pytest.mark.parametrize("protocol", range(6))
def test_pickles_written_by_python_walk_cleanly(protocol):
    data = b"".join(pickle.dumps(value, protocol=protocol) for value in VALUES)
    reading = walker.walk(data)
    assert (reading.error, reading.pickles, reading.end) == (None, len(VALUES), len(data))
    names = {site.name for site in reading.sites.values()}
    assert "test_walker.Plain" in names
    assert all(site.kind is SiteKind.GLOBAL for site in reading.sites.values())


def test_same_result_for_bytes_bytearray_memoryview_and_mmap(tmp_path):
    data = b"".join(pickle.dumps(value, protocol=0) for value in VALUES)  # protocol 0: newline-terminated arguments
    path = tmp_path / "stream.pkl"
    path.write_bytes(data)
    expected = sites(walker.walk(data))
    assert sites(walker.walk(bytearray(data))) == expected
    assert sites(walker.walk(memoryview(data))) == expected
    assert sites(walker.walk(memoryview(b"xx" + data)[2:])) == expected
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        assert sites(walker.walk(mapped)) == expected


def test_first_reference_and_first_call_are_kept_apart():
    stream = Pickle(2)
    ref = stream.add(global_("evil", "f"), binput(0), POP, NONE, POP, binget(0), EMPTY_TUPLE)
    call = stream.add(REDUCE, STOP)
    assert sites(walker.walk(stream.bytes())) == [("global", "evil.f", ref, call)]


def test_memoize_counts_filled_entries_like_the_loader():
    """After PUT 5, MEMOIZE stores at key 1 (the number of entries), not at 6."""
    stream = Pickle(4)
    stream.add(short_unicode("x"), binput(5), POP, short_unicode("os"), MEMOIZE, POP, short_unicode("system"), binput(0), POP)
    stream.add(binget(1), binget(0), STACK_GLOBAL, STOP)
    assert [site.name for site in walker.walk(stream.bytes()).sites.values()] == ["os.system"]


def test_far_memo_keys_are_kept_without_allocating_up_to_them():
    stream = Pickle(2)
    stream.add(short_unicode("os"), long_binput(0xFFFFFFF0), POP, short_unicode("system"), long_binput(0xFFFFFFF1), POP)
    stream.add(long_binget(0xFFFFFFF0), long_binget(0xFFFFFFF1), STACK_GLOBAL, STOP)
    assert [site.name for site in walker.walk(stream.bytes()).sites.values()] == ["os.system"]


def test_hundred_thousand_memo_entries():
    stream = Pickle(4)
    stream.add(EMPTY_LIST, MEMOIZE, MARK, *([NONE, MEMOIZE] * 100_000), APPENDS, long_binget(99_999), POP, STOP)
    reading = walker.walk(stream.bytes())
    assert (reading.error, reading.pickles) == (None, 1)


def test_get_of_an_unset_memo_key_breaks():
    stream = Pickle(2)
    at = stream.add(binget(3))
    stream.add(STOP)
    reading = walker.walk(stream.bytes())
    assert (reading.error, reading.error_offset, reading.truncated) == ("memo key 3 read before it is set", at, False)


def test_mark_fences_the_stack():
    """REDUCE cannot reach the callable below a MARK, as in the C unpickler."""
    stream = Pickle(2)
    stream.add(global_("os", "system"), MARK, EMPTY_TUPLE)
    at = stream.add(REDUCE, STOP)
    reading = walker.walk(stream.bytes())
    assert (reading.error, reading.error_offset) == ("stack underflow at REDUCE (too few items above the last MARK)", at)
    assert sites(reading) == [("global", "os.system", 2, None)]


def test_pop_on_an_empty_fenced_stack_drops_the_mark():
    stream = Pickle(2)
    stream.add(global_("evil", "f"), MARK, POP, EMPTY_TUPLE)
    call = stream.add(REDUCE, STOP)
    assert sites(walker.walk(stream.bytes())) == [("global", "evil.f", 2, call)]


@pytest.mark.parametrize(
    "data, error, truncated",
    [
        (b"\x80\x06N.", "unsupported pickle protocol 6", False),
        (b"\x80\x02\xffN.", "unknown opcode 0xff", False),
        (b"\x80\x02N", "pickle truncated: data ends before STOP", True),
        (b"\x80\x02J\x01\x02", "pickle truncated inside BININT", True),
        (b"\x80\x02G\x01\x02", "pickle truncated inside BINFLOAT", True),
        (b"\x80\x02\x8c\x05ab", "pickle truncated: SHORT_BINUNICODE declares 5 bytes, 2 remain", True),
        (b"\x80\x02" + binbytes8_header(2**63), f"pickle truncated: BINBYTES8 declares {2**63} bytes, 0 remain", True),
        (b"\x80\x05\x96" + struct.pack("<Q", 2**64 - 1), f"pickle truncated: BYTEARRAY8 declares {2**64 - 1} bytes, 0 remain", True),
        (b"\x80\x02X\xff\xff\xff\xffab", f"pickle truncated: BINUNICODE declares {2**32 - 1} bytes, 2 remain", True),
        (b"\x80\x02\x8b\xff\xff\xff\xff", "LONG4 with a negative byte count", False),
        # the C unpickler reads BINSTRING's length unsigned (the pure-Python one refuses it as negative)
        (b"\x80\x02T\xff\xff\xff\xff", f"pickle truncated: BINSTRING declares {2**32 - 1} bytes, 0 remain", True),
        (b"cos\nsys", "pickle truncated inside the GLOBAL argument", True),
        (b"Sid\n.", "STRING argument is not quoted", False),
        (b"Ixyz\n.", "INT argument is not a number", False),
        (b"\x80\x02\x8c\x02\xff\xfe.", "undecodable text in SHORT_BINUNICODE", False),
        (b"\x80\x02K\x01K\x02\x93.", "STACK_GLOBAL needs two strings", False),
        (b"\x80\x02K\x01)R.", "REDUCE calls a value that is not callable (int)", False),
        (b"\x80\x02}(K\x01u.", "SETITEMS with an odd number of items", False),
        (b"\x80\x02.", "stack underflow at STOP (too few items above the last MARK)", False),
        (b"\x80\x020", "stack underflow at POP (too few items above the last MARK)", False),
    ],
)
def test_breaks_are_reported_with_their_cause(data, error, truncated):
    reading = walker.walk(data)
    assert (reading.error, reading.truncated, reading.pickles) == (error, truncated, 0)


def test_deep_mark_nesting_is_bounded():
    reading = walker.walk(b"\x80\x02" + MARK * (walker.MAX_MARK_DEPTH + 10) + STOP)
    assert reading.error == f"MARK nesting deeper than {walker.MAX_MARK_DEPTH}"


def test_deep_tuple_nesting_needs_no_recursion():
    depth = walker.MAX_MARK_DEPTH - 1
    reading = walker.walk(b"\x80\x02" + MARK * depth + TUPLE * depth + STOP)
    assert (reading.error, reading.pickles) == (None, 1)


def test_long_chains_of_calls_need_no_recursion():
    data = b"\x80\x02" + global_("evil", "f") + (EMPTY_TUPLE + REDUCE) * 200_000 + STOP
    reading = walker.walk(data)
    assert reading.error is None
    assert [site.name for site in reading.sites.values()] == ["evil.f", "evil.f(...)", "evil.f(...)(...)", "<computed>(...)(...)"]


def test_stack_size_is_bounded(monkeypatch):
    monkeypatch.setattr(walker, "MAX_STACK_ITEMS", 1000)
    monkeypatch.setattr(walker, "CHECK_EVERY", 100)
    reading = walker.walk(b"\x80\x02" + NONE * 5000 + STOP)
    assert reading.error == "stack exceeds 1000 items: too large to analyse"


def test_memo_size_is_bounded(monkeypatch):
    monkeypatch.setattr(walker, "MAX_MEMO_ENTRIES", 10)
    stream = Pickle(2)
    stream.add(NONE, *(long_binput(index * 10_000) for index in range(20)), STOP)
    assert walker.walk(stream.bytes()).error == "memo exceeds 10 entries: too large to analyse"


def test_binary_payloads_are_skipped_not_copied():
    payload = b"cos\nsystem\n(S'id'\ntR." * 1000  # opcodes inside bytes are data
    stream = Pickle(4)
    stream.add(binbytes(payload), bytearray8(payload), binbytes8_header(len(payload)) + payload, POP, POP, POP, NONE, STOP)
    assert sites(walker.walk(stream.bytes())) == []


def test_walk_starts_at_an_offset_and_stops_after_max_pickles():
    one = pickle.dumps(1, protocol=2)
    data = b"junk" + one * 3
    reading = walker.walk(data, start=4, max_pickles=2)
    assert (reading.pickles, reading.end, reading.error) == (2, 4 + 2 * len(one), None)


def test_every_pickle_gets_a_fresh_memo_unless_shared():
    first = Pickle(4)
    first.add(short_unicode("os"), MEMOIZE, short_unicode("system"), MEMOIZE, POP, STOP)
    second = Pickle(4)
    second.add(short_unicode("collections"), MEMOIZE, short_unicode("OrderedDict"), MEMOIZE, POP, POP)
    at = second.add(binget(2), binget(3), STACK_GLOBAL, STOP)
    data = first.bytes() + second.bytes()
    fresh = walker.walk(data)
    assert (fresh.error, fresh.error_offset) == ("memo key 2 read before it is set", len(first.bytes()) + at)
    shared = walker.walk(data, shared_memo=True)
    assert [site.name for site in shared.sites.values()] == ["collections.OrderedDict"]
