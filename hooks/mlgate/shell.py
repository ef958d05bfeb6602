"""A small, fast lexer for shell text: simple commands, their words, and where each was written.

Not a shell: nothing is expanded or run. It splits script text (a workflow `run:` block, a
Dockerfile `RUN`, a `.sh` file, a notebook `!` line) into simple commands so hooks can ask
"which program runs here, with which arguments?" and point at the exact word. Quotes are
removed from a word's text (`Word.quoted` says some were there); parameter expansions and
command substitutions are kept verbatim in the text (`Word.dynamic` says so), and the
commands inside `$(...)`, backticks and `<(...)` are parsed too (`Word.substitutions`).
Pipelines are linked (`Command.pipe_to`) so `curl ... | sudo -E bash -` is recognisable;
wrappers such as `sudo`, `env`, `nohup` or `conda run -n env` are skipped to expose the real
program (`Command.argv`). Hostile input (unbalanced quotes, deep nesting) never raises or
hangs: every loop advances and nesting deeper than `MAX_DEPTH` is skipped, not parsed.

Offsets are into the text given to `parse`; callers map them to file positions with their
own locate function (a YAML block scalar, a Dockerfile instruction, a notebook cell).
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlgate.files import SourceFile

MAX_DEPTH = 32

# Blanks are ASCII only: bash separates words at space and tab (its lexer is byte-based, so no
# Unicode space is ever a blank: `\u3000pip` is a program of that name, not pip), and we add
# \r, \f and \v, which only ever split what bash would refuse to run anyway.
_PLAIN = re.compile(r"[^ \t\r\f\v\n'\"\\$`;&|()<>]+")  # `#` is plain inside a word
_DOUBLE_QUOTED_PLAIN = re.compile(r'[^"\\$`]+')
_VARIABLE = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])")
_BARE_VARIABLE = re.compile(r"\"?\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})\"?")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")
_WHITESPACE = " \t\r\f\v"
_SPACES = re.compile(r"[ \t\r\f\v]+")
_NOT_PLAIN = frozenset(_WHITESPACE + "\n'\"\\$`;&|()<>#")
_WORD_END = frozenset(_WHITESPACE + "\n;&|)")  # `<`/`>` may follow an fd number, `(` an array name
_REDIRECTS = ("&>>", "&>", ">>", ">&", ">|", "<&", "<>", "<<<", "<<-", "<<", ">", "<")

# Reserved words that may precede a command without being one.
_SCRIPT_SUFFIXES = (".sh", ".bash", ".zsh")
_SCRIPT_FOLDERS = {"scripts", "bin"}
_SHEBANG = re.compile(rb"#![ \t]*(?:\S*/)?(?:env[ \t]+(?:-\S+[ \t]+)*)?(?:ba|z|da|k)?sh(?:[ \t\r\n]|$)")

_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "}"})


@dataclass(eq=False)
class Word:
    """One shell word. `text` has quotes and escapes removed; expansions are kept verbatim."""

    text: str
    raw: str
    offset: int
    quoted: bool = False
    dynamic: bool = False  # holds a $parameter, ${...}, $(...), `...` or <(...)
    substitutions: list[Command] = field(default_factory=list, repr=False)
    _segments: tuple[tuple[int, int], ...] = field(default=(), repr=False)

    @property
    def end(self) -> int:
        return self.offset + len(self.raw)

    def offset_at(self, index: int) -> int:
        """Offset in the script of character `index` of `text` (clamped to the word)."""
        if not self._segments:
            return self.offset + min(max(index, 0), len(self.raw))
        starts = [start for start, _ in self._segments]
        segment = max(0, bisect_right(starts, index) - 1)
        text_start, script_offset = self._segments[segment]
        return min(script_offset + max(index - text_start, 0), self.end)


@dataclass(eq=False)
class Heredoc:
    """A here-document: its body is data (or a script) the lexer does not parse."""

    delimiter: str
    strip_tabs: bool
    quoted: bool
    body: str = ""
    offset: int = 0  # where the body starts in the script


@dataclass(eq=False)
class Command:
    """A simple command: what is run, with which words, wired to which pipe."""

    words: list[Word]  # every word as written (assignments and wrappers included)
    assignments: list[Word]  # leading NAME=value words, and those given to `env`/`sudo`
    argv: list[Word]  # the command proper: argv[0] is the real program
    redirects: list[tuple[str, Word]] = field(default_factory=list)
    heredocs: list[Heredoc] = field(default_factory=list)
    pipe_to: Command | None = field(default=None, repr=False)
    piped_from: Command | None = field(default=None, repr=False)

    @functools.cached_property
    def program(self) -> str:
        """Base name of the program (`/usr/bin/pip3` -> `pip3`), '' when there is none (asked by
        every hook of every command: worked out once; commands are never changed once made)."""
        if not self.argv:
            return ""
        return self.argv[0].text.rstrip("/").rsplit("/", 1)[-1]

    @property
    def offset(self) -> int:
        first = self.argv or self.words
        return first[0].offset if first else 0

    def downstream(self) -> Iterator[Command]:
        """The commands this one's output is piped into, nearest first."""
        seen: set[int] = set()
        command = self.pipe_to
        while command is not None and id(command) not in seen:
            seen.add(id(command))
            yield command
            command = command.pipe_to


def parse(text: str) -> list[Command]:
    """Top-level commands of `text`, in order (nested ones hang off their words). The last texts
    parsed are kept: the pins, hub and services hooks each read the same script, `run:` step or
    Dockerfile line, and share its one parse (callers must not change the commands)."""
    return _parsed(text)


@functools.lru_cache(maxsize=16)
def _parsed(text: str) -> list[Command]:
    commands, _ = _Lexer(text).commands(0, "", 0)
    return commands


def walk(commands: list[Command]) -> Iterator[Command]:
    """Every command, including those inside substitutions, in source order."""
    stack = list(reversed(commands))
    while stack:
        command = stack.pop()
        yield command
        nested = [inner for word in command.words for inner in word.substitutions]
        stack.extend(reversed(nested))


def command_from_words(words: list[tuple[str, int]]) -> Command:
    """A command from already-split words (text, offset), e.g. a Dockerfile exec form, a Kubernetes
    container's `args:` (where `$(VAR)` is the container's environment variable, filled in at start)."""
    built = [Word(text=text, raw=text, offset=offset, dynamic=_EXPANSION.search(text) is not None) for text, offset in words]
    return _make_command(built, [], [])


_EXPANSION = re.compile(r"\$[({A-Za-z_]")


# --- wrappers: programs that run another program given as their arguments ---------------


@dataclass(frozen=True)
class _Wrapper:
    value_options: frozenset[str] = frozenset()
    operands: int = 0  # operands before the wrapped command (`timeout 10 cmd`)
    assignments: bool = False  # accepts NAME=value operands (`env A=1 cmd`)
    subcommand: str = ""  # only a wrapper with this subcommand (`conda run`)


def _options(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


_ENV_RUNNER = _Wrapper(_options("-n --name -p --prefix --cwd -r --root-prefix"), subcommand="run")
_WRAPPERS = {
    "sudo": _Wrapper(
        _options(
            "-u -g -h -p -C -D -r -t -T -U --user --group --host --prompt --close-from --chdir --role --type --command-timeout --other-user"
        ),
        assignments=True,
    ),
    "doas": _Wrapper(_options("-u -C")),
    "env": _Wrapper(_options("-u -C -S --unset --chdir --split-string"), assignments=True),
    "time": _Wrapper(_options("-f -o --format --output")),
    "nohup": _Wrapper(),
    "exec": _Wrapper(_options("-a")),
    "nice": _Wrapper(_options("-n --adjustment")),
    "stdbuf": _Wrapper(_options("-i -o -e --input --output --error")),
    "timeout": _Wrapper(_options("-s -k --signal --kill-after"), operands=1),
    "command": _Wrapper(),
    "builtin": _Wrapper(),
    "xargs": _Wrapper(_options("-I -n -P -L -d -a -E -s --max-args --max-procs --delimiter --arg-file --replace")),
    "conda": _ENV_RUNNER,
    "mamba": _ENV_RUNNER,
    "micromamba": _ENV_RUNNER,
    "poetry": _Wrapper(subcommand="run"),
    "pipenv": _Wrapper(subcommand="run"),
}


def _split_prefixes(words: list[Word]) -> tuple[list[Word], int]:
    """(assignments, index of the real program) after assignments, keywords and wrappers."""
    assignments: list[Word] = []
    index, count = 0, len(words)
    while index < count:
        word = words[index]
        if "=" in word.raw and _ASSIGNMENT.match(word.raw):
            assignments.append(word)
            index += 1
            continue
        if word.text in _KEYWORDS and not word.quoted:
            index += 1
            continue
        if word.text == "function" or (word.text.endswith("()") and not word.quoted):
            index += 2 if word.text == "function" else 1  # a function definition: its body runs
            continue
        wrapper = _WRAPPERS.get(word.text.rsplit("/", 1)[-1])
        if wrapper is None:
            # `$SUDO pip install ...`, `${CONDA_RUN} pip ...`: a lone variable that runs the rest.
            following = words[index + 1].text if index + 1 < count else "-"
            if (word.raw[:1] == "$" or word.raw[:2] == '"$') and _BARE_VARIABLE.fullmatch(word.raw) and not following.startswith("-"):
                index += 1
                continue
            break
        if word.text == "command" and index + 1 < count and words[index + 1].text in ("-v", "-V"):
            break  # `command -v x` asks where x is; it runs nothing
        if wrapper.subcommand:
            if index + 1 >= count or words[index + 1].text != wrapper.subcommand:
                break
            index += 1
        index += 1
        while index < count:
            text = words[index].text
            if text == "--":
                index += 1
                break
            if wrapper.assignments and _ASSIGNMENT.match(words[index].raw):
                assignments.append(words[index])
                index += 1
            elif text.startswith("-") and len(text) > 1:
                index += 2 if text in wrapper.value_options else 1
            else:
                break
        index += wrapper.operands
    return assignments, min(index, count)


def _make_command(words: list[Word], redirects: list[tuple[str, Word]], heredocs: list[Heredoc]) -> Command:
    assignments, start = _split_prefixes(words)
    return Command(words=words, assignments=assignments, argv=words[start:], redirects=redirects, heredocs=heredocs)


# --- the lexer ----------------------------------------------------------------------------


class _WordBuilder:
    __slots__ = ("start", "parts", "length", "segments", "quoted", "dynamic", "substitutions")

    def __init__(self, start: int):
        self.start = start
        self.parts: list[str] = []
        self.length = 0
        self.segments: list[tuple[int, int]] = []
        self.quoted = False
        self.dynamic = False
        self.substitutions: list[Command] = []

    def add(self, piece: str, offset: int) -> None:
        if not piece:
            return
        if not self.segments or self.segments[-1][1] + (self.length - self.segments[-1][0]) != offset:
            self.segments.append((self.length, offset))
        self.parts.append(piece)
        self.length += len(piece)

    def build(self, text: str, end: int) -> Word:
        return Word(
            text="".join(self.parts),
            raw=text[self.start : end],
            offset=self.start,
            quoted=self.quoted,
            dynamic=self.dynamic,
            substitutions=self.substitutions,
            _segments=tuple(self.segments),
        )


class _CommandBuilder:
    __slots__ = ("words", "redirects", "heredocs", "target")

    def __init__(self) -> None:
        self.words: list[Word] = []
        self.redirects: list[tuple[str, Word]] = []
        self.heredocs: list[Heredoc] = []
        self.target = ""  # a redirection operator waiting for its target word

    def empty(self) -> bool:
        return not (self.words or self.redirects or self.heredocs)


class _Lexer:
    def __init__(self, text: str):
        self.text = text
        self.size = len(text)

    def commands(self, pos: int, closer: str, depth: int) -> tuple[list[Command], int]:  # noqa: C901 -- the tokenizer loop: one flat dispatch on the next character, kept whole for speed
        """Commands from `pos` to the unmatched `closer` (')' or '`', '' for the end).

        Returns them and the position just after the closer.
        """
        text, size = self.text, self.size
        done: list[Command] = []
        current = _CommandBuilder()
        word: _WordBuilder | None = None
        pending_docs: list[Heredoc] = []
        piped_from: Command | None = None
        pipe_open = False

        def emit(built: Word) -> None:
            if current.target:
                operator, current.target = current.target, ""
                current.redirects.append((operator, built))
                if operator in ("<<", "<<-"):
                    doc = Heredoc(built.text, operator == "<<-", built.quoted)
                    current.heredocs.append(doc)
                    pending_docs.append(doc)
            else:
                current.words.append(built)

        def finish_word(end: int) -> None:
            nonlocal word
            if word is not None:
                built, word = word.build(text, end), None
                emit(built)

        def finish_command(pipe: bool) -> None:
            nonlocal current, piped_from, pipe_open
            if current.empty():
                return
            command = _make_command(current.words, current.redirects, current.heredocs)
            current = _CommandBuilder()
            if pipe_open and piped_from is not None:
                piped_from.pipe_to = command
                command.piped_from = piped_from
            piped_from, pipe_open = command, pipe
            done.append(command)

        while pos < size:
            char = text[pos]
            if word is None and char not in _NOT_PLAIN:
                # Fast path: most words are one plain run ending at a space or operator.
                end = _PLAIN.match(text, pos).end()  # type: ignore[union-attr]  # char is not in _NOT_PLAIN: _PLAIN matches it
                if end >= size or text[end] in _WORD_END:
                    emit(Word(text[pos:end], text[pos:end], pos))
                    pos = end
                    continue
            if char in _WHITESPACE:
                finish_word(pos)
                pos = _SPACES.match(text, pos).end()  # type: ignore[union-attr]  # char is in _WHITESPACE: _SPACES matches it
            elif char == "\n":
                finish_word(pos)
                finish_command(False)  # an empty line after `|` keeps the pipe open
                pos += 1
                while pending_docs:
                    pos = self._heredoc_body(pos, pending_docs.pop(0))
            elif char == "\\":
                if text.startswith("\n", pos + 1):
                    pos += 2  # line continuation: the word (if any) goes on
                    continue
                if word is None:
                    word = _WordBuilder(pos)
                word.quoted = True
                if pos + 1 < size:
                    word.add(text[pos + 1], pos + 1)
                    pos += 2
                else:
                    word.add("\\", pos)
                    pos += 1
            elif char == "#" and word is None:
                newline = text.find("\n", pos)
                pos = size if newline == -1 else newline
            elif char in ";&|":
                if char == "&" and text.startswith(">", pos + 1):
                    pos = self._redirect(pos, current, finish_word)
                    continue
                finish_word(pos)
                if text.startswith(("||", "&&", ";;"), pos):
                    finish_command(False)
                    pos += 2
                elif char == "|":
                    finish_command(True)
                    pos += 2 if text.startswith("|&", pos) else 1
                else:
                    finish_command(False)
                    pos += 1
            elif char == ")":
                finish_word(pos)
                finish_command(False)
                pos += 1
                if closer == ")":
                    break
            elif char == "`" and closer == "`":
                finish_word(pos)
                finish_command(False)
                pos += 1
                break
            elif char == "(":
                if word is not None:
                    # `arr=(a b)`, `@(x|y)`: part of the word, not a subshell
                    end = self._skip_balanced(pos + 1, ")")
                    word.add(text[pos:end], pos)
                    pos = end
                else:
                    finish_command(False)
                    inner, pos = self._nested(pos + 1, ")", depth)
                    done.extend(inner)
            elif char in "<>":
                if text.startswith("(", pos + 1):
                    if word is None:
                        word = _WordBuilder(pos)
                    pos = self._substitution(pos, pos + 2, ")", word, depth)
                    continue
                if word is not None and not word.quoted and not word.dynamic and "".join(word.parts).isdigit():
                    word = None  # a file descriptor number (`2>&1`), not an argument
                pos = self._redirect(pos, current, finish_word)
            else:
                if word is None:
                    word = _WordBuilder(pos)
                pos = self._word_part(pos, word, depth)
        finish_word(pos)
        finish_command(False)
        for doc in pending_docs:  # a heredoc whose line never ended: its body is empty
            doc.offset = size
        return done, pos

    def _redirect(self, pos: int, current: _CommandBuilder, finish_word: Callable[[int], None]) -> int:
        finish_word(pos)
        operator = next(op for op in _REDIRECTS if self.text.startswith(op, pos))
        current.target = operator
        return pos + len(operator)

    def _word_part(self, pos: int, word: _WordBuilder, depth: int) -> int:
        """Consume one piece of a word (plain run, quoted string, expansion); never stalls."""
        text = self.text
        char = text[pos]
        if char == "'":
            end = text.find("'", pos + 1)
            end = self.size if end == -1 else end
            word.add(text[pos + 1 : end], pos + 1)
            word.quoted = True
            pos = min(end + 1, self.size)
        elif char == '"':
            pos = self._double_quoted(pos + 1, word, depth)
        elif char == "$":
            pos = self._dollar(pos, word, depth)
        elif char == "`":
            pos = self._substitution(pos, pos + 1, "`", word, depth)
        else:
            match = _PLAIN.match(text, pos)
            end = match.end() if match else pos + 1
            word.add(text[pos:end], pos)
            pos = end
        return pos

    def _double_quoted(self, pos: int, word: _WordBuilder, depth: int) -> int:
        text, size = self.text, self.size
        word.quoted = True
        while pos < size:
            char = text[pos]
            if char == '"':
                return pos + 1
            if char == "\\":
                following = text[pos + 1 : pos + 2]
                if following == "\n":
                    pos += 2
                elif following and following in '$`"\\':
                    word.add(following, pos + 1)
                    pos += 2
                else:
                    word.add("\\", pos)
                    pos += 1
            elif char == "$":
                pos = self._dollar(pos, word, depth)
            elif char == "`":
                pos = self._substitution(pos, pos + 1, "`", word, depth)
            else:
                match = _DOUBLE_QUOTED_PLAIN.match(text, pos)
                assert match is not None  # char is none of " \\ $ `: the pattern matches it
                word.add(match.group(), pos)
                pos = match.end()
        return size

    def _dollar(self, pos: int, word: _WordBuilder, depth: int) -> int:
        text = self.text
        following = text[pos + 1 : pos + 2]
        if following == "(":
            return self._substitution(pos, pos + 2, ")", word, depth)
        if following == "{":
            end = self._skip_balanced(pos + 2, "}")
            word.add(text[pos:end], pos)
            word.dynamic = True
            return end
        if following == "'":  # $'...' (ANSI-C quoting): escapes are left as written
            end = pos + 2
            while end < self.size and text[end] != "'":
                end += 2 if text[end] == "\\" else 1
            word.add(text[pos + 2 : min(end, self.size)], pos + 2)
            word.quoted = True
            return min(end + 1, self.size)
        if following == '"':  # $"..." (locale string) is a double-quoted string
            return self._double_quoted(pos + 2, word, depth)
        match = _VARIABLE.match(text, pos)
        if match:
            word.add(match.group(), pos)
            word.dynamic = True
            return match.end()
        word.add("$", pos)
        return pos + 1

    def _substitution(self, start: int, body: int, closer: str, word: _WordBuilder, depth: int) -> int:
        """`$(...)`, `<(...)`, `>(...)` or backticks: kept verbatim in the word, parsed inside."""
        inner, end = self._nested(body, closer, depth)
        word.add(self.text[start:end], start)
        word.dynamic = True
        word.substitutions.extend(inner)
        return end

    def _nested(self, pos: int, closer: str, depth: int) -> tuple[list[Command], int]:
        if depth >= MAX_DEPTH:
            return [], self._skip_balanced(pos, closer)
        return self.commands(pos, closer, depth + 1)

    def _skip_balanced(self, pos: int, closer: str) -> int:
        """Position after the `closer` matching an opener just before `pos` (flat scan)."""
        text, size = self.text, self.size
        opener = {")": "(", "}": "{"}.get(closer, "")
        level = 1
        while pos < size:
            char = text[pos]
            if char == "\\":
                pos += 2
                continue
            if char == "'" and closer != "`":
                end = text.find("'", pos + 1)
                pos = size if end == -1 else end + 1
                continue
            if char == closer:
                level -= 1
                if level == 0 or closer == "`":
                    return pos + 1
            elif char == opener:
                level += 1
            pos += 1
        return size

    def _heredoc_body(self, pos: int, doc: Heredoc) -> int:
        """Skip a here-document body starting at `pos`; returns where the script goes on."""
        text, size = self.text, self.size
        doc.offset = pos
        start = pos
        while pos < size:
            newline = text.find("\n", pos)
            end = size if newline == -1 else newline
            line = text[pos:end]
            if (line.lstrip("\t") if doc.strip_tabs else line).rstrip() == doc.delimiter and doc.delimiter:
                doc.body = text[start:pos]
                return min(end + 1, size)
            pos = end + 1
        doc.body = text[start:size]
        return size


def is_script_path(path: str) -> bool:
    """`*.sh`, `*.bash`, `*.zsh`, or an extensionless file in a `scripts/` or `bin/` folder."""
    folders, _, name = path.rpartition("/")
    if name.endswith(_SCRIPT_SUFFIXES):
        return True
    return "." not in name and not _SCRIPT_FOLDERS.isdisjoint(folders.split("/"))


def is_shell_script(source: SourceFile) -> bool:
    """A file `is_script_path` accepted is shell: by its suffix, or else by a sh/bash/zsh shebang.

    Only the first bytes of an extensionless file are read, so binaries in `bin/` are never decoded.
    """
    if source.name.endswith(_SCRIPT_SUFFIXES):
        return True
    try:
        return _SHEBANG.match(source.read_bytes(128)) is not None
    except OSError:
        return False  # unreadable: no shebang to go by, and the file is not ours to report


def git_subcommand(argv: list[Word]) -> tuple[str, list[Word]] | None:
    """(`clone`, its arguments) for `git [-C dir] [-c k=v] clone ...`; None without a subcommand."""
    index = 1
    while index < len(argv) and argv[index].text.startswith("-"):
        index += 2 if argv[index].text in ("-C", "-c") else 1
    if index >= len(argv):
        return None
    return argv[index].text, argv[index + 1 :]
