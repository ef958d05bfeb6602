"""An exact pin a scanner saw, kept (with `context.note`) for the online advisory check."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlgate.pins.requirement import canonical_name

# `name==1.2.3` / `name[extra] === 1.2.3 ; marker`: what a pin sends to OSV.
PINNED = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s,;*()]+)\s*(?:;.*)?")


@dataclass(frozen=True)
class Pin:
    """An exact pin a scanner saw: looked up online, reported at its place."""

    name: str
    version: str
    path: str
    line: int
    column: int

    @property
    def key(self) -> tuple[str, str]:
        return canonical_name(self.name), self.version


def pin_of(text: str, path: str, line: int, column: int) -> Pin | None:
    match = PINNED.fullmatch(text)
    return Pin(match.group(1), match.group(2), path, line, column) if match else None


def pin_of(text: str, path: str, line: int, column: int) -> Pin | None:
    match = PINNED.fullmatch(text)
    return Pin(match.group(1), match.group(2), path, line, column) if match else None
