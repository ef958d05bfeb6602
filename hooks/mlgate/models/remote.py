"""Model files on the hub scanned where they are: only the bytes that can hold code are fetched.

    scan_remote_files(session, files: list[RemoteFile]) -> list[RemoteResult]

The `Hook.remote_scan` module of the models hook (see `mlgate.online`). Each file is read
through `mlgate.online.ranged.RangedFile` (HTTP Range requests, a byte budget per file) by the
scanner that reads local files (`scanner.scan_remote`), so a remote file is judged as a local
one would be:

- a zip checkpoint (torch >= 1.6): its first block, the end record and central directory from
  the tail, then the members that are not raw tensor storages (`archive/data.pkl`, small
  records, any member whose head sniffs as a format that can hold code): a 1 GB
  `pytorch_model.bin` costs a few hundred kB;
- a raw pickle (a legacy torch file, a `.pkl`): walked opcode by opcode; a large byte payload
  (BINBYTES8, a joblib array) is stepped over by its length, its bytes never fetched.

Each file's problems are the models rules the local scan would report (MOD001, MOD002, ...),
each message located as `path!member@offset: ...`; MOD003 (a pickle format at all) is left to
the hub's own weights-format check. What could not be read (the byte budget spent, a server
that ignores Range, a failed request, a format whose code is not found without reading it
all) is said in the result's `unscanned`, and the MOD004 findings of a reading cut short are
dropped (they say where the bytes stopped, not what the file is).
"""

from __future__ import annotations

from mlgate.files import ScanError
from mlgate.findings import Finding
from mlgate.models import scanner
from mlgate.models.formats import TooLarge
from mlgate.models.rules import PICKLE_FORMAT, UNPARSEABLE
from mlgate.online import OnlineSession, RemoteFile, RemoteResult
from mlgate.online.ranged import RangedFile


class Unfetched(TooLarge, IndexError):
    """Bytes of a remote file that were not fetched: the scanners take them as content that is
    cut off (a zip member not read, a pickle walk that stops there, keeping what it saw)."""


def scan_remote_files(session: OnlineSession, files: list[RemoteFile]) -> list[RemoteResult]:
    return [scan_remote_file(session, file) for file in files]


def scan_remote_file(session: OnlineSession, file: RemoteFile) -> RemoteResult:
    try:
        source = RangedFile.open(session, file.url, file.size, unavailable=Unfetched)
    except Unfetched as error:
        return file, [], f"not scanned: {error}"
    try:
        found, unread = scanner.scan_remote(source, file.path, {})
    except (Unfetched, ScanError) as error:
        return file, [], f"not scanned: {source.shortfall or error}"
    cut = source.shortfall
    problems = [
        (finding.rule, finding.severity, f"{_location(file, finding)}: {finding.message}")
        for finding in found
        if finding.rule is not PICKLE_FORMAT and not (cut is not None and finding.rule is UNPARSEABLE)
    ]
    if unread is None and cut is not None:
        unread = f"read in part ({source.received} bytes): {cut}; what lies past it was not scanned"
    return file, problems, unread


def _location(file: RemoteFile, finding: Finding) -> str:
    member = f"!{finding.member}" if finding.member else ""
    offset = f"@{finding.offset}" if finding.offset is not None else ""
    return f"{file.path}{member}{offset}"
