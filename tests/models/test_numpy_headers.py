""".npy headers judged as numpy reads them: every spelling of a dtype that holds Python objects
(numpy then unpickles the data after the header) is found, in .npy files and in .npz members;
headers numpy refuses load nothing; what numpy may read but mlgate cannot judge fails closed."""

from __future__ import annotations

import struct

import pytest
from picklegen import system_call
from zipgen import Entry, build

from mlgate.models.numpy_files import Verdict, read_header, scan_npy
from mlgate.models.where import Where


def npy_text(header: str, payload: bytes = b"", version: int = 1) -> bytes:
    raw = header.encode("utf-8" if version == 3 else "latin-1")
    raw += b" " * (63 - (len(raw) + 10) % 64) + b"\n"
    size = struct.pack("<H", len(raw)) if version == 1 else struct.pack("<I", len(raw))
    return b"\x93NUMPY" + bytes([version, 0]) + size + raw + payload


def npy(descr: object, payload: bytes = b"", version: int = 1, shape: object = (2,)) -> bytes:
    return npy_text(repr({"descr": descr, "fortran_order": False, "shape": shape}), payload, version)


def data_start(data: bytes) -> int:
    return data.index(b"\n", 10) + 1


OBJECT_SPELLINGS = [
    "O",
    "|O",
    "<O",
    ">O",
    "=O",
    "O8",
    "O4",
    "|O8",
    ">O4",
    "O 8",
    "O+8",
    "O\t8",
    "O08",
    "O\n8",
    "object",
    "object_",
    "T",
    "<T",  # numpy 2's variable-width string dtype holds references: it is pickled too
    "\x11",
    "|\x11",
    ("\x11", (2,)),  # a character below 24 is numpy's type number: 17 is NPY_OBJECT
    "(1,)O",
    "1O",
    "2O",
    "0O",
    "(2,3)O",
    "()O",
    "|(2,)O",
    "(2,)>O",
    " (2,)O",
    "2 O",
    "2,O",
    "( 2 , )O",
    "O,",
    "O, ",
    "O,i4",
    "i4,O",
    "i4, (2,)O",
    "f8,2O8",
    "O8,O8",
    "3T",
    ("O", (2,)),
    ("O", 2),
    ("O", 1),
    ("O", 0),
    ("O", ()),
    ("O", [2, 3]),
    ("O", b"\x02\x03"),
    ("O", [("a", "O")]),
    ("O", (2,), "ignored"),
    (("O", (2,)), (3,)),
    ("V0", [("a", "O")]),
    ("T", 2),
    [("a", "<i4"), ("b", "|O")],
    [("a", "O", (2,))],
    [("a", "O", 1)],
    [("a", ("O", (2,)))],
    [("a", "2O")],
    [("a", "<f8"), ("b", [("c", "<i4"), ("d", [("e", "O")])])],
    [("a", [("b", "O")], (2,))],
    [("", "O")],
    [("", [("a", "O")])],
    [("", "O,")],
    [(("title", "a"), "O")],
    [((1, "a"), "O")],
    [("a", "O"), ("b", "i4", 0)],
    ["aO"],
    [["a", "O"]],
    [{"a": 1, "O": 2}],
    {("a", "O"): 1},
    "object0",  # numpy 1.x's alias, still what older installs read
]


@pytest.mark.parametrize("descr", OBJECT_SPELLINGS, ids=repr)
def test_every_spelling_of_an_object_dtype_is_a_pickle(descr):
    malicious, at = system_call()
    data = npy(descr, malicious)
    assert [(f.rule.code, f.offset) for f in scan_npy(data, Where("w.npy"), {})] == [("MOD001", data_start(data) + at)]


PLAIN_SPELLINGS = [
    "<f8",
    "|b1",
    "\x0c",
    "\x00",
    "<U10",
    "|S5",
    "|V8",
    "<M8[ns]",
    "<m8[s]",
    "M 8",
    "c",
    "a5",
    "<c16",
    "float64",
    "int",
    "2i4",
    "(2,3)<f4",
    "i4,f8",
    "S0",
    [("a", "<i4"), ("b", "<f8", (2,))],
    [("O", "<i4")],
    [("", "O", (2,))],
    [("", ("O", (2,)))],
    [("", "2O")],
    [("", "V8"), ("x", "i4")],
    [],
    ("i8", "f8"),
    ("V8", [("a", "<i8")]),
    [("a", "i8", None)],
    [("o", "<U1")],
]


@pytest.mark.parametrize("descr", PLAIN_SPELLINGS, ids=repr)
def test_plain_dtypes_hold_no_pickle(descr):
    """Including padding: a nameless subarray of objects is dropped from the dtype, so numpy reads raw bytes."""
    data = npy(descr, b"\x00" * 64)
    assert read_header(data).verdict is Verdict.PLAIN
    assert scan_npy(data, Where("w.npy"), {}) == []


REJECTED_SPELLINGS = [
    "O16",
    "O1",
    "O0",
    "O-8",
    " O",
    "O ",
    "!O",
    "|object",
    "Oi",
    "O\x008",
    "(2)O",
    "(2,)(3,)O",
    "<(2,)>O",
    ",O",
    ("O",),
    (),
    ("O", -1),
    ("O", True),
    ("O", "i8"),
    ("i8", "O"),
    ("V8", "O"),
    ("O", 2.0),
    ("O", ["O"]),
    ("O", b"\x02"),
    "i4,\x11",
    "2\x11",
    ("O", (2**31,)),
    ("O", tuple([1] * 65)),
    (("O", (2,)), [("a", "O")]),
    ("O", [("a", "O"), ("b", "O")]),
    ("T", "i8"),
    [("a", "O"), ("a", "i4")],
    [(1, "O")],
    [(b"a", "O")],
    [(("a", "a"), "O")],
    [(("t", "a", "x"), "O")],
    [("a", "O", 2, 3)],
    [("a", "O", True)],
    [("a", "S2147483647"), ("b", "O")],
    5,
    None,
    b"O",
    [b"aO"],
    ["aOx"],
]


@pytest.mark.parametrize("descr", REJECTED_SPELLINGS, ids=repr)
def test_dtypes_numpy_refuses_load_nothing(descr):
    """numpy.load raises on these: no pickle runs. Named .npy, the file fails closed as corrupt."""
    data = npy(descr, system_call()[0])
    header = read_header(data)
    assert header.verdict is Verdict.REJECTED
    found = scan_npy(data, Where("w.npy"), {})
    assert [(f.rule.code, f.offset) for f in found] == [("MOD004", 0)]
    assert found[0].message == f".npy header cannot be parsed: {header.reason}"
    assert scan_npy(data, Where("w.npy"), {}, expected=False) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (npy({("a", "O")}), "a set as a dtype description: numpy reads its items in a per-process order"),
        (npy([{"a", "O"}]), "a set as a field: numpy reads its items in a per-process order"),
        (npy(("O", {"a": ("O", 0)})), "a dict as a dtype"),
        (npy(("S0", [("a", "O")])), "a byte or text dtype over fields holding objects"),
        (
            npy("O", shape=(2,), version=2)[:8] + struct.pack("<I", (1 << 20) + 1) + b" " * ((1 << 20) + 1),
            "header of 1048577 bytes, over the 1048576 mlgate reads",
        ),
    ],
)
def test_what_numpy_may_read_but_mlgate_cannot_judge_fails_closed(data, reason):
    found = scan_npy(data, Where("w.npy"), {})
    assert [(f.rule.code, f.offset) for f in found] == [("MOD004", 0)]
    assert found[0].message == f".npy header that numpy may load but mlgate cannot judge: {reason}"


def test_header_keys_and_values_as_numpy_checks_them():
    malicious = system_call()[0]
    good = "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"
    assert read_header(npy_text(good, malicious)).verdict is Verdict.OBJECTS
    for header, reason in [
        (
            "{'descr': '|O', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
            "not a dict with exactly the keys descr, fortran_order and shape",
        ),
        ("{'descr': '|O', 'shape': (2,)}", "not a dict with exactly the keys descr, fortran_order and shape"),
        ("{'descr': '|O', 'fortran_order': 0, 'shape': (2,)}", "fortran_order is not a bool"),
        ("{'descr': '|O', 'fortran_order': False, 'shape': [2]}", "shape is not a tuple of integers"),
        ("{'descr': '|O', 'fortran_order': False, 'shape': (2.0,)}", "shape is not a tuple of integers"),
        ("{'descr': '|O', 'fortran_order': False, 'shape': (18446744073709551616,)}", "shape does not fit numpy's 64-bit element count"),
    ]:
        header_read = read_header(npy_text(header, malicious))
        assert (header_read.verdict, header_read.reason) == (Verdict.REJECTED, reason), header
    # duplicate keys: the last one wins, as in any dict literal
    assert (
        read_header(npy_text("{'descr': '<f8', 'descr': '|O', 'fortran_order': False, 'shape': (2,)}", malicious)).verdict
        is Verdict.OBJECTS
    )
    assert (
        read_header(npy_text("{'descr': '|O', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", malicious)).verdict is Verdict.PLAIN
    )
    # shapes of bools are integers to numpy; an empty shape is one element
    assert read_header(npy_text("{'descr': '|O', 'fortran_order': True, 'shape': (True,)}", malicious)).verdict is Verdict.OBJECTS
    assert read_header(npy_text("{'descr': '|O', 'fortran_order': False, 'shape': ()}", malicious)).verdict is Verdict.OBJECTS


def test_escaped_and_concatenated_spellings_are_the_same_literal():
    for header in [
        "{'descr': '\\x4f', 'fortran_order': False, 'shape': (2,)}",
        "{'descr': '\\u004f8', 'fortran_order': False, 'shape': (2,)}",
        "{'descr': 'ob' 'ject', 'fortran_order': False, 'shape': (2,)}",
        "{'descr': [('a', '|O')], 'fortran_order': False, 'shape': (2,)}",
        '{"descr": \'|O\', "fortran_order": False, "shape": (+2,)}',
    ]:
        assert read_header(npy_text(header, system_call()[0])).verdict is Verdict.OBJECTS, header


def test_python_2_long_suffixes_only_in_versions_1_and_2():
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (3L, 4L), }"
    assert read_header(npy_text(header, system_call()[0], version=1)).verdict is Verdict.OBJECTS
    assert read_header(npy_text(header, system_call()[0], version=2)).verdict is Verdict.OBJECTS
    assert read_header(npy_text(header, system_call()[0], version=3)).verdict is Verdict.REJECTED


def test_version_3_headers_are_utf8():
    data = npy_text("{'descr': [('\u00e9', '|O')], 'fortran_order': False, 'shape': (2,)}", system_call()[0], version=3)
    assert read_header(data).verdict is Verdict.OBJECTS
    broken = data[:12] + b"\xff" + data[13:]
    assert read_header(broken).verdict is Verdict.REJECTED


@pytest.mark.parametrize("descr", ["(2,)O", [("a", "<f8"), ("b", "O")], "T", ("O", (2,))])
def test_object_spellings_inside_npz_members(scan_tree, descr):
    """np.load on an .npz reads every member that starts with the .npy magic, whatever its name."""
    malicious, at = system_call()
    member = npy(descr, malicious)
    archive = build([Entry("plain.npy", npy("<f8", b"\x00" * 16)), Entry("weights", member)]).data
    scan = scan_tree({"arrays.npz": archive}, select="models")
    assert [(f.rule.code, f.path, f.member, f.offset) for f in scan.findings] == [
        ("MOD001", "arrays.npz", "weights", data_start(member) + at)
    ]
