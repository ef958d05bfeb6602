"""What a git ref on GitHub points to now: `GET {GITHUB_API_URL}/repos/{owner}/{repo}/commits/{ref}`
(tags, branches, `HEAD` and short SHAs alike), and when that commit was made. Used for actions,
pre-commit repositories and torch.hub, and for the cooldown of actions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from mlgate.online import OnlineError, OnlineSession
from mlgate.problem import is_full_sha

GITHUB_REPO = re.compile(r"(?:https?://|git@|ssh://git@)github\.com[/:]([\w.-]+)/([\w.-]+?)(?:\.git)?/?")


@dataclass(frozen=True)
class Commit:
    sha: str  # full, lower case
    date: object  # `commit.committer.date` as GitHub sent it (an ISO 8601 string), None when absent


def commit(session: OnlineSession, owner: str, repo: str, ref: str) -> Commit:
    """The commit `ref` names in github.com/owner/repo now, and its date: one request, shared by
    `commit_of` and the cooldown (a tag's commit and that commit's date come in one answer)."""
    found = session.lookup(("github-commit", owner.lower(), repo.lower(), ref), lambda: _commit(session, owner, repo, ref, (200,)))
    if found["sha"] != ref.lower():  # a tag's commit is known now: a pin to it (after `--fix`) asks nothing more
        session.lookup(("github-commit-if-known", owner.lower(), repo.lower(), found["sha"]), lambda: found)
    return Commit(str(found["sha"]), found.get("date"))


def known_commit(session: OnlineSession, owner: str, repo: str, sha: str) -> Commit | None:
    """`commit` of a commit SHA, None when GitHub does not have it (404) rather than an error."""
    key = ("github-commit-if-known", owner.lower(), repo.lower(), sha.lower())
    found = session.lookup(key, lambda: _commit(session, owner, repo, sha, (200, 404)))
    return None if found is None else Commit(str(found["sha"]), found.get("date"))


def _commit(session: OnlineSession, owner: str, repo: str, ref: str, ok: tuple[int, ...]) -> dict[str, object] | None:
    url = f"{session.settings.github_api}/repos/{quote(owner)}/{quote(repo)}/commits/{quote(ref, safe='')}"
    answer = session.http.json("GET", url, ok=ok, token_for="github")
    if answer is None:
        return None
    sha = answer.get("sha") if isinstance(answer, dict) else None
    if not isinstance(sha, str) or not is_full_sha(sha):
        raise OnlineError(f"GET {url}: malformed response (no commit sha)")
    details = answer.get("commit")
    committer = details.get("committer") if isinstance(details, dict) else None
    return {"sha": sha.lower(), "date": committer.get("date") if isinstance(committer, dict) else None}


def commit_of(session: OnlineSession, owner: str, repo: str, ref: str) -> str:
    """The full commit SHA `ref` names in github.com/owner/repo now."""
    return commit(session, owner, repo, ref).sha


def github_repo(url: str) -> tuple[str, str] | None:
    """(owner, repo) of a github.com clone URL, or None for any other host."""
    match = GITHUB_REPO.fullmatch(url.strip())
    return (match.group(1), match.group(2)) if match else None
