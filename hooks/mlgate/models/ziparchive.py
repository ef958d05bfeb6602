"""Our own zip reader: end record, central directory AND local headers, read from a buffer.

`zipfile` alone is not enough: it refuses archives PyTorch's reader (miniz) loads (a flag
bit saying "encrypted", a CRC that does not match, a local header whose name differs
from the directory's) — exactly how scanners were bypassed (picklescan GHSA-w8jq-xcqf-f792,
GHSA-7q5r-7gvp-wc82) — and it cannot tell us about those discrepancies. This reader
accepts whatever a loader would, reads members the way miniz does (sizes and method from
the central directory, only the lengths from the local header), and lists every place
where two readers could see different archives as an `Issue`.

Nothing is read that is not asked for: opening a 1 GB checkpoint touches the end record
and the directory; members are read one by one, with a cap on decompressed size. The buffer
can be any indexable bytes with `len` (a remote file read by ranges): numbers are unpacked
from slices of it.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import NamedTuple

from mlgate.findings import Severity
from mlgate.models.formats import HEAD_SIZE, Malformed, TooLarge, is_text, model_named, sniff_head

_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_LOCAL = struct.Struct("<4s5H3L2H")
_U16 = struct.Struct("<H")
_EOCD_MAGIC = b"PK\x05\x06"
_ZIP64_LOCATOR_MAGIC = b"PK\x06\x07"
_ZIP64_EOCD_MAGIC = b"PK\x06\x06"
_CENTRAL_MAGIC = b"PK\x01\x02"
LOCAL_MAGIC = b"PK\x03\x04"
_DESCRIPTOR_MAGIC = b"PK\x07\x08"
_MAX_COMMENT = 0xFFFF

MAX_MEMBERS = 1 << 17
MAX_ENTRIES_READ = 2 * MAX_MEMBERS  # central directory entries parsed over every candidate directory
MAX_DIRECTORY = 64 << 20  # bytes of central directory; a real checkpoint's is a few kB
_CHUNK = 1 << 16

STORED, DEFLATED, BZIP2, LZMA = 0, 8, 12, 14
_METHOD_NAMES = {
    1: "shrunk",
    6: "imploded",
    9: "deflate64",
    12: "bzip2",
    14: "lzma",
    93: "zstandard",
    95: "xz",
    98: "ppmd",
    99: "AES-encrypted",
}

# General-purpose flag bits every writer uses: deflate options (1-2), sizes in a data
# descriptor (3), UTF-8 names (11). Anything else makes readers disagree: zipfile refuses
# "encrypted" members that miniz reads as plain data.
_ORDINARY_FLAGS = 0x0006 | 0x0008 | 0x0800
_DESCRIPTOR_FLAG = 0x0008
_UTF8_FLAG = 0x0800
_FLAG_NAMES = {
    0x0001: "encrypted",
    0x0010: "enhanced deflate",
    0x0020: "patched data",
    0x0040: "strong encryption",
    0x2000: "masked local headers",
}
ENCRYPTED_FLAGS = 0x0001 | 0x0040
AES = 99  # WinZip AES: the real method is in the 0x9901 extra field

_DRIVE = re.compile(r"^[A-Za-z]:")


class Member(NamedTuple):
    """One central directory entry; `header_offset` is absolute in the buffer."""

    name: str
    raw_name: bytes
    flags: int
    method: int
    crc: int
    compressed_size: int
    size: int
    header_offset: int
    entry_offset: int  # of the central directory entry itself

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & ENCRYPTED_FLAGS)

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/") and self.size == 0


class LocalHeader(NamedTuple):
    raw_name: bytes
    flags: int
    method: int
    data_offset: int


class Issue(NamedTuple):
    """Something readers disagree on (`tampering`) or cannot read at all (`severity` when it
    is not the rule's own)."""

    message: str
    offset: int
    tampering: bool = True
    severity: Severity | None = None


class BrokenMember(Malformed):
    """A member whose compressed data breaks; `partial` is what decompressed before it
    (a streaming loader has already fed those bytes to the unpickler)."""

    def __init__(self, message: str, offset: int, partial: bytes):
        super().__init__(message, offset)
        self.partial = partial


class EndRecord(NamedTuple):
    offset: int
    end: int  # just after the record and its comment
    entries: int
    directory_start: int  # where the directory is, found from the record's position
    directory_size: int
    stated_offset: int  # where the record says it is (miniz believes this)
    multi_disk: bool


def _unpack(layout: struct.Struct, data, at: int) -> tuple:
    """`layout.unpack_from(data, at)` on a slice: `data` need not be a buffer (struct.error past its end)."""
    return layout.unpack(data[at : at + layout.size])


def end_records(data) -> list[EndRecord]:
    """Every plausible end-of-central-directory record in the last 64 kB, last first."""
    low = max(0, len(data) - _EOCD.size - _MAX_COMMENT)
    tail = bytes(data[low:])
    found = []
    at = tail.rfind(_EOCD_MAGIC)
    while at != -1:
        record = _end_record(data, low + at)
        if record is not None:
            found.append(record)
        at = tail.rfind(_EOCD_MAGIC, 0, at)
    return found


def _end_record(data, at: int) -> EndRecord | None:
    if at + _EOCD.size > len(data):
        return None
    _, disk, directory_disk, _, entries, size, offset, comment = _unpack(_EOCD, data, at)
    directory_end = at
    if at >= _ZIP64_LOCATOR.size and data[at - _ZIP64_LOCATOR.size : at - _ZIP64_LOCATOR.size + 4] == _ZIP64_LOCATOR_MAGIC:
        locator = at - _ZIP64_LOCATOR.size
        stated = _unpack(_ZIP64_LOCATOR, data, locator)[2]
        record = locator - _ZIP64_EOCD.size
        if record < 0 or data[record : record + 4] != _ZIP64_EOCD_MAGIC:
            record = stated
        if not (0 <= record <= locator - _ZIP64_EOCD.size and data[record : record + 4] == _ZIP64_EOCD_MAGIC):
            return None
        _, _, _, _, disk, directory_disk, _, entries, size, offset = _unpack(_ZIP64_EOCD, data, record)
        directory_end = record
    start = directory_end - size
    if start < 0:  # a directory starting before its stated offset is fine: zipfile shifts every offset back
        return None
    if size == 0 and entries != 0 or size and data[start : start + 4] != _CENTRAL_MAGIC:
        return None
    return EndRecord(at, min(len(data), at + _EOCD.size + comment), entries, start, size, offset, bool(disk or directory_disk))


class ZipArchive:
    """A zip archive in `data` (bytes or mmap). Raises Malformed when there is none.

    `audit_local(member)` says whether the audit reads a member's local header (default: all
    of them); a remote archive read by ranges leaves out the raw tensor storages, one request
    each, whose headers no loader runs (see `scanner.scan_remote`)."""

    def __init__(self, data, *, audit_local: Callable[[Member], bool] | None = None) -> None:
        self.data = data
        self._audit_local = audit_local
        self._unaudited: set[int] = set()  # header offsets of members whose local header the audit left out
        records = end_records(data)
        if not records:
            raise Malformed("zip archive without a readable end-of-central-directory record", max(0, len(data) - _EOCD.size))
        main = records[0]
        self.issues: list[Issue] = []
        self._entries_read = 0
        self.members = self._directory(main.directory_start, main.directory_size, main.directory_start - main.stated_offset, main)
        self._directory_start = main.directory_start
        self._alternatives(main, records[1:])
        self._locals: dict[int, LocalHeader | Malformed] = {}
        self._sealed: set[int] = set()  # header offsets of members that are really encrypted
        if main.multi_disk:
            self.issues.append(Issue("archive claims to span several disks", main.offset))
        if main.end < len(data):
            self.issues.append(Issue(f"{len(data) - main.end} bytes after the end of the archive", main.end))
        self._audit()
        # where the first member really starts (a directory shifted back can name offsets before
        # the data, or where no local header is): what comes before is scanned on its own
        self.start = min(
            (
                member.header_offset
                for member in self.members
                if isinstance(self._locals.get(member.header_offset), LocalHeader) or member.header_offset in self._unaudited
            ),
            default=main.directory_start,
        )

    # -- directory ----------------------------------------------------------------------
    def _directory(self, start: int, size: int, shift: int, record: EndRecord) -> list[Member]:
        data = self.data
        end = min(start + size, len(data))
        if size > MAX_DIRECTORY:
            raise TooLarge(f"central directory of {size} bytes is larger than {MAX_DIRECTORY >> 20} MiB", start)
        members: list[Member] = []
        at = start
        while at < end:
            if len(members) >= MAX_MEMBERS:
                raise TooLarge(f"more than {MAX_MEMBERS} members", at)
            self._entries_read += 1
            if self._entries_read > MAX_ENTRIES_READ:
                # end records hidden in entry comments can each start a directory that runs
                # over most of the real one: parsing all of them grows with the square of the file
                raise TooLarge(f"more than {MAX_ENTRIES_READ} central directory entries in all the directories a reader could pick", at)
            if at + _CENTRAL.size > end or data[at : at + 4] != _CENTRAL_MAGIC:
                raise Malformed("corrupt central directory entry", at)
            fields = _unpack(_CENTRAL, data, at)
            flags, method, crc, compressed, size_, name_length, extra_length, comment_length = (
                fields[3],
                fields[4],
                fields[7],
                fields[8],
                fields[9],
                fields[10],
                fields[11],
                fields[12],
            )
            name_end = at + _CENTRAL.size + name_length
            following = name_end + extra_length + comment_length
            if following > end:
                # zipfile reads the directory's bytes only: the entry's fields are cut there and it is the last one
                self.issues.append(Issue("central directory entry runs past the directory", at))
                name_end = min(name_end, end)
            raw_name = bytes(data[at + _CENTRAL.size : name_end])
            extra = bytes(data[name_end : min(name_end + extra_length, end)])
            size_, compressed, offset = _zip64_sizes(extra, size_, compressed, fields[16])
            members.append(Member(_decode(raw_name, flags), raw_name, flags, method, crc, compressed, size_, offset + shift, at))
            at = following
        if len(members) != record.entries:
            self.issues.append(
                Issue(f"end record announces {record.entries} members, the central directory holds {len(members)}", record.offset)
            )
        return members

    def _alternatives(self, main: EndRecord, others: list[EndRecord]) -> None:
        """Other central directories a reader could pick, whose members are read too.

        miniz (PyTorch) trusts the directory offset the record states; zipfile trusts the
        record's position when data was put before the archive; a second record hidden in
        a comment can win for a reader searching differently. Records inside member data
        are nested archives (a stored .npz), not alternatives.
        """
        seen = {(main.directory_start, main.directory_start - main.stated_offset)}
        candidates = [(main.stated_offset, 0, main)] if main.stated_offset != main.directory_start else []
        candidates += [
            (other.directory_start, other.directory_start - other.stated_offset, other)
            for other in others
            if other.offset >= main.directory_start
        ]
        known = {member.header_offset for member in self.members}
        listed = {(member.header_offset, member.raw_name) for member in self.members}
        for start, shift, record in candidates:
            if (start, shift) in seen or self.data[start : start + 4] != _CENTRAL_MAGIC:
                continue
            seen.add((start, shift))
            issues = len(self.issues)
            try:
                members = self._directory(start, record.directory_size, shift, record)
            except TooLarge as error:
                self.issues.append(Issue(f"{error}: the other central directories were not read", error.offset))
                break
            except Malformed:
                continue
            # Only members a reader can open count (a record in a comment whose directory names
            # offsets where no local header is makes no other archive)
            readable = [
                member
                for member in members
                if member.header_offset >= 0 and self.data[member.header_offset : member.header_offset + 4] == LOCAL_MAGIC
            ]
            if all((member.header_offset, member.raw_name) in listed for member in readable):
                del self.issues[issues:]
                continue
            self.issues.append(Issue(f"a second central directory at offset {start}: readers that pick it see other members", start))
            self.members += [member for member in readable if member.header_offset not in known]
            known.update(member.header_offset for member in readable)
            listed.update((member.header_offset, member.raw_name) for member in readable)

    # -- local headers and layout -------------------------------------------------------
    def local_header(self, member: Member) -> LocalHeader:
        cached = self._locals.get(member.header_offset)
        if cached is None:
            cached = self._locals[member.header_offset] = self._read_local(member)
        if isinstance(cached, Malformed):
            raise cached
        return cached

    def _read_local(self, member: Member) -> LocalHeader | Malformed:
        at = member.header_offset
        if at < 0 or at + _LOCAL.size > len(self.data) or self.data[at : at + 4] != LOCAL_MAGIC:
            return Malformed(f"member {member.name!r} has no local header at offset {at}", max(at, 0))
        _, _, flags, method, _, _, _, _, _, name_length, extra_length = _unpack(_LOCAL, self.data, at)
        data_offset = at + _LOCAL.size + name_length + extra_length
        return LocalHeader(bytes(self.data[at + _LOCAL.size : at + _LOCAL.size + name_length]), flags, method, data_offset)

    def _audit(self) -> None:
        """Everything two readers could disagree on, member by member, then the layout."""
        names: set[bytes] = set()
        for member in self.members:
            shown = member.name
            at = member.header_offset
            if member.raw_name in names:
                self.issues.append(Issue(f"duplicate member name {shown!r}: readers disagree on which one is loaded", member.entry_offset))
            names.add(member.raw_name)
            if escapes_folder(shown):
                self.issues.append(Issue(f"member name {shown!r} leaves the archive's folder", member.entry_offset))
            if self._audit_local is not None and not self._audit_local(member):
                self._unaudited.add(member.header_offset)
                continue
            try:
                local = self.local_header(member)
            except Malformed as error:
                self.issues.append(Issue(str(error), error.offset, tampering=False))
                continue
            if local.data_offset + member.compressed_size > len(self.data):
                # zipfile still reads what is there (a stored member up to its stated size, a
                # deflate stream that ends early): it is scanned, and reported
                self.issues.append(Issue(f"member {shown!r} runs past the end of the file", at, tampering=False))
            sealed = self._sealed_kind(member)
            if sealed is not None:
                self._sealed.add(member.header_offset)
                # No loader reads it without the password (PyTorch would read ciphertext): not
                # tampering, but nothing in it was checked; fail closed where a model is expected.
                message = f"member {shown!r} is encrypted ({sealed}): its content cannot be read without the password and was not scanned"
                severity = None if model_named(shown) else Severity.LOW
                self.issues.append(Issue(message, member.entry_offset, tampering=False, severity=severity))
            self.issues += [Issue(message, at) for message in _disagreements(member, local, sealed is not None)]
        self._audit_layout()

    def _sealed_kind(self, member: Member) -> str | None:
        """'ZipCrypto', 'AES' or 'strong encryption' when the member is really encrypted; None
        when it is not, or when the flag lies (GHSA-w8jq-xcqf-f792: the bytes read as a known
        format or as text, which is what PyTorch's reader, ignoring the flag, loads)."""
        if not (member.flags & ENCRYPTED_FLAGS or member.method == AES):
            return None
        try:
            head = self.head(member, HEAD_SIZE, raw=not self.readable(member))
        except BrokenMember as error:
            head = error.partial
        except Malformed:
            return None
        if head and (sniff_head(head, member.size) is not None or is_text(head)):
            return None
        return "AES" if member.method == AES else "strong encryption" if member.flags & 0x0040 else "ZipCrypto"

    def is_sealed(self, member: Member) -> bool:
        """Whether the member is really encrypted (reported among the issues, not scanned)."""
        return member.header_offset in self._sealed

    def _audit_layout(self) -> None:
        """Members must tile the archive: no bytes before, between or over each other."""
        by_offset = {member.header_offset: member for member in self.members}
        laid_out = [by_offset[offset] for offset in sorted(by_offset)]
        if len(laid_out) < len(self.members):
            self.issues.append(Issue("several central directory entries share one local header", laid_out[0].header_offset))
        first = laid_out[0].header_offset if laid_out else 0
        if first > 0 and not _is_shebang(bytes(self.data[:first])):
            self.issues.append(Issue(f"{first} bytes before the first member: a loader reading from the start sees something else", 0))
        boundaries = [member.header_offset for member in laid_out[1:]] + [self._directory_start]
        for member, boundary in zip(laid_out, boundaries, strict=False):  # no members: the one boundary is unused
            if member.header_offset in self._unaudited:
                continue
            try:
                local = self.local_header(member)
            except Malformed:
                continue
            end = local.data_offset + member.compressed_size
            gap = boundary - end
            if gap < 0:
                if boundary > member.header_offset:
                    self.issues.append(Issue(f"member {member.name!r} overlaps the data that follows it", end + gap))
            elif gap and not (member.flags & _DESCRIPTOR_FLAG and gap in (12, 16, 20, 24)):
                hidden = " holding a local header the directory does not list" if LOCAL_MAGIC in bytes(self.data[end:boundary]) else ""
                self.issues.append(Issue(f"{gap} unlisted bytes after member {member.name!r}{hidden}", end))

    # -- content ------------------------------------------------------------------------
    def read(self, member: Member, limit: int, *, raw: bool = False) -> bytes:
        """The member's content, decompressed (or as stored when `raw`).

        TooLarge past `limit` bytes; BrokenMember when the compressed data is corrupt;
        Malformed when the method is one we cannot decompress.
        """
        return self._extract(member, limit, raw=raw, whole=True)

    def head(self, member: Member, size: int, *, raw: bool = False) -> bytes:
        """At most the first `size` bytes of the content (only those are decompressed)."""
        return self._extract(member, size, raw=raw, whole=False)

    def readable(self, member: Member) -> bool:
        return member.method in (STORED, DEFLATED, BZIP2, LZMA)

    def _extract(self, member: Member, limit: int, *, raw: bool, whole: bool) -> bytes:
        local = self.local_header(member)
        begin = local.data_offset
        end = min(begin + member.compressed_size, len(self.data))  # past the end of the file: what is there
        if raw or member.method == STORED:
            if whole and end - begin > limit:
                raise TooLarge(f"member {member.name!r} is {end - begin} bytes, over the {limit >> 20} MiB limit", begin)
            return bytes(self.data[begin : min(end, begin + limit)])
        found = _decompressor(member, self.data, begin)
        if found is None:
            raise Malformed(f"member {member.name!r} uses compression method {member.method}, which cannot be read", begin)
        if member.method == LZMA:
            begin += 4 + _unpack(_U16, self.data, begin + 2)[0]
        content = _decompress(*found, self.data, begin, end, limit, member)
        if len(content) > limit:
            if whole:
                raise TooLarge(f"member {member.name!r} decompresses to more than {limit >> 20} MiB (a decompression bomb?)", begin)
            return content[:limit]
        return content

    def crc_matches(self, member: Member, content: bytes) -> bool:
        return zlib.crc32(content) == member.crc


def _decompressor(member: Member, data, begin: int) -> tuple[Callable[[], object], tuple[type[Exception], ...]] | None:
    """A factory of streaming decompressors for the member's method, and their errors."""
    if member.method == DEFLATED:
        return (lambda: zlib.decompressobj(-15)), (zlib.error,)
    if member.method == BZIP2:
        import bz2

        return bz2.BZ2Decompressor, (OSError, EOFError, ValueError)
    if member.method == LZMA:
        import lzma

        # zip's LZMA: 2 version bytes, 2 bytes of properties length, the LZMA1 properties
        properties_length = _unpack(_U16, data, begin + 2)[0] if begin + 4 <= len(data) else 0
        properties = bytes(data[begin + 4 : begin + 4 + properties_length])
        try:
            # as zipfile does; the private helper is absent from typeshed
            filters = [lzma._decode_filter_properties(lzma.FILTER_LZMA1, properties)]  # type: ignore[attr-defined]
        except (lzma.LZMAError, ValueError):
            raise Malformed(f"member {member.name!r} has unreadable LZMA properties", begin) from None
        return (lambda: lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters)), (lzma.LZMAError, EOFError, ValueError)
    return None


def _decompress(factory, errors: tuple[type[Exception], ...], data, begin: int, end: int, limit: int, member: Member) -> bytes:
    """Up to `limit` + 1 bytes of output, fed in chunks (a bomb stops at the cap)."""
    decompressor, out = factory(), bytearray()
    at = begin
    try:
        while at < end and len(out) <= limit and not decompressor.eof:
            piece = bytes(data[at : min(end, at + _CHUNK)])
            _feed(decompressor, piece, out, limit)
            at += len(piece)
    except errors as error:
        partial = _salvage(factory, errors, data, begin, at, min(end, at + _CHUNK), limit)
        raise BrokenMember(f"member {member.name!r} cannot be decompressed: {error}", begin, partial) from None
    return bytes(out)


def _feed(decompressor, piece: bytes, out: bytearray, limit: int) -> None:
    pending = piece
    while len(out) <= limit and not decompressor.eof:
        out += decompressor.decompress(pending, limit + 1 - len(out))
        # zlib hands back what it did not use; bz2 and lzma keep it and want b"".
        pending = getattr(decompressor, "unconsumed_tail", b"")
        if not pending and getattr(decompressor, "needs_input", True):
            return


def _salvage(factory, errors, data, begin: int, good: int, end: int, limit: int) -> bytes:
    """What decompresses before a corruption: the chunks that went well at once, then the
    failing chunk byte by byte (the decompressor drops a failing call's output)."""
    decompressor, out = factory(), bytearray()
    try:
        _feed(decompressor, bytes(data[begin:good]), out, limit)
        for at in range(good, end):
            _feed(decompressor, bytes(data[at : at + 1]), out, limit)
    except errors:
        pass
    return bytes(out[:limit])


def _disagreements(member: Member, local: LocalHeader, sealed: bool) -> Iterator[str]:
    """How the local header and the central directory entry tell different stories, and
    what in the entry makes zipfile and miniz read it differently. For a `sealed` (really
    encrypted) member, the encryption flags, the AES method and the encryption header counted
    in the stored size are what encryption is, not a disagreement."""
    shown = member.name
    if local.raw_name != member.raw_name:
        yield f"local header names {_decode(local.raw_name, local.flags)!r} where the central directory names {shown!r}"
    if local.flags != member.flags:
        yield f"member {shown!r}: flags {local.flags:#06x} in the local header, {member.flags:#06x} in the central directory"
    odd = (local.flags | member.flags) & ~_ORDINARY_FLAGS & ~(ENCRYPTED_FLAGS if sealed else 0)
    if odd:
        yield f"member {shown!r} has unusual general-purpose flags ({_describe_flags(odd)}): loaders that ignore them read what scanners skip"
    if local.method != member.method:
        yield f"member {shown!r}: compression method {local.method} in the local header, {member.method} in the central directory"
    if member.method not in (STORED, DEFLATED) and not (sealed and member.method == AES):
        method = _METHOD_NAMES.get(member.method, "unknown")
        yield f"member {shown!r} uses compression method {member.method} ({method}): model writers only store or deflate"
    elif member.method == STORED and member.compressed_size != member.size and not sealed:
        yield f"stored member {shown!r} has {member.compressed_size} bytes of data but claims {member.size}"


def _zip64_sizes(extra: bytes, size: int, compressed: int, offset: int) -> tuple[int, int, int]:
    """Sizes and offset from the ZIP64 extra field, for the ones the entry maxes out."""
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, at)
        body = extra[at + 4 : at + 4 + length]
        if kind == 1:
            values = [value for (value,) in struct.iter_unpack("<Q", body[: len(body) // 8 * 8])]
            if size == 0xFFFFFFFF and values:
                size = values.pop(0)
            if compressed == 0xFFFFFFFF and values:
                compressed = values.pop(0)
            if offset == 0xFFFFFFFF and values:
                offset = values.pop(0)
        at += 4 + length
    return size, compressed, offset


def _decode(raw: bytes, flags: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8" if flags & _UTF8_FLAG else "cp437", "replace")


def escapes_folder(name: str) -> bool:
    """Absolute, drive-relative, backslashed or `..` names: extraction writes elsewhere."""
    if name.startswith(("/", "\\")) or "\\" in name or "\0" in name or _DRIVE.match(name):
        return True
    return ".." in name.split("/")


def _is_shebang(preamble: bytes) -> bool:
    """One `#!` line before the archive: a Python zipapp (PEP 441) or an executable jar.
    Benign by construction: no loader of models reads it (`#` is not a pickle opcode)."""
    return preamble.startswith(b"#!") and preamble.endswith(b"\n") and preamble.count(b"\n") == 1 and len(preamble) <= 512


def _describe_flags(bits: int) -> str:
    names = []
    for bit in range(16):
        mask = 1 << bit
        if bits & mask:
            names.append(f"{mask:#06x} {_FLAG_NAMES.get(mask, 'reserved')}")
    return ", ".join(names)
