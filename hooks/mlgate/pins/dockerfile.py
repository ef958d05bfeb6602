"""Dockerfiles: base images by digest, RUN commands, remote ADD sources, index settings.

- `FROM image[:tag]` without `@sha256:` (PIN010) at the image token; `scratch`, earlier
  stage names and `--platform=` are skipped, `${ARG}` takes the ARG's default (declared
  before the first FROM) and is skipped when it has none; the same for `COPY --from=image`
  and the `# syntax=` frontend image.
- `RUN` (shell form, exec form, heredoc) goes to `commands.Script`: installs, `curl | sh`,
  clones (a checkout in a later RUN pins a clone in an earlier one).
- `ADD <url>` without `--checksum=sha256:` (PIN012); `ADD` of a git repository not at a
  full commit (`#<sha>`) (PIN002).
- `ENV`/`ARG` index settings (`PIP_EXTRA_INDEX_URL=...`): build arguments are environment
  variables of every later RUN.

Lines are joined the way BuildKit joins them: the escape character (`\\`, or the one a
`# escape=` directive names) ends a continued line, and comment or empty lines inside a
continuation are dropped. Every character keeps its file offset, so findings point at the
exact token even inside a long continued RUN.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from mlgate import shell
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.pins import commands
from mlgate.pins.images import check_image
from mlgate.pins.requirement import Problem, is_full_sha
from mlgate.pins.rules import ADD_NO_CHECKSUM, VCS_REF

_DIRECTIVE = re.compile(r"#[ \t]*([A-Za-z]+)[ \t]*=[ \t]*(\S+)[ \t]*")
_KEYWORD = re.compile(r"[ \t]*([A-Za-z]+)(?=[ \t]|$)[ \t]*")
_HEREDOC = re.compile(r"(?<!<)<<(?!<)(-?)[ \t]*([\"']?)([A-Za-z0-9_.-]+)\2")
_TOKEN = re.compile(r"\S+")
_FLAGS = re.compile(r"(?:[ \t]*--[A-Za-z-]+(?:=\S*)?)*[ \t]*")
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ARG_REFERENCE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def matches(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(".dockerignore"):
        return False
    return name in ("dockerfile", "containerfile") or name.startswith(("dockerfile.", "containerfile.")) or name.endswith(".dockerfile")


@dataclass
class _Instruction:
    """One instruction: keyword and arguments (continuations joined, heredoc bodies kept)."""

    keyword: str
    text: str
    pieces: list[tuple[int, int]]  # (offset in text, offset in file) where each copied run starts

    def file_offset(self, offset: int) -> int:
        index = max(0, bisect_right(self.pieces, (offset, float("inf"))) - 1)
        start, in_file = self.pieces[index]
        return in_file + offset - start

    def tail(self, start: int) -> "_Instruction":
        """The instruction after its first `start` characters (the `RUN ...` of `ONBUILD RUN ...`)."""
        keyword = _KEYWORD.match(self.text, start)
        end = keyword.end() if keyword else start
        pieces = [(0, self.file_offset(end))] + [(s - end, f) for s, f in self.pieces if s > end]
        return _Instruction(keyword.group(1).upper() if keyword else "", self.text[end:], pieces)


def _instructions(text: str) -> Iterator[_Instruction]:
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
            yield _Instruction("#syntax", value, [(0, starts[index] + directive.start(2))])
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
        yield _Instruction(keyword.group(1).upper(), "".join(parts), pieces)


def _exec_form(text: str) -> list[tuple[str, int]] | None:
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


def _tokens(text: str) -> list[tuple[str, int]]:
    """Whitespace-separated tokens of an instruction line (or its exec form), with offsets."""
    line = text.split("\n", 1)[0]  # what follows is heredoc bodies: data, not arguments
    exec_form = _exec_form(line) if line.lstrip().startswith("[") else None
    return exec_form if exec_form is not None else [(match.group(), match.start()) for match in _TOKEN.finditer(line)]


def _substitute(reference: str, args: dict[str, str]) -> str | None:
    """`${BASE}:tag` with the ARG defaults filled in, or None when one is unknown."""
    unknown = False

    def value(match: re.Match) -> str:
        nonlocal unknown
        name = match.group(1) or match.group(3)
        if args.get(name):
            return args[name]
        if match.group(2):
            return match.group(2)
        unknown = True
        return ""

    resolved = _ARG_REFERENCE.sub(value, reference)
    return None if unknown or "$" in resolved else resolved


def _git_source(source: str) -> bool:
    lower = source.lower()
    return lower.startswith(("git@", "git://", "ssh://")) or lower.split("#", 1)[0].rstrip("/").endswith(".git")


class _Dockerfile:
    def __init__(self, source: SourceFile, context: ScanContext):
        self.source = source
        self.script = commands.Script(commands.allowed_indexes(context))
        self.problems: list[tuple[Problem, _Instruction]] = []
        self.global_args: dict[str, str] = {}
        self.stages: set[str] = set()
        self.seen_from = False

    def place(self, instruction: _Instruction) -> commands.Place:
        return commands.placer(self.source.path, lambda offset: self.source.position(instruction.file_offset(offset)))

    def image(self, reference: str, offset: int, instruction: _Instruction) -> None:
        resolved = _substitute(reference, self.global_args)
        if resolved is None or resolved.lower() in self.stages or resolved.isdigit():
            return
        problem = check_image(resolved, offset)
        if problem is not None:
            if resolved != reference:
                problem.message += f" (written as {reference})"
            self.problems.append((problem, instruction))

    def instruction(self, instruction: _Instruction) -> None:
        keyword, text = instruction.keyword, instruction.text
        if keyword == "ONBUILD":
            self.instruction(instruction.tail(0))
        elif keyword == "FROM":
            self.from_(instruction)
        elif keyword in ("ARG", "ENV"):
            self.variables(instruction)
        elif keyword == "#syntax":
            self.image(text, 0, instruction)
        elif keyword == "RUN":
            flags = _FLAGS.match(text).end()
            exec_form = _exec_form(text[flags:]) if text[flags:].startswith("[") else None
            if exec_form is not None:
                words = [(value, flags + offset) for value, offset in exec_form]
                self.script.add_command(shell.command_from_words(words), self.place(instruction))
            else:  # flags blanked, not cut, so offsets stay those of the instruction
                self.script.add(" " * flags + text[flags:], self.place(instruction))
        elif keyword in ("ADD", "COPY"):
            self.add_or_copy(instruction)

    def from_(self, instruction: _Instruction) -> None:
        tokens = [token for token in _tokens(instruction.text) if not token[0].startswith("--")]
        if not tokens:
            return
        self.image(*tokens[0], instruction)
        if len(tokens) >= 3 and tokens[1][0].lower() == "as":
            self.stages.add(tokens[2][0].lower())
        self.seen_from = True

    def variables(self, instruction: _Instruction) -> None:
        commands_ = shell.parse(instruction.text)
        words = commands_[0].words if commands_ else []
        if not words:
            return
        place = self.place(instruction)
        if instruction.keyword == "ENV" and "=" not in words[0].text:
            # legacy `ENV NAME value with spaces`
            value = instruction.text[words[0].end :].strip()
            self.script.add_env(words[0].text, value, words[0].offset_at(0), place)
            return
        for word in words:
            name, equals, value = word.text.partition("=")
            if instruction.keyword == "ARG" and not self.seen_from:
                self.global_args[name] = value
            if equals:
                self.script.add_env(name, value, word.offset_at(0), place)

    def add_or_copy(self, instruction: _Instruction) -> None:
        tokens = _tokens(instruction.text)
        flags = [token for token in tokens if token[0].startswith("--")]
        paths = [token for token in tokens if not token[0].startswith("--")]
        for flag, offset in flags:
            if flag.startswith("--from="):
                self.image(flag[len("--from=") :], offset + len("--from="), instruction)
        if instruction.keyword != "ADD":
            return
        verified = any(flag.startswith("--checksum=") for flag, _ in flags)
        for source, offset in paths[:-1]:
            if _git_source(source):
                ref = source.partition("#")[2].split(":", 1)[0]
                if not is_full_sha(ref):
                    where = f"at '{ref}', a branch or tag that can be moved" if ref else "at the default branch, which moves"
                    self.problems.append((Problem(VCS_REF, f"ADD of the git repository {source} {where}; add #<full commit SHA>", offset), instruction))
            elif source.lower().startswith(("http://", "https://")) and not verified:
                message = f"ADD {source} without --checksum: whoever controls the URL controls what lands in the image"
                self.problems.append((Problem(ADD_NO_CHECKSUM, message, offset), instruction))

    def findings(self) -> list[Finding]:
        found = [self.place(instruction)(problem) for problem, instruction in self.problems]
        return found + self.script.findings()


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    dockerfile = _Dockerfile(source, context)
    for instruction in _instructions(source.text):
        dockerfile.instruction(instruction)
    return dockerfile.findings()


SCANNER = Scanner("dockerfile", matches=matches, scan=scan)
