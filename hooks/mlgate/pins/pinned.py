"""What a pins scanner saw that the online check looks up, kept as a `Note` (with `context.note`):
an exact pin (OSV advisories, the PyPI release date), an action at a commit (its date)."""

from __future__ import annotations

import re

from mlgate.hook import ScanContext
from mlgate.notes import Note, NoteKind
from mlgate.pins.requirement import canonical_name, is_poetry_exact

# `name==1.2.3` / `name[extra] === 1.2.3 ; marker`: what a pin sends to OSV (not `name==$VERSION`).
PINNED = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s,;*()${}]+)\s*(?:;.*)?")

# An exact pin: looked up in OSV on an online run, its advisories reported at its place.
PIN = NoteKind("pin", 2)  # subject: (name, version)
# An action or reusable workflow at a full commit SHA: its commit's date is checked against the cooldown.
ACTION_AT_COMMIT = NoteKind("action-commit", 3)  # subject: (owner, repo, sha)


def pin_note(name: str, version: str, path: str, line: int, column: int, where: str = "") -> Note:
    return PIN.note((name, version), path, line, column, where)


def pin_key(note: Note) -> tuple[str, str]:
    """(canonical name, version): what OSV is asked about."""
    name, version = note.subject
    return canonical_name(name), version


def note_pin(context: ScanContext, text: str, path: str, line: int, column: int, where: str = "") -> None:
    """Keep `text` for the OSV check if it is an exact pin (`name==1.2.3`); nothing offline."""
    match = PINNED.fullmatch(text) if context.online else None
    if match is not None:
        context.note(pin_note(match.group(1), match.group(2), path, line, column, where))


def poetry_pin_text(name: str, version: str) -> str | None:
    """`name==1.2.3` for an exact Poetry constraint (`1.2.3`, `==1.2.3`, `=1.2.3`), else None."""
    if not is_poetry_exact(version):
        return None
    return f"{name}=={version.strip().lstrip('=').strip().removeprefix('v')}"
