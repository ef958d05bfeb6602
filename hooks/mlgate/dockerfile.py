"""Dockerfiles as instructions: continuation lines joined, heredocs kept, offsets preserved.

Shared by every hook that reads Dockerfiles. Lines are joined the way BuildKit joins them: the
escape character (`\\`, or the one a `# escape=` directive names) ends a continued line, and
comment or empty lines inside a continuation are dropped. Every character keeps its file
offset (`Instruction.file_offset`), so findings point at the exact token even inside a long
continued RUN. A `# syntax=` directive comes out as the pseudo-instruction `#syntax`.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

_DIRECTIVE = re.compile(r"#[ \t]*([A-Za-z]+)[ \t]*=[ \t]*(\S+)[ \t]*")
_KEYWORD = re.compile(r"[ \t]*([A-Za-z]+)(?=[ \t]|$)[ \t]*")
_HEREDOC = re.compile(r"(?<!<)<<(?!<)(-?)[ \t]*([\"']?)([A-Za-z0-9_.-]+)\2")
_TOKEN = re.compile(r"\S+")
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_FLAGS = re.compile(r"(?:[ \t]*--[A-Za-z-]+(?:=\S*)?)*[ \t]*")  # `RUN --mount=... --network=...`


def matches(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith((".dockerignore", ".py")):  # `Dockerfile.gpu` is a Dockerfile, `dockerfile.py` a Python module
        return False
    return name in ("dockerfile", "containerfile") or name.startswith(("dockerfile.", "containerfile.")) or name.endswith(".dockerfile")


@dataclass
class Instruction:
    """One instruction: keyword and arguments (continuations joined, heredoc bodies kept)."""

    keyword: str
    text: str
    pieces: list[tuple[int, int]]  # (offset in text, offset in file) where each copied run starts

    def file_offset(self, offset: int) -> int:
        index = max(0, bisect_right(self.pieces, (offset, float("inf"))) - 1)
        start, in_file = self.pieces[index]
        return in_file + offset - start

    def tail(self, start: int) -> "Instruction":
        """The instruction after its first `start` characters (the `RUN ...` of `ONBUILD RUN ...`)."""
        keyword = _KEYWORD.match(self.text, start)
        end = keyword.end() if keyword else start
        pieces = [(0, self.file_offset(end))] + [(s - end, f) for s, f in self.pieces if s > end]
        return Instruction(keyword.group(1).upper() if keyword else "", self.text[end:], pieces)


def instructions(text: str) -> Iterator[Instruction]:
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    escape = "\\"
    index = 0
    while index < len(lines) and (directive := _DIRECTIVE.fullmatch(lines[index])):
        name, value = directive.group(1).lower(), directive.group(2)
        if name == "escape" and value in ("\\", "`"):
            escape = value
        elif name == "syntax":  # BuildKit pulls and runs this frontend image
            yield Instruction("#syntax", value, [(0, starts[index] + directive.start(2))])
        index += 1
    while index < len(lines):
        line = lines[index]
        keyword = _KEYWORD.match(line)
        if not line.strip() or line.lstrip().startswith("#") or keyword is None:
            index += 1
            continue
        parts: list[str] = []
        pieces: list[tuple[int, int]] = []
        length, column = 0, keyword.end()
        while True:
            segment = line[column:]
            continued = segment.rstrip().endswith(escape)
            if continued:
                segment = segment.rstrip()[:-1]
            pieces.append((length, starts[index] + column))
            parts.append(segment)
            length += len(segment)
            index += 1
            if not continued:
                break
            while index < len(lines) and (not lines[index].strip() or lines[index].lstrip().startswith("#")):
                index += 1
            if index >= len(lines):
                break
            line, column = lines[index], 0
        # Heredoc bodies follow the instruction line; they belong to it, never to the parser.
        for marker in _HEREDOC.finditer("".join(parts)):
            strip_tabs, delimiter = marker.group(1) == "-", marker.group(3)
            while index < len(lines):
                body_line = lines[index]
                pieces.append((length + 1, starts[index]))
                parts.append("\n" + body_line)
                length += 1 + len(body_line)
                index += 1
                if (body_line.lstrip("\t") if strip_tabs else body_line).rstrip() == delimiter:
                    break
        yield Instruction(keyword.group(1).upper(), "".join(parts), pieces)


def exec_form(text: str) -> list[tuple[str, int]] | None:
    """The strings of a JSON exec form (`["pip", "install", "x"]`) with offsets, or None."""
    try:
        values = json.loads(text)
    except ValueError:
        return None  # BuildKit runs invalid JSON as a shell command
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        return None
    found = list(_JSON_STRING.finditer(text))
    if len(found) != len(values):
        return None
    return [(value, match.start(1)) for value, match in zip(values, found)]


def tokens(text: str) -> list[tuple[str, int]]:
    """Whitespace-separated tokens of an instruction line (or its exec form), with offsets."""
    line = text.split("\n", 1)[0]  # what follows is heredoc bodies: data, not arguments
    exec_words = exec_form(line) if line.lstrip().startswith("[") else None
    return exec_words if exec_words is not None else [(match.group(), match.start()) for match in _TOKEN.finditer(line)]


def command_form(text: str) -> tuple[str, list[tuple[str, int]] | None]:
    """What a RUN/CMD/ENTRYPOINT runs: (shell text, exec-form words with offsets or None).

    Leading `--flags` are blanked, not cut, so offsets stay those of the instruction.
    """
    flags = _FLAGS.match(text).end()
    exec_words = exec_form(text[flags:]) if text[flags:].startswith("[") else None
    if exec_words is not None:
        return "", [(value, flags + offset) for value, offset in exec_words]
    return " " * flags + text[flags:], None
