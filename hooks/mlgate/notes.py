"""Notes: what a scanner saw that a hook's online check will look up. Never reported.

An exact pin (pins: OSV advisories), a hub reference at a commit (hub: does the commit still
exist?) is not a problem, so it is not a finding and has no rule. A scanner either keeps one
with `context.note(Note(...))` where it knows the place, or returns it beside its findings
(the engine keeps it); on an online run the hook's online module reads them back with
`context.notes_of(KIND)`. A hook declares its kinds as `NoteKind`s. Offline, notes are dropped as they are made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Note:
    """`subject` is what the note names, in the words its kind defines (a pin: name, version)."""

    kind: str
    subject: tuple[str, ...]
    path: str
    line: int
    column: int
    where: str = ""  # added to the messages about it: a notebook's ` (cell N, line M)`


@dataclass(frozen=True)
class NoteKind:
    """A kind of note whose subject is `words` space-free words.

    In a `Problem` it stands where a rule stands, so the placers that turn problems into
    findings turn it into a `Note` at the same place: the problem's message is the subject's
    words, and whatever a placer adds after them becomes the note's `where`.
    """

    name: str
    words: int

    @property
    def code(self) -> str:  # what placers and de-duplication key problems by; never a rule code
        return f"note:{self.name}"

    def note(self, subject: tuple[str, ...], path: str, line: int, column: int, where: str = "") -> Note:
        return Note(self.name, subject, path, line, column, where)

    def message(self, *subject: str) -> str:
        if len(subject) != self.words or any(not word or " " in word for word in subject):
            raise ValueError(f"note {self.name}: expected {self.words} words without spaces, got {subject!r}")
        return " ".join(subject)

    def finding(self, path: str, line: int | None, column: int | None, message: str, **_: Any) -> Note:
        """The placers' entry point (they call `problem.rule.finding`): a `Note`, not a finding."""
        words = message.split(" ", self.words)
        where = f" {words[self.words]}" if len(words) > self.words else ""
        return Note(self.name, tuple(words[: self.words]), path, line or 1, column or 1, where)
