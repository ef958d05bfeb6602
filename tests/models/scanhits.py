"""Binary findings as (rule, path, member, offset): what model tests assert on."""

from __future__ import annotations


def hits(scan) -> list[tuple[str, str, str | None, int | None]]:
    return [(f.rule.code, f.path, f.member, f.offset) for f in scan.findings]


def evil(command: str = "id") -> bytes:
    """A protocol-0 pickle calling os.system; its REDUCE is at EVIL_CALL."""
    return b"cos\nsystem\n(S'" + command.encode() + b"'\ntR."


EVIL_CALL = evil().index(b"R")
