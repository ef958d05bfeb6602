"""Known advisories of exact pins, from OSV (osv.dev) or an offline copy of its database.

Online: one `POST /v1/querybatch` for every pin, then `GET /v1/vulns/<id>` for the details
of each advisory found (both cached). Offline (`osv-database` option or MLGATE_OSV_DATABASE):
a folder of OSV JSON records as OSV publishes them (`gs://osv-vulnerabilities/PyPI/all.zip`,
unzipped or not), matched here with the OSV rules: a version listed in `versions`, or inside
an `introduced`/`fixed`/`last_affected` range.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.notes import Note
from mlgate.online import OnlineError, OnlineSession
from mlgate.pins.pinned import pin_key
from mlgate.pins.requirement import canonical_name

ECOSYSTEM = "PyPI"
BATCH = 1000  # OSV's limit of queries per querybatch request


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    summary: str
    details: str
    severity: str | None  # low, medium, high, critical, as the record states it
    fixed: tuple[str, ...]  # versions that fix it, for the pinned package

    @property
    def names(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


_SEVERITY_WORDS = {"low": "low", "moderate": "medium", "medium": "medium", "high": "high", "critical": "critical"}


def advisory(record: dict[str, Any], package: str) -> Advisory:
    """An OSV record, reduced to what a finding says about one package."""
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise ValueError("an OSV record needs an 'id'")
    specific = _dict(record.get("database_specific"))
    severity = _SEVERITY_WORDS.get(str(specific.get("severity", "")).lower())
    fixed = [
        str(event["fixed"])
        for affected in _affected(record, package)
        for range_ in _list(affected.get("ranges"))
        for event in _list(range_.get("events"))
        if "fixed" in event
    ]
    aliases = tuple(str(alias) for alias in _list(record.get("aliases")) if isinstance(alias, str))
    return Advisory(
        record["id"], aliases, str(record.get("summary") or ""), str(record.get("details") or ""), severity, tuple(dict.fromkeys(fixed))
    )


def _list(value: Any) -> list[Any]:
    return [item for item in value if isinstance(item, (dict, str))] if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _affected(record: dict[str, Any], package: str) -> Iterator[dict[str, Any]]:
    wanted = canonical_name(package)
    for affected in _list(record.get("affected")):
        if not isinstance(affected, dict):
            continue
        meta = _dict(affected.get("package"))
        if meta.get("ecosystem") == ECOSYSTEM and canonical_name(str(meta.get("name", ""))) == wanted:
            yield affected


# --- online -------------------------------------------------------------------------------


def query_api(session: OnlineSession, pins: list[Note]) -> dict[tuple[str, str], list[Advisory]]:
    """Advisories of each (canonical name, version), from the OSV API."""
    keys = sorted({pin_key(pin) for pin in pins})
    base = session.settings.osv_url
    ids: dict[tuple[str, str], list[str]] = {}
    for start in range(0, len(keys), BATCH):
        chunk = keys[start : start + BATCH]
        body = {"queries": [{"package": {"name": name, "ecosystem": ECOSYSTEM}, "version": version} for name, version in chunk]}
        answer = session.http.json("POST", f"{base}/v1/querybatch", body=body)
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(chunk):
            raise OnlineError(f"POST {base}/v1/querybatch: malformed response (expected {len(chunk)} results)")
        for key, result in zip(chunk, results, strict=True):  # lengths checked above
            vulns = result.get("vulns", []) if isinstance(result, dict) else None
            if not isinstance(vulns, list) or not all(isinstance(v, dict) and isinstance(v.get("id"), str) for v in vulns):
                raise OnlineError(f"POST {base}/v1/querybatch: malformed response (a result without vulnerability ids)")
            ids[key] = [v["id"] for v in vulns]
    records: dict[str, dict[str, Any]] = {}
    for vuln_id in sorted({i for found in ids.values() for i in found}):
        records[vuln_id] = session.http.json("GET", f"{base}/v1/vulns/{vuln_id}")
    try:
        return {key: [advisory(records[i], key[0]) for i in found] for key, found in ids.items() if found}
    except ValueError as exc:
        raise OnlineError(f"GET {base}/v1/vulns: malformed response ({exc})") from None


# --- offline database ---------------------------------------------------------------------


def _records(folder: Path) -> Iterator[tuple[str, bytes]]:
    import zipfile

    for path in sorted(folder.rglob("*")):
        if path.suffix == ".json" and path.is_file():
            yield str(path), path.read_bytes()
        elif path.suffix == ".zip" and path.is_file():
            try:
                with zipfile.ZipFile(path) as archive:
                    for member in archive.namelist():
                        if member.endswith(".json"):
                            yield f"{path}:{member}", archive.read(member)
            except zipfile.BadZipFile as exc:
                raise OnlineError(f"OSV database {path}: {exc}") from None


def query_database(folder: str, pins: list[Note]) -> dict[tuple[str, str], list[Advisory]]:
    """Advisories of each (canonical name, version), from an offline OSV export."""
    root = Path(folder)
    if not root.is_dir():
        raise OnlineError(f"OSV database {folder}: not a directory")
    versions: dict[str, set[str]] = {}
    for name, version in {pin_key(pin) for pin in pins}:
        versions.setdefault(name, set()).add(version)
    found: dict[tuple[str, str], list[Advisory]] = {}
    try:
        for where, data in _records(root):
            folded = data.lower().replace(b"_", b"-").replace(b".", b"-")
            if not any(name.encode() in folded for name in versions):
                continue  # cheap prefilter: most records are about other packages
            try:
                record = json.loads(data)
            except ValueError:
                raise OnlineError(f"OSV database {where}: not valid JSON") from None
            for name, pinned in versions.items():
                affected = list(_affected(record, name))
                for version in sorted(pinned):
                    if any(_affects(entry, version) for entry in affected):
                        found.setdefault((name, version), []).append(advisory(record, name))
    except OSError as exc:
        raise OnlineError(f"OSV database {folder}: {exc}") from None
    return found


def _affects(affected: dict[str, Any], version: str) -> bool:
    if version in _list(affected.get("versions")):
        return True
    key = version_key(version)
    if key is None:
        return False
    for range_ in _list(affected.get("ranges")):
        if isinstance(range_, dict) and range_.get("type") in ("ECOSYSTEM", "SEMVER") and _in_range(key, _list(range_.get("events"))):
            return True
    return False


def _in_range(key: tuple, events: list[dict[str, Any]]) -> bool:
    """OSV's range rule: walk the events in version order, switching on and off."""
    keyed = []
    for event in events:
        for kind in ("introduced", "fixed", "last_affected"):
            if kind in event:
                bound = (0,) if event[kind] == "0" else version_key(str(event[kind]))
                if bound is None:
                    return False
                keyed.append((bound, kind))
    affected = False
    for bound, kind in sorted(keyed):
        if kind == "introduced" and key >= bound:
            affected = True
        elif kind == "fixed" and key >= bound or kind == "last_affected" and key > bound:
            affected = False
    return affected


_VERSION = re.compile(
    r"v?(\d+(?:\.\d+)*)"
    r"(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?"
    r"(?:[-_.]?(?:post|rev|r)[-_.]?(\d*))?"
    r"(?:[-_.]?dev[-_.]?(\d*))?"
    r"(?:\+[a-z0-9.]*)?",
    re.I,
)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}


def version_key(version: str) -> tuple | None:
    """A sort key with PEP 440's order (1.0.dev1 < 1.0a1 < 1.0rc1 < 1.0 < 1.0.post1), or None."""
    match = _VERSION.fullmatch(version.strip())
    if match is None:
        return None
    release_text, pre, pre_n, post, dev = match.groups()
    release = tuple(int(part) for part in release_text.split("."))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    if pre:
        pre_key = (0, _PRE_RANK[pre.lower()], int(pre_n or 0))
    elif dev is not None and post is None:
        pre_key = (-1, 0, 0)  # 1.0.dev1 sorts before 1.0a1
    else:
        pre_key = (1, 0, 0)
    post_key = (int(post or 0),) if post is not None else (-1,)
    dev_key = (int(dev or 0),) if dev is not None else (float("inf"),)
    return (1, release, pre_key, post_key, dev_key)
