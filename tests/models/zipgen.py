"""Writes zip archives byte by byte, including the inconsistent ones zipfile refuses to make.

    built = build([Entry("archive/data.pkl", payload), Entry("x", b"...", flags=0x1)])
    built.data            # the archive
    built.headers[name]   # offset of each member's local header
    built.directory       # offset of the central directory
    built.end             # offset of the end-of-central-directory record

Every `Entry` field that a reader could trust differently can be set on its own: the
local header's name, flags and method, the stated CRC and sizes, extra fields; `zip64`
moves an entry's sizes and offset into a ZIP64 extra field, `build(..., zip64=True)` adds
the ZIP64 end records.
"""

from __future__ import annotations

import bz2
import struct
import zlib
from dataclasses import dataclass, field

STORED, DEFLATED, BZIP2 = 0, 8, 12


@dataclass
class Entry:
    name: str
    content: bytes
    method: int = STORED
    flags: int = 0
    local_name: str | None = None
    local_flags: int | None = None
    local_method: int | None = None
    crc: int | None = None
    size: int | None = None
    payload: bytes | None = None  # the bytes after the local header, when not `content` compressed
    extra: bytes = b""  # central directory extra field
    local_extra: bytes = b""
    zip64: bool = False

    def compressed(self) -> bytes:
        if self.payload is not None:
            return self.payload
        if self.method == DEFLATED:
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            return packer.compress(self.content) + packer.flush()
        if self.method == BZIP2:
            return bz2.compress(self.content)
        return self.content


@dataclass
class Built:
    data: bytes
    headers: dict[str, int] = field(default_factory=dict)
    directory: int = 0
    end: int = 0


def local_header(entry: Entry, compressed: bytes) -> bytes:
    name = (entry.local_name if entry.local_name is not None else entry.name).encode()
    flags = entry.flags if entry.local_flags is None else entry.local_flags
    method = entry.method if entry.local_method is None else entry.local_method
    crc = zlib.crc32(entry.content) if entry.crc is None else entry.crc
    size = len(entry.content) if entry.size is None else entry.size
    return (
        struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,
            flags,
            method,
            0,
            0x21,
            crc,
            len(compressed),
            size,
            len(name),
            len(entry.local_extra),
        )
        + name
        + entry.local_extra
    )


def central_entry(entry: Entry, compressed: bytes, offset: int) -> bytes:
    name = entry.name.encode()
    crc = zlib.crc32(entry.content) if entry.crc is None else entry.crc
    size = len(entry.content) if entry.size is None else entry.size
    stated = (len(compressed), size, offset)
    extra = entry.extra
    if entry.zip64:
        extra = struct.pack("<2H3Q", 1, 24, size, len(compressed), offset) + extra
        stated = (0xFFFFFFFF,) * 3
    return (
        struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            45 if entry.zip64 else 20,
            45 if entry.zip64 else 20,
            entry.flags,
            entry.method,
            0,
            0x21,
            crc,
            stated[0],
            stated[1],
            len(name),
            len(extra),
            0,
            0,
            0,
            0,
            stated[2],
        )
        + name
        + extra
    )


def end_record(count: int, directory_size: int, directory_offset: int, comment: bytes = b"") -> bytes:
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, directory_size, directory_offset, len(comment)) + comment


def zip64_end_records(count: int, directory_size: int, directory_offset: int, at: int) -> bytes:
    """The ZIP64 end of central directory record (written at `at`) and its locator."""
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, directory_size, directory_offset)
    return record + struct.pack("<4sLQL", b"PK\x06\x07", 0, at, 1)


def build(
    entries: list[Entry],
    *,
    prefix: bytes = b"",
    comment: bytes = b"",
    trailing: bytes = b"",
    offsets_from_prefix: bool = True,
    zip64: bool = False,
) -> Built:
    """The archive, after `prefix`. Offsets count the prefix (as an archiver appending to a
    file would) unless `offsets_from_prefix` is False (as a stub prepended later). `zip64`
    writes the ZIP64 end records and maxes out the classic one's fields."""
    data = bytearray(prefix)
    base = 0 if offsets_from_prefix else len(prefix)
    built = Built(b"")
    directory = bytearray()
    for entry in entries:
        compressed = entry.compressed()
        offset = len(data)
        built.headers.setdefault(entry.name, offset)
        data += local_header(entry, compressed) + compressed
        directory += central_entry(entry, compressed, offset - base)
    built.directory = len(data)
    data += directory
    if zip64:
        data += zip64_end_records(len(entries), len(directory), built.directory - base, len(data) - base)
    built.end = len(data)
    if zip64:
        data += (
            struct.pack("<4s4H2LH", b"PK\x05\x06", 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment))
            + comment
            + trailing
        )
    else:
        data += end_record(len(entries), len(directory), built.directory - base, comment) + trailing
    built.data = bytes(data)
    return built
