"""7z archives fail closed (MOD004) wherever they are and whatever their name: mlgate does
not open them, and they can carry pickles (picklescan's and modelaudit's malicious samples)."""

from __future__ import annotations

import struct
import zlib

from scanhits import evil, hits
from targen import tar_archive
from zipgen import Entry, build


def seven_zip(payload: bytes) -> bytes:
    """A 7z signature header (magic, version 0.4, start-header CRC, next-header offset, size,
    CRC) followed by the payload stored as is (the "copy" method)."""
    start_header = struct.pack("<QQL", len(payload), 0, 0)
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<L", zlib.crc32(start_header)) + start_header + payload


ARCHIVE = seven_zip(evil())
MESSAGE = f"a 7z archive ({len(ARCHIVE)} bytes): mlgate cannot open 7z, so nothing in it (pickles included) was scanned"


def test_a_7z_archive_is_unscanned_whatever_its_name(scan_tree):
    scan = scan_tree({"malicious1.7z": ARCHIVE, "model.pt": ARCHIVE, "weights": ARCHIVE, "data/shard.bin": ARCHIVE}, select="models")
    assert hits(scan) == [("MOD004", name, None, 0) for name in ("data/shard.bin", "malicious1.7z", "model.pt", "weights")]
    assert set(scan.messages("MOD004")) == {MESSAGE}
    assert {finding.severity.name for finding in scan.findings} == {"HIGH"}


def test_a_7z_archive_inside_other_archives(scan_tree):
    scan = scan_tree(
        {"bundle.zip": build([Entry("inner/archive.7z", ARCHIVE)]).data, "m.nemo": tar_archive({"x.dat": ARCHIVE})}, select="models"
    )
    assert hits(scan) == [("MOD004", "bundle.zip", "inner/archive.7z", 0), ("MOD004", "m.nemo", "x.dat", 0)]


def test_near_misses_are_not_7z(scan_tree):
    scan = scan_tree({"notes.txt": "7z is a format\n", "x.7z.md": b"7z\xbc\xaf\x27 not quite\n"}, select="models")
    assert (hits(scan), scan.errors) == ([], [])
