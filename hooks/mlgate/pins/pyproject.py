"""`pyproject.toml`: PEP 621 and PEP 735 dependencies, build requirements, Poetry and uv.

Version ranges follow the `ranges` option: under `auto` (the default) the project decides
(`mlgate.pins.project`): a library keeps the ranges of its whole pyproject (`[project]`
dependencies and extras, dependency groups, uv/PDM/Poetry dev dependencies and groups, build
requirements): they are metadata its users and contributors resolve, and what its CI installs
is checked where it installs it (the workflow's `pip install`, a lock file). An application's
ranges are accepted beside a lock file, and the message says to commit one. A project's
references to itself (`mypkg[api]` in mypkg's extras) are not dependencies. VCS and URL
problems and package indexes are reported whatever the policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.identity import in_test_folder
from mlgate.pins import tomlfile
from mlgate.pins.pinned import note_pin, poetry_pin_text
from mlgate.pins.project import is_library, project_name, self_reference
from mlgate.pins.requirement import (
    Problem,
    advised,
    canonical_name,
    check_git_table,
    check_index,
    check_poetry_version,
    check_requirement,
    check_url,
    place,
    range_advice,
    ranges_accepted,
    uv_strategy_is_unsafe,
    without_ranges,
)
from mlgate.pins.tomlfile import Path, Positions

# Keys of a Poetry dependency table that install it from elsewhere than an index.
NOT_FROM_INDEX = frozenset({"git", "url", "path", "file"})
# Source tables of uv that pin a dependency by themselves (a commit, a file, the workspace).
UV_PINNING_SOURCES = ("git", "url", "path", "workspace")
LOCK_COMMANDS = "uv lock, poetry lock or pdm lock"
PIN_BUILD = "; build requirements are not pinned by a lock file: pin it exactly (==X.Y.Z)"


def matches(path: str) -> bool:
    return path.rsplit("/", 1)[-1] == "pyproject.toml"


def _table(data: Any, *keys: str) -> dict[str, Any]:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def requirement_lists(data: dict[str, Any]) -> Iterator[tuple[Path, Any]]:
    """Every list of PEP 508 strings a pyproject holds as metadata, by path (as written: maybe not a list, or None)."""
    project = _table(data, "project")
    yield ("project", "dependencies"), project.get("dependencies")
    for extra, items in _table(project, "optional-dependencies").items():
        yield ("project", "optional-dependencies", extra), items
    for group, items in _table(data, "dependency-groups").items():
        yield ("dependency-groups", group), items  # `{include-group = ...}` entries are skipped below
    yield ("tool", "uv", "dev-dependencies"), _table(data, "tool", "uv").get("dev-dependencies")
    for group, items in _table(data, "tool", "pdm", "dev-dependencies").items():
        yield ("tool", "pdm", "dev-dependencies", group), items


def check_strings(
    path: Path,
    items: Any,
    positions: Positions,
    source: SourceFile,
    context: ScanContext,
    accepted: bool,
    governed: frozenset[str],
    *,
    advice: str,
    name: str | None = None,
) -> Iterator[Finding]:
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if isinstance(item, str):
            if self_reference(item, name):
                continue  # `mypkg[api]` in mypkg's own metadata: its extras, not a dependency
            problems = advised(without_ranges(check_requirement(item, constraints=governed), accepted), advice)
            for problem in problems:
                yield place(problem, source.path, *positions.value((*path, index)))
            if context.online:  # looked up in OSV after the scan
                note_pin(context, item, source.path, *positions.value((*path, index)))


def git_or_url_problems(spec: dict[str, Any]) -> list[Problem] | None:
    """A `{git = ..., rev/tag/branch = ...}` or `{url = ...}` table (Poetry, uv); None for others."""
    if isinstance(spec.get("git"), str):
        ref = spec.get("rev") or spec.get("tag") or spec.get("branch")
        return check_git_table(spec["git"], ref if isinstance(ref, str) else None)
    if isinstance(spec.get("url"), str):
        return check_url(spec["url"])
    return None


def poetry_problems(name: str, spec: Any) -> list[Problem]:
    """One Poetry dependency: a constraint string, a table, or a list of tables with markers."""
    if isinstance(spec, list):
        return [problem for item in spec for problem in poetry_problems(name, item)]
    if isinstance(spec, str):
        return check_poetry_version(name, spec)
    if not isinstance(spec, dict) or "path" in spec:
        return []
    direct = git_or_url_problems(spec)
    if direct is not None:
        return direct
    version = spec.get("version", "*")
    return check_poetry_version(name, version) if isinstance(version, str) else []


def poetry_version(spec: Any) -> str | None:
    """The version constraint of a Poetry dependency installed from an index (None for git, url, path, lists)."""
    if isinstance(spec, dict):
        return None if NOT_FROM_INDEX.intersection(spec) else spec.get("version")
    return spec if isinstance(spec, str) else None


def poetry_dependency_tables(poetry: dict[str, Any]) -> Iterator[tuple[Path, dict[str, Any]]]:
    base = ("tool", "poetry")
    yield (*base, "dependencies"), _table(poetry, "dependencies")
    yield (*base, "dev-dependencies"), _table(poetry, "dev-dependencies")
    for group, table in _table(poetry, "group").items():
        yield (*base, "group", group, "dependencies"), _table(table, "dependencies")


def uv_source_problems(spec: Any) -> list[Problem]:
    if isinstance(spec, list):
        return [problem for item in spec for problem in uv_source_problems(item)]
    return (git_or_url_problems(spec) or []) if isinstance(spec, dict) else []


def uv_governed(sources: dict[str, Any]) -> frozenset[str]:
    """Names whose [tool.uv.sources] entry decides what is installed (checked there instead)."""
    governed = set()
    for name, spec in sources.items():
        specs = spec if isinstance(spec, list) else [spec]
        if any(isinstance(s, dict) and any(k in s for k in UV_PINNING_SOURCES) for s in specs):
            governed.add(canonical_name(name))
    return frozenset(governed)


def _priority(source: dict[str, Any]) -> str:
    """A Poetry source's priority, reading the `default`/`secondary` flags of Poetry < 1.5."""
    if isinstance(source.get("priority"), str):
        return source["priority"]
    return "default" if source.get("default") else "supplemental" if source.get("secondary") else "primary"


def poetry_source_problems(sources: list[Any], allowed: list[str]) -> Iterator[tuple[int, Problem]]:
    """Poetry resolves from every non-explicit source; a primary one switches PyPI off."""
    entries = [(i, s) for i, s in enumerate(sources) if isinstance(s, dict)]
    resolving = {i for i, s in entries if _priority(s) != "explicit"}
    primary = [i for i, s in entries if _priority(s) in ("primary", "default")]
    main = primary[0] if primary else None  # no primary source: PyPI stays the main one
    for index, entry in entries:
        url = entry.get("url")
        if not isinstance(url, str):
            continue  # `name = "PyPI"` without a url is PyPI itself
        extra = index != main and index in resolving
        for problem in check_index(url, extra=extra, allowed=allowed):
            yield index, problem


def uv_index_problems(uv: dict[str, Any], allowed: list[str]) -> Iterator[tuple[Path, Problem]]:
    base = ("tool", "uv")
    # uv takes each name from the first index that has it unless `index-strategy` says otherwise:
    # only then can another index answer for a name (see PIN004).
    competing = uv_strategy_is_unsafe(str(uv.get("index-strategy", "")))
    if isinstance(uv.get("index-url"), str):
        for problem in check_index(uv["index-url"], extra=False):
            yield (*base, "index-url"), problem
    for key, extra in (("extra-index-url", competing), ("find-links", False)):
        urls = uv.get(key)
        for i, url in enumerate(urls if isinstance(urls, list) else []):
            if isinstance(url, str):
                for problem in check_index(url, extra=extra, allowed=allowed):
                    yield (*base, key, i), problem
    indexes = uv.get("index")
    for i, index in enumerate(indexes if isinstance(indexes, list) else []):
        if isinstance(index, dict) and isinstance(index.get("url"), str):
            # uv searches a non-default index before PyPI unless it is `explicit` (named per package).
            extra = competing and not index.get("default") and not index.get("explicit")
            for problem in check_index(index["url"], extra=extra, allowed=allowed):
                yield (*base, "index", i, "url"), problem


def scan(source: SourceFile, context: ScanContext) -> Iterator[Finding]:
    data = tomlfile.load(source)  # always: a pyproject that is not TOML is an error entry
    positions = Positions(source)
    allowed = context.options.get("allowed-indexes", [])
    name = project_name(data)
    # A project inside a test folder is a fixture the tests build (a service, a plugin): its ranges
    # are metadata, as a library's are; what the tests install is judged where they install it.
    library = is_library(data) or in_test_folder(source)
    accepted = ranges_accepted(source, context, library=library)
    advice = range_advice(context, LOCK_COMMANDS, source.name)
    uv = _table(data, "tool", "uv")
    uv_sources = _table(uv, "sources")
    governed = uv_governed(uv_sources)

    for path, items in requirement_lists(data):
        yield from check_strings(path, items, positions, source, context, accepted, governed, advice=advice, name=name)
    # A lock file pins the project's dependencies but not what builds it.
    policy = context.options.get("ranges", "auto")
    build_accepted = policy == "always" or (policy == "auto" and library)
    yield from check_strings(
        ("build-system", "requires"),
        _table(data, "build-system").get("requires"),
        positions,
        source,
        context,
        build_accepted,
        frozenset(),
        advice=PIN_BUILD,
    )

    poetry = _table(data, "tool", "poetry")
    for path, table in poetry_dependency_tables(poetry):
        for dependency, spec in table.items():
            if dependency.lower() == "python" or canonical_name(dependency) == name:
                continue
            for problem in advised(without_ranges(poetry_problems(dependency, spec), accepted), advice):
                yield place(problem, source.path, *positions.key((*path, dependency)))
            version = poetry_version(spec) if context.online else None
            if isinstance(version, str) and (text := poetry_pin_text(dependency, version)):
                note_pin(context, text, source.path, *positions.key((*path, dependency)))
    sources = poetry.get("source")
    for index, problem in poetry_source_problems(sources if isinstance(sources, list) else [], allowed):
        yield place(problem, source.path, *positions.value(("tool", "poetry", "source", index, "url")))

    for name, spec in uv_sources.items():
        for problem in uv_source_problems(spec):
            yield place(problem, source.path, *positions.key(("tool", "uv", "sources", name)))
    for path, problem in uv_index_problems(uv, allowed):
        yield place(problem, source.path, *positions.value(path))


SCANNER = Scanner("pyproject", matches=matches, scan=scan)
