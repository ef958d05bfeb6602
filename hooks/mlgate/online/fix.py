"""`--fix`: turn findings into source edits, and write them all or none.

Each hook maps rule codes to fixers (`Hook.fixes`); a fixer looks up what it needs through
the session and returns `Edit`s: token-exact replacements at a line and column, checked
against the file before anything is written. So formatting and comments stay as they are,
and running the fix again finds nothing left to change (the findings are gone).

If any lookup fails, any edit no longer fits its file, or any file cannot be written (a
read-only file, a symbolic link, a folder without write access, a full disk) or changes while
the fix is made, no file is written: half a fix would leave a tree that neither the old nor
the new review describes. A lookup that failed in the check before the fix (or that the
deadline cut short) is already an error of the run: the fix does not report it again. Every new file is first written beside the old one, then all are
renamed over the old ones once each old one is checked to be as it was read; a rename that
fails puts back those already renamed.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import Hook
from mlgate.online import DeadlinePassed, Edit, OnlineError, OnlineSession, RepeatedFailure

_LINE_ENDS = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")
_BOM = "\ufeff"

Errors = list[tuple[str, str]]


@dataclass
class Plan:
    """The edits of every fix, or why some cannot be made."""

    edits: list[Edit]
    errors: Errors  # failures nobody has reported yet
    unfixable: int = 0  # findings whose fix needs a lookup that failed (reported here or before)


def plan(findings: list[Finding], hooks: list[Hook], session: OnlineSession) -> Plan:
    """The edits that fix `findings`. A lookup that already failed in the check before (a
    `RepeatedFailure`) or that the deadline cut short is listed there already: it makes the fix
    fail without a second error line for the same failure."""
    modules = [module for hook in hooks if (module := hook.online_module()) is not None]
    fixers = {code: fixer for module in modules for code, fixer in module.FIXES.items()}
    sources: dict[str, SourceFile] = {}
    result = Plan([], [])
    for finding in findings:
        fixer = fixers.get(finding.rule.code)
        if fixer is None or finding.line is None or finding.column is None:
            continue
        source = sources.setdefault(finding.path, SourceFile(path=finding.path, abspath=Path(finding.path).absolute()))
        try:
            result.edits.extend(fixer(session, finding, source))
        except (RepeatedFailure, DeadlinePassed):
            result.unfixable += 1
        except OnlineError as exc:
            result.unfixable += 1
            result.errors.append((finding.path, f"line {finding.line}: cannot fix {finding.rule.code}: {exc}"))
    return result


def _edited(text: str, edits: list[Edit]) -> str:
    """`text` with `edits` applied, right to left on each line; ValueError if one does not fit."""
    lines = _LINE_ENDS.split(text)
    floor: dict[int, int] = {}  # line -> column of the leftmost edit applied on it so far
    for edit in sorted(set(edits), key=lambda e: (e.line, e.column, len(e.old)), reverse=True):
        start, end = edit.column - 1, edit.column - 1 + len(edit.old)
        if end > floor.get(edit.line, end):  # checked first: right of the floor the line is already edited
            raise ValueError(f"line {edit.line}: two fixes overlap at column {edit.column}")
        if not 0 < edit.line <= len(lines) or lines[edit.line - 1][start:end] != edit.old:
            raise ValueError(f"line {edit.line} no longer holds {edit.old!r} at column {edit.column}")
        line = lines[edit.line - 1]
        lines[edit.line - 1] = line[:start] + edit.new + line[end:]
        floor[edit.line] = start
    return "".join(lines)


@dataclass
class _Rewrite:
    """One file to replace: what it held when read, what it will hold, and the staged copy."""

    shown: str
    path: Path
    before: bytes
    stat: os.stat_result
    after: bytes
    staged: str | None = None


class _NotWritten(Exception):
    """A file that must not or cannot be rewritten: nothing is written at all."""


def _read(shown: str, edits: list[Edit]) -> _Rewrite:
    path = Path(shown)
    if path.is_symlink():
        raise _NotWritten("it is a symbolic link; edit the file it points to")
    before = path.read_bytes()
    status = os.stat(path)
    if not status.st_mode & 0o222:
        raise _NotWritten("the file is read-only")
    raw = before.decode("utf-8")
    bom = _BOM if raw.startswith(_BOM) else ""
    return _Rewrite(shown, path, before, status, (bom + _edited(raw[len(bom) :], edits)).encode("utf-8"))


def _stage(rewrite: _Rewrite) -> str:
    """Write the new content next to the file (same folder: the rename stays on one file
    system), with the file's permissions; the staged copy's path (also kept in `rewrite.staged`)."""
    handle, staged = tempfile.mkstemp(dir=rewrite.path.parent, prefix=f".{rewrite.path.name}.", suffix=".mlgate")
    rewrite.staged = staged
    with os.fdopen(handle, "wb") as out:
        out.write(rewrite.after)
    os.chmod(staged, rewrite.stat.st_mode & 0o7777)
    return staged


def _unchanged(rewrite: _Rewrite) -> bool:
    """Does the file still hold what was read (content, size, time, inode)?"""
    now = os.stat(rewrite.path, follow_symlinks=False)
    same = (now.st_ino, now.st_size, now.st_mtime_ns) == (rewrite.stat.st_ino, rewrite.stat.st_size, rewrite.stat.st_mtime_ns)
    return same and rewrite.path.read_bytes() == rewrite.before


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _commit(rewrites: list[_Rewrite]) -> Errors:
    """Stage every file, check none changed since it was read, then rename them all; on any
    failure, put back the files already renamed and remove the staged copies."""
    replaced: list[_Rewrite] = []
    current = rewrites[0]
    try:
        for current in rewrites:
            _stage(current)
        for current in rewrites:
            if not _unchanged(current):
                raise _NotWritten("the file changed while it was being fixed; run the fix again")
        for current in rewrites:
            assert current.staged is not None  # every file was staged by the first loop
            os.replace(current.staged, current.path)
            current.staged = None
            replaced.append(current)
    except (OSError, _NotWritten) as exc:
        reason = _why(exc) if isinstance(exc, OSError) else str(exc)
        errors = [(current.shown, f"not fixed: {reason}")]
        for rewrite in replaced:
            try:
                rewrite.after, rewrite.staged = rewrite.before, None
                os.replace(_stage(rewrite), rewrite.path)
                rewrite.staged = None
            except OSError as undo:
                errors.append((rewrite.shown, f"already rewritten and could not be put back: {_why(undo)}"))
        for rewrite in rewrites:
            if rewrite.staged is not None:
                with contextlib.suppress(OSError):
                    os.unlink(rewrite.staged)
        return errors
    return []


def apply(edits: list[Edit]) -> tuple[list[str], Errors]:
    """Check every edit against its file, then write the changed files; nothing if one fails
    (an edit that does not fit, a file that cannot be written or changed meanwhile)."""
    by_path: dict[str, list[Edit]] = defaultdict(list)
    for edit in edits:
        by_path[edit.path].append(edit)
    rewrites: list[_Rewrite] = []
    errors: Errors = []
    for shown, file_edits in sorted(by_path.items()):
        try:
            rewrites.append(_read(shown, file_edits))
        except OSError as exc:
            errors.append((shown, f"not fixed: {_why(exc)}"))
        except (UnicodeDecodeError, ValueError, _NotWritten) as exc:
            errors.append((shown, f"not fixed: {exc}"))
    if errors:
        return [], errors
    rewrites = [rewrite for rewrite in rewrites if rewrite.after != rewrite.before]
    errors = _commit(rewrites) if rewrites else []
    return ([], errors) if errors else (sorted(rewrite.shown for rewrite in rewrites), [])


@dataclass
class Outcome:
    changed: list[str]  # display paths of the files rewritten
    errors: Errors  # failures to report (none already reported by the check)
    unfixable: int = 0  # fixes that could not be made: when not 0, nothing was written


def fix(findings: list[Finding], hooks: list[Hook], session: OnlineSession) -> Outcome:
    """Fix what can be fixed. Writes nothing when any fix cannot be made."""
    with session.turn.taken():  # a check cut short by the deadline may still be running
        planned = plan(findings, hooks, session)
    if planned.unfixable:
        return Outcome([], planned.errors, planned.unfixable)
    changed, errors = apply(planned.edits)
    return Outcome(changed, errors, len(errors))
