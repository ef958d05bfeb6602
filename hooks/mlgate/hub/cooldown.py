"""HUB020 (`--online` only): hub references pinned to a commit younger than the `cooldown`
setting (see `mlgate.online.cooldown` for the threshold, the wording and why).

The references are the scanners' `references.PINNED_AT_COMMIT` notes (kind, repository, SHA);
the date is that commit's `date` in the hub's commit list from it,
`GET {HF_ENDPOINT}/api/{kind}s/{repo_id}/commits/{sha}` (what `HfApi.list_repo_commits` reads;
its first entry is the commit itself), with `HF_TOKEN` when set. A repository or commit the hub
does not have (401, 404) is not judged here: HUB010 reports it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

from mlgate.findings import Finding
from mlgate.hook import ScanContext
from mlgate.hub.references import PINNED_AT_COMMIT
from mlgate.hub.rules import REVISION_TOO_NEW
from mlgate.online import OnlineError, OnlineSession
from mlgate.online.cooldown import gather, released_at, too_young

FIX = "pin the previous commit, or wait until then to take this one"


def commit_date(session: OnlineSession, kind: str, repo_id: str, sha: str) -> datetime | None:
    """When commit `sha` of the hub repository was made; None when the hub has no such repository or commit."""

    def fetch() -> str | None:
        url = f"{session.settings.hf_endpoint}/api/{kind}s/{repo_id}/commits/{quote(sha, safe='')}"
        answer = session.http.json("GET", url, ok=(200, 401, 404), token_for="hub")  # 401: a missing repository
        if answer is None:
            return None
        entry = (
            next((item for item in answer if isinstance(item, dict) and str(item.get("id")).lower() == sha.lower()), None)
            if isinstance(answer, list)
            else None
        )
        if entry is None:
            raise OnlineError(f"GET {url}: malformed response (commit {sha} is not in it)")
        date = entry.get("date")
        return None if date is None else released_at(date, f"GET {url}").isoformat()

    found = session.lookup(("hub-commit-date", kind, repo_id, sha), fetch)
    return None if found is None else released_at(found, f"hub {kind} {repo_id} commit {sha}")


def _date_of(session: OnlineSession, kind: str, repo_id: str, sha: str) -> Callable[[], datetime | None]:
    return lambda: commit_date(session, kind, repo_id, sha)


def revision_findings(session: OnlineSession, context: ScanContext) -> list[Finding]:
    """HUB020 for each hub reference pinned to a commit made less than the cooldown ago."""
    if session.cooldown <= 0 or not session.wanted(REVISION_TOO_NEW.code):
        return []
    notes = sorted(set(context.notes_of(PINNED_AT_COMMIT)), key=lambda n: (n.path, n.line, n.column))
    calls = [_date_of(session, *note.subject) for note in notes]
    findings = []
    for note, result in zip(notes, gather(session, calls), strict=True):
        if isinstance(result, OnlineError):
            session.error(note.path, f"line {note.line}: {result}")
            continue
        young = too_young(session, result) if result is not None else None
        if young is not None:
            kind, repo_id, sha = note.subject
            message = young.describe(f"hub {kind} '{repo_id}' is pinned to commit {sha[:12]}, made", FIX) + note.where
            findings.append(REVISION_TOO_NEW.finding(note.path, note.line, note.column, message))
    return findings
