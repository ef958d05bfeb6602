"""Every scanner over every file of a run, in this process or split over worker processes.

Each file is judged on its own (a scanner may open other files through its `ScanContext`, whose
caches only save work), so the files of a run can be split among processes and the results put
back in the order of the files: the report is the same, finding for finding, whatever the
number of jobs. What goes back from a worker is only what the report needs: each file's findings
(with their context lines, read while the file is at hand), errors and ignore comments, and the
other files the scanners opened (an include, a lock file), with their ignore comments; never the
files' text.

Worker processes are forked (Linux), so they start with everything this process has imported
and with the run's hooks and settings; they are used only for an offline run of enough files
(`worth_splitting`), where forking costs less than it saves.
"""

from __future__ import annotations

import dataclasses
import os
import pickle  # how a forked worker sends its findings back
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from mlgate.files import InvalidText, ScanError, SourceFile
from mlgate.findings import ERROR, INVALID, Finding, ScanErrorEntry
from mlgate.hook import Hook, ScanContext, Scanner
from mlgate.notes import Note
from mlgate.suppressions import IgnoreComment, ignore_comments_of

# Fewer files than this per job are scanned in this process: forking and the imports each worker
# makes on its own cost more than a second process saves on a few dozen files.
MIN_FILES_PER_JOB = 40
# Each job gets its files in about this many chunks, so that a worker that drew a huge file is
# not left working alone at the end while the others wait.
CHUNKS_PER_JOB = 24
# The chunks' numbers (4 bytes each, `MAX_CHUNKS + 1` at most) are written to the queue pipe before
# any process reads it: under one 4 KiB page, which a pipe holds even when the system gives it no
# more, so the write never blocks.
MAX_CHUNKS = 1000


def error_kind(error: ScanError) -> str:
    """What a ScanError is (see "Errors" in docs/configuration.md): INVALID for a text file that
    is not valid in its own language (`InvalidText`), ERROR (fails the run) for everything else:
    a file that cannot be read as text (`UnreadableFile`), a missing include, a refused file."""
    return INVALID if isinstance(error, InvalidText) else ERROR


@dataclass
class FileScan:
    """What the scanners made of one file of the run (`index` in the run's list of files)."""

    index: int
    findings: list[Finding] = field(default_factory=list)
    errors: list[ScanErrorEntry] = field(default_factory=list)
    matched: bool = False  # whether any scanner wanted the file
    comments: list[IgnoreComment] = field(default_factory=list)


@dataclass(frozen=True)
class OpenedFile:
    """A file a scanner opened besides the one it scanned (an include): for the report's context
    lines and its ignore comments."""

    path: str
    abspath: Path
    comments: tuple[IgnoreComment, ...]


@dataclass
class FileScanner:
    """The state of a run's file loop in one process: the files (absolute and as shown), each
    hook's scanners and its context (whose caches live as long as the process's share of the run)."""

    files: Sequence[Path]
    shown: Sequence[str]
    scanners: list[tuple[Hook, Scanner, ScanContext]]
    debug: bool = False
    # the other files opened so far, by absolute path, and whether their comments were collected
    _reported: dict[Path, bool] = field(default_factory=dict)

    def scan(self, index: int) -> FileScan:
        shown = self.shown[index]
        source = SourceFile(path=shown, abspath=self.files[index])
        outcome = FileScan(index)
        for hook, scanner, context in self.scanners:
            if not scanner.matches(shown):
                continue
            outcome.matched = True
            try:
                for item in scanner.scan(source, context):
                    if isinstance(item, Note):
                        context.note(item)  # for the online check; never reported
                    else:
                        outcome.findings.append(item)
            except ScanError as exc:
                outcome.errors.append(ScanErrorEntry(shown, str(exc), error_kind(exc)))
            except Exception as exc:  # a bug must not end the run over the other files
                if self.debug:
                    raise
                outcome.errors.append(ScanErrorEntry(shown, f"internal error in {hook.name}/{scanner.name}: {type(exc).__name__}: {exc}"))
        # each finding's line is read now, while its file is at hand: the report reads no file again
        outcome.findings = [
            with_context(finding, owner) if (owner := self._source_of(finding.path, source)) is not None else finding
            for finding in outcome.findings
        ]
        outcome.comments = ignore_comments_of(source)
        return outcome

    def _source_of(self, path: str, scanned: SourceFile) -> SourceFile | None:
        """The file a finding is on: the one scanned, or another file a scanner opened (an include)."""
        if path == scanned.path:
            return scanned
        return next((other for *_, context in self.scanners for other in context.opened() if other.path == path), None)

    def scan_all(self, indices: Iterable[int]) -> tuple[list[FileScan], list[OpenedFile]]:
        """The files at `indices` scanned as the iterable gives them, then the other files opened."""
        return [self.scan(index) for index in indices], self.opened()

    def opened(self) -> list[OpenedFile]:
        """The other files opened since the last call, and those opened before that have been
        read as text since (their ignore comments are known only then)."""
        found = []
        for _hook, _scanner, context in self.scanners:
            for source in context.opened():
                done = self._reported.get(source.abspath)
                if done or (done is not None and not source.read_as_text):
                    continue
                self._reported[source.abspath] = source.read_as_text
                found.append(OpenedFile(source.path, source.abspath, tuple(ignore_comments_of(source))))
        return found


def with_context(finding: Finding, source: SourceFile | None) -> Finding:
    """The finding with its context (what its fingerprint is made of): the text of its line in
    `source`, the file it is on, else its message."""
    if finding.context is not None:
        return finding
    text = ""
    if source is not None and finding.line:
        try:
            text = source.line_text(finding.line)
        except ScanError:  # not text: a model file's finding is fingerprinted by its content
            text = ""
    return dataclasses.replace(finding, context=text.strip() or finding.message)


def worth_splitting(jobs: int, file_count: int) -> int:
    """How many worker processes to split `file_count` files among (1: none, scan here)."""
    if jobs <= 1 or sys.platform != "linux":  # forking is the safe way to start workers only there
        return 1
    return max(1, min(jobs, file_count // MIN_FILES_PER_JOB))


def default_jobs() -> int:
    """The processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def scan_files(loop: FileScanner, jobs: int) -> tuple[list[FileScan], list[OpenedFile]]:
    """Every file of `loop` scanned, in the order of its files, by this process and `jobs - 1`
    forked ones. The files are cut into chunks whose numbers wait in a pipe; each process takes
    the next number when it is free (a read of 4 bytes from a pipe is atomic), so a process that
    drew a huge file takes fewer. A worker writes what it found to its own pipe and exits; a
    worker that dies leaves its files to this process, which scans what nobody reported."""
    if jobs <= 1:
        return loop.scan_all(range(len(loop.files)))
    chunks = list(_chunks(loop.files, min(jobs * CHUNKS_PER_JOB, MAX_CHUNKS)))
    queue_out, queue_in = os.pipe()
    os.write(queue_in, b"".join(number.to_bytes(4, "little") for number in range(len(chunks))))
    os.close(queue_in)
    workers: list[tuple[int, int]] = []  # (pid, the read end of its pipe)
    for _ in range(jobs - 1):
        result_out, result_in = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns
            os.close(result_out)
            _work(loop, chunks, queue_out, result_in)
        os.close(result_in)
        workers.append((pid, result_out))
    scans, opened = loop.scan_all(index for chunk in _taken(chunks, queue_out) for index in chunk)
    os.close(queue_out)
    for pid, result_out in workers:
        data = _read_all(result_out)
        os.close(result_out)
        _, status = os.waitpid(pid, 0)
        if status == 0 and data:
            # The bytes our own forked process wrote to a pipe only it and we hold: its findings
            # (strings and numbers), never a scanned file's bytes or objects.
            worker_scans, worker_opened = pickle.loads(data)  # mlgate: ignore[MOD017]
            scans.extend(worker_scans)
            opened.extend(worker_opened)
    done = {scan.index for scan in scans}
    missing = [index for index in range(len(loop.files)) if index not in done]
    if missing:  # a worker died (killed, out of memory): its files are scanned here
        more_scans, more_opened = loop.scan_all(missing)
        scans.extend(more_scans)
        opened.extend(more_opened)
    scans.sort(key=lambda scan: scan.index)
    return scans, opened


def _work(loop: FileScanner, chunks: list[list[int]], queue_out: int, result_in: int) -> NoReturn:
    """A forked worker: scan the chunks it takes, write what it found, exit without running
    anything of the parent's at exit (its buffered output, its atexit handlers)."""
    status = 1
    try:
        found = loop.scan_all(index for chunk in _taken(chunks, queue_out) for index in chunk)
        data = memoryview(pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL))
        while data:
            data = data[os.write(result_in, data) :]
        status = 0
    finally:
        os._exit(status)


def _taken(chunks: list[list[int]], queue_out: int) -> Iterator[list[int]]:
    """The chunks this process takes from the queue, one at a time, as it gets to them."""
    while len(number := os.read(queue_out, 4)) == 4:
        yield chunks[int.from_bytes(number, "little")]


def _read_all(fd: int) -> bytes:
    parts = []
    while part := os.read(fd, 1 << 20):
        parts.append(part)
    return b"".join(parts)


def _chunks(files: Sequence[Path], count: int) -> Iterator[list[int]]:
    """The indices of `files` in at most `count + 1` runs of neighbouring files of about the same
    weight, the heaviest runs first (a huge file started last would be waited for). A file weighs
    its size and 4 KiB more: a small file still costs a read and its scanners' set-up."""
    weights = [_size(path) + 4096 for path in files]
    share = max(1, sum(weights) // count)
    runs: list[tuple[int, list[int]]] = []  # (weight, indices)
    current: list[int] = []
    weight = 0
    for index, file_weight in enumerate(weights):
        current.append(index)
        weight += file_weight
        if weight >= share:
            runs.append((weight, current))
            current, weight = [], 0
    if current:
        runs.append((weight, current))
    runs.sort(key=lambda run: -run[0])
    return (indices for _, indices in runs)


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
