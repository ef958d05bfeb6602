"""Zip archives: every member sniffed by content, and every way two readers can disagree.

Archives are written byte by byte (zipgen) so that the inconsistencies real attacks used
(picklescan GHSA-w8jq-xcqf-f792 flag bits, GHSA-7q5r-7gvp-wc82 zip quirks, renamed
members) can be produced; nothing is ever loaded.
"""

from __future__ import annotations

import pickle
import struct
import zipfile
import zlib

from scanhits import EVIL_CALL, evil, hits
from zipgen import BZIP2, DEFLATED, Entry, build

from mlgate.models import scanner
from mlgate.models.ziparchive import ZipArchive

BENIGN = pickle.dumps({"weight": [1.0, 2.0]}, protocol=2)


def test_pickle_members_are_found_whatever_their_name_or_folder(scan_tree):
    built = build([Entry("foo.txt", evil()), Entry("x/.data/serialization_id", evil()), Entry("notes/readme", b"plain text\n")])
    scan = scan_tree({"bundle.zip": built.data}, select="models")
    assert hits(scan) == [
        ("MOD001", "bundle.zip", "foo.txt", EVIL_CALL),
        ("MOD001", "bundle.zip", "x/.data/serialization_id", EVIL_CALL),
    ]


def test_benign_pickle_member_is_only_the_format_warning(scan_tree):
    built = build([Entry("model/data.pkl", BENIGN, method=DEFLATED)])
    scan = scan_tree({"model.zip": built.data}, select="models")
    assert hits(scan) == [("MOD003", "model.zip", "model/data.pkl", 0)]


def test_archive_written_by_zipfile_has_no_issue(scan_tree, tmp_path):
    path = tmp_path / "made.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/data.pkl", BENIGN)
        archive.writestr("a/version", "3\n")
        archive.writestr("a/empty/", b"")
    with (
        zipfile.ZipFile(tmp_path / "big.zip", "w") as archive,
        archive.open("a/data.pkl", "w", force_zip64=True) as member,  # ZIP64 extra fields + data descriptor
    ):
        member.write(BENIGN)
    scan = scan_tree({}, select="models")
    assert hits(scan) == [("MOD003", "big.zip", "a/data.pkl", 0), ("MOD003", "made.zip", "a/data.pkl", 0)]


def test_an_empty_member_named_like_a_model_has_nothing_to_load(scan_tree, tmp_path):
    # pytorch/serve's test archives: `model.pt` of 0 bytes beside the handler; a member of the
    # same name holding bytes of no known format still cannot be checked (MOD004).
    for name, content in (("noop.mar", b""), ("odd.mar", b"not a model")):
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            archive.writestr("model.pt", content)
            archive.writestr("MAR-INF/MANIFEST.json", "{}")
    scan = scan_tree({}, select="models")
    assert hits(scan) == [("MOD004", "odd.mar", "model.pt", 0)]


def test_local_header_name_differing_from_the_directory(scan_tree):
    """PyTorch reads members by their central directory name; a scanner walking local
    headers sees another one (and zipfile refuses the archive)."""
    built = build([Entry("archive/data.pkl", evil(), local_name="archive/harmless.txt")])
    scan = scan_tree({"m.pt": built.data}, select="models")
    assert hits(scan) == [
        ("MOD005", "m.pt", None, 0),
        ("MOD001", "m.pt", "archive/data.pkl", EVIL_CALL),
    ]
    assert scan.messages("MOD005") == ["local header names 'archive/harmless.txt' where the central directory names 'archive/data.pkl'"]


def test_encrypted_flag_bit_on_a_stored_member_is_read_anyway(scan_tree):
    """GHSA-w8jq-xcqf-f792: the 'encrypted' bit makes zipfile refuse a member miniz reads."""
    built = build([Entry("archive/data.pkl", evil(), flags=0x1)])
    scan = scan_tree({"m.pt": built.data}, select="models")
    assert hits(scan) == [("MOD005", "m.pt", None, 0), ("MOD001", "m.pt", "archive/data.pkl", EVIL_CALL)]
    assert scan.messages("MOD005") == [
        "member 'archive/data.pkl' has unusual general-purpose flags (0x0001 encrypted): loaders that ignore them read what scanners skip"
    ]


def test_flags_that_differ_between_local_and_central_headers(scan_tree):
    built = build([Entry("a.pkl", BENIGN, flags=0x0800, local_flags=0x4000)])
    scan = scan_tree({"m.zip": built.data}, select="models")
    assert hits(scan) == [("MOD005", "m.zip", None, 0), ("MOD005", "m.zip", None, 0), ("MOD003", "m.zip", "a.pkl", 0)]
    assert scan.messages("MOD005") == [
        "member 'a.pkl': flags 0x4000 in the local header, 0x0800 in the central directory",
        "member 'a.pkl' has unusual general-purpose flags (0x4000 reserved): loaders that ignore them read what scanners skip",
    ]


def test_ordinary_flags_are_not_reported(scan_tree):
    built = build([Entry("a.pkl", BENIGN, method=DEFLATED, flags=0x0802)])
    scan = scan_tree({"m.zip": built.data}, select="models")
    assert hits(scan) == [("MOD003", "m.zip", "a.pkl", 0)]


def test_crc_mismatch_is_reported_and_the_member_still_scanned(scan_tree):
    """PyTorch builds miniz without CRC checks; zipfile refuses such a member."""
    built = build([Entry("archive/data.pkl", evil(), crc=0x1234)])
    scan = scan_tree({"m.pt": built.data}, select="models")
    assert hits(scan) == [("MOD005", "m.pt", None, 0), ("MOD001", "m.pt", "archive/data.pkl", EVIL_CALL)]
    assert "CRC-32 does not match" in scan.messages("MOD005")[0]


def test_data_before_the_archive_is_reported_and_scanned(scan_tree):
    """A pickle followed by a zip: pickle.load and old torch.load (zipfile.is_zipfile)
    read different programs from the same file."""
    stub = evil("touch /tmp/x")
    built = build([Entry("archive/data.pkl", BENIGN)], prefix=stub)
    scan = scan_tree({"weights.bin": built.data}, select="models")
    assert hits(scan) == [
        ("MOD005", "weights.bin", None, 0),
        ("MOD001", "weights.bin", None, stub.index(b"R")),
        ("MOD003", "weights.bin", "archive/data.pkl", 0),
    ]
    assert scan.messages("MOD005") == [f"{len(stub)} bytes before the first member: a loader reading from the start sees something else"]


def test_self_extracting_offsets_and_trailing_bytes(scan_tree):
    """Offsets that do not count a prepended stub (zipfile adjusts, miniz does not), and
    bytes after the end record."""
    built = build([Entry("a.pkl", evil())], prefix=b"#!/bin/sh\nexit 0\n", offsets_from_prefix=False, trailing=b"junk")
    scan = scan_tree({"m.zip": built.data}, select="models")
    assert hits(scan) == [
        ("MOD005", "m.zip", None, 0),
        ("MOD005", "m.zip", None, len(built.data) - 4),
        ("MOD001", "m.zip", "a.pkl", EVIL_CALL),
    ]
    assert scan.messages("MOD005") == [
        "17 bytes before the first member: a loader reading from the start sees something else",
        "4 bytes after the end of the archive",
    ]


def test_a_zipapp_shebang_is_not_data_before_the_archive(scan_tree):
    built = build([Entry("__main__.py", b"print('hi')\n"), Entry("model.pkl", BENIGN)], prefix=b"#!/usr/bin/env python3\n")
    scan = scan_tree({"tool.pyz": built.data}, select="models")
    assert hits(scan) == [("MOD003", "tool.pyz", "model.pkl", 0)]


def test_zipfile_and_miniz_reading_different_directories(scan_tree):
    """Data put before an archive whose offsets were not adjusted: zipfile finds the
    directory by the end record's position, miniz at the offset it states. A second
    directory placed at that stated offset lists a member only miniz sees."""
    real = build([Entry("archive/data.pkl", BENIGN)])
    # The prefix holds an evil member and, at the offset the real end record states, a
    # directory listing it (offsets from the start of the file, as miniz reads them).
    hidden = build([Entry("archive/data.pkl", evil())])
    directory_at = real.directory
    evil_part = hidden.data[: hidden.directory]
    assert len(evil_part) <= directory_at
    prefix = evil_part.ljust(directory_at, b"\0") + hidden.data[hidden.directory : hidden.end]
    data = prefix + real.data
    scan = scan_tree({"m.pt": data}, select="models")
    assert hits(scan) == [
        ("MOD005", "m.pt", None, len(evil_part)),
        ("MOD005", "m.pt", None, directory_at),
        ("MOD005", "m.pt", None, directory_at),
        ("MOD003", "m.pt", "archive/data.pkl", 0),
        ("MOD001", "m.pt", "archive/data.pkl", EVIL_CALL),
    ]
    assert scan.messages("MOD005") == [
        f"{len(prefix) - len(evil_part)} unlisted bytes after member 'archive/data.pkl'",
        f"a second central directory at offset {directory_at}: readers that pick it see other members",
        "duplicate member name 'archive/data.pkl': readers disagree on which one is loaded",
    ]


def test_duplicate_member_names_are_all_scanned(scan_tree):
    built = build([Entry("archive/data.pkl", BENIGN), Entry("archive/data.pkl", evil())])
    scan = scan_tree({"m.pt": built.data}, select="models")
    second_entry = built.directory + 46 + len("archive/data.pkl")
    assert hits(scan) == [
        ("MOD005", "m.pt", None, second_entry),
        ("MOD003", "m.pt", "archive/data.pkl", 0),
        ("MOD001", "m.pt", "archive/data.pkl", EVIL_CALL),
    ]
    assert scan.messages("MOD005") == ["duplicate member name 'archive/data.pkl': readers disagree on which one is loaded"]


def test_unusual_compression_method_is_reported_and_decompressed(scan_tree):
    built = build([Entry("archive/data.pkl", evil(), method=BZIP2)])
    scan = scan_tree({"m.pt": built.data}, select="models")
    assert hits(scan) == [("MOD005", "m.pt", None, 0), ("MOD001", "m.pt", "archive/data.pkl", EVIL_CALL)]
    assert scan.messages("MOD005") == ["member 'archive/data.pkl' uses compression method 12 (bzip2): model writers only store or deflate"]


def test_unknown_method_is_sniffed_as_stored_bytes(scan_tree):
    built = build([Entry("archive/data.pkl", evil(), method=99)])
    scan = scan_tree({"m.pt": built.data}, select="models")
    assert hits(scan) == [("MOD005", "m.pt", None, 0), ("MOD001", "m.pt", "archive/data.pkl", EVIL_CALL)]


def test_method_differing_between_headers(scan_tree):
    built = build([Entry("a.pkl", evil(), local_method=DEFLATED)])
    scan = scan_tree({"m.zip": built.data}, select="models")
    assert hits(scan) == [("MOD005", "m.zip", None, 0), ("MOD001", "m.zip", "a.pkl", EVIL_CALL)]
    assert scan.messages("MOD005") == ["member 'a.pkl': compression method 8 in the local header, 0 in the central directory"]


def test_stored_member_whose_sizes_disagree(scan_tree):
    built = build([Entry("a.pkl", BENIGN, size=5)])
    scan = scan_tree({"m.zip": built.data}, select="models")
    assert hits(scan) == [("MOD005", "m.zip", None, 0), ("MOD003", "m.zip", "a.pkl", 0)]


def test_member_names_leaving_the_folder(scan_tree):
    names = ["../evil.pkl", "/abs.pkl", "C:/x.pkl", "dir\\x.pkl"]
    built = build([Entry(name, BENIGN) for name in names])
    scan = scan_tree({"m.zip": built.data}, select="models")
    entries = []
    at = built.directory
    for name in names:
        entries.append(at)
        at += 46 + len(name)
    assert hits(scan) == [("MOD005", "m.zip", None, at) for at in entries] + sorted(("MOD003", "m.zip", name, 0) for name in names)
    assert scan.messages("MOD005")[0] == "member name '../evil.pkl' leaves the archive's folder"


def test_unlisted_bytes_between_members(scan_tree):
    """A local entry the directory does not list: streaming readers see it, others not."""
    first = build([Entry("a.pkl", BENIGN)])
    hidden = build([Entry("hidden.pkl", evil())]).data
    hidden_local = hidden[: hidden.index(b"PK\x01\x02")]
    data = first.data[: first.directory] + hidden_local
    directory = first.data[first.directory : first.end]
    data += directory + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(directory), len(data), 0)
    scan = scan_tree({"m.zip": data}, select="models")
    assert hits(scan) == [("MOD005", "m.zip", None, first.directory), ("MOD003", "m.zip", "a.pkl", 0)]
    assert scan.messages("MOD005") == [
        f"{len(hidden_local)} unlisted bytes after member 'a.pkl' holding a local header the directory does not list"
    ]


def test_member_without_local_header_fails_closed(scan_tree):
    built = build([Entry("a.pkl", BENIGN)])
    data = b"XX" + built.data[2:]
    scan = scan_tree({"m.zip": data}, select="models")
    assert hits(scan) == [("MOD004", "m.zip", None, 0)]
    assert scan.messages("MOD004") == ["member 'a.pkl' has no local header at offset 0"]


def test_corrupt_deflate_data_fails_closed(scan_tree):
    built = build([Entry("a.pkl", evil(), method=DEFLATED, payload=b"\xff\xff\xff\xff")])
    scan = scan_tree({"m.zip": built.data}, select="models")
    assert [rule for rule, *_ in hits(scan)] == ["MOD004"]
    assert scan.findings[0].member == "a.pkl"


def test_decompression_bomb_stops_at_the_cap(scan_tree, monkeypatch):
    monkeypatch.setattr(scanner, "MEMBER_LIMIT", 1 << 20)
    bomb = b"\x80\x04\x8e" + struct.pack("<Q", 8 << 20) + b"\0" * (8 << 20) + b"."  # BINBYTES8 of 8 MiB
    built = build([Entry("archive/data.pkl", bomb, method=DEFLATED)])
    assert len(built.data) < 64 << 10
    scan = scan_tree({"m.pt": built.data}, select="models")
    assert hits(scan) == [("MOD004", "m.pt", "archive/data.pkl", 0)]
    assert scan.messages("MOD004") == ["member 'archive/data.pkl' decompresses to more than 1 MiB (a decompression bomb?)"]


def test_nested_archives_are_scanned_up_to_a_depth(scan_tree):
    inner = build([Entry("payload.pkl", evil())]).data
    middle = build([Entry("inner.zip", inner)]).data
    deep = evil()
    for level in range(6):
        deep = build([Entry(f"level{level}.zip" if level else "p.pkl", deep)]).data
    scan = scan_tree({"outer.zip": build([Entry("middle.zip", middle)]).data, "deep.zip": deep}, select="models")
    assert hits(scan) == [
        ("MOD004", "deep.zip", "level5.zip!level4.zip!level3.zip!level2.zip!level1.zip", 0),
        ("MOD001", "outer.zip", "middle.zip!inner.zip!payload.pkl", EVIL_CALL),
    ]
    assert scan.messages("MOD004") == ["archives nested more than 4 deep: not scanned"]


def test_npz_with_an_object_array(scan_tree):
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header = header.ljust(118, b" ") + b"\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header
    plain = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.replace(b"|O", b"<f8") + b"\0" * 8
    built = build([Entry("a.npy", npy + evil()), Entry("b.npy", plain)])
    scan = scan_tree({"arrays.npz": built.data}, select="models")
    assert hits(scan) == [("MOD001", "arrays.npz", "a.npy", len(npy) + EVIL_CALL)]


def test_large_plain_npy_member_is_not_read(scan_tree, monkeypatch):
    monkeypatch.setattr(scanner, "MEMBER_LIMIT", 1 << 10)
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (512,), }".ljust(118, b" ") + b"\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\0" * 4096
    objects = npy.replace(b"<f8", b"|O ")
    scan = scan_tree({"a.npz": build([Entry("w.npy", npy)]).data, "b.npz": build([Entry("o.npy", objects)]).data}, select="models")
    assert hits(scan) == [("MOD004", "b.npz", "o.npy", 0)]


def test_reader_ignores_end_records_of_stored_nested_archives():
    inner = build([Entry("x.pkl", BENIGN)]).data
    outer = build([Entry("inner.zip", inner)])
    archive = ZipArchive(outer.data)
    assert [member.name for member in archive.members] == ["inner.zip"]
    assert archive.issues == []


def test_what_decompressed_before_corruption_is_still_scanned(scan_tree):
    """A streaming loader has fed the bytes before a deflate error to the unpickler."""
    content = evil()
    stored_block = b"\x00" + struct.pack("<HH", len(content), len(content) ^ 0xFFFF) + content
    built = build([Entry("a.pkl", content, method=DEFLATED, payload=stored_block + b"\x07")])  # then a reserved block type
    scan = scan_tree({"m.zip": built.data}, select="models")
    assert hits(scan) == [("MOD001", "m.zip", "a.pkl", EVIL_CALL), ("MOD004", "m.zip", "a.pkl", len(content))]
    assert scan.messages("MOD004") == ["member 'a.pkl' cannot be decompressed: Error -3 while decompressing data: invalid block type"]


def zipcrypto(content: bytes, password: bytes, check: int) -> bytes:
    """PKWARE traditional encryption: a 12-byte header (its last byte the CRC's high byte) then
    the data, as `zip -e` writes it."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc_byte(crc: int, byte: int) -> int:
        return zlib.crc32(bytes([byte]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def update(byte: int) -> None:
        keys[0] = crc_byte(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc_byte(keys[2], keys[1] >> 24)

    for byte in password:
        update(byte)
    out = bytearray()
    for byte in bytes(range(7, 18)) + bytes([check]) + content:
        temp = (keys[2] | 2) & 0xFFFF
        out.append(byte ^ ((temp * (temp ^ 1)) >> 8) & 0xFF)
        update(byte)
    return bytes(out)


def encrypted(name: str, content: bytes, method: int = 0) -> Entry:
    plain = Entry(name, content, method=method).compressed()
    return Entry(name, content, method=method, flags=0x1, payload=zipcrypto(plain, b"pw", zlib.crc32(content) >> 24))


def test_encrypted_members_are_unscannable_not_tampering(scan_tree, tmp_path):
    """A ZipCrypto member carries a 12-byte header inside its data and the encryption flag:
    that is encryption, not a disagreement between readers. No loader reads it without the
    password; mlgate cannot either: MOD004, high for a model member, low for anything else."""
    entries = [encrypted("archive/data.pkl", evil()), encrypted("notes.txt", b"secret notes " * 50, DEFLATED), Entry("b.pkl", BENIGN)]
    built = build(entries)
    (tmp_path / "check.zip").write_bytes(built.data)
    with zipfile.ZipFile(tmp_path / "check.zip") as archive:  # the fixture is what zip -e writes
        assert archive.read("archive/data.pkl", pwd=b"pw") == evil()
        assert archive.read("notes.txt", pwd=b"pw") == b"secret notes " * 50
    (tmp_path / "check.zip").unlink()
    scan = scan_tree({"m.zip": built.data}, select="models")
    first_entry = built.directory
    second_entry = first_entry + 46 + len("archive/data.pkl")
    assert hits(scan) == [("MOD004", "m.zip", None, first_entry), ("MOD004", "m.zip", None, second_entry), ("MOD003", "m.zip", "b.pkl", 0)]
    assert [finding.severity.name for finding in scan.findings] == ["HIGH", "LOW", "MEDIUM"]
    assert scan.messages("MOD004") == [
        "member 'archive/data.pkl' is encrypted (ZipCrypto): its content cannot be read without the password and was not scanned",
        "member 'notes.txt' is encrypted (ZipCrypto): its content cannot be read without the password and was not scanned",
    ]


def test_aes_encrypted_member(scan_tree):
    ciphertext = bytes((index * 151 + 89) % 256 for index in range(300))
    built = build([Entry("model.bin", b"x" * 270, method=99, flags=0x1, payload=ciphertext)])
    scan = scan_tree({"m.zip": built.data}, select="models")
    assert hits(scan) == [("MOD004", "m.zip", None, built.directory)]
    assert scan.messages("MOD004") == [
        "member 'model.bin' is encrypted (AES): its content cannot be read without the password and was not scanned"
    ]


def test_an_encryption_flag_over_plain_deflated_data_is_still_tampering(scan_tree):
    built = build([Entry("archive/data.pkl", evil(), method=DEFLATED, flags=0x1)])
    scan = scan_tree({"m.pt": built.data}, select="models")
    assert hits(scan) == [("MOD005", "m.pt", None, 0), ("MOD001", "m.pt", "archive/data.pkl", EVIL_CALL)]
