"""Which versions of a package a repository declares, read from its top-level manifests only.

A small reader for hooks that need one fact about a dependency (is torch held below the release
that fixed a loader?), not the `pins` hook's full parsers of every manifest kind: the root's
`requirements*.txt`, `requirements/*.txt` and `pyproject.toml` (PEP 621 lists and Poetry tables),
line by line, with the requirement's version clauses (`==`, `<`, `<=`, `>=`, `>`, `~=`, and
Poetry's `^`). Environment markers, extras and URLs are ignored; a clause it cannot read makes
the declaration say nothing about that bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

Version = tuple[int, ...]
_NUMBERS = re.compile(r"\d+(?:\.\d+)*")
_CLAUSE = re.compile(r"(===|==|~=|!=|<=|>=|<|>|\^|~)\s*([0-9][0-9A-Za-z.*+!-]*)")


@dataclass(frozen=True)
class Declared:
    """One declaration of the package: where it is and the versions it admits."""

    path: Path
    line: int
    text: str  # the requirement as written, e.g. `torch==2.5.1`
    lowest: Version | None  # every admitted version is >= this (None: no lower bound)
    below: Version | None  # every admitted version is < this (None: no upper bound)

    def admits_only_below(self, version: Version) -> bool:
        return self.below is not None and _padded(self.below) <= _padded(version)

    def admits_only_from(self, version: Version) -> bool:
        return self.lowest is not None and _padded(self.lowest) >= _padded(version)


def _padded(version: Version) -> Version:
    return (*version, *(0,) * (4 - len(version)))


def _version(text: str) -> Version | None:
    match = _NUMBERS.match(text)
    return tuple(int(part) for part in match.group().split(".")) if match else None


def _next_release(version: Version, keep: int) -> Version:
    """The first version past the series `version[:keep]` (`~=2.5.1` -> below 2.6)."""
    head = list(version[: max(keep, 1)])
    head[-1] += 1
    return tuple(head)


def bounds(clauses: str) -> tuple[Version | None, Version | None]:
    """(lowest admitted, first excluded above) of version clauses like `>=2.1,<2.6` or `^2.1`."""
    lowest: Version | None = None
    below: Version | None = None
    for operator, text in _CLAUSE.findall(clauses):
        version = _version(text)
        if version is None:
            continue
        exact = operator in ("==", "===") and "*" not in text
        if operator in (">=", ">", "~=", "^", "~") or exact:
            lowest = max(lowest or version, version, key=_padded)
        if exact:
            upper = (*version[:-1], version[-1] + 1)
        elif operator in ("==", "===") and "*" in text:  # `==2.5.*`
            upper = _next_release(version, len(version))
        elif operator == "<":
            upper = version
        elif operator == "<=":
            upper = (*version[:-1], version[-1] + 1)
        elif operator == "~=":
            upper = _next_release(version, len(version) - 1)
        elif operator == "^":  # Poetry: up to the next release of the first non-zero part
            nonzero = next((index for index, part in enumerate(version) if part), len(version) - 1)
            upper = _next_release(version, nonzero + 1)
        elif operator == "~":  # Poetry: up to the next minor release
            upper = _next_release(version, 2 if len(version) > 1 else 1)
        else:
            continue
        below = min(below or upper, upper, key=_padded)
    return lowest, below


def _manifests(root: Path) -> list[Path]:
    found = sorted(root.glob("requirements*.txt")) + sorted(root.glob("requirements/*.txt"))
    pyproject = root / "pyproject.toml"
    return [*found, pyproject] if pyproject.is_file() else found


def declared(root: Path, package: str) -> list[Declared]:
    """Every declaration of `package` (a normalised name, e.g. `torch`) in the root's manifests."""
    name = re.escape(package).replace(r"\-", "[-_.]")
    # `torch==2.5.1`, `"torch>=2.1,<2.6; python_version > '3.8'"`, Poetry's `torch = "^2.1"` / `torch = {version = "^2.1"}`
    requirement = re.compile(
        rf"""^\s*["']?{name}(?:\[[^\]]*\])?["']?\s*(?:=\s*(?:\{{[^}}]*version\s*=\s*)?["'])?\s*(?P<clauses>[<>=!~^][^;#"']*)""", re.I
    )
    result: list[Declared] = []
    for path in _manifests(root):
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for number, line in enumerate(lines, start=1):
            match = requirement.match(line)
            if match is None:
                continue
            lowest, below = bounds(match.group("clauses"))
            result.append(Declared(path, number, line.strip().strip(",").strip("\"'"), lowest, below))
    return result
