"""A problem found in a piece of text, before it is placed in its file; and what is immutable.

Scanners often judge a fragment (one requirement, one shell script, one cell) whose offsets
are not file positions yet. They return `Problem`s with an offset into the fragment; a
`placer` built with the fragment's locate function turns them into findings. Shared by every
hook, so hooks never import each other for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from mlgate.findings import Finding, Rule, Severity
from mlgate.notes import Note, NoteKind

Locate = Callable[[int], tuple[int, int]]  # offset in a fragment -> 1-based (line, column) in its file

# A full git commit id: 40 hex digits. The one definition every hook and the online checks use.
FULL_SHA = re.compile(r"[0-9a-fA-F]{40}")
# A sha256 content digest, 64 hex digits: a file pinned by its bytes (an allowlist entry, a
# `sha256:` beside a download's URI). Image digests and LFS pointers keep their own spellings.
SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


@dataclass
class Problem:
    rule: Rule | NoteKind  # a NoteKind: the placer makes a `Note` of it (see mlgate.notes)
    message: str
    offset: int = 0
    severity: Severity | None = None  # None: the rule's own


Place = Callable[[Problem], Finding | Note]  # a Note when the problem's `rule` is a NoteKind


def is_full_sha(ref: str) -> bool:
    """A full git commit id (40 hex digits): the only reference nobody can move."""
    return FULL_SHA.fullmatch(ref) is not None


def placer(path: str, locate: Locate) -> Place:
    """A `place` function for a fragment whose offsets `locate` maps to (line, column)."""

    def place(problem: Problem) -> Finding | Note:
        line, column = locate(problem.offset)
        return problem.rule.finding(path, line, column, problem.message, severity=problem.severity)

    return place
