"""Compressed joblib files read the way joblib (and the other loaders of compressed pickles) read
them: joblib's detection, every stream of multi-stream files, the old ZF layout, lz4 by default;
and decompression bombs bounded in output bytes and walking work, counted, never timed."""

from __future__ import annotations

import bz2
import gzip
import lzma
import pickle
import random
import zlib

import lz4.frame
import pytest
from picklegen import system_call
from zipgen import Entry, build

from mlgate.models import joblib_files, pickles
from mlgate.models.joblib_files import FREE_OUTPUT, MAX_RATIO, MAX_STREAM_PICKLES, Allowance, compression_of, scan_compressed
from mlgate.models.where import Where

BENIGN = pickle.dumps([1, 2], protocol=4)


def hits(found) -> list[tuple[str, str | None, int | None]]:
    return [(f.rule.code, f.member, f.offset) for f in found]


def lzma_alone(content: bytes, dict_size: int) -> bytes:
    return lzma.compress(content, format=lzma.FORMAT_ALONE, filters=[{"id": lzma.FILTER_LZMA1, "dict_size": dict_size}])


@pytest.mark.parametrize("dict_size", [4096, 12288, 1 << 16, 3 << 20, 1 << 26])
def test_lzma_alone_with_any_dictionary_size(dict_size):
    """joblib detects LZMA-alone by 5d 00 alone: the dictionary size (bytes 1-4) is anything."""
    malicious, at = system_call()
    data = lzma_alone(malicious, dict_size)
    assert compression_of(data[:21]) == "lzma"
    assert hits(scan_compressed(data, Where("m.joblib"), {})) == [("MOD001", "<lzma stream>", at)]


def test_lzma_alone_header_with_an_odd_dictionary_size():
    """A dictionary size that is not 2^n or 2^n + 2^(n-1): lzma.LZMAFile refuses it, a FORMAT_ALONE reader does not."""
    malicious, at = system_call()
    data = bytearray(lzma_alone(malicious, 1 << 16))
    data[1:5] = (0x123400).to_bytes(4, "little")  # its low byte is 0: joblib checks 5d 00
    assert hits(scan_compressed(bytes(data), Where("m.joblib"), {})) == [("MOD001", "<lzma stream>", at)]


def zf(content: bytes, length: bytes | None = None, *, extra_space: bool = False) -> bytes:
    length = f"{len(content):#x}".encode() if length is None else length
    return b"ZF" + length.ljust(19) + (b" " if extra_space else b"") + zlib.compress(content)


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param(lambda content: zf(content), id="hex with 0x"),
        pytest.param(lambda content: zf(content, f"{len(content):x}".encode()), id="hex without 0x"),
        pytest.param(lambda content: zf(content, f"  +0X{len(content):X}".encode()), id="spaces, sign, upper case"),
        pytest.param(lambda content: zf(content, b"0x_1"), id="underscore, wrong length"),
        pytest.param(lambda content: zf(content, extra_space=True), id="joblib <= 0.8.4 extra space"),
        pytest.param(lambda content: zf(content) + b"trailing bytes zlib.decompress ignores", id="trailing data"),
    ],
)
def test_the_zf_layout_of_joblib_before_0_10(layout):
    """numpy_pickle_compat.read_zfile: int(header, 16) reads the length, which is not checked against the data."""
    malicious, at = system_call()
    data = layout(malicious)
    assert compression_of(data[:21]) == "ZF"
    assert hits(scan_compressed(data, Where("m.pkl"), {})) == [("MOD001", "<ZF stream>", at)]


@pytest.mark.parametrize("head", [b"ZFS snapshot notes for the cluster\n", b"ZF0xZZ" + b" " * 15 + b"x\x9c", b"ZF"])
def test_zf_starts_joblib_cannot_read_are_not_compressed_data(head):
    assert compression_of(head) is None


def test_a_zf_file_whose_length_joblib_cannot_parse_fails_closed_when_expected():
    data = b"ZF" + b"0xZZ".ljust(19) + zlib.compress(system_call()[0])
    assert hits(scan_compressed(data, Where("m.pkl"), {})) == [("MOD004", None, 0)]
    assert scan_compressed(data, Where("m.pkl"), {}, expected=False) == []


def gzip_members(*parts: bytes, padding: bytes = b"") -> bytes:
    return padding.join(gzip.compress(part) for part in parts)


def xz_streams(*parts: bytes) -> bytes:
    return b"".join(lzma.compress(part) for part in parts)


def lzma_then_xz(first: bytes, second: bytes) -> bytes:
    return lzma_alone(first, 1 << 16) + lzma.compress(second)


@pytest.mark.parametrize(
    ("kind", "streams"),
    [
        ("gzip", gzip_members),
        ("gzip", lambda *parts: gzip_members(*parts, padding=b"\0" * 7)),
        ("bz2", lambda *parts: b"".join(bz2.compress(part) for part in parts)),
        ("xz", xz_streams),
        ("lzma", lzma_then_xz),
        ("lz4", lambda *parts: b"".join(lz4.frame.compress(part) for part in parts)),
    ],
)
def test_every_stream_of_a_multi_stream_file(kind, streams):
    """gzip.GzipFile, bz2.BZ2File, lzma.LZMAFile and LZ4FrameFile read stream after stream:
    a pickle split across streams, or a second pickle in a second stream, is read whole."""
    malicious, at = system_call()
    split = streams(malicious[:5], malicious[5:])
    assert hits(scan_compressed(split, Where("m.joblib"), {})) == [("MOD001", f"<{kind} stream>", at)]
    second = streams(BENIGN, malicious)
    assert hits(scan_compressed(second, Where("m.joblib"), {})) == [("MOD001", f"<{kind} stream>", len(BENIGN) + at)]


@pytest.mark.parametrize(
    ("kind", "compress"),
    [("gzip", gzip.compress), ("bz2", bz2.compress), ("xz", lzma.compress), ("lz4", lz4.frame.compress), ("zlib", zlib.compress)],
)
def test_data_after_the_last_stream_that_is_no_stream_is_ignored(kind, compress):
    """The file readers stop at trailing garbage after a complete stream, as mlgate does."""
    data = compress(BENIGN) + b"\x01 trailing garbage, not a stream"
    assert hits(scan_compressed(data, Where("m.joblib"), {})) == [("MOD003", f"<{kind} stream>", 0)]


def test_a_second_zlib_stream_is_never_read():
    """joblib's BinaryZlibFile reads one zlib stream: what follows it never reaches the unpickler."""
    data = zlib.compress(BENIGN) + zlib.compress(system_call()[0])
    assert hits(scan_compressed(data, Where("m.joblib"), {})) == [("MOD003", "<zlib stream>", 0)]


@pytest.mark.parametrize("kind, compress", [("zlib", zlib.compress), ("gzip", gzip.compress), ("bz2", bz2.compress), ("xz", lzma.compress)])
def test_what_decompresses_before_a_corrupt_part_is_scanned(kind, compress):
    """A loader hands the unpickler what decompressed before the corruption (here the stream's
    check at its end): the call has run by then. Both the call and the corruption are reported."""
    malicious, at = system_call()
    padding = random.Random(0).randbytes(1 << 20)  # joblib's raw array bytes, say
    data = bytearray(compress(malicious + padding))
    data[-6] ^= 0xFF
    found = scan_compressed(bytes(data), Where("m.joblib"), {})
    assert hits(found)[0] == ("MOD001", f"<{kind} stream>", at)
    assert [(f.rule.code, f.member) for f in found[1:]] == [("MOD004", f"<{kind} stream>")]
    assert len(malicious) < found[1].offset <= len(malicious + padding)  # where decompression stopped
    assert found[1].message.startswith(f"{kind} data cannot be decompressed past this point: ")


def test_lz4_is_read_by_default():
    """lz4 is a runtime dependency: lz4 joblib files are scanned, not reported as unreadable."""
    malicious, at = system_call()
    data = lz4.frame.compress(malicious)
    assert compression_of(data[:21]) == "lz4"
    assert hits(scan_compressed(data, Where("m.joblib"), {})) == [("MOD001", "<lz4 stream>", at)]


def test_zlib_detection_needs_a_header_zlib_accepts():
    assert compression_of(zlib.compress(b"x")[:21]) == "zlib"
    for head in [b"x = 1\n", b"xml version", b"\x78\xbb", b"\x78\x01"[:1]]:
        assert compression_of(head) is None


# -- bombs ----------------------------------------------------------------------------------
# The bomb tests run with a smaller free output than FREE_OUTPUT (4 MiB): every bound is a
# formula of it (and counted, never timed), so an eighth of it shows the same behaviour while
# walking an eighth of the bytes. test_allowance_follows_the_file_size checks the real values.
SMALL_FREE_OUTPUT = FREE_OUTPUT // 8


@pytest.fixture
def small_free_output(monkeypatch):
    monkeypatch.setattr(joblib_files, "FREE_OUTPUT", SMALL_FREE_OUTPUT)
    return SMALL_FREE_OUTPUT


class Counted:
    """Counts what scan_pickle is handed and how many pickle opcodes sequences the walker walks."""

    def __init__(self, monkeypatch):
        self.walked_bytes = 0
        self.pickles_walked = 0
        original_scan, original_walk_one = pickles.scan_pickle, pickles.walker.PickleWalker._walk_one

        def scan_pickle(data, *args, **kwargs):
            self.walked_bytes += len(data)
            return original_scan(data, *args, **kwargs)

        def walk_one(walker, *args, **kwargs):
            self.pickles_walked += 1
            return original_walk_one(walker, *args, **kwargs)

        monkeypatch.setattr(pickles, "scan_pickle", scan_pickle)
        monkeypatch.setattr(pickles.walker.PickleWalker, "_walk_one", walk_one)


@pytest.mark.parametrize("compress", [lambda data: zlib.compress(data, 9), bz2.compress, lambda data: lzma.compress(data, preset=9)])
def test_a_small_file_of_tiny_pickles_is_walked_within_its_bounds(monkeypatch, compress, small_free_output):
    """2 kB of zlib (or a few dozen bytes of bz2) inflate to 2 MiB of tiny pickles: at most the free
    output + MAX_RATIO x the file's size are decompressed, MAX_STREAM_PICKLES pickles walked, and
    both bounds are reported, not silently dropped."""
    counted = Counted(monkeypatch)
    tiny = pickle.dumps(1, protocol=4)
    data = compress(tiny * ((2 << 20) // len(tiny)))
    allowance = small_free_output + MAX_RATIO * len(data)
    assert allowance < 2 << 20
    found = scan_compressed(data, Where("m.joblib"), {})
    assert counted.walked_bytes == allowance
    assert counted.pickles_walked <= 4 * (MAX_STREAM_PICKLES + 1)  # three readings and the count, each capped
    member = found[0].member
    assert hits(found) == [("MOD003", member, 0), ("MOD004", member, 0), ("MOD004", member, allowance)]
    assert (
        found[1].message
        == f"more than {MAX_STREAM_PICKLES} pickles in one compressed stream (joblib reads one): the rest were not analysed"
    )
    assert found[2].message.startswith(f"decompresses to more than {allowance} bytes")


def test_one_dense_pickle_is_walked_within_the_allowance(monkeypatch, small_free_output):
    counted = Counted(monkeypatch)
    data = bz2.compress(b"\x80\x04N" + b"0N" * (small_free_output) + b".")  # twice the free output
    found = scan_compressed(data, Where("m.joblib"), {})
    allowance = small_free_output + MAX_RATIO * len(data)
    assert counted.walked_bytes == allowance
    assert counted.pickles_walked <= 4  # each reading walks the one pickle once
    assert hits(found) == [("MOD004", "<bz2 stream>", allowance)]


def test_a_few_pickles_in_a_stream_are_all_walked():
    malicious, at = system_call()
    data = gzip.compress(BENIGN * (MAX_STREAM_PICKLES - 1) + malicious)
    assert hits(scan_compressed(data, Where("m.joblib"), {})) == [("MOD001", "<gzip stream>", len(BENIGN) * (MAX_STREAM_PICKLES - 1) + at)]


def test_the_allowance_is_shared_by_every_stream_of_one_file(scan_tree, monkeypatch, small_free_output):
    """A zip of many small bz2 bombs: together they inflate to no more than the file's allowance."""
    inflated = []
    original = joblib_files._inflate

    def counting(data, kind, limit):
        out, problem = original(data, kind, limit)
        inflated.append(min(len(out), limit))
        return out, problem

    monkeypatch.setattr(joblib_files, "_inflate", counting)
    content = b"\x80\x04N" + b"0N" * (small_free_output // 8) + b"."  # a quarter of the free output from a few dozen bytes
    bomb = bz2.compress(content)
    archive = build([Entry(f"bomb{index}.joblib", bomb) for index in range(12)]).data
    allowance = small_free_output + MAX_RATIO * len(archive)
    assert Allowance(len(archive)).total == allowance
    scan = scan_tree({"bombs.zip": archive}, select="models")
    assert sum(inflated) <= allowance
    whole = allowance // len(content)
    assert 0 < whole < 12
    codes = {int(f.member.split("!")[0][4:-7]): f.rule.code for f in scan.findings}
    assert [codes[index] for index in range(12)] == ["MOD003"] * whole + ["MOD004"] * (12 - whole)
    assert scan.messages("MOD004")[0].startswith(f"decompresses to more than {allowance} bytes")


def test_allowance_follows_the_file_size():
    assert Allowance(0).total == FREE_OUTPUT
    assert Allowance(1 << 20).total == FREE_OUTPUT + MAX_RATIO * (1 << 20)
    assert Allowance(1 << 40).total == joblib_files.MAX_DECOMPRESSED


def test_a_large_legitimate_compressed_file_is_read_whole():
    """Real joblib arrays compress a few times at most: within the allowance, whatever their size."""
    array = random.Random(0).randbytes(16 << 20)  # 16 MiB that do not compress
    data = zlib.compress(BENIGN[:-1] + b"0" + b"\x8e" + len(array).to_bytes(8, "little") + array + b"0N.", 1)
    assert hits(scan_compressed(data, Where("m.joblib"), {})) == [("MOD003", "<zlib stream>", 0)]
