"""PIN032 (`--online` only): pins to releases younger than the `cooldown` setting (see
`mlgate.online.cooldown` for the threshold, the wording and why).

- An exact PyPI pin (a `pinned.PIN` note: requirements, pyproject, lock files...): the earliest
  `upload_time_iso_8601` of the version's files, from PyPI's JSON API
  `GET {MLGATE_PYPI_URL}/pypi/{name}/{version}/json`. A version PyPI does not have (404: a
  private index, a local `+cu121` version) or that has no file is not judged.
- An action or reusable workflow at a commit SHA (a `pinned.ACTION_AT_COMMIT` note):
  `commit.committer.date` of `GET {GITHUB_API_URL}/repos/{owner}/{repo}/commits/{sha}`; a
  commit GitHub does not have (404) is not judged.
- An action at a tag or branch (a PIN020 finding): the date of the commit the ref names today,
  from the same answer that resolves it for the PIN020 message (`online.github.commit`).

Lookups go through `session.lookup` (one per release per run, kept in the disk cache) and are
made side by side (`cooldown.gather`): a lock file pins hundreds of releases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

from mlgate.findings import Finding
from mlgate.hook import ScanContext
from mlgate.notes import Note
from mlgate.online import OnlineError, OnlineSession, RepeatedFailure
from mlgate.online.cooldown import gather, released_at, too_young
from mlgate.online.github import Commit, commit, known_commit
from mlgate.pins.pinned import ACTION_AT_COMMIT, PIN, pin_key
from mlgate.pins.rules import RELEASE_TOO_NEW

FIX = "pin the previous release, or wait until then to take this one"


def wanted(session: OnlineSession) -> bool:
    return session.cooldown > 0 and session.wanted(RELEASE_TOO_NEW.code)


def pypi_upload(session: OnlineSession, name: str, version: str) -> datetime | None:
    """When `name` `version` was first uploaded to PyPI (its earliest file); None when PyPI has no such release or no file of it."""

    def fetch() -> str | None:
        url = f"{session.settings.pypi_url}/pypi/{quote(name, safe='')}/{quote(version, safe='')}/json"
        answer = session.http.json("GET", url, ok=(200, 404))
        if answer is None:
            return None
        files = answer.get("urls") if isinstance(answer, dict) else None
        if not isinstance(files, list):
            raise OnlineError(f"GET {url}: malformed response (no 'urls' list)")
        uploads = [file.get("upload_time_iso_8601") or file.get("upload_time") for file in files if isinstance(file, dict)]
        if not uploads:
            return None
        return min(released_at(upload, f"GET {url}") for upload in uploads).isoformat()

    found = session.lookup(("pypi-upload", name, version), fetch)
    return None if found is None else released_at(found, f"PyPI release {name} {version}")


def commit_date(session: OnlineSession, owner: str, repo: str, ref: str) -> tuple[str, datetime | None]:
    """(the commit `ref` names in github.com/owner/repo, its committer date or None when GitHub gives none)."""
    found = commit(session, owner, repo, ref)
    return found.sha, _date(found, owner, repo)


def _date(found: Commit | None, owner: str, repo: str) -> datetime | None:
    if found is None or found.date is None:
        return None
    return released_at(found.date, f"commit {found.sha} of github.com/{owner}/{repo}")


def release_findings(session: OnlineSession, context: ScanContext) -> list[Finding]:
    """PIN032 for the exact pins and the actions at a commit noted by the scanners."""
    if not wanted(session):
        return []
    notes = sorted({*context.notes_of(PIN), *context.notes_of(ACTION_AT_COMMIT)}, key=lambda n: (n.path, n.line, n.column, n.kind))
    if not notes:
        return []
    calls: list[Callable[[], tuple[str, datetime | None]]] = [_date_of(session, note) for note in notes]
    findings = []
    for note, result in zip(notes, gather(session, calls), strict=True):
        if isinstance(result, OnlineError):
            session.error(note.path, f"line {note.line}: {result}")
            continue
        what, released = result
        young = too_young(session, released) if released is not None else None
        if young is not None:
            message = young.describe(what, FIX) + note.where
            findings.append(RELEASE_TOO_NEW.finding(note.path, note.line, note.column, message))
    return findings


def _date_of(session: OnlineSession, note: Note) -> Callable[[], tuple[str, datetime | None]]:
    """A call that looks up the date of what `note` pins: (how the message names it, the date)."""
    if note.kind == PIN.name:
        name, version = pin_key(note)

        def pypi() -> tuple[str, datetime | None]:
            return f"{note.subject[0]} {version} was first uploaded to PyPI", pypi_upload(session, name, version)

        return pypi
    owner, repo, sha = note.subject

    def github() -> tuple[str, datetime | None]:
        date = _date(known_commit(session, owner, repo, sha), owner, repo)  # a commit GitHub does not have is not judged
        return f"action {owner}/{repo} at commit {sha[:12]} was committed", date

    return github


def moved_action_finding(session: OnlineSession, finding: Finding, owner: str, repo: str, ref: str) -> Finding | None:
    """PIN032 for an action at a tag or branch (`finding` is its PIN020) whose commit today is inside the cooldown."""
    if not wanted(session) or finding.line is None:
        return None
    try:
        sha, released = commit_date(session, owner, repo, ref)
    except RepeatedFailure:
        return None  # resolving it for PIN020 failed, and said so
    except OnlineError as exc:
        session.error(finding.path, f"line {finding.line}: {exc}")
        return None
    young = too_young(session, released) if released is not None else None
    if young is None:
        return None
    message = young.describe(f"action {owner}/{repo}@{ref} is commit {sha[:12]} today, committed", FIX)
    return RELEASE_TOO_NEW.finding(finding.path, finding.line, finding.column, message)
