"""pip requirements files: `requirements*.txt`, `constraints*.txt`, `*.in`, `*.pip`.

Read the way pip reads them: `\\` continuations, comments (`#` at the start or after
whitespace), per-requirement `--hash` options and global options (`-r`, `-c`, `-e`, `-i`,
`--extra-index-url`, `--trusted-host`, `-f`, ...; long options may be abbreviated, as in
pip). Included files are followed relative to the including file, each once, and report
under their own path. Conda environments reuse `scan_lines` for their `pip:` entries.

The input of pip-compile or `uv pip compile` (`requirements.in`, or a file a generated lock beside
it names, see `compile_inputs`) keeps ranges by design: the lock is what gets installed, so the
input's ranges (PIN001) and missing hashes (PIN007) are not reported; the lock is checked.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mlgate.files import MissingFile, ScanError, SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.identity import in_example_folder
from mlgate.pins.compile_inputs import is_compile_input
from mlgate.pins.pinned import note_pin
from mlgate.pins.project import files_named_by_setup, read_as_metadata
from mlgate.pins.requirement import (
    HASH_FRAGMENT,
    VCS_PREFIXES,
    Problem,
    check_index,
    check_requirement,
    exact_name,
    is_local_path,
    place_in,
    ranges_accepted,
)
from mlgate.pins.rules import INSECURE_INDEX, MISSING_HASH, PARTIAL_HASHES, UNPINNED, URL_NO_HASH
from mlgate.problem import Locate

REQUIREMENT_FOLDERS = {"requirements", "reqs"}
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".zip")


def matches(path: str) -> bool:
    *folders, name = path.lower().split("/")
    if name.endswith(".pip"):
        return True
    named = "requirement" in name or "constraint" in name
    in_folder = not REQUIREMENT_FOLDERS.isdisjoint(folders)
    return (name.endswith(".txt") or name.endswith(".in")) and (named or in_folder)


# pip: a comment starts the line or follows whitespace, and runs to the end of the line.
COMMENT = re.compile(r"(^|\s+)#.*$")
TOKEN = re.compile(r"\S+")
OPTION_START = re.compile(r"(?:^|\s)-")
# The line most files are made of (`name==1.2.3`, maybe with extras and markers), settled
# without the full check: large compiled files stay fast.
EXACT_PIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?\s*===?\s*[^\s,;*()]+\s*(?:;.*)?")
# What pip can read as a named requirement; anything else (prose in a .txt that only sits in
# a requirements folder, a stray word) is ignored, as pip's parser would refuse it.
NAMED_REQUIREMENT = re.compile(
    r"""[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\s*(?:\[[^\]]*\])?\s*
        (?:@.*|\(?\s*(?:(?:===|==|~=|!=|<=|>=|<|>)\s*[^\s,;()]+\s*,?\s*)*\)?)\s*(?:;.*)?""",
    re.X,
)

# Options pip accepts in a requirements file: name -> takes a value.
LONG_OPTIONS = {
    "requirement": True,
    "constraint": True,
    "editable": True,
    "index-url": True,
    "extra-index-url": True,
    "find-links": True,
    "trusted-host": True,
    "hash": True,
    "no-binary": True,
    "only-binary": True,
    "use-feature": True,
    "global-option": True,
    "config-settings": True,
    "no-index": False,
    "pre": False,
    "prefer-binary": False,
    "require-hashes": False,
}
SHORT_OPTIONS = {"r": "requirement", "c": "constraint", "e": "editable", "i": "index-url", "f": "find-links"}


@dataclass
class Line:
    """One logical line: comment removed, stripped; `locate` maps an offset in it to the file."""

    text: str
    locate: Locate

    @classmethod
    def from_text(cls, text: str, locate: Locate) -> Line:
        if "#" in text:
            text = COMMENT.sub("", text)
        stripped = text.strip()
        lead = len(text) - len(text.lstrip())
        return cls(stripped, (lambda offset: locate(offset + lead)) if lead else locate)


@dataclass
class Option:
    name: str  # canonical long name, e.g. "extra-index-url"
    value: str | None
    offset: int  # where the value starts (the option itself when it takes none)


def _on_line(number: int) -> Locate:
    """Positions in line `number` taken as it is: offset 0 is its column 1."""
    return lambda offset: (number, offset + 1)


def logical_lines(source: SourceFile) -> Iterator[Line]:
    """pip's line joining (`\\` at the end of a line) with positions kept."""
    pieces: list[tuple[int, str]] = []  # (line number, text) of the lines joined so far

    def joined() -> Line:
        starts, text = [], ""
        for number, piece in pieces:
            starts.append((len(text), number))
            text += piece

        def locate(offset: int) -> tuple[int, int]:
            start, number = next((s, n) for s, n in reversed(starts) if s <= offset or s == 0)
            return number, offset - start + 1

        return Line.from_text(text, locate)

    for number, raw in enumerate(source.lines, 1):
        comment = COMMENT.match(raw) is not None
        if raw.endswith("\\") and not comment:
            pieces.append((number, raw.rstrip("\\")))
            continue
        if pieces:
            if not comment:  # a comment line ends the continuation and is dropped, as in pip
                pieces.append((number, raw))
            yield joined()
            pieces = []
        elif not comment:
            yield Line.from_text(raw, _on_line(number))
    if pieces:
        yield joined()


def long_option(name: str) -> str | None:
    """pip (optparse) accepts any unambiguous prefix of a long option: `--extra-index=`."""
    if name in LONG_OPTIONS:
        return name
    candidates = [option for option in LONG_OPTIONS if option.startswith(name)]
    return candidates[0] if len(candidates) == 1 and name else None


def split_line(text: str) -> tuple[str, list[Option]]:
    """(requirement, options): pip takes the words before the first `-word` as the requirement."""
    if OPTION_START.search(text) is None:
        return text, []
    tokens = [(m.start(), m.group()) for m in TOKEN.finditer(text)]
    first = next((i for i, (_, token) in enumerate(tokens) if token.startswith("-")), len(tokens))
    requirement = text[: tokens[first][0]].rstrip() if first < len(tokens) else text
    options: list[Option] = []
    value: str | None
    rest = iter(tokens[first:])
    for start, token in rest:
        if token.startswith("--"):
            written, inline, value = token[2:].partition("=")  # `--opt=value`
            name = long_option(written)
            value_start = start + 3 + len(written)
        else:
            name = SHORT_OPTIONS.get(token[1:2])
            value, inline, value_start = token[2:], token[2:], start + 2  # `-rfile`
        if name is None:
            continue
        if not LONG_OPTIONS[name]:
            options.append(Option(name, None, start))
            continue
        if not inline:
            value_start, value = next(rest, (start, None))
        if value is not None and len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
            value, value_start = value[1:-1], value_start + 1  # pip shell-splits option values
        options.append(Option(name, value, value_start))
    return requirement, options


def is_path(requirement: str) -> bool:
    """pip installs an argument with a path separator, or an archive name, from disk."""
    head = requirement.split(";", 1)[0].strip()
    if "://" in head or "@" in head:
        return False
    return is_local_path(head) or "/" in head or "\\" in head or head.lower().endswith(ARCHIVE_SUFFIXES)


def is_hashed(requirement: str, options: list[Option]) -> bool:
    if options and any(o.name == "hash" and o.value for o in options):
        return True
    return "#" in requirement and HASH_FRAGMENT.search(requirement) is not None


@dataclass
class Requirement:
    text: str
    line: Line
    offset: int
    hashed: bool
    editable: bool


# Yields findings; returns the names pinned exactly (what a `-c` file contributes).
Scan = Generator[Finding, None, set[str]]


@dataclass
class _Walk:
    """One include tree: every file is read once; missing includes become one error at the end."""

    context: ScanContext
    root: Path  # the scanned file: errors are reported under it
    # The scanned file is what pip-compile or uv freezes into a lock: its includes are inputs too.
    compile_input: bool = False
    # The scanned file sits in a docs or example folder: a reader's starting point, not an install.
    sample: bool = False
    # The scanned file is a library's dependency metadata (its setup.py or pyproject reads it).
    metadata: bool = False
    visited: set[Path] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def file(self, source: SourceFile, constraints: frozenset[str], is_constraints: bool) -> Scan:
        self.visited.add(source.abspath)
        return self.lines(list(logical_lines(source)), source, constraints, is_constraints)

    def lines(self, lines: list[Line], source: SourceFile, constraints: frozenset[str], is_constraints: bool) -> Scan:
        """Findings of these lines; the generator's value is the names they (and their `-c`) pin exactly."""
        entries = [(line, *split_line(line.text)) for line in lines]
        pinned = set(constraints)
        # Constraints apply to every requirement of the install, so read them first.
        for line, requirement, options in entries:
            for option in options:
                if not requirement and option.name == "constraint" and option.value:
                    pinned |= yield from self.include(option, line, source, frozenset(), True)
        requirements: list[Requirement] = []
        for line, requirement, options in entries:
            if requirement:
                requirements.append(Requirement(requirement, line, 0, is_hashed(requirement, options), False))
                continue
            for option in options:
                if option.value is None:
                    continue
                if option.name == "editable":
                    requirements.append(Requirement(option.value, line, option.offset, False, True))
                elif option.name == "requirement":  # (pip reads `-r` as requirements even inside a constraints file)
                    yield from self.include(option, line, source, frozenset(pinned), False)
                elif option.name != "constraint":
                    for problem in self.option_problems(option):
                        yield place_in(problem, source.path, line.locate, option.offset)
        yield from self.check(requirements, source, frozenset(pinned), is_constraints)
        if not is_constraints:  # only what a `-c` file pins matters to the file that includes it
            return pinned
        return {name for r in requirements if (name := exact_name(r.text))} | pinned

    def option_problems(self, option: Option) -> list[Problem]:
        url = option.value or ""
        if option.name == "index-url":
            return check_index(url, extra=False)
        if option.name == "extra-index-url":
            return check_index(url, extra=True, allowed=self.context.options.get("allowed-indexes", []))
        if option.name == "find-links":
            return check_index(url, extra=False)
        if option.name == "trusted-host":
            return [
                Problem(
                    INSECURE_INDEX,
                    f"--trusted-host {url} turns off TLS certificate checks for that host: anyone on the network path can serve packages",
                )
            ]
        return []

    def include(self, option: Option, line: Line, source: SourceFile, constraints: frozenset[str], is_constraints: bool) -> Scan:
        target = option.value or ""
        if "://" in target and not target.lower().startswith("file:"):
            kind = "constraints" if option.name == "constraint" else "requirements"
            problem = Problem(
                URL_NO_HASH,
                f"{kind} file {target} is read from a URL: whoever controls it decides what is installed, and pip cannot check its hash",
            )
            yield place_in(problem, source.path, line.locate, option.offset)
            return set()
        try:
            included = self.context.source(target.removeprefix("file:"), relative_to=source)
            included.text  # noqa: B018 - read now so a binary include is an error, not a crash later
        except MissingFile:
            # pip stops with "Could not open requirements file": nothing unpinned can be installed
            # through it, and the file, once it exists, is scanned in its own right.
            return set()
        except ScanError as exc:
            where = f"line {line.locate(option.offset)[0]}"
            if source.abspath != self.root:
                where = f"{source.path}, {where}"  # an include of an include: name the file
            self.errors.append(f"{where}: -{option.name[0]} {target}: {exc}")
            return set()
        if included.abspath in self.visited:
            return set()
        return (yield from self.file(included, constraints, is_constraints))

    def check(self, requirements: list[Requirement], source: SourceFile, pinned: frozenset[str], is_constraints: bool) -> Iterator[Finding]:
        # an included file that a library's metadata reads keeps its ranges whoever includes it
        # (modelscope's unused `requirements/audio.txt` includes its extras' files)
        metadata = self.metadata if source.abspath == self.root else is_metadata(source, self.context)
        # Once one requirement has --hash, pip verifies every one, so the others are gaps.
        partial = any(r.hashed for r in requirements)
        strict = bool(self.context.options.get("require-hashes")) and not partial
        for requirement in requirements:
            text = requirement.text
            is_url = "://" in text or text.lower().startswith(VCS_PREFIXES)
            exact = EXACT_PIN.fullmatch(text)
            if exact and self.context.online:  # looked up in OSV after the scan
                note_pin(self.context, text, source.path, *requirement.line.locate(requirement.offset))
            if not strict and exact:
                problems = []
            elif is_path(text) or (not is_url and NAMED_REQUIREMENT.fullmatch(text) is None):
                continue
            else:
                problems = check_requirement(text, hashed=requirement.hashed, constraints=pinned, require_hashes=strict)
            # (A URL without a hash is PIN003 already; VCS checkouts and editables cannot be hashed.)
            if partial and not requirement.hashed and not requirement.editable and not is_url:
                problems.append(
                    Problem(
                        PARTIAL_HASHES,
                        f"'{text.split(';')[0].strip()}' has no --hash while other requirements of this file have one: "
                        "its download is not verified, and pip's hash-checking mode rejects the file",
                    )
                )
            if is_constraints:  # a constraint installs nothing by itself: ranges there only fail to pin
                problems = [p for p in problems if p.rule not in (UNPINNED, MISSING_HASH, PARTIAL_HASHES)]
            elif self.compile_input:  # the lock pins and hashes what the input's ranges resolve to
                problems = [p for p in problems if p.rule not in (UNPINNED, MISSING_HASH)]
            elif self.sample or metadata:
                # ranges in a sample age well, exact pins there go stale (see PIN001); a library's
                # metadata keeps its ranges (the `ranges` option, `project.read_as_metadata`)
                problems = [p for p in problems if p.rule is not UNPINNED]
            for problem in problems:
                yield place_in(problem, source.path, requirement.line.locate, requirement.offset)

    def raise_errors(self) -> None:
        if self.errors:
            raise ScanError("; ".join(dict.fromkeys(self.errors)))


def scan_lines(lines: list[Line], source: SourceFile, context: ScanContext) -> Iterator[Finding]:
    """Findings of requirement lines that live inside another file (a conda `pip:` list).

    A missing include is raised as ScanError after every finding has been yielded, so the
    engine records both the findings and the error entry.
    """
    walk = _Walk(context, source.abspath, visited={source.abspath}, sample=in_example_folder(source))
    yield from walk.lines(lines, source, frozenset(), False)
    walk.raise_errors()


def is_metadata(source: SourceFile, context: ScanContext) -> bool:
    """A requirements file a library's own metadata reads, whose ranges the `ranges` option accepts."""
    return (read_as_metadata(source.abspath) or _included_by_metadata(source, context)) and ranges_accepted(source, context, library=True)


def _included_by_metadata(source: SourceFile, context: ScanContext) -> bool:
    """Whether a requirements file that a `setup.py` names includes this one with `-r` (ms-swift's
    `parse_requirements("requirements.txt")`, which is `-r requirements/framework.txt`): a setup.py
    that reads a file holding `-r` lines follows them, or its metadata would hold `-r` as a
    requirement."""
    return any(source.abspath in _included(named, context) for named in files_named_by_setup(source.abspath))


def _included(path: Path, context: ScanContext) -> frozenset[Path]:
    """The local files a requirements file includes with `-r` (worked out once per run), its lines
    read as pip reads them (continuations, `-rfile`, `--requirement=file`); none when it cannot be read."""
    try:
        including = context.source(path)
        return context.once("pins-requirement-includes", including, lambda source: _includes_of(source, context))
    except ScanError:
        return frozenset()


def _includes_of(including: SourceFile, context: ScanContext) -> frozenset[Path]:
    found = set()
    for line in logical_lines(including):
        for option in split_line(line.text)[1]:
            if option.name == "requirement" and option.value and "://" not in option.value:
                try:
                    found.add(context.source(option.value.removeprefix("file:"), relative_to=including).abspath)
                except ScanError:  # a missing include: it includes nothing
                    continue
    return frozenset(found)


def scan(source: SourceFile, context: ScanContext) -> Iterator[Finding]:
    metadata = is_metadata(source, context)
    walk = _Walk(
        context,
        source.abspath,
        compile_input=is_compile_input(source, context, matches),
        sample=in_example_folder(source),
        metadata=metadata,
    )
    yield from walk.file(source, frozenset(), "constraint" in source.name.lower())
    walk.raise_errors()


SCANNER = Scanner("requirements", matches=matches, scan=scan)
