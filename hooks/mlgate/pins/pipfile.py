"""`Pipfile`: package categories and `[[source]]` indexes.

A Pipfile is an application manifest that pairs with `Pipfile.lock`: its version ranges
are accepted (under `ranges = "with-lock-file"` or `"always"`) only when that lock file
sits beside it, and the lock file is then checked instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.pins import tomlfile
from mlgate.pins.pinned import note_pin
from mlgate.pins.requirement import (
    Problem,
    advised,
    check_git_table,
    check_index,
    check_requirement,
    check_url,
    place,
    range_advice,
    ranges_accepted,
    without_ranges,
)
from mlgate.pins.rules import INSECURE_INDEX
from mlgate.pins.tomlfile import Positions

NOT_PACKAGES = {"source", "requires", "scripts", "pipenv"}
NOT_FROM_INDEX = frozenset({"git", "file", "path"})


def matches(path: str) -> bool:
    return path.rsplit("/", 1)[-1] == "Pipfile"


def package_problems(name: str, spec: Any) -> list[Problem]:
    """`"*"`, `"==1.0"`, or a table with version, git + ref, file or path."""
    if isinstance(spec, dict):
        if isinstance(spec.get("git"), str):
            ref = spec.get("ref")
            return check_git_table(spec["git"], ref if isinstance(ref, str) else None)
        if isinstance(spec.get("file"), str):
            return check_url(spec["file"])
        if "path" in spec:
            return []
    text = index_requirement(name, spec)
    return check_requirement(text) if text is not None else []


def index_requirement(name: str, spec: Any) -> str | None:
    """`name ==1.0` of a package installed from an index (a version string, or a table's `version`)."""
    if isinstance(spec, dict):
        if NOT_FROM_INDEX.intersection(spec):
            return None
        spec = spec.get("version", "*")
    if not isinstance(spec, str):
        return None
    version = spec.strip()
    return name if version in ("", "*") else f"{name} {version}"


def source_problems(index: int, source: dict[str, Any], used: set[str], allowed: list[str]) -> Iterator[tuple[str, Problem]]:
    """(key the problem is about, problem) for one `[[source]]`."""
    url = source.get("url")
    if isinstance(url, str):
        # Sources after the first are searched for every package unless only named by `index =`.
        extra = index > 0 and source.get("name") not in used
        for problem in check_index(url, extra=extra, allowed=allowed):
            yield "url", problem
    if source.get("verify_ssl") is False:
        yield (
            "verify_ssl",
            Problem(
                INSECURE_INDEX,
                f"source {source.get('name', url)!s} sets verify_ssl = false: TLS certificate checks are off, anyone on the network path can serve packages",
            ),
        )


def scan(source: SourceFile, context: ScanContext) -> Iterator[Finding]:
    data = tomlfile.load(source)
    positions = Positions(source)
    accepted = ranges_accepted(source, context, lock_files=("Pipfile.lock",), metadata=False)
    advice = range_advice(context, "pipenv lock", source.name)
    used_indexes = set()
    for category, packages in data.items():
        if category in NOT_PACKAGES or not isinstance(packages, dict):
            continue
        for name, spec in packages.items():
            if isinstance(spec, dict) and isinstance(spec.get("index"), str):
                used_indexes.add(spec["index"])
            for problem in advised(without_ranges(package_problems(name, spec), accepted), advice):
                yield place(problem, source.path, *positions.key((category, name)))
            if context.online and (text := index_requirement(name, spec)):  # looked up in OSV after the scan
                note_pin(context, text, source.path, *positions.key((category, name)))
    sources = data.get("source")
    allowed = context.options.get("allowed-indexes", [])
    for index, entry in enumerate(sources if isinstance(sources, list) else []):
        if isinstance(entry, dict):
            for key, problem in source_problems(index, entry, used_indexes, allowed):
                yield place(problem, source.path, *positions.value(("source", index, key)))


SCANNER = Scanner("pipfile", matches=matches, scan=scan)
