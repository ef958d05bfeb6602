"""Dockerfiles as instructions: continuation lines joined, heredocs kept, offsets preserved.

Shared by every hook that reads Dockerfiles, which are read as BuildKit reads them
(moby/buildkit frontend/dockerfile/parser: parser.go, split_command.go, line_parsers.go):

- a line is trimmed of leading white space as Go's unicode.IsSpace sees it (so U+00A0 or
  U+3000 before `RUN` still start an instruction); the keyword ends at an ASCII blank
  (`RUN\u00a0pip` is one unknown word, not RUN), and the arguments are trimmed of Unicode
  white space at both ends (`RUN \u3000pip install x` runs `pip install x`);
- the escape character (`\\`, or the one a `# escape=` directive names) continues a line when
  only spaces and tabs follow it and it is not itself escaped (`foo \\\\` ends the line);
  comment and blank lines inside a continuation are dropped;
- heredocs (`<<EOF`, `<<-"EOF"`, `2<<EOF`) belong to RUN, ADD and COPY only, each a whole word
  of the line, and their bodies to the instruction;
- ENV, ARG and LABEL arguments are words split at Unicode white space outside quotes
  (`name_values`), not shell words: `ENV A=1\u00a0B=2` sets two variables.

Every character keeps its file offset (`Instruction.file_offset`), so findings point at the
exact token even inside a long continued RUN. A `# syntax=` directive comes out as the
pseudo-instruction `#syntax`.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from mlgate.shell import Word

# Go's unicode.IsSpace: what BuildKit trims around lines and arguments and splits words at.
GO_SPACES = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
_BLANK = "[" + re.escape(GO_SPACES) + "]"
_ASCII_BLANKS = "[\t\v\f\r ]"  # BuildKit's reWhitespace: between keyword and arguments, FROM/EXPOSE words
_DIRECTIVE = re.compile(rf"{_BLANK}*#{_BLANK}*([A-Za-z][A-Za-z0-9]*)[\t\f\r ]*=[\t\f\r ]*(.+?)[\t\f\r ]*")
_KEYWORD = re.compile(rf"{_BLANK}*([A-Za-z]+)(?={_ASCII_BLANKS}|$){_BLANK}*")
_HEREDOC_WORD = re.compile(r"(\d*)<<(-?)\s*([^<]*)")
_TOKEN = re.compile(r"[^\t\v\f\r ]+")
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_FLAGS = re.compile(r"(?:[ \t]*--[A-Za-z-]+(?:=\S*)?)*[ \t]*")  # `RUN --mount=... --network=...`
_HEREDOC_KEYWORDS = frozenset({"RUN", "ADD", "COPY"})


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
    escape: str = "\\"

    def file_offset(self, offset: int) -> int:
        index = max(0, bisect_right(self.pieces, (offset, float("inf"))) - 1)
        start, in_file = self.pieces[index]
        return in_file + offset - start

    def tail(self, start: int) -> Instruction:
        """The instruction after its first `start` characters (the `RUN ...` of `ONBUILD RUN ...`)."""
        keyword = _KEYWORD.match(self.text, start)
        end = keyword.end() if keyword else start
        pieces = [(0, self.file_offset(end))] + [(s - end, f) for s, f in self.pieces if s > end]
        return Instruction(keyword.group(1).upper() if keyword else "", self.text[end:], pieces, self.escape)


def _blank_or_comment(line: str) -> bool:
    rest = line.lstrip(GO_SPACES)
    return not rest or rest.startswith("#")


def _directives(lines: list[str], starts: list[int]) -> tuple[int, str, list[Instruction]]:
    """The parser directives a Dockerfile opens with: (index of the first line after them, the
    escape character, the `#syntax` instruction if any)."""
    escape = "\\"
    index = 0
    seen: set[str] = set()
    syntax: list[Instruction] = []
    while index < len(lines) and (directive := _DIRECTIVE.fullmatch(lines[index])):
        name, value = directive.group(1).lower(), directive.group(2)
        if name not in ("escape", "syntax", "check") or name in seen:
            break  # not a directive: the directives are over (a repeated one is a build error)
        seen.add(name)
        if name == "escape" and value in ("\\", "`"):
            escape = value
        elif name == "syntax":  # BuildKit pulls and runs this frontend image
            syntax.append(Instruction("#syntax", value, [(0, starts[index] + directive.start(2))], escape))
        index += 1
    return index, escape, syntax


def _opens_heredocs(name: str, first_line: str) -> bool:
    """Does an instruction take heredoc bodies (RUN, COPY, ADD, or ONBUILD of one)?"""
    if name in _HEREDOC_KEYWORDS:
        return True
    inner = _KEYWORD.match(first_line) if name == "ONBUILD" else None
    return inner is not None and inner.group(1).upper() in _HEREDOC_KEYWORDS


def instructions(text: str) -> Iterator[Instruction]:
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    index, escape, syntax = _directives(lines, starts)
    yield from syntax
    continuation = re.compile(rf"(?<!{re.escape(escape)}){re.escape(escape)}[ \t]*$")
    while index < len(lines):
        line = lines[index]
        keyword = _KEYWORD.match(line)
        if _blank_or_comment(line) or keyword is None:
            index += 1
            continue
        parts: list[str] = []
        pieces: list[tuple[int, int]] = []
        length, column = 0, keyword.end()
        while True:
            segment = line[column:]
            continued = continuation.search(segment)
            if continued:
                segment = segment[: continued.start()]
            pieces.append((length, starts[index] + column))
            parts.append(segment)
            length += len(segment)
            index += 1
            if not continued:
                break
            while index < len(lines) and _blank_or_comment(lines[index]):
                index += 1
            if index >= len(lines):
                break
            line, column = lines[index], 0
        name = keyword.group(1).upper()
        first_line = "".join(parts).rstrip(GO_SPACES)
        if _opens_heredocs(name, first_line):
            # Heredoc bodies follow the instruction line; they belong to it, never to the parser.
            for strip_tabs, delimiter in heredocs(first_line):
                while index < len(lines):
                    body_line = lines[index]
                    pieces.append((length + 1, starts[index]))
                    parts.append("\n" + body_line)
                    length += 1 + len(body_line)
                    index += 1
                    if (body_line.lstrip("\t") if strip_tabs else body_line) == delimiter:
                        break
        yield Instruction(name, "".join(parts), pieces, escape)


def heredocs(line: str) -> list[tuple[bool, str]]:
    """(strip tabs, delimiter) of each heredoc an instruction line opens: a word that is
    `[n]<<[-]NAME`, NAME unquoted (BuildKit's heredocsFromLine and reHeredoc)."""
    found = []
    for raw, _ in words(line):
        match = _HEREDOC_WORD.fullmatch(raw)
        if match and match.group(3):
            name, _ = _unquoted(match.group(3), "\\")
            if name:
                found.append((match.group(2) == "-", name))
    return found


def words(text: str, escape: str = "\\") -> list[tuple[str, int]]:
    """Words of `text` split at Unicode white space outside quotes, quotes and escapes kept,
    with their offsets (BuildKit's parseWords, used for ENV, ARG, LABEL and heredoc words)."""
    found: list[tuple[str, int]] = []
    start, quote, pos, size = -1, "", 0, len(text)
    while pos < size:
        char = text[pos]
        if start < 0:
            if char in GO_SPACES:
                pos += 1
                continue
            start = pos
        if quote:
            if char == quote:
                quote = ""
            elif char == escape and quote != "'":
                pos += 1
        elif char in GO_SPACES:
            found.append((text[start:pos], start))
            start = -1
        elif char in "'\"":
            quote = char
        elif char == escape:
            pos += 1
        pos += 1
    if start >= 0:
        found.append((text[start:size], start))
    return found


def _unquoted(raw: str, escape: str) -> tuple[str, list[tuple[int, int]]]:
    """A word with its quotes removed and escapes applied (as BuildKit's word processing does,
    variables left as written), and where each kept run starts: (index in the text, in `raw`)."""
    out: list[str] = []
    segments: list[tuple[int, int]] = []

    def keep(at: int) -> None:
        if not segments or segments[-1][1] + len(out) - segments[-1][0] != at:
            segments.append((len(out), at))
        out.append(raw[at])

    quote, pos = "", 0
    while pos < len(raw):
        char = raw[pos]
        if quote == "'":
            if char == "'":
                quote = ""
            else:
                keep(pos)
        elif char == escape and pos + 1 < len(raw):
            pos += 1
            keep(pos)
        elif char == '"' and quote == '"':
            quote = ""
        elif char in "'\"" and not quote:
            quote = char
        else:
            keep(pos)
        pos += 1
    return "".join(out), segments


def name_values(instruction: Instruction) -> list[Word]:
    """The words of an ENV, ARG or LABEL line (`NAME=value`, or the legacy `ENV NAME value`
    whose first word has no `=`), quotes removed, at their offsets in the instruction."""
    line, escape = instruction.text.split("\n", 1)[0], instruction.escape
    found = []
    for raw, offset in words(line, escape):
        text, segments = _unquoted(raw, escape)
        quoted = any(mark in raw for mark in ("'", '"', escape))
        placed = tuple((index, offset + at) for index, at in segments)
        found.append(Word(text, raw, offset, quoted=quoted, dynamic="$" in raw, _segments=placed))
    return found


def legacy_env(instruction: Instruction) -> tuple[str, str, int] | None:
    """(name, value, offset of the value) of a legacy `ENV NAME value ...` line, whose first word
    has no `=`: BuildKit splits it once at the first run of ASCII blanks. None when it is not
    one (or lacks a value, a build error)."""
    found = name_values(instruction)
    if instruction.keyword != "ENV" or not found or "=" in found[0].raw:
        return None
    line = instruction.text.split("\n", 1)[0].rstrip(GO_SPACES)
    blanks = re.search(f"{_ASCII_BLANKS}+", line)
    if blanks is None:
        return None
    return line[: blanks.start()], line[blanks.end() :], blanks.end()


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
    return [(value, match.start(1)) for value, match in zip(values, found, strict=True)]


def tokens(text: str) -> list[tuple[str, int]]:
    """Tokens of an instruction line (or its exec form) separated by ASCII blanks as BuildKit
    splits FROM, EXPOSE, ADD and COPY, with offsets."""
    line = text.split("\n", 1)[0].rstrip(GO_SPACES)  # what follows is heredoc bodies: data, not arguments
    exec_words = exec_form(line) if line.lstrip().startswith("[") else None
    return exec_words if exec_words is not None else [(match.group(), match.start()) for match in _TOKEN.finditer(line)]


def command_form(text: str) -> tuple[str, list[tuple[str, int]] | None]:
    """What a RUN/CMD/ENTRYPOINT runs: (shell text, exec-form words with offsets or None).

    Leading `--flags` are blanked, not cut, so offsets stay those of the instruction.
    """
    leading = _FLAGS.match(text)  # matches at every position (it may match nothing)
    flags = leading.end() if leading else 0
    exec_words = exec_form(text[flags:]) if text[flags:].startswith("[") else None
    if exec_words is not None:
        return "", [(value, flags + offset) for value, offset in exec_words]
    return " " * flags + text[flags:], None
