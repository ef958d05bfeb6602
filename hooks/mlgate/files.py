"""Finding the files to scan and reading them defensively.

Hooks never open files themselves: they get a `SourceFile`, whose text is decoded
once, size-limited and refused when it is not text, so hostile input becomes an
error entry instead of a traceback.
"""

from __future__ import annotations

import bisect
import functools
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

Parsed = TypeVar("Parsed")

# Text manifests larger than this are not parsed (a 50 MB "requirements.txt" is not a
# requirements file). Binary scanners read through `open_binary` and are not limited.
MAX_TEXT_BYTES = 5 * 1024 * 1024

# Folders that never hold the project's own manifests when no git tells us better.
SKIPPED_DIRS = {
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
}


class ScanError(Exception):
    """A file that cannot be scanned: becomes an `errors` entry, never a traceback."""


class MissingFile(ScanError):
    """A file another file refers to (an include, a lock file) does not exist."""


class InvalidText(ScanError):
    """A text file that is not valid in its own language (bad YAML, JSON, TOML or Python, a docs
    snippet with `{placeholders}`): listed, but the run fails on it only with `strict-errors`."""


class UnreadableFile(ScanError):
    """A file that cannot be read as text (an I/O error, binary or undecodable content, over the
    size limit): always fails the run, as its real consumer (pip, kubectl) may still read it."""


def display_path(path: Path) -> str:
    """Path relative to the current directory with `/` separators (absolute if outside)."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    inside = cwd if cwd.endswith(os.sep) else cwd + os.sep
    if absolute.startswith(inside):  # the common case, without relpath's two abspath calls
        return absolute[len(inside) :].replace(os.sep, "/")
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path.as_posix()
    if rel.startswith(".." + os.sep) or rel == "..":
        return f"{_resolved_directory(os.path.dirname(absolute))}/{os.path.basename(absolute)}"
    return Path(rel).as_posix()


@functools.lru_cache(maxsize=1024)
def _resolved_directory(directory: str) -> str:
    """A folder outside the current directory, symlinks resolved: once per folder, not per file."""
    return Path(directory).resolve().as_posix().rstrip("/")


@dataclass
class SourceFile:
    """A file handed to a scanner. `path` is the display path used in findings."""

    path: str
    abspath: Path
    _text: str | None = field(default=None, repr=False)
    _line_starts: list[int] | None = field(default=None, repr=False)
    _lines: list[str] | None = field(default=None, repr=False)
    # parser -> what it made of this file, or the ScanError it raised: one parse per file per run
    _parsed: dict[Callable[[SourceFile], Any], Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_text(cls, path: str, text: str) -> SourceFile:
        """A file whose text is already known (tests, notebooks cells, stdin)."""
        return cls(path=path, abspath=Path(path), _text=text)

    @property
    def name(self) -> str:
        return self.abspath.name

    def size(self) -> int:
        return self.abspath.stat().st_size

    def open_binary(self) -> BinaryIO:
        return open(self.abspath, "rb")

    def read_bytes(self, limit: int | None = None) -> bytes:
        with open(self.abspath, "rb") as handle:
            return handle.read() if limit is None else handle.read(limit)

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self._load_text()
        return self._text

    def _load_text(self) -> str:
        try:
            size = self.size()
        except OSError as exc:
            raise UnreadableFile(f"cannot read file: {exc.strerror or exc}") from None
        if size > MAX_TEXT_BYTES:
            raise UnreadableFile(
                f"file is {size / 1048576:.1f} MB, larger than the {MAX_TEXT_BYTES // 1048576} MB limit for text manifests; not scanned"
            )
        try:
            data = self.read_bytes()
        except OSError as exc:
            raise UnreadableFile(f"cannot read file: {exc.strerror or exc}") from None
        if b"\0" in data[:8192]:
            raise UnreadableFile("binary content where a text file was expected; not scanned")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            declared = _declared_python_text(self.path, data)
            if declared is None:
                raise UnreadableFile(f"not valid UTF-8 (byte {exc.start}); not scanned") from None
            text = declared
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def parsed(self, parser: Callable[[SourceFile], Parsed]) -> Parsed:
        """`parser(self)`, computed once: every hook reading this file as YAML, Python, TOML or a
        notebook shares one parse, and a file that does not parse gives each the same ScanError.
        The result is shared, so callers must not change it."""
        if parser not in self._parsed:
            try:
                self._parsed[parser] = parser(self)
            except ScanError as exc:
                self._parsed[parser] = exc
        outcome = self._parsed[parser]
        if isinstance(outcome, ScanError):
            raise outcome.with_traceback(None)
        return outcome  # type: ignore[no-any-return]

    def forget_parses(self) -> None:
        """Drop the parses once every hook has read the file: a run keeps each file's text (for
        context lines) but not thousands of syntax trees, which would slow every later parse
        (the garbage collector walks all live objects)."""
        self._parsed.clear()

    @property
    def lines(self) -> list[str]:
        """The text's lines, split once: findings and suppression checks read lines one by one."""
        if self._lines is None:
            self._lines = self.text.split("\n")
        return self._lines

    def line_text(self, line: int | None) -> str:
        """Text of 1-based `line`, or '' when out of range."""
        if not line:
            return ""
        lines = self.lines
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset into `text`."""
        if self._line_starts is None:
            starts = [0]
            text = self.text
            index = text.find("\n")
            while index != -1:
                starts.append(index + 1)
                index = text.find("\n", index + 1)
            self._line_starts = starts
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1


# Where a repository keeps its tests and their data: what is there sets up throwaway instances
# and loads fixtures made for tests, not what the project deploys or loads.
_TEST_FOLDERS = frozenset({"test", "tests", "testdata", "fixtures"})
_TEST_FILE = re.compile(r"test_[^/]*\.py|[^/]*_test\.py|conftest\.py")


def is_test_path(path: str) -> bool:
    """A file in a `test`, `tests`, `testdata` or `fixtures` folder, or a pytest module
    (`test_*.py`, `*_test.py`, `conftest.py`), anywhere in the repository."""
    *folders, name = path.replace("\\", "/").lower().split("/")
    return bool(_TEST_FOLDERS.intersection(folders)) or _TEST_FILE.fullmatch(name) is not None


# Where a repository keeps what shows or measures it: documentation, examples, samples, demos,
# tutorials, benchmarks. Their files are made for a reader to run the example (a serving
# runtime's docs ship the model file their tutorial loads), not what the project deploys.
_EXAMPLE_FOLDERS = frozenset(
    "doc docs documentation example examples sample samples demo demos tutorial tutorials benchmark benchmarks benchmarking".split()
)
_FOLDER_QUALIFIER = re.compile(r"[-_.]")  # `docs-gb`, `example_models`: the first word says what the folder is


def is_example_path(path: str) -> bool:
    """A file in a documentation, example, sample, demo, tutorial or benchmark folder (also one
    named with a qualifier, `docs-gb`, `example_models`), anywhere in the repository."""
    *folders, _ = path.replace("\\", "/").lower().split("/")
    return any(_FOLDER_QUALIFIER.split(folder, maxsplit=1)[0] in _EXAMPLE_FOLDERS for folder in folders)


def _declared_python_text(path: str, data: bytes) -> str | None:
    """Python source in the encoding its coding line declares (PEP 263, `# -*- coding: latin-1 -*-`),
    found as the interpreter finds it (`tokenize.detect_encoding`); None for other files, or when
    the source does not decode that way either."""
    if not path.endswith((".py", ".pyw")):
        return None
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return None


def _may_be_work_tree(root: Path) -> bool:
    """Whether git could see `root` as part of a work tree: a `.git` (folder, or file for
    worktrees and submodules) in it or above it, or GIT_DIR set. Saves starting git (and
    importing subprocess) for a folder that is not under version control."""
    folder = Path(os.path.abspath(root))
    return "GIT_DIR" in os.environ or any(os.path.lexists(parent / ".git") for parent in (folder, *folder.parents))


def _git_files(root: Path) -> list[str] | None:
    """Files git would consider in `root` (tracked + untracked, not ignored), or None."""
    if not _may_be_work_tree(root):
        return None
    import subprocess  # only directories are listed by git: a run on files never needs it

    try:
        result = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    names = result.stdout.decode("utf-8", "surrogateescape").split("\0")
    return sorted({name for name in names if name})


def _walk_plain(root: Path) -> list[str]:
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        rel = Path(dirpath).relative_to(root)
        found.extend((rel / name).as_posix() for name in sorted(filenames))
    return found


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


def iter_files(paths: list[str], exclude: list[str] | tuple[str, ...] = ()) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand files and directories into the files to scan.

    Directories are walked (git-ignored files and `.git` skipped inside a work tree);
    symlinks are never followed out of the tree they were found in. Returns the files and
    (path, message) pairs for arguments that do not exist.
    """
    files: list[Path] = []
    missing: list[tuple[str, str]] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = Path(os.path.abspath(path))
        if key in seen:
            return
        if exclude and any(fnmatch(display_path(key), pattern) or fnmatch(key.name, pattern) for pattern in exclude):
            return
        seen.add(key)
        files.append(key)

    for arg in paths:
        path = Path(arg)
        if path.is_symlink() and not _inside(path, Path.cwd()):
            continue
        if path.is_file():
            add(path)
        elif path.is_dir():
            names = _git_files(path)
            if names is None:
                names = _walk_plain(path)
            for name in names:
                if ".git" in name.split("/"):  # git and _walk_plain give `/`-separated names
                    continue
                candidate = path / name
                try:
                    mode = os.lstat(candidate).st_mode
                except OSError:
                    continue
                # A link inside the tree points at a file we scan anyway; one that leaves
                # the tree would let a repository make us read arbitrary host files.
                if stat.S_ISREG(mode):
                    add(candidate)
        else:
            missing.append((arg, "no such file or directory"))
    return files, missing
