"""Exclude patterns (`--exclude` and the `exclude` setting), read as git reads `.gitignore`.

Each pattern is relative to a folder: the configuration file's for the setting, the current
directory for `--exclude`. A file outside that folder (a scanned path elsewhere) is matched by
its path from the folder the walk started at. A pattern means what it means in a `.gitignore`
(gitignore(5), and git's wildmatch for `*`, `?`, `[...]` and `**`): `tests` and `*.pkl` match
at any depth, `tests/` only folders, `/tests` and `tests/*` only at the top, `**/fixtures/**`
anything inside any `fixtures` folder, `!keep.pkl` re-includes, the last matching pattern wins,
and a file inside an excluded folder stays excluded whatever a later `!pattern` says of it. One
addition: `./tests` reads as `/tests` (in a `.gitignore` a leading `./` matches nothing; typed
on a command line it can only mean "from here").

Written here rather than taken from pathspec: its GitIgnoreSpec matches file paths only, so it
re-includes `!tests/keep.py` after `tests/`, and takes `dir/**` and `dir/**/` to match the folder
`dir` itself, where git does neither; a walk needs git's verdict on folders. tests/test_paths.py
checks every verdict against `git check-ignore`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

COMMAND_LINE = "--exclude"
_NEVER = re.compile(r"(?!)")


@dataclass(frozen=True)
class Exclude:
    """One pattern, relative to the folder `base` (absolute); `origin` says where it was set:
    `COMMAND_LINE` or the configuration file as shown."""

    pattern: str
    base: Path
    origin: str


@dataclass(frozen=True)
class Pattern:
    """One line of gitignore, compiled: what it matches, and how (gitignore(5), "PATTERN FORMAT")."""

    regex: re.Pattern[str]
    negated: bool  # `!`: a match re-includes
    folders_only: bool  # a trailing `/`: matches folders only
    basename: bool  # no `/` but a trailing one: matched against the last part of the path, at any depth

    def matches(self, path: str, is_folder: bool) -> bool:
        if self.folders_only and not is_folder:
            return False
        return self.regex.fullmatch(path.rsplit("/", 1)[-1] if self.basename else path) is not None


def compile_pattern(line: str) -> Pattern | None:
    """A gitignore line as git reads it; None for a blank line or a comment. A leading `./`
    (command-line spelling, never in a .gitignore) anchors the pattern like a leading `/`."""
    line = _without_trailing_spaces(line)
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    body = line[1:] if negated else line
    if body.startswith("./"):
        while body.startswith("./"):
            body = body[2:].lstrip("/")
        body = "/" + body if body else ""
    folders_only = body.endswith("/")
    body = body[:-1] if folders_only else body  # one slash: in `a//` what is left, `a/`, matches nothing
    if not body:
        return None
    basename = "/" not in body
    anchored = body[1:] if body.startswith("/") else body  # one slash: in `//a` what is left, `/a`, matches nothing
    return Pattern(_wildmatch(anchored), negated, folders_only, basename)


def _without_trailing_spaces(line: str) -> str:
    """Trailing spaces are dropped unless escaped with a backslash (`foo\\ ` keeps one)."""
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line) and not stripped.endswith("\\\\"):
        return stripped + " "
    return stripped


_GLOB_SPECIAL = re.compile(r"[*?\[\\]")


def _wildmatch(glob: str) -> re.Pattern[str]:
    """git's wildmatch with WM_PATHNAME as a regular expression: `*`, `?` and `[...]` never match
    `/`; `**` between slashes (or at either end) matches any number of folders; any other run of
    stars is one `*`; a backslash makes the next character literal. An unterminated `[` or a
    trailing backslash makes the pattern match nothing, as in git.

    As in git's match_pathname, the literal part before the first special character is compared
    first and wildmatch sees only the rest, so a `**` right after it counts as at the start:
    `a**/b` matches `ab` and `a/x/b`."""
    special = _GLOB_SPECIAL.search(glob)
    prefix = glob if special is None else glob[: special.start()]
    out: list[str] = [re.escape(prefix)]
    glob = glob[len(prefix) :]
    i, n = 0, len(glob)
    while i < n:
        char = glob[i]
        if char == "\\":
            if i + 1 == n:
                return _NEVER
            out.append(re.escape(glob[i + 1]))
            i += 2
        elif char == "*":
            end = i
            while end < n and glob[end] == "*":
                end += 1
            slash_after = 1 if glob.startswith("/", end) else 2 if glob.startswith("\\/", end) else 0  # `\/` is a slash too
            if end - i >= 2 and (i == 0 or glob[i - 1] == "/") and (end == n or slash_after):
                if end == n:  # `dir/**`: everything inside
                    out.append(".*")
                else:  # `**/` at the start or `/**/`: zero or more folders
                    out.append("(?:.*/)?")
                    end += slash_after
            else:
                out.append("[^/]*")
            i = end
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            bracket = _bracket(glob, i)
            if bracket is None:
                return _NEVER
            expression, i = bracket
            out.append(expression)
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out), re.DOTALL)


_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \t",
    "cntrl": "\x00-\x1f\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": " \t\n\r\f\v",
    "upper": "A-Z",
    "xdigit": "0-9a-fA-F",
}


def _bracket(glob: str, start: int) -> tuple[str, int] | None:
    """The `[...]` at `start` as a regex class that never matches `/`, and the index after it;
    None when it is not closed (or names an unknown [:class:])."""
    i = start + 1
    negated = i < len(glob) and glob[i] in "!^"
    i += negated
    members: list[str] = []
    first = True
    while i < len(glob):
        char = glob[i]
        if char == "]" and not first:
            body = "".join(members) or "(?!)"
            return (f"[^/{body}]" if negated else f"(?!/)[{body}]"), i + 1
        first = False
        if char == "[" and glob.startswith("[:", i):
            close = glob.find(":]", i + 2)
            if close == -1 or glob[i + 2 : close] not in _CLASSES:
                return None
            members.append(_CLASSES[glob[i + 2 : close]])
            i = close + 2
            continue
        if char == "\\":
            i += 1
            if i == len(glob):
                return None
            char = glob[i]
        if i + 2 < len(glob) and glob[i + 1] == "-" and glob[i + 2] != "]":
            high_at = i + 2
            if glob[high_at] == "\\":
                high_at += 1
                if high_at == len(glob):
                    return None
            members.append(f"{re.escape(char)}-{re.escape(glob[high_at])}")
            i = high_at + 1
            continue
        members.append(re.escape(char))
        i += 1
    return None


def _relative(path: Path, folder: Path) -> str | None:
    """`path` from `folder` with `/` separators, or None when it is not inside."""
    inside = str(folder).rstrip(os.sep) + os.sep
    text = str(path)
    return text[len(inside) :].replace(os.sep, "/") if text.startswith(inside) else None


@dataclass
class _Group:
    """The patterns relative to one folder; verdicts of folders are cached (every file of a
    folder asks about the same ancestors)."""

    base: Path
    excludes: list[Exclude]
    patterns: list[Pattern | None]  # one per exclude; None: a blank or comment line
    matched: set[int] = field(default_factory=set)  # indexes of patterns that decided a verdict
    seen: list[str] = field(default_factory=list)  # every path asked about, for `unmatched`
    folders: dict[str, bool] = field(default_factory=dict)

    def _verdict(self, path: str, is_folder: bool) -> bool:
        """Excluded by the last pattern that matches (none: kept)."""
        for index in range(len(self.patterns) - 1, -1, -1):
            pattern = self.patterns[index]
            if pattern is not None and pattern.matches(path, is_folder):
                self.matched.add(index)
                return not pattern.negated
        return False

    def excluded(self, relative: str, named_folders: int = 0) -> bool:
        """Whether the file at `relative` is excluded: as git walks, an excluded folder excludes
        everything in it, so its files are not even asked about. The first `named_folders`
        folders of the path lead to a folder named on the command line: they are not asked."""
        self.seen.append(relative)
        parts = relative.split("/")
        for depth in range(named_folders + 1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder not in self.folders:
                self.folders[folder] = self._verdict(folder, is_folder=True)
            if self.folders[folder]:
                return True
        return self._verdict(relative, is_folder=False)


class Excluder:
    """Decides which files the exclude patterns leave out, and which patterns matched nothing."""

    def __init__(self, excludes: Sequence[Exclude]) -> None:
        by_base: dict[Path, list[Exclude]] = {}
        for exclude in excludes:
            by_base.setdefault(exclude.base, []).append(exclude)
        self._groups = [_Group(base, items, [compile_pattern(item.pattern) for item in items]) for base, items in by_base.items()]

    def excludes(self, path: Path, root: Path, walked: bool) -> bool:
        """Whether absolute `path` is excluded. `root` is the folder it was found in by a walk
        (`walked`), or a named file's own folder: a path outside a pattern's base is matched from
        there. A walked folder was named, so scanned even if a pattern excludes it or a folder
        above it: only what is inside it is matched, as ripgrep treats the paths it is given."""
        for group in self._groups:
            relative = _relative(path, group.base)
            named_folders = 0
            if relative is None:
                relative = _relative(path, root)
            elif walked and (root_relative := _relative(root, group.base)) is not None:
                named_folders = root_relative.count("/") + 1
            if relative is not None and group.excluded(relative, named_folders):
                return True
        return False

    def unmatched(self, walked: Sequence[Path], unlisted: Iterable[tuple[Path, Path]] = ()) -> list[Exclude]:
        """The patterns that matched nothing, among those that could have: a `--exclude` pattern
        once any folder was walked, a configured one once a walk covered its whole folder
        (scanning a sub-folder, or the files pre-commit names, says nothing of the rest of the
        project). A pattern overridden wherever it matched still matched. `unlisted` are (path,
        walk root) pairs of files the walk left out before exclusion (git ignores them): a
        pattern matching one of those is not reported either."""
        pending = [
            (group, index)
            for group in self._groups
            for index, exclude in enumerate(group.excludes)
            if index not in group.matched and _could_match(exclude, walked)
        ]
        if not pending:
            return []
        extra = [(path, root) for path, root in unlisted]
        unmatched = []
        for group, index in pending:
            pattern = group.patterns[index]
            others = (_relative(path, group.base) or _relative(path, root) for path, root in extra)
            paths = [*group.seen, *(path for path in others if path)]
            if pattern is None or not any(_matches_anywhere(pattern, path) for path in paths):
                unmatched.append(group.excludes[index])
        return unmatched


def _matches_anywhere(pattern: Pattern, path: str) -> bool:
    """Whether `pattern` matches the file at `path` or one of its folders."""
    parts = path.split("/")
    return pattern.matches(path, is_folder=False) or any(
        pattern.matches("/".join(parts[:depth]), is_folder=True) for depth in range(1, len(parts))
    )


def _could_match(exclude: Exclude, walked: Sequence[Path]) -> bool:
    if exclude.origin == COMMAND_LINE:
        return bool(walked)
    return any(root == exclude.base or _relative(exclude.base, root) is not None for root in walked)
