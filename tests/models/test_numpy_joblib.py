""".npy headers, joblib's interleaved array bytes and compressed joblib streams."""

from __future__ import annotations

import bz2
import gzip
import lzma
import pickle
import struct
import sys
import zlib
from pathlib import Path

import pytest
from picklegen import (
    BUILD,
    EMPTY_DICT,
    EMPTY_TUPLE,
    MARK,
    NEWFALSE,
    NEWOBJ,
    NEWTRUE,
    NONE,
    POP,
    REDUCE,
    SETITEMS,
    STOP,
    TUPLE,
    TUPLE1,
    TUPLE3,
    Pickle,
    binint,
    binint1,
    global_,
    short_unicode,
    stack_global,
    system_call,
)
from zipgen import Entry, build

from mlgate.files import ScanError
from mlgate.models import joblib_files
from mlgate.models.joblib_files import compression_of, scan_compressed
from mlgate.models.numpy_files import scan_npy
from mlgate.models.pickles import scan_pickle
from mlgate.models.where import Where

FIXTURES = Path(__file__).parents[1] / "fixtures" / "models"


def hits(found) -> list[tuple[str, str, str | None, int | None]]:
    return [(f.rule.code, f.path, f.member, f.offset) for f in found]


# -- .npy --------------------------------------------------------------------------------


def npy(descr, payload: bytes = b"", version: int = 1, shape=(2,)) -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode("latin-1")
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    size = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + size + header + payload


def npy_start(data: bytes) -> int:
    return data.index(b"\n", 10) + 1


def test_plain_numeric_npy_has_no_finding():
    assert scan_npy(npy("<f8", b"\x00" * 16), Where("w.npy"), {}) == []


@pytest.mark.parametrize("version", [1, 2, 3])
def test_object_npy_pickle_is_scanned_after_the_header(version):
    malicious, at = system_call()
    data = npy("|O", malicious, version)
    assert hits(scan_npy(data, Where("w.npy"), {})) == [("MOD001", "w.npy", None, npy_start(data) + at)]


def python_2_npy(descr: str, payload: bytes) -> bytes:
    """The header numpy wrote under Python 2, where shapes were longs: `(3L, 4L)`."""
    header = ("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (3L, 4L), }").encode("latin-1")
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload


def test_python_2_headers_with_long_shapes_parse():
    assert scan_npy(python_2_npy("<f4", b"\x00" * 48), Where("w.npy"), {}) == []
    malicious, at = system_call()
    data = python_2_npy("|O", malicious)
    assert hits(scan_npy(data, Where("w.npy"), {})) == [("MOD001", "w.npy", None, npy_start(data) + at)]


def test_benign_object_npy_is_the_pickle_format():
    data = npy("|O", pickle.dumps([1, "x"], protocol=3))
    assert hits(scan_npy(data, Where("w.npy"), {})) == [("MOD003", "w.npy", None, npy_start(data))]


def test_object_field_of_a_structured_dtype_means_a_pickle():
    malicious, at = system_call()
    data = npy([("a", "<i4"), ("b", [("c", "|O", (2,))])], malicious)
    assert hits(scan_npy(data, Where("w.npy"), {})) == [("MOD001", "w.npy", None, npy_start(data) + at)]


def test_a_field_named_o_is_not_an_object_field():
    assert scan_npy(npy([("O", "<i4")], b"\x00" * 8), Where("w.npy"), {}) == []


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\x93NUMPX\x01\x00", "missing \\x93NUMPY magic"),
        (b"\x93NUMPY\x04\x00\x10\x00", "unknown format version 4.0"),
        (b"\x93NUMPY\x01\x01\x10\x00", "unknown format version 1.1"),
        (b"\x93NUMPY\x01\x00\xff\xff{}", "header length 65535 is past the end of the file"),
        (b"\x93NUMPY\x02\x00\x00\x00\x00\x10", "header length 268435456 is past the end of the file"),
        (npy("<f8")[:10] + b"{'descr': __import__('os')}".ljust(len(npy("<f8")) - 10), "not a Python literal (ValueError)"),
        (b"\x93NUMPY\x01\x00\x04\x00[1]\n", "not a dict with exactly the keys descr, fortran_order and shape"),
    ],
)
def test_unparseable_npy_header_fails_closed_when_expected(data, reason):
    found = scan_npy(data, Where("w.npy"), {})
    assert hits(found) == [("MOD004", "w.npy", None, 0)]
    assert found[0].message == f".npy header cannot be parsed: {reason}"
    assert scan_npy(data, Where("w.npy"), {}, expected=False) == []


# -- plain joblib ---------------------------------------------------------------------


def joblib_files_scan(data: bytes):
    return scan_pickle(data, Where("m.joblib"), {})


F4_STATE = (binint1(3), short_unicode("<"), NONE, NONE, NONE, binint(-1), binint(-1), binint1(0))
OBJECT_STATE = (binint1(3), short_unicode("|"), NONE, NONE, NONE, binint(-1), binint(-1), binint1(63))


def wrapper(count: int, descr: str = "f4", state=F4_STATE, alignment: bool = True) -> bytes:
    """A joblib NumpyArrayWrapper for a 1-d array, up to and including its BUILD."""
    stream = Pickle()
    stream.add(stack_global("joblib.numpy_pickle", "NumpyArrayWrapper"), EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, MARK)
    stream.add(short_unicode("subclass"), stack_global("numpy", "ndarray"), short_unicode("shape"), binint(count), TUPLE1)
    stream.add(short_unicode("order"), short_unicode("C"), short_unicode("dtype"), stack_global("numpy", "dtype"))
    stream.add(short_unicode(descr), NEWFALSE, NEWTRUE, TUPLE3, REDUCE, MARK, *state, TUPLE, BUILD)
    stream.add(short_unicode("allow_mmap"), NEWTRUE)
    if alignment:
        stream.add(short_unicode("numpy_array_alignment_bytes"), binint1(16))
    stream.add(SETITEMS, BUILD)
    return stream.bytes()


def test_array_bytes_after_the_wrapper_are_data_and_the_stream_resumes_after_them():
    array = b"cos\nsystem\n(S'id'\ntR.".ljust(24, b"\x00")  # opcodes inside array data never run
    stream = Pickle(4)
    stream.add(wrapper(6), b"\x0b", b"\xff" * 11, array, POP)
    stream.add(global_("os", "system"), short_unicode("id"), TUPLE1)
    at = stream.add(REDUCE, STOP)
    assert hits(joblib_files_scan(stream.bytes())) == [("MOD001", "m.joblib", None, at)]


def test_benign_joblib_stream_is_the_pickle_format():
    stream = Pickle(4)
    stream.add(wrapper(2), b"\x00", b"\x01\x00\x00\x00\x02\x00\x00\x00", STOP)
    assert hits(joblib_files_scan(stream.bytes())) == [("MOD003", "m.joblib", None, 0)]


def test_array_bytes_are_opcodes_for_a_plain_pickle_loader():
    """Old joblib (no alignment byte): pickle.load would run the 'array' as opcodes."""
    payload = b"cos\nsystem\n(S'id'\ntR."
    head = wrapper(len(payload), "i1", alignment=False)
    stream = Pickle(4)
    array_at = stream.add(head, payload) + len(head)
    stream.add(STOP)
    assert hits(joblib_files_scan(stream.bytes())) == [("MOD001", "m.joblib", None, array_at + payload.index(b"R"))]


def assert_nested_pickle_after(head: bytes) -> None:
    """Object arrays are written as a whole pickle right after the wrapper: it is walked."""
    nested, at = system_call()
    stream = Pickle(4)
    nested_at = stream.add(head, nested) + len(head)
    stream.add(STOP)  # joblib puts the array where the wrapper was
    assert hits(joblib_files_scan(stream.bytes())) == [("MOD001", "m.joblib", None, nested_at + at)]


def test_object_array_is_a_nested_pickle():
    assert_nested_pickle_after(wrapper(2, "O8", OBJECT_STATE))


def test_object_field_hidden_behind_clean_flags_still_means_a_nested_pickle():
    object_dtype = stack_global("numpy", "dtype") + short_unicode("O8") + NEWFALSE + NEWTRUE + TUPLE3 + REDUCE
    fields = EMPTY_DICT + short_unicode("o") + object_dtype + binint1(0) + b"\x86" + b"s"
    state = (binint1(3), short_unicode("|"), NONE, NONE, fields, binint(8), binint1(1), binint1(0))
    assert_nested_pickle_after(wrapper(1, "V8", state))


def test_truncated_array_data_fails_closed():
    head = wrapper(1000)
    stream = Pickle(4)
    data_at = stream.add(head, b"\x00") + len(head) + 1  # after the padding-length byte
    found = joblib_files_scan(stream.bytes())
    assert hits(found) == [("MOD004", "m.joblib", None, data_at)]
    assert found[0].message == "pickle stream cannot be parsed: joblib array data truncated: 4000 bytes declared"


# -- compressed joblib ------------------------------------------------------------------


def compress(kind: str, data: bytes) -> bytes:
    if kind == "zlib":
        return zlib.compress(data)
    if kind == "gzip":
        return gzip.compress(data)
    if kind == "bz2":
        return bz2.compress(data)
    if kind == "xz":
        return lzma.compress(data, format=lzma.FORMAT_XZ)
    if kind == "lzma":
        return lzma.compress(data, format=lzma.FORMAT_ALONE)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["zlib", "gzip", "bz2", "xz", "lzma"])
def test_compressed_joblib_is_decompressed_and_scanned(kind):
    malicious, at = system_call()
    data = compress(kind, pickle.dumps([1, 2], protocol=4) + malicious)
    assert compression_of(data[:8]) == kind
    found = scan_compressed(data, Where("m.joblib"), {})
    assert hits(found) == [("MOD001", "m.joblib", f"<{kind} stream>", len(pickle.dumps([1, 2], protocol=4)) + at)]


def zf(content: bytes) -> bytes:
    """joblib < 0.9.3's ZF layout: b"ZF", the length in hex padded to 19 characters, zlib data."""
    return b"ZF" + f"{len(content):#x}".ljust(19).encode() + zlib.compress(content)


def test_array_side_files_of_old_compressed_dumps_are_raw_data(scan_tree):
    """joblib < 0.10 wrote each array of a compressed dump to a side file `x.pkl_01.npy.z`:
    ZF-compressed raw array bytes. Still scanned when it holds a pickle."""
    malicious, at = system_call()
    files = {"m.pkl_01.npy.z": zf(b"\x00\x00\x80?" * 10), "m.pkl_02.npy.z": zf(malicious), "m.pkl.z": zf(b"\x00\x00\x80?" * 10)}
    scan = scan_tree(files, select="models")
    assert hits(scan.findings) == [("MOD004", "m.pkl.z", "<ZF stream>", 0), ("MOD001", "m.pkl_02.npy.z", "<ZF stream>", at)]


def test_old_joblib_array_wrappers_rebuild_data():
    """joblib 0.9's NDArrayWrapper lived in joblib.numpy_pickle (later numpy_pickle_compat)."""
    stream = Pickle(2)
    stream.add(global_("joblib.numpy_pickle", "NDArrayWrapper"), EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, BUILD, STOP)
    assert hits(scan_pickle(stream.bytes(), Where("old.pkl"), {})) == [("MOD003", "old.pkl", None, 0)]


def test_pre_0_9_3_zf_layout():
    malicious, at = system_call()
    body = zlib.compress(malicious)
    data = b"ZF" + f"{len(malicious):#x}".ljust(19).encode() + body
    assert compression_of(data[:21]) == "ZF"
    assert hits(scan_compressed(data, Where("m.pkl"), {})) == [("MOD001", "m.pkl", "<ZF stream>", at)]


def test_lz4_without_the_lz4_package_is_an_error_not_a_pass(monkeypatch):
    monkeypatch.setitem(sys.modules, "lz4", None)
    monkeypatch.setitem(sys.modules, "lz4.frame", None)
    with pytest.raises(ScanError, match="install the lz4 package"):
        scan_compressed(b"\x04\x22\x4d\x18" + b"\x00" * 16, Where("m.joblib"), {})


def test_lz4_files_without_the_lz4_package_are_reported_never_passed(scan_tree, monkeypatch):
    """Whether or not lz4 is installed here: a file is an error entry, an archive member MOD004."""
    monkeypatch.setitem(sys.modules, "lz4", None)
    monkeypatch.setitem(sys.modules, "lz4.frame", None)
    lz4_joblib = (FIXTURES / "joblib_forest_lz4.joblib").read_bytes()
    archive = build([Entry("bundle/forest.joblib", lz4_joblib)]).data
    scan = scan_tree({"forest.joblib": lz4_joblib, "bundle.zip": archive}, select="models")
    assert hits(scan.findings) == [("MOD004", "bundle.zip", "bundle/forest.joblib", 0)]
    assert scan.errors == [("forest.joblib", "lz4-compressed joblib file: install the lz4 package so mlgate can scan it")]


def test_lz4_with_the_package():
    frame = pytest.importorskip("lz4.frame")
    malicious, at = system_call()
    assert hits(scan_compressed(frame.compress(malicious), Where("m.joblib"), {})) == [("MOD001", "m.joblib", "<lz4 stream>", at)]


def test_decompression_stops_at_the_cap(monkeypatch):
    monkeypatch.setattr(joblib_files, "MAX_DECOMPRESSED", 100_000)
    bomb = zlib.compress(b"\x80\x04\x8e" + struct.pack("<Q", 10**9) + b"\x00" * 50_000_000)
    found = scan_compressed(bomb, Where("m.joblib"), {})
    assert hits(found) == [("MOD004", "m.joblib", "<zlib stream>", 100_000)]
    assert (
        found[0].message
        == f"decompresses to more than 100000 bytes (16 times the file's size plus {4 << 20}, at most 100000): the rest was not analysed"
    )


def test_calls_before_the_cap_are_still_reported(monkeypatch):
    monkeypatch.setattr(joblib_files, "MAX_DECOMPRESSED", 1 << 20)
    malicious, at = system_call()
    data = zlib.compress(malicious[:-1] + b"\x80\x04\x8e" + struct.pack("<Q", 10**9) + b"\x00" * (2 << 20))
    assert hits(scan_compressed(data, Where("m.joblib"), {})) == [
        ("MOD001", "m.joblib", "<zlib stream>", at),
        ("MOD004", "m.joblib", "<zlib stream>", 1 << 20),
    ]


def test_corrupt_compressed_data_fails_closed_when_expected():
    data = b"\x78\x9c" + b"\xff" * 40
    assert hits(scan_compressed(data, Where("m.joblib"), {})) == [("MOD004", "m.joblib", None, 0)]
    assert scan_compressed(data, Where("m.joblib"), {}, expected=False) == []


def test_compressed_text_is_not_a_pickle():
    data = gzip.compress(b"a,b,c\n1,2,3\n")
    assert hits(scan_compressed(data, Where("data.joblib"), {})) == [("MOD004", "data.joblib", "<gzip stream>", 0)]
    assert scan_compressed(data, Where("data.csv.gz"), {}, expected=False) == []


@pytest.mark.parametrize("head", [b"xyz", b"BZ", b"hello", b"\x80\x04\x95", b"ZFx", b""])
def test_compression_of_other_bytes(head):
    assert compression_of(head) is None
