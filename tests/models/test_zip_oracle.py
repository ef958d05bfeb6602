"""Differential tests: every zip member a loader can read, mlgate scans.

Two readers are the references, and mlgate must cover both:

- `zipfile` (what `numpy.load` on an `.npz`, Keras on a `.keras`, joblib and most Python
  loaders use): the end record found by searching back from the end, the central
  directory where the record's position says it is (data before the archive shifts every
  offset), each member read from its local header, refused when the local header's name
  differs, the member is flagged encrypted, or its CRC does not match.
- PyTorch's `PyTorchStreamReader` (miniz, C++): the central directory at the offset the end
  record states, members found by central directory name (`mz_zip_reader_locate_file`,
  case-insensitive by binary search, so `ARCHIVE/DATA.PKL` answers `getRecord("data.pkl")`)
  under the folder of the directory's first entry; the data starts after the local header's
  own name and extra field, with sizes and method from the central directory; the CRC is not
  checked. The test reads members that way itself (`central_directory_view`), ignoring the
  flag bits miniz refuses, a superset of what PyTorch loads.

The assertion: whenever either reader gets a member's bytes and they are a malicious pickle
(written as opcodes, each with its own length so the finding's offset says which one),
mlgate reports MOD001 for it, in that member, at the call. The one exemption is what the
consumer never unpickles: in a PyTorch checkpoint (`<folder>/data.pkl` present), the raw
tensor storages `<folder>/data/<n>` and `<folder>/constants/<n>` are read as bytes by key.
mlgate must also never crash, and its work is counted: central directory entries parsed
and member extractions stay within caps that do not depend on how the archive lies.

Inputs: every member of the committed zip fixtures replaced by the payload, archives written
by zipgen (prefix data, comments, duplicate and case-variant names, local/central name and
flag and method mismatches, ZIP64 fields and end records), and the same archives mutated by
hypothesis (bytes flipped, inserted and deleted next to the headers).
A longer fuzzing run: `MLGATE_FUZZ_EXAMPLES=5000 python -m pytest tests/models/test_zip_oracle.py`.
"""

from __future__ import annotations

import io
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scanhits import evil
from zipgen import BZIP2, DEFLATED, STORED, Entry, build

from mlgate.files import ScanError
from mlgate.findings import Severity
from mlgate.models import scanner
from mlgate.models.formats import Malformed
from mlgate.models.where import Where
from mlgate.models.ziparchive import MAX_ENTRIES_READ, ZipArchive

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
EXAMPLES = int(os.environ.get("MLGATE_FUZZ_EXAMPLES", "50"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=EXAMPLES <= 300)
_LOCAL = struct.Struct("<4s5H3L2H")


def payload(number: int) -> tuple[bytes, int]:
    """A protocol-0 pickle calling os.system, and the offset of its call (unique per number)."""
    data = evil("x" * number)
    return data, data.rindex(b"R")


# -- the references ------------------------------------------------------------------------
def zipfile_view(data: bytes) -> list[tuple[int, str, bytes]]:
    """(header offset, name, content) of every member zipfile lists and reads."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception:  # BadZipFile, and whatever a corrupt directory makes it raise (UnicodeDecodeError, ...)
        return []
    found = []
    for info in infos:
        try:
            found.append((info.header_offset, info.filename, archive.read(info)))
        except Exception:  # encrypted, unsupported method, bad CRC, names that differ, truncated data
            continue
    return found


def central_directory_view(data: bytes) -> list[tuple[int, str, bytes]]:
    """Members as miniz extracts them: zipfile's parse of the central directory (at the stated
    offset when it is there, as miniz reads it), the data after the local header's own name
    and extra field, sizes and method from the directory, no CRC check, flag bits ignored."""
    found = []
    for archive_data, shift in _directories(data):
        try:
            infos = zipfile.ZipFile(io.BytesIO(archive_data)).infolist()
        except Exception:
            continue
        for info in infos:
            at = info.header_offset + shift
            if at < 0 or data[at : at + 4] != b"PK\x03\x04" or at + _LOCAL.size > len(data):
                continue
            fields = _LOCAL.unpack_from(data, at)
            start = at + _LOCAL.size + fields[9] + fields[10]
            raw = data[start : start + info.compress_size]
            if info.compress_type == STORED:
                found.append((at, info.filename, raw))
            elif info.compress_type == DEFLATED:
                try:
                    found.append((at, info.filename, zlib.decompressobj(-15).decompress(raw)))
                except zlib.error:
                    continue
    return found


def _directories(data: bytes) -> Iterator[tuple[bytes, int]]:
    """The archive as zipfile sees it, and as miniz does: with the data before the archive cut
    off when the end record's stated offset is where a directory starts (zipfile then reads
    offsets as miniz does, unshifted)."""
    yield data, 0
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 0x10000 - 22))
    if at < 0 or at + 22 > len(data):
        return
    size, stated = struct.unpack_from("<2L", data, at + 12)
    shift = at - size - stated  # the data before the archive zipfile assumes
    if shift > 0 and data[stated : stated + 4] == b"PK\x01\x02":
        yield data[shift:], shift


def torch_storages(data: bytes) -> set[str]:
    """Members PyTorch reads as raw tensor bytes by key (never unpickled): in a checkpoint,
    `<folder>/data/<n>` and `<folder>/constants/<n>`, the folder being the first entry's."""
    try:
        names = [info.filename for info in zipfile.ZipFile(io.BytesIO(data)).infolist()]
    except Exception:
        names = []
    if not names:
        try:
            names = [member.name for member in ZipArchive(data).members]
        except Malformed:
            return set()
    if not names:
        return set()
    folder = names[0].split("/", 1)[0]
    if f"{folder}/data.pkl" not in names:
        return set()
    storage = re.compile(re.escape(folder) + r"/(?:data|constants)/[0-9]+")
    return {name for name in names if storage.fullmatch(name)}


# -- mlgate, its work counted --------------------------------------------------------------
@dataclass
class Work:
    archives: int = 0  # zip archives opened (nested ones too)
    entries: int = 0  # central directory entries parsed
    members: int = 0  # members listed
    extractions: int = 0  # member reads (heads and whole)


@contextmanager
def counted() -> Iterator[Work]:
    work = Work()
    original_init, original_extract = ZipArchive.__init__, ZipArchive._extract

    def init(archive, data):
        try:
            original_init(archive, data)
        finally:
            work.archives += 1
            work.entries += getattr(archive, "_entries_read", 0)
            work.members += len(getattr(archive, "members", []))

    def extract(archive, *args, **kwargs):
        work.extractions += 1
        return original_extract(archive, *args, **kwargs)

    ZipArchive.__init__, ZipArchive._extract = init, extract
    try:
        yield work
    finally:
        ZipArchive.__init__, ZipArchive._extract = original_init, original_extract


def mlgate_scan(data: bytes, name: str):
    """mlgate's findings (an exception other than ScanError is a crash and fails the test) and its work."""
    with counted() as work:
        try:
            found = scanner._Job({}, Path(name)).scan(data, Where(name), name, 0)
        except ScanError:
            found = []
    return found, work


def assert_mlgate_covers_readers(data: bytes, payloads: dict[bytes, int], name: str = "model.pt") -> int:
    """The oracle; returns how many payload members the references read (for tests that need some)."""
    found, work = mlgate_scan(data, name)
    assert work.entries <= work.archives * (MAX_ENTRIES_READ + 1)
    assert work.extractions <= 3 * work.members + 1, f"{work.extractions} member reads for {work.members} members"
    try:
        listed = ZipArchive(data).members
    except Malformed:
        listed = []
    skipped = torch_storages(data)
    expected = 0
    for header, member, content in zipfile_view(data) + central_directory_view(data):
        offset = payloads.get(content)
        if offset is None or member in skipped or member.endswith("/"):
            continue  # not a payload, a raw tensor storage, or a folder (extraction makes a directory, no loader opens it)
        expected += 1
        names = {member} | {listed_member.name for listed_member in listed if listed_member.header_offset == header}
        covering = [
            f for f in found if f.rule.code == "MOD001" and f.severity == Severity.CRITICAL and f.offset == offset and f.member in names
        ]
        reported = [(f.rule.code, f.member, f.offset) for f in found]
        assert covering, f"a reader loads {member!r} (the pickle calling at {offset}); mlgate reports {reported}"
    return expected


# -- the committed fixtures, each member replaced by the payload ---------------------------
def _fixture_cases() -> list[tuple[str, str]]:
    cases = []
    for path in sorted(FIXTURES.iterdir()):
        if path.suffix in (".py", ".md") or not zipfile.is_zipfile(path):
            continue
        with zipfile.ZipFile(path) as archive:
            cases += [(path.name, info.filename) for info in archive.infolist() if not info.is_dir()]
    return cases


def replaced(path: Path, target: str, content: bytes) -> bytes:
    """The fixture rewritten by zipfile with one member's content replaced (names, methods kept)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(buffer, "w") as copy:
        for info in source.infolist():
            copy.writestr(info, content if info.filename == target else source.read(info))
    return buffer.getvalue()


@pytest.mark.parametrize("fixture, member", _fixture_cases(), ids=[f"{f}!{m}" for f, m in _fixture_cases()])
def test_every_member_of_the_fixtures(fixture, member):
    data, offset = payload(1)
    archive = replaced(FIXTURES / fixture, member, data)
    expected = assert_mlgate_covers_readers(archive, {data: offset}, fixture)
    assert expected == (0 if member in torch_storages(archive) else 2)  # both readers read it


# -- archives written by the tests ---------------------------------------------------------
_NAMES = [
    "archive/data.pkl",
    "archive/DATA.PKL",
    "archive/data/0",
    "archive/constants/1",
    "archive/version",
    "archive/.data/version",
    "other/data.pkl",
    "data.pkl",
    "x.npy",
    "config.json",
    "../evil.pkl",
    "archive/code/m.py.debug_pkl",
    "\u00e9/data.pkl",
    "archive/",
    "a\x00b.pkl",
]
_METHODS = [STORED, STORED, DEFLATED, DEFLATED, BZIP2, 99, 7]
_FLAGS = [0, 0, 0x8, 0x800, 0x1, 0x20, 0x40, 0x2000]


@st.composite
def _entries(draw, number: int) -> tuple[Entry, bytes | None]:
    evil_content = draw(st.booleans())
    content = payload(number + 1)[0] if evil_content else draw(st.sampled_from([b"", b"1\n", b"\x80\x02}q\x00.", b"PK\x03\x04"]))
    entry = Entry(draw(st.sampled_from(_NAMES)), content, method=draw(st.sampled_from(_METHODS)), flags=draw(st.sampled_from(_FLAGS)))
    if draw(st.integers(0, 4)) == 0:
        entry.local_name = draw(st.sampled_from(_NAMES))
    if draw(st.integers(0, 5)) == 0:
        entry.local_flags = draw(st.sampled_from(_FLAGS))
    if draw(st.integers(0, 5)) == 0:
        entry.local_method = draw(st.sampled_from(_METHODS))
    if draw(st.integers(0, 5)) == 0:
        entry.crc = draw(st.integers(0, 0xFFFFFFFF))
    if draw(st.integers(0, 5)) == 0:
        entry.size = draw(st.integers(0, 200))
    entry.zip64 = draw(st.integers(0, 4)) == 0
    if draw(st.integers(0, 5)) == 0:
        entry.extra = draw(st.sampled_from([b"\x01\x00\x08\x00" + bytes(8), b"FB\x02\x00ZZ", b"\x99\x99\xff\x00", b"\x01\x00"]))
    if draw(st.integers(0, 5)) == 0:
        entry.local_extra = draw(st.sampled_from([b"FB\x04\x00ZZZZ", b"\x01\x00\x10\x00" + bytes(16)]))
    if entry.method not in (STORED, DEFLATED, BZIP2):
        entry.payload = content  # an unknown method over plain bytes
    return entry, content if evil_content else None


@st.composite
def archives(draw) -> tuple[bytes, dict[bytes, int], list[int]]:
    """(archive, payloads it holds, offsets of its headers and records)."""
    pairs = [draw(_entries(number)) for number in range(draw(st.integers(1, 5)))]
    built = build(
        [entry for entry, _ in pairs],
        prefix=draw(st.sampled_from([b"", b"", b"junk", b"#!/usr/bin/env python\n", payload(40)[0]])),
        comment=draw(st.sampled_from([b"", b"", b"note", b"PK\x05\x06" + bytes(18)])),
        trailing=draw(st.sampled_from([b"", b"", b"tail"])),
        offsets_from_prefix=draw(st.booleans()),
        zip64=draw(st.integers(0, 4)) == 0,
    )
    payloads = {content: payload(number + 1)[1] for number, (_, content) in enumerate(pairs) if content is not None}
    payloads[payload(40)[0]] = payload(40)[1]
    anchors = sorted({0, built.directory, built.end, len(built.data), *built.headers.values()})
    return built.data, payloads, anchors


@FUZZ
@given(archives())
def test_written_archives(archive):
    data, payloads, _ = archive
    assert_mlgate_covers_readers(data, payloads)


@FUZZ
@given(
    archives(),
    st.lists(st.tuples(st.integers(0, 64), st.integers(-8, 60), st.binary(max_size=4), st.integers(0, 4)), min_size=1, max_size=4),
)
def test_mutated_archives(archive, edits):
    data, payloads, anchors = archive
    mutated = bytearray(data)
    for anchor, delta, replacement, removed in sorted(edits, key=lambda edit: -(anchors[edit[0] % len(anchors)] + edit[1])):
        at = min(max(0, anchors[anchor % len(anchors)] + delta), len(mutated))
        mutated[at : at + removed] = replacement
    assert_mlgate_covers_readers(bytes(mutated), payloads)


# -- what the oracle found, pinned ---------------------------------------------------------
def hits_of(data: bytes, name: str = "model.pt") -> list[tuple[str, str | None, int | None]]:
    return [(f.rule.code, f.member, f.offset) for f in mlgate_scan(data, name)[0]]


EVIL, CALL = payload(1)


def test_a_directory_before_its_stated_offset_is_read_as_zipfile_reads_it():
    """One byte cut from the data before the archive: zipfile shifts every offset back."""
    data = build([Entry("archive/data.pkl", EVIL)], prefix=b"junk").data[1:]
    assert [name for _, name, content in zipfile_view(data) if content == EVIL] == ["archive/data.pkl"]
    assert hits_of(data) == [("MOD005", None, 0), ("MOD001", "archive/data.pkl", CALL)]


def test_a_directory_entry_running_past_the_directory_is_its_last():
    """zipfile reads the directory's bytes only: an extra field longer than what is left is cut."""
    built = build([Entry("archive/data.pkl", EVIL, extra=b"\x99\x99\x04\x00abcd")])
    data = bytearray(built.data)
    struct.pack_into("<H", data, built.directory + 30, 200)
    assert hits_of(bytes(data)) == [("MOD005", None, built.directory), ("MOD001", "archive/data.pkl", CALL)]


def test_a_member_running_past_the_end_of_the_file_is_still_read():
    """A deflate stream ends before its stated size (zipfile stops there): scanned and reported."""
    built = build([Entry("archive/data.pkl", EVIL, method=DEFLATED)])
    data = bytearray(built.data)
    struct.pack_into("<L", data, built.directory + 20, 1 << 20)
    assert hits_of(bytes(data)) == [("MOD004", None, 0), ("MOD005", None, built.directory), ("MOD001", "archive/data.pkl", CALL)]


def test_a_member_mlgate_cannot_read_hides_none_of_the_others():
    """config.json (read by name) with an unknown method used to fail the whole archive."""
    built = build([Entry("archive/data.pkl", EVIL), Entry("config.json", b"{}", method=99, payload=b"{}")])
    assert hits_of(built.data) == [("MOD005", None, built.headers["config.json"]), ("MOD001", "archive/data.pkl", CALL)]


def test_a_member_whose_bytes_run_over_the_rest_of_the_archive():
    """data.pkl's stated compressed size runs to the end of the file (zipfile reads its stated
    20 bytes): mlgate's bytes are the pickle, then the archive again, which it reads as a
    nested archive whose offsets point before them. The pickle is still scanned."""
    built = build([Entry("archive/data.pkl", EVIL), Entry("archive/more.pkl", payload(2)[0])])
    data = bytearray(built.data)
    struct.pack_into("<L", data, built.directory + 20, len(data) - 46)  # after 30 + 16 bytes of local header
    assert ("MOD001", "archive/data.pkl", CALL) in hits_of(bytes(data))
    assert [name for _, name, content in zipfile_view(bytes(data)) if content.startswith(EVIL)] == ["archive/data.pkl"]


def test_end_records_in_entry_comments_cannot_make_directory_parsing_quadratic():
    """Each end record hidden in the last entry's comment starts a directory that runs over the
    real one: past MAX_ENTRIES_READ entries parsed the others are not read, and that is said."""
    count, records = 3000, 1000
    built = build([Entry(f"a/{number}", b"x") for number in range(count)])
    data = bytearray(built.data[: built.end])
    entries, at = [], built.directory
    while at < built.end:
        entries.append(at)
        at += 46 + struct.unpack_from("<H", data, at + 28)[0]
    hidden = bytearray()
    for number in range(records):
        here = built.end + len(hidden)
        hidden += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, here - entries[number], 0, 0)
    struct.pack_into("<H", data, entries[-1] + 32, len(hidden))  # the last entry's comment holds them
    data += hidden + struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(data) + len(hidden) - built.directory, built.directory, 0
    )
    with counted() as work:
        archive = ZipArchive(bytes(data))
    assert len(archive.members) == count == len(zipfile.ZipFile(io.BytesIO(bytes(data))).infolist())
    assert MAX_ENTRIES_READ < work.entries <= MAX_ENTRIES_READ + 1  # uncapped: about count * records / 2
    assert [issue.message for issue in archive.issues] == [
        f"more than {MAX_ENTRIES_READ} central directory entries in all the directories a reader could pick: "
        "the other central directories were not read"
    ]
