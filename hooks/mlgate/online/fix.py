"""`--fix`: turn findings into source edits, and write them all or none.

Each hook maps rule codes to fixers (`Hook.fixes`); a fixer looks up what it needs through
the session and returns `Edit`s: token-exact replacements at a line and column, checked
against the file before anything is written. So formatting and comments stay as they are,
and running the fix again finds nothing left to change (the findings are gone).

If any lookup fails, or any file changed since it was scanned, no file is written: half a
fix would leave a tree that neither the old nor the new review describes.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import defaultdict
from pathlib import Path

from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import Hook
from mlgate.online import Edit, OnlineError, OnlineSession

_LINE_ENDS = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")
_BOM = "\ufeff"

Errors = list[tuple[str, str]]


def plan(findings: list[Finding], hooks: list[Hook], session: OnlineSession) -> tuple[list[Edit], Errors]:
    modules = [module for hook in hooks if (module := hook.online_module()) is not None]
    fixers = {code: fixer for module in modules for code, fixer in module.FIXES.items()}
    sources: dict[str, SourceFile] = {}
    edits: list[Edit] = []
    errors: Errors = []
    for finding in findings:
        fixer = fixers.get(finding.rule.code)
        if fixer is None or finding.line is None or finding.column is None:
            continue
        source = sources.setdefault(finding.path, SourceFile(path=finding.path, abspath=Path(finding.path).absolute()))
        try:
            edits.extend(fixer(session, finding, source))
        except OnlineError as exc:
            errors.append((finding.path, f"line {finding.line}: cannot fix {finding.rule.code}: {exc}"))
    return edits, errors


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


def _write(path: Path, text: str) -> None:
    """Replace the file in one step, keeping its permissions."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".mlgate")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def apply(edits: list[Edit]) -> tuple[list[str], Errors]:
    """Check every edit against its file, then write the changed files; nothing if one fails."""
    by_path: dict[str, list[Edit]] = defaultdict(list)
    for edit in edits:
        by_path[edit.path].append(edit)
    new_texts: dict[str, str] = {}
    errors: Errors = []
    for shown, file_edits in sorted(by_path.items()):
        try:
            raw = Path(shown).read_bytes().decode("utf-8")
            bom = _BOM if raw.startswith(_BOM) else ""
            new_texts[shown] = bom + _edited(raw[len(bom) :], file_edits)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            errors.append((shown, f"not fixed: {exc}"))
    if errors:
        return [], errors
    for shown, text in new_texts.items():
        _write(Path(shown), text)
    return sorted(new_texts), []


def fix(findings: list[Finding], hooks: list[Hook], session: OnlineSession) -> tuple[list[str], Errors]:
    """Fix what can be fixed: (changed display paths, errors). Writes nothing on any error."""
    edits, errors = plan(findings, hooks, session)
    if errors:
        return [], errors
    return apply(edits)
