"""What a git ref on GitHub points to now: `GET {GITHUB_API_URL}/repos/{owner}/{repo}/commits/{ref}`
(tags, branches, `HEAD` and short SHAs alike). Used for actions, pre-commit repositories and torch.hub."""

from __future__ import annotations

import re
from urllib.parse import quote

from mlgate.online import OnlineError, OnlineSession
from mlgate.problem import is_full_sha

GITHUB_REPO = re.compile(r"(?:https?://|git@|ssh://git@)github\.com[/:]([\w.-]+)/([\w.-]+?)(?:\.git)?/?")


def commit_of(session: OnlineSession, owner: str, repo: str, ref: str) -> str:
    """The full commit SHA `ref` names in github.com/owner/repo now."""

    def fetch() -> str:
        url = f"{session.settings.github_api}/repos/{quote(owner)}/{quote(repo)}/commits/{quote(ref, safe='')}"
        answer = session.http.json("GET", url, token_for="github")
        sha = answer.get("sha") if isinstance(answer, dict) else None
        if not isinstance(sha, str) or not is_full_sha(sha):
            raise OnlineError(f"GET {url}: malformed response (no commit sha)")
        return sha.lower()

    sha: str = session.lookup(("github", owner.lower(), repo.lower(), ref), fetch)  # what fetch returned (or cached)
    return sha


def github_repo(url: str) -> tuple[str, str] | None:
    """(owner, repo) of a github.com clone URL, or None for any other host."""
    match = GITHUB_REPO.fullmatch(url.strip())
    return (match.group(1), match.group(2)) if match else None
