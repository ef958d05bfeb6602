"""What a hook is, as far as the core is concerned.

A hook is a name, its rules, its options and a list of scanners; a scanner says which
files it wants (by name, or by sniffing a few bytes) and turns one `SourceFile` into
findings (and notes for the hook's online check, see `mlgate.notes`). A hook's rules are
the ones its `rules` module declares (`declared_rules(hook name)`). The core knows nothing
else about any hook.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mlgate.files import MissingFile, SourceFile, display_path
from mlgate.findings import Finding, Rule
from mlgate.notes import Note, NoteKind

T = TypeVar("T")

if TYPE_CHECKING:
    from mlgate.online import OnlineModule, RemoteScanModule, RepositoryScanModule


@dataclass(frozen=True)
class Option:
    """A per-hook setting, read from `[tool.mlgate.<hook>]` or the `<hook>:` section."""

    name: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()

    def validate(self, value: Any) -> Any:
        expected = type(self.default)
        if expected is list:
            if not isinstance(value, list) or not all(isinstance(item, (str, dict)) for item in value):
                raise ValueError("expected a list")
            return value
        if expected is bool and not isinstance(value, bool):
            raise ValueError("expected true or false")
        if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("expected a whole number")
        if expected is str:
            if not isinstance(value, str):
                raise ValueError("expected a string")
            if self.choices and value not in self.choices:
                raise ValueError(f"expected one of: {', '.join(self.choices)}")
        return value


@dataclass(frozen=True)
class Scanner:
    """One file kind of one hook: `matches(relpath)` decides, `scan` reports (findings, and
    any notes beside them: the engine keeps those for the online check)."""

    name: str
    matches: Callable[[str], bool]
    scan: Callable[[SourceFile, ScanContext], Iterable[Finding | Note]]


@dataclass(frozen=True)
class Hook:
    name: str
    description: str
    rules: tuple[Rule, ...]  # `declared_rules(name)`, once the hook's rules module is imported
    scanners: tuple[Scanner, ...]
    options: tuple[Option, ...] = ()
    # Module with the hook's `--online` check and `--fix` fixers (see mlgate/online/__init__.py
    # for what it exposes); imported only when the network is asked for.
    online: str | None = None
    # Module that scans remote files (hub files read by ranged requests, see `RemoteScanModule`
    # in mlgate/online/__init__.py); imported only when there are remote files to scan.
    remote_scan: str | None = None
    # Module that checks one hub repository by id for `mlgate scan hf://owner/repo[@rev]` (see
    # `RepositoryScanModule` in mlgate/online/__init__.py); imported only by that command.
    repository_scan: str | None = None

    def online_module(self) -> OnlineModule | None:
        return importlib.import_module(self.online) if self.online else None

    def repository_scan_module(self) -> RepositoryScanModule | None:
        return importlib.import_module(self.repository_scan) if self.repository_scan else None

    def remote_scan_module(self) -> RemoteScanModule | None:
        """The `remote_scan` module, or None when the hook has none (or it is not there yet)."""
        if not self.remote_scan:
            return None
        try:
            return importlib.import_module(self.remote_scan)
        except ModuleNotFoundError as exc:
            if exc.name != self.remote_scan:
                raise
            return None


@dataclass
class ScanContext:
    """What a scanner may use besides its own file: its options and other files."""

    options: dict[str, Any] = field(default_factory=dict)
    online: bool = False  # notes are kept only for an online run; offline they cost nothing
    notes: list[Note] = field(default_factory=list)
    _cache: dict[Path, SourceFile] = field(default_factory=dict, repr=False)
    _once: dict[tuple[str, Path], Any] = field(default_factory=dict, repr=False)

    def note(self, note: Note) -> None:
        """Keep something the hook's online check will look up (an exact pin, a hub reference)."""
        if self.online:
            self.notes.append(note)

    def notes_of(self, kind: NoteKind) -> list[Note]:
        return [note for note in self.notes if note.kind == kind.name]

    def source(self, path: str | Path, relative_to: SourceFile | None = None) -> SourceFile:
        """Open another file (an include, a lock file) as a `SourceFile`.

        Raises `MissingFile` when it does not exist; the caller decides what that means.
        """
        target = Path(path)
        if relative_to is not None and not target.is_absolute():
            target = relative_to.abspath.parent / target
        key = Path(os.path.abspath(target))
        if key not in self._cache:
            if not key.is_file():
                raise MissingFile(f"referenced file {display_path(key)} does not exist")
            self._cache[key] = SourceFile(path=display_path(key), abspath=key)
        return self._cache[key]

    def opened(self) -> list[SourceFile]:
        """The other files opened so far with `source()`: for the report's lines and ignore comments."""
        return list(self._cache.values())

    def once(self, purpose: str, source: SourceFile, compute: Callable[[SourceFile], T]) -> T:
        """`compute(source)` once per run for each file opened with `source()`: an included
        template read by the thousands of files that include it is judged once. The result is
        shared, so callers must not change it."""
        key = (purpose, source.abspath)
        if key not in self._once:
            self._once[key] = compute(source)
        return self._once[key]

    def sibling_exists(self, source: SourceFile, name: str) -> bool:
        return (source.abspath.parent / name).is_file()
