"""The online phase of a run: each hook's online check, cut into small pieces run side by side.

A piece (`Piece`) is the check of one finding (with no notes), or of all the notes of one kind
(with no findings: a hook may batch them, as OSV's querybatch does). At most
`Settings.concurrency` pieces run at once, on daemon threads, so that a piece stuck on a silent
server never holds up the end of the run; they take turns to run hook code (`Turn`), and only
their waits for the network overlap. When the deadline passes the run goes on at once:
each piece not finished becomes one error line (per file) saying what it was waiting for, its finding is
reported as the scan found it, and whatever the piece would still say is dropped (its errors
are its own until it finishes: see `OnlineSession.reporting_to`).

While pieces run, stderr shows `mlgate: online 12/40 lookups` when it is a terminal.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from mlgate.findings import Finding
from mlgate.hook import ScanContext
from mlgate.notes import Note

if TYPE_CHECKING:
    from mlgate.online import OnlineModule, OnlineSession

SHOWN_LINES = 5  # lines named in the error of an unfinished piece of notes; the rest are counted


@dataclass(eq=False)
class Piece:
    """One call of a hook's check, and what it left when the run stopped waiting."""

    places: list[tuple[str, str]]  # (path, "line 6: PIN020"): what its error lines name when it does not finish
    check: Callable[[], list[Finding]]
    unchecked: list[Finding]  # what stands for it when it does not finish: the finding as scanned
    found: list[Finding] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    asking: str = ""  # the request it last sent
    started: bool = False
    failure: BaseException | None = None  # a bug in the check: raised again by the runner

    def sending(self, request: str) -> None:
        self.asking = request


def run_checks(session: OnlineSession, work: list[tuple[OnlineModule, ScanContext, list[Finding]]]) -> list[Finding]:
    """The findings of every (hook's online module, its context, its findings), as the checks
    return them; failures and unfinished pieces go to `session.errors`, in the pieces' order."""
    # The notes first: a batch of them is the longest piece, the one to start early.
    pieces = [piece for module, context, _ in work for piece in _note_pieces(session, module, context)]
    pieces += [piece for module, context, findings in work for piece in _finding_pieces(session, module, context, findings)]
    if not pieces:
        return []
    finished = _run(session, pieces)
    found: list[Finding] = []
    for piece in pieces:
        if piece in finished:
            if piece.failure is not None:
                raise piece.failure
            found.extend(piece.found)
            session.errors.extend(piece.errors)
        else:
            found.extend(piece.unchecked)
            why = _why_unfinished(session, piece)
            session.errors.extend((path, f"{what} not checked online: {why}") for path, what in piece.places)
    return found


def _note_pieces(session: OnlineSession, module: OnlineModule, context: ScanContext) -> Iterator[Piece]:
    kinds: dict[str, list[Note]] = {}
    for note in context.notes:
        kinds.setdefault(note.kind, []).append(note)
    for kind, notes in kinds.items():
        yield Piece(_note_places(kind, notes), _bound(module, session, dataclasses.replace(context, notes=notes), []), [])


def _finding_pieces(session: OnlineSession, module: OnlineModule, context: ScanContext, findings: list[Finding]) -> Iterator[Piece]:
    alone = dataclasses.replace(context, notes=[])
    for finding in findings:
        where = f"line {finding.line}: {finding.rule.code}" if finding.line else finding.rule.code
        yield Piece([(finding.path, where)], _bound(module, session, alone, [finding]), [finding])


def _note_places(kind: str, notes: list[Note]) -> list[tuple[str, str]]:
    """(path, "lines 1, 2, 3: pin lookups") for each file the notes are in."""
    lines: dict[str, set[int]] = {}
    for note in notes:
        lines.setdefault(note.path, set()).add(note.line)
    places = []
    for path, numbers in lines.items():
        shown = sorted(numbers)
        named = ", ".join(map(str, shown[:SHOWN_LINES])) + (f" and {len(shown) - SHOWN_LINES} more" if len(shown) > SHOWN_LINES else "")
        places.append((path, f"line{'s' if len(shown) > 1 else ''} {named}: {kind} lookup{'s' if len(shown) > 1 else ''}"))
    return places


def _bound(module: OnlineModule, session: OnlineSession, context: ScanContext, findings: list[Finding]) -> Callable[[], list[Finding]]:
    return lambda: list(module.check(session, context, findings))


def _why_unfinished(session: OnlineSession, piece: Piece) -> str:
    deadline = session.deadline.describe()
    if piece.asking:
        return f"{piece.asking} had not answered when {deadline} passed"
    return f"{deadline} passed before it started" if not piece.started else f"{deadline} passed"


def side_by_side(session: OnlineSession, count: int, run: Callable[[int], None], name: str) -> Iterator[int]:
    """`run(i)` for each i below `count`, at most `Settings.concurrency` at once on daemon threads
    that take turns (`Turn`: only their waits for the network overlap); yields each i as its run
    ends, until all have ended or the run's deadline passes. `run` keeps its own result and its own
    failure: what it raises is lost. Shared by the online checks and the hooks' batched lookups."""
    waiting: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(count):
        waiting.put(index)
    done: queue.SimpleQueue[int] = queue.SimpleQueue()

    def work() -> None:
        try:
            while not session.deadline.passed:
                try:
                    index = waiting.get_nowait()
                except queue.Empty:
                    return
                try:
                    with session.turn.taken():
                        run(index)
                finally:
                    done.put(index)
        finally:
            session.thread_done()

    for number in range(min(session.settings.concurrency, count)):
        threading.Thread(target=work, name=f"{name}-{number}", daemon=True).start()
    for _ in range(count):
        if session.deadline.passed:
            return
        left = session.deadline.remaining()
        try:
            yield done.get(timeout=None if left == float("inf") else left)
        except queue.Empty:
            return


def _run(session: OnlineSession, pieces: list[Piece]) -> set[Piece]:
    """Run the pieces side by side until all are done or the deadline passes: the finished ones."""
    session.deadline.start()

    def run_piece(index: int) -> None:
        piece = pieces[index]
        piece.started = True
        session.reporting_to(piece.errors, piece.sending)
        try:
            piece.found = piece.check()
        except BaseException as exc:  # a bug in a check: the main thread raises it
            piece.failure = exc
        finally:
            session.reporting_to(None)
            piece.asking = ""

    finished: set[Piece] = set()
    progress = Progress(session.progress, len(pieces))
    progress.show(0)
    try:
        for index in side_by_side(session, len(pieces), run_piece, "mlgate-online"):
            finished.add(pieces[index])
            progress.show(len(finished))
    finally:
        progress.clear()
    return finished


class Progress:
    """`mlgate: online 12/40 lookups` on one line that is rewritten, only on a terminal."""

    INTERVAL = 0.1  # seconds between two updates, so a fast run does not flood the terminal

    def __init__(self, stream: TextIO | None, total: int):
        self.stream = stream if stream is not None and _is_terminal(stream) else None
        self.total = total
        self.width = 0
        self.shown_at = 0.0

    def show(self, count: int) -> None:
        now = time.monotonic()
        if self.stream is None or (now - self.shown_at < self.INTERVAL and count < self.total):
            return
        line = f"mlgate: online {count}/{self.total} lookups"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width, self.shown_at = len(line), now

    def clear(self) -> None:
        """Erase the line, so the report starts on a clean one."""
        if self.stream is not None and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False
