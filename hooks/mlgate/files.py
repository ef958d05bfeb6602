"""Finding the files to scan and reading them defensively.

Hooks never open files themselves: they get a `SourceFile`, whose text is decoded
once, size-limited and refused when it is not text, so hostile input becomes an
error entry instead of a traceback.
"""

from __future__ import annotations

import bisect
import errno
import functools
import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from mlgate.errors import UsageError
from mlgate.excludes import COMMAND_LINE, Exclude, Excluder

if TYPE_CHECKING:
    import subprocess

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


def display_paths(paths: Sequence[Path]) -> list[str]:
    """`display_path` of each of `paths`, absolute and normalized as `iter_files` gives them: the
    current directory is read once, and a path inside it is not normalized again."""
    cwd = os.getcwd()
    inside = cwd if cwd.endswith(os.sep) else cwd + os.sep
    shown = []
    for path in paths:
        text = str(path)
        shown.append(text[len(inside) :].replace(os.sep, "/") if text.startswith(inside) else display_path(path))
    return shown


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
    # the file's bytes, read once for every hook that reads all of it (as text, or as bytes under
    # `small_bytes`'s limit); dropped with the parses, when every hook has read the file
    _data: bytes | None = field(default=None, repr=False)
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
        if self._data is not None:
            return len(self._data)
        return self.abspath.stat().st_size

    def open_binary(self) -> BinaryIO:
        return open(self.abspath, "rb")

    def read_bytes(self, limit: int | None = None) -> bytes:
        if self._data is not None:
            return self._data if limit is None else self._data[:limit]
        with open(self.abspath, "rb") as handle:
            return handle.read() if limit is None else handle.read(limit)

    def small_bytes(self, limit: int) -> bytes | None:
        """All the file's bytes when it has at most `limit` of them, else None; read once for
        every hook (the text is decoded from the same bytes). Raises OSError."""
        if self._data is None:
            # os.open/os.read, not open(): a file object costs more than reading a small file
            descriptor = os.open(self.abspath, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            try:
                size = os.fstat(descriptor).st_size
                if size > limit:
                    return None
                parts: list[bytes] = []  # `size` asked at once, then until the end, for a file that grew since
                while chunk := os.read(descriptor, size + 1 if not parts else 1 << 16):
                    parts.append(chunk)
                self._data = b"".join(parts)
            finally:
                os.close(descriptor)
        return self._data if len(self._data) <= limit else None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self._load_text()
        return self._text

    @property
    def read_as_text(self) -> bool:
        """Whether a scanner has read this file as text: a model file read as bytes has no lines
        for an inline comment, and its findings are fingerprinted by its content instead."""
        return self._text is not None

    def _load_text(self) -> str:
        try:
            data = self.small_bytes(MAX_TEXT_BYTES)
            if data is None:
                size = self.size()
                raise UnreadableFile(
                    f"file is {size / 1048576:.1f} MB, larger than the {MAX_TEXT_BYTES // 1048576} MB limit for text manifests; not scanned"
                )
        except OSError as exc:
            raise UnreadableFile(f"cannot read file: {exc.strerror or exc}") from None
        wide = _wide_text(self.path, data)
        if wide is not None:
            return wide.replace("\r\n", "\n").replace("\r", "\n")
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
        """Drop the parses and the bytes once every hook has read the file: a run keeps each file's text (for
        context lines) but not thousands of syntax trees, which would slow every later parse
        (the garbage collector walks all live objects)."""
        self._parsed.clear()
        self._data = None

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
_TEST_FOLDERS = frozenset({"test", "tests", "testdata", "test-data", "test_data", "fixtures"})
_FOLDER_QUALIFIER = re.compile(r"[-_.]")  # `docs-gb`, `example_models`: the first word says what the folder is
# pytest's modules, and `test.py`/`tests.py` (unittest's discovery pattern `test*.py`, Django's
# `tests.py`, the `test.py` beside each of LocalAI's backends)
_TEST_FILE = re.compile(r"test_[^/]*\.py|[^/]*_test\.py|conftest\.py|tests?\.py")


def is_test_path(path: str) -> bool:
    """A file in a `test`, `tests`, `testdata` (`test-data`) or `fixtures` folder, or `tests` with
    a qualifier (`tests_alibi_explain`; not `test-examples`, which holds samples), or a test module
    (`test_*.py`, `*_test.py`, `conftest.py`, `test.py`, `tests.py`), anywhere in the repository."""
    *folders, name = path.replace("\\", "/").lower().split("/")
    return (
        any(folder in _TEST_FOLDERS or _FOLDER_QUALIFIER.split(folder, maxsplit=1)[0] == "tests" for folder in folders)
        or _TEST_FILE.fullmatch(name) is not None
    )


# Where a repository keeps what shows or measures it: documentation, examples, samples, demos,
# tutorials, benchmarks. Their files are made for a reader to run the example (a serving
# runtime's docs ship the model file their tutorial loads), not what the project deploys.
_EXAMPLE_FOLDERS = frozenset(
    "doc docs documentation example examples sample samples demo demos tutorial tutorials benchmark benchmarks benchmarking".split()
)


def is_example_path(path: str) -> bool:
    """A file in a documentation, example, sample, demo, tutorial or benchmark folder (also one
    named with a qualifier, `docs-gb`, `example_models`), anywhere in the repository."""
    *folders, _ = path.replace("\\", "/").lower().split("/")
    return any(_FOLDER_QUALIFIER.split(folder, maxsplit=1)[0] in _EXAMPLE_FOLDERS for folder in folders)


# Where a repository keeps copies of other projects' code (GitHub linguist's vendored folders).
_VENDOR_FOLDERS = frozenset("third_party thirdparty third-party 3rdparty 3rd_party 3rd-party vendor vendors vendored".split())


def is_vendored_path(path: str) -> bool:
    """A file in a folder of other projects' code (`third_party/`, `thirdparty/`, `vendor/`), anywhere."""
    *folders, _ = path.replace("\\", "/").lower().split("/")
    return any(folder in _VENDOR_FOLDERS for folder in folders)


# UTF-32 first: its little-endian BOM begins with UTF-16's.
_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _wide_text(path: str, data: bytes) -> str | None:
    """Text in UTF-16 or UTF-32 announced by its byte-order mark, as pip (`auto_decode`), json and
    YAML read it: `pip freeze > requirements.txt` in Windows PowerShell writes UTF-16. None for other
    data, and for Python, which runs no UTF-16 source."""
    if path.endswith((".py", ".pyw")):
        return None
    for bom, codec in _WIDE_BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                return None
    return None


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


# Why files were left out of a run (the keys of `Result.skipped`). A walk of a folder leaves out
# what git ignores, links and what is not a file; a path named on the command line is scanned
# whatever git says of it, unless an exclude pattern matches it.
SKIP_REASONS = {
    "gitignored": "git ignores them (.gitignore, .git/info/exclude, core.excludesFile): name one to scan it",
    "default-excluded": "in a virtual environment, dependency or cache folder (.venv, node_modules, __pycache__...) of a folder git does not know",
    "symlink": "symlinks met by a walk, never followed: name one to scan what it points to",
    "submodule": "submodules and nested repositories, each counted once: name one to scan it",
    "special-file": "fifos, sockets and devices",
    "excluded": "an exclude pattern matches them",
}
_VCS_DIRS = frozenset({".git", ".hg", ".svn"})  # never content: left out without being counted


class BadPath(UsageError):
    """A path named on the command line that cannot be scanned: the run stops before reading anything."""


@dataclass
class FileSelection:
    """What `iter_files` chose: the files to scan, how many it left out by reason
    (`SKIP_REASONS`), and one-line warnings (exclude patterns that matched nothing)."""

    files: list[Path] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def skip(self, reason: str, count: int = 1) -> None:
        if count:
            self.skipped[reason] = self.skipped.get(reason, 0) + count


@dataclass
class _Listing:
    """A walked folder's files, as `/`-separated names relative to it, and what the walk left out."""

    names: list[str]
    skipped: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)  # names of the files git ignores


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    import subprocess  # only folders are listed by git: a run on files never needs it

    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None


def _git_names(output: bytes) -> list[str]:
    return [name for name in output.decode("utf-8", "surrogateescape").split("\0") if name]


def _git_listing(root: Path) -> _Listing | None:
    """Files git would consider in `root` (tracked, and untracked but not ignored), with the
    ignored ones counted; None when git does not know `root` or ignores it: a folder that is
    named, so scanned, whatever git says of it."""
    if not _may_be_work_tree(root):
        return None
    verdict = _git(root, "check-ignore", "-q", ".")  # 0: ignored, 1: not ignored, 128: no work tree
    if verdict is None or verdict.returncode != 1:
        return None
    listed = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listed is None or listed.returncode != 0:
        return None
    unlisted = _git(root, "ls-files", "-z", "--others", "--ignored", "--exclude-standard")
    ignored = _git_names(unlisted.stdout) if unlisted is not None and unlisted.returncode == 0 else []
    names = sorted({name for name in _git_names(listed.stdout) if ".git" not in name.split("/")})
    return _Listing(names, {"gitignored": len(ignored)}, ignored)


def _walk_plain(root: Path) -> _Listing:
    """Every file under `root` but in tool folders (SKIPPED_DIRS), counted, and linked folders."""
    listing = _Listing(names=[])
    skipped = listing.skipped
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        folder = Path(dirpath)
        kept = []
        for name in sorted(dirnames):
            if name in _VCS_DIRS:
                continue
            if name in SKIPPED_DIRS:
                skipped["default-excluded"] = skipped.get("default-excluded", 0) + _count_files(folder / name)
            elif os.path.islink(folder / name):
                skipped["symlink"] = skipped.get("symlink", 0) + 1
            else:
                kept.append(name)
        dirnames[:] = kept
        relative = folder.relative_to(root).as_posix()
        prefix = "" if relative == "." else relative + "/"
        listing.names.extend(prefix + name for name in sorted(filenames))
    return listing


def _count_files(folder: Path) -> int:
    return sum(len(filenames) for _, _, filenames in os.walk(folder))


def _list_folder(root: Path) -> _Listing:
    """A named folder's files: as git sees them inside a work tree; a folder git ignores or does
    not know is walked whole, but for tool folders."""
    return _git_listing(root) or _walk_plain(root)


def _named_folder(arg: str) -> bool:
    """Whether the named path is a folder (else a regular file, or a symlink to one wherever it
    points); BadPath when it is neither or cannot be read."""
    try:
        mode = os.stat(arg).st_mode
    except OSError as exc:
        if exc.errno == errno.ENOENT and os.path.islink(arg):
            raise BadPath(f"{arg}: broken symlink (its target {os.readlink(arg)!r} does not exist)") from None
        reason = exc.strerror or str(exc)
        raise BadPath(f"{arg}: {reason[:1].lower()}{reason[1:]}") from None
    if stat.S_ISDIR(mode):
        folder, access = True, os.R_OK | os.X_OK
    elif stat.S_ISREG(mode):
        folder, access = False, os.R_OK
    else:
        kind = "a fifo" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        raise BadPath(f"{arg}: not a file or a folder ({kind})")
    if not os.access(arg, access):
        raise BadPath(f"{arg}: permission denied")
    return folder


def _not_a_file(mode: int) -> str:
    """The skip reason of a listed entry that is not a regular file."""
    if stat.S_ISLNK(mode):
        return "symlink"
    return "submodule" if stat.S_ISDIR(mode) else "special-file"


def _unmatched_warning(exclude: Exclude) -> str:
    if exclude.origin == COMMAND_LINE:
        return f"--exclude {exclude.pattern!r} matches no file under the scanned paths"
    return f"{exclude.origin}: exclude pattern {exclude.pattern!r} matches no file"


def iter_files(paths: Sequence[str], exclude: Sequence[Exclude] = ()) -> FileSelection:
    """Expand the named files and folders into the files to scan.

    A named path is scanned whatever git says of it: a named symlink is followed wherever it
    points, a named folder git ignores is walked whole (but for tool folders). Inside a named
    folder the walk leaves out what git ignores and never follows a symlink: a repository's link
    could otherwise make us read, and quote in a report, any file of the host. The exclude
    patterns apply to every file, named ones too (pre-commit names each file it checks), but not
    to a named folder itself or the folders above it: what is inside it is matched. A named path
    that is missing, not a file or folder, or unreadable is a BadPath, raised before anything is
    read.
    """
    named = [(arg, _named_folder(arg)) for arg in paths]
    excluder = Excluder(exclude) if exclude else None
    selection = FileSelection()
    seen: set[str] = set()  # absolute paths
    walked: list[Path] = []
    ignored: list[tuple[Path, list[str]]] = []

    def add(absolute: str, root: Path, walked: bool) -> None:
        if absolute in seen:
            return
        seen.add(absolute)
        key = Path(absolute)
        if excluder is not None and excluder.excludes(key, root, walked):
            selection.skip("excluded")
        else:
            selection.files.append(key)

    for arg, is_folder in named:
        path = Path(arg)
        if not is_folder:
            add(os.path.abspath(path), Path(os.path.abspath(path)).parent, walked=False)
            continue
        root_text = os.path.abspath(path)
        root = Path(root_text)
        walked.append(root)
        listing = _list_folder(path)
        for reason, count in listing.skipped.items():
            selection.skip(reason, count)
        ignored.append((root, listing.ignored))
        for name in listing.names:
            # as os.path.abspath(path / name), in strings: a repository lists tens of thousands of names
            candidate = os.path.normpath(os.path.join(root_text, name))
            try:
                mode = os.lstat(candidate).st_mode
            except OSError:  # listed by git, deleted since
                continue
            if stat.S_ISREG(mode):
                add(candidate, root, walked=True)
            else:
                selection.skip(_not_a_file(mode))
    if excluder is not None:
        unlisted = ((root / name, root) for root, names in ignored for name in names)
        selection.warnings = [_unmatched_warning(exclude) for exclude in excluder.unmatched(walked, unlisted)]
    return selection
