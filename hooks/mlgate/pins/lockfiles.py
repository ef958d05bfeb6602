"""Lock files: `uv.lock`, `poetry.lock`, `pdm.lock`, `pylock.toml`, `Pipfile.lock`.

A lock file is what gets installed when a manifest keeps ranges, so every entry must be
verifiable: each downloaded file with a hash, each VCS source at a full commit. Local
paths (the project itself, workspace members) need neither, and neither does an entry of
`uv.lock` or `pylock.toml` that lists no distribution at all (a release that has files only
for other platforms): those installers download only the files the lock lists. Poetry, PDM
and Pipenv fall back to the index for an entry without files, so that one is reported.
Registries over plain http are reported once per URL. The TOML formats are read with the fast `tomlfile.parse`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from mlgate.files import InvalidText, ScanError, SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.pins import tomlfile
from mlgate.pins.pinned import note_pin, pin_note
from mlgate.pins.requirement import Problem, canonical_name, check_index, place
from mlgate.pins.rules import INSECURE_INDEX, LOCK_UNVERIFIED
from mlgate.pins.tomlfile import Path
from mlgate.problem import is_full_sha

PYLOCK = re.compile(r"pylock\.(?:[^./]+\.)?toml")
Checks = Iterator[tuple[Path, Problem]]


def matches(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name in ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock") or PYLOCK.fullmatch(name) is not None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _table(value: Any) -> dict[str, Any]:
    """`value` if it is a table (a dict), else an empty one."""
    return value if isinstance(value, dict) else {}


def _label(package: dict[str, Any]) -> str:
    return f"'{package.get('name', '?')}' {package.get('version', '')}".rstrip()


def unhashed(package: dict[str, Any], files: list[dict[str, Any]], key: str = "hash") -> list[Problem]:
    """PIN008 unless the entry lists files and every one of them carries a hash."""
    missing = [f for f in files if not f.get(key)]
    if files and not missing:
        return []
    what = "lists no files with hashes" if not files else f"has {len(missing)} file(s) without a hash"
    return [Problem(LOCK_UNVERIFIED, f"{_label(package)} {what}: what is downloaded for it is not verified")]


def not_at_commit(package: dict[str, Any], url: str, commit: Any) -> list[Problem]:
    if isinstance(commit, str) and is_full_sha(commit):
        return []
    return [Problem(LOCK_UNVERIFIED, f"{_label(package)} comes from {url} without a full commit SHA: the checkout can change")]


class _Registries:
    """PIN005 for an http registry, once per URL rather than once per package."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def check(self, url: Any) -> list[Problem]:
        if not isinstance(url, str) or url in self.seen:
            return []
        self.seen.add(url)
        return check_index(url, extra=False)


def uv_lock(data: dict[str, Any]) -> Checks:
    registries = _Registries()
    for i, package in enumerate(_dicts(data.get("package"))):
        here = ("package", i, "name")
        source = _table(package.get("source"))
        if isinstance(source.get("git"), str):  # git = "https://host/repo?rev=main#<commit>"
            url, _, commit = source["git"].partition("#")
            for problem in not_at_commit(package, url, commit):
                yield here, problem
            continue
        registry = source.get("registry")
        if not (isinstance(registry, str) and "://" in registry) and not isinstance(source.get("url"), str):
            continue  # path, directory, editable, virtual or a local registry: the project's own files
        for problem in registries.check(registry):
            yield ("package", i, "source", "registry"), problem
        sdist = package.get("sdist")
        files = _dicts(package.get("wheels")) + ([sdist] if isinstance(sdist, dict) else [])
        if not files:
            continue  # uv records every distribution of every platform: none at all is nothing to download
        for problem in unhashed(package, files):
            yield here, problem


def poetry_lock(data: dict[str, Any]) -> Checks:
    registries = _Registries()
    metadata = _table(data.get("metadata"))
    # Lock files before Poetry 1.5 keep the hashes apart, in [metadata.files].
    old_files = {canonical_name(k): v for k, v in metadata.get("files", {}).items()} if isinstance(metadata.get("files"), dict) else {}
    for i, package in enumerate(_dicts(data.get("package"))):
        here = ("package", i, "name")
        source = _table(package.get("source"))
        kind = source.get("type")
        if kind == "git":
            for problem in not_at_commit(package, str(source.get("url", "")), source.get("resolved_reference")):
                yield here, problem
            continue
        if kind in ("directory", "file"):
            continue
        if kind == "legacy":
            for problem in registries.check(source.get("url")):
                yield ("package", i, "source", "url"), problem
        files = package["files"] if "files" in package else old_files.get(canonical_name(str(package.get("name", ""))))
        for problem in unhashed(package, _dicts(files)):
            yield here, problem


def pdm_lock(data: dict[str, Any]) -> Checks:
    for i, package in enumerate(_dicts(data.get("package"))):
        here = ("package", i, "name")
        vcs = next((package[k] for k in ("git", "hg", "svn", "bzr") if isinstance(package.get(k), str)), None)
        if vcs is not None:
            for problem in not_at_commit(package, vcs, package.get("revision")):
                yield here, problem
        elif "path" not in package:
            for problem in unhashed(package, _dicts(package.get("files"))):
                yield here, problem


def pylock(data: dict[str, Any]) -> Checks:
    registries = _Registries()
    for i, package in enumerate(_dicts(data.get("packages"))):
        here = ("packages", i, "name")
        for problem in registries.check(package.get("index")):
            yield ("packages", i, "index"), problem
        vcs = package.get("vcs")
        if isinstance(vcs, dict):
            for problem in not_at_commit(package, str(vcs.get("url") or vcs.get("path") or "a VCS"), vcs.get("commit-id")):
                yield here, problem
        elif "directory" not in package:
            files = _dicts(package.get("wheels")) + [package[k] for k in ("sdist", "archive") if isinstance(package.get(k), dict)]
            if not files:
                continue  # PEP 751 installs only the files a package lists: none is nothing to download
            for problem in unhashed(package, files, key="hashes"):
                yield here, problem


def pipfile_lock(source: SourceFile, context: ScanContext) -> Iterator[Finding]:
    try:
        data = json.loads(source.text)
    except ValueError as exc:
        raise InvalidText(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ScanError("not a Pipfile.lock: the top level is not an object")
    locate = _JsonLocator(source)
    meta = _table(data.get("_meta"))
    registries = _Registries()
    for index, entry in enumerate(_dicts(meta.get("sources"))):
        for problem in registries.check(entry.get("url")):
            yield place(problem, source.path, *locate.nth_value("sources", "url", index))
        if entry.get("verify_ssl") is False:
            problem = Problem(INSECURE_INDEX, f"source {entry.get('name', '?')} has verify_ssl = false: TLS certificate checks are off")
            yield place(problem, source.path, *locate.nth_value("sources", "verify_ssl", index))
    for section, packages in data.items():
        if section == "_meta" or not isinstance(packages, dict):
            continue
        for name, entry in packages.items():
            if not isinstance(entry, dict):
                continue
            package = {"name": name, "version": entry.get("version", "")}
            from_index = False
            if isinstance(entry.get("git"), str):
                problems = not_at_commit(package, entry["git"], entry.get("ref"))
            elif "path" in entry:
                problems = []
            else:
                hashes = entry.get("hashes")
                problems = unhashed(package, [{"hash": h} for h in hashes] if isinstance(hashes, list) else [])
                from_index = isinstance(package["version"], str)
            if not problems and not (from_index and context.online):
                continue
            line, column = locate.key(section, name)  # once: each lookup moves the section's cursor on
            for problem in problems:
                yield place(problem, source.path, line, column)
            if from_index:  # `"version": "==1.2.3"`, looked up in OSV after an online scan
                note_pin(context, f"{name}{package['version']}", source.path, line, column)


class _JsonLocator:
    """Positions in a Pipfile.lock, which json does not give. Keys are looked up in file
    order, each search starting where the last one of its section ended (linear overall)."""

    def __init__(self, source: SourceFile):
        self.source = source
        self.cursors: dict[str, int] = {}

    def _after(self, start: int, key: str) -> re.Match[str] | None:
        return re.compile(rf'"{re.escape(json.dumps(key)[1:-1])}"\s*:\s*"?').search(self.source.text, start)

    def _section(self, section: str) -> int | None:
        if section not in self.cursors:
            match = self._after(0, section)
            if match is None:
                return None
            self.cursors[section] = match.end()
        return self.cursors[section]

    def key(self, section: str, name: str) -> tuple[int, int]:
        start = self._section(section)
        match = self._after(start, name) if start is not None else None
        if match is None:
            return 1, 1
        self.cursors[section] = match.end()
        return self.source.position(match.start() + 1)

    def nth_value(self, section: str, key: str, index: int) -> tuple[int, int]:
        match, start = None, self._section(section)
        for _ in range(index + 1):
            match = self._after(start, key) if start is not None else None
            start = match.end() if match else None
        return self.source.position(match.end()) if match else (1, 1)


TOML_CHECKS = {"uv.lock": uv_lock, "poetry.lock": poetry_lock, "pdm.lock": pdm_lock}
# Keys (of an entry or of its `source` table) that say it is not a release from an index.
NOT_FROM_INDEX = {"git", "hg", "svn", "bzr", "vcs", "path", "directory", "editable", "virtual"}


def index_releases(data: dict[str, Any]) -> Iterator[tuple[Path, str, str]]:
    """(where, name, version) of each entry of a TOML lock file installed from a package index."""
    key = "packages" if "packages" in data else "package"
    for i, package in enumerate(_dicts(data.get(key))):
        name, version = package.get("name"), package.get("version")
        source = _table(package.get("source"))
        elsewhere = (
            NOT_FROM_INDEX.intersection(package)
            or NOT_FROM_INDEX.intersection(source)
            or source.get("type") in ("git", "directory", "file")
        )
        if isinstance(name, str) and isinstance(version, str) and not elsewhere:
            yield (key, i, "name"), name, version


def scan(source: SourceFile, context: ScanContext) -> Iterator[Finding]:
    if source.name == "Pipfile.lock":
        yield from pipfile_lock(source, context)
        return
    data, positions = tomlfile.parse(source)
    for path, problem in TOML_CHECKS.get(source.name, pylock)(data):
        yield place(problem, source.path, *positions.value(path))
    if context.online:  # exact versions, looked up in OSV after the scan
        for path, name, version in index_releases(data):
            context.note(pin_note(name, version, source.path, *positions.value(path)))


SCANNER = Scanner("lockfiles", matches=matches, scan=scan)
