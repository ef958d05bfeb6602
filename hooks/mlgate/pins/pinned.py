"""An exact pin a scanner saw, kept (with `context.note`) for the online advisory check."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlgate.hook import ScanContext
from mlgate.pins.requirement import canonical_name, is_poetry_exact

# `name==1.2.3` / `name[extra] === 1.2.3 ; marker`: what a pin sends to OSV (not `name==$VERSION`).
PINNED = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s,;*()${}]+)\s*(?:;.*)?")


@dataclass(frozen=True)
class Pin:
    """An exact pin a scanner saw: looked up online, reported at its place."""

    name: str
    version: str
    path: str
    line: int
    column: int
    where: str = ""  # added to the messages about it: a notebook's ` (cell N, line M)`

    @property
    def key(self) -> tuple[str, str]:
        return canonical_name(self.name), self.version


def note_pin(context: ScanContext, text: str, path: str, line: int, column: int, where: str = "") -> None:
    """Keep `text` for the OSV check if it is an exact pin (`name==1.2.3`); nothing offline."""
    match = PINNED.fullmatch(text) if context.online else None
    if match is not None:
        context.note(Pin(match.group(1), match.group(2), path, line, column, where))


def poetry_pin_text(name: str, version: str) -> str | None:
    """`name==1.2.3` for an exact Poetry constraint (`1.2.3`, `==1.2.3`, `=1.2.3`), else None."""
    if not is_poetry_exact(version):
        return None
    return f"{name}=={version.strip().lstrip('=').strip().removeprefix('v')}"
