"""The Hugging Face Hub's HTTP API, as online checks read it (endpoint `HF_ENDPOINT`, `HF_TOKEN` to it only).

- `revision_sha`: the commit a branch, tag or SHA names today (`/api/{kind}s/{repo}/revision/{rev}`).
- `tree`: every file of a repository at a commit with the hub's per-file security verdicts
  (`/api/{kind}s/{repo}/tree/{sha}?recursive=true&expand=true`, huggingface.js
  `api-index-tree.ts`, huggingface_hub `HfApi.list_repo_tree(expand=True)`): pages followed
  through the `Link: <...>; rel="next"` header, whose cursor is sent on a URL built on the
  endpoint (never on a URL the server chose), bounded by `MAX_FILES` and `MAX_PAGES`.
- `small_text`: one small file of a commit (`/{repo}/resolve/{sha}/{path}`), read as text and
  never executed or imported; `verified_bytes` gives its bytes back only when they hash to the
  git blob id the tree listed, so a sha256 of them is the file's.

Every answer goes through `session.lookup` (one fetch per key per run, and the disk cache).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from mlgate.online import OnlineError, OnlineSession
from mlgate.problem import is_full_sha

MAX_FILES = 5000  # files of one listing looked at; beyond, the listing is reported as truncated
MAX_PAGES = 50  # pages of one listing followed
MAX_TEXT = 1 << 20  # bytes of a config or code file read
KINDS = ("model", "dataset", "space")
SCANNERS = {
    "avScan": "antivirus scan",
    "pickleImportScan": "pickle import scan",
    "jFrogScan": "JFrog scan",
    "protectAiScan": "Protect AI scan",
}
MAX_IMPORTS = 10  # pickle imports kept per scanner

# `hf://owner/repo`, `hf://datasets/owner/repo@v1`, `hf://models/gpt2@<sha>`.
_HF_URI = re.compile(
    r"hf://(?:(?P<kind>models|datasets|spaces)/)?(?P<repo>[A-Za-z0-9][\w.-]{0,95}(?:/[A-Za-z0-9][\w.-]{0,95})?)(?:@(?P<rev>[^\s@]+))?"
)
_LINK_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next"?', re.IGNORECASE)


class MissingRepository(OnlineError):
    """The hub has no such repository or revision (the message says which, and why it matters)."""


@dataclass(frozen=True)
class HubRepository:
    """One repository at a revision, as `mlgate scan` names it."""

    kind: str  # "model", "dataset", "space"
    repo_id: str
    revision: str = "main"

    @property
    def uri(self) -> str:
        prefix = "" if self.kind == "model" else f"{self.kind}s/"
        return f"hf://{prefix}{self.repo_id}@{self.revision}"


def parse_hf_uri(text: str) -> HubRepository:
    """`hf://[datasets/|spaces/|models/]owner/repo[@revision]`; ValueError when it is not one."""
    match = _HF_URI.fullmatch(text.strip())
    if match is None or ".." in match.group("repo") or match.group("repo").endswith("."):
        raise ValueError(f"{text!r} is not a hub repository: expected hf://owner/repo[@revision] or hf://datasets/owner/repo[@revision]")
    kind = (match.group("kind") or "models").removesuffix("s")
    return HubRepository(kind, match.group("repo"), match.group("rev") or "main")


def repo_path(kind: str, repo_id: str) -> str:
    """Where a repository's pages and files are, below the endpoint: `owner/repo`, `datasets/owner/repo`."""
    return repo_id if kind == "model" else f"{kind}s/{repo_id}"


def file_url(session: OnlineSession, kind: str, repo_id: str, sha: str, path: str) -> str:
    return f"{session.settings.hf_endpoint}/{repo_path(kind, repo_id)}/resolve/{sha}/{quote(path)}"


def revision_sha(session: OnlineSession, kind: str, repo_id: str, revision: str) -> str | None:
    """The commit `revision` names in the repository today; None when the hub has no such repository or revision."""

    def fetch() -> str | None:
        url = f"{session.settings.hf_endpoint}/api/{kind}s/{repo_id}/revision/{quote(revision, safe='')}"
        answer = session.http.json("GET", url, ok=(200, 401, 404), token_for="hub")  # the hub answers 401 for a missing repository
        if answer is None:
            return None
        sha = answer.get("sha") if isinstance(answer, dict) else None
        if not isinstance(sha, str) or not is_full_sha(sha):
            raise OnlineError(f"GET {url}: malformed response (no commit sha)")
        return sha.lower()

    sha: str | None = session.lookup(("hub", kind, repo_id, revision), fetch)
    return sha


@dataclass(frozen=True)
class Verdict:
    """One scanner's word on a file: `scanner` ("pickle import scan"), its `status`, and what it saw."""

    scanner: str
    status: str
    detail: str = ""  # imports (`posix.system (dangerous)`), a virus name, the scanner's message


@dataclass(frozen=True)
class TreeFile:
    path: str
    size: int | None
    oid: str  # the git blob id
    sha256: str | None  # an LFS file's sha256 (`lfs.oid`)
    status: str | None  # the hub's overall verdict; None: the listing said nothing
    verdicts: tuple[Verdict, ...] = ()

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Tree:
    files: tuple[TreeFile, ...]
    truncated: str | None  # why the listing stops early; None when it is whole

    def file(self, path: str) -> TreeFile | None:
        return next((entry for entry in self.files if entry.path == path), None)


def tree(session: OnlineSession, kind: str, repo_id: str, sha: str) -> Tree:
    """Every file of the repository at commit `sha` (as far as the bounds go), with the hub's verdicts."""

    def fetch() -> dict[str, Any]:
        base = f"{session.settings.hf_endpoint}/api/{kind}s/{repo_id}/tree/{quote(sha, safe='')}?recursive=true&expand=true"
        url, pages = base, 0
        files: list[dict[str, Any]] = []
        while True:
            response = session.http.request("GET", url, token_for="hub")
            try:
                entries = json.loads(response.body)
            except ValueError:
                raise OnlineError(f"GET {url}: malformed response (not JSON)") from None
            if not isinstance(entries, list):
                raise OnlineError(f"GET {url}: malformed response (not a list of files)")
            files.extend(_file(entry) for entry in entries if isinstance(entry, dict) and entry.get("type") == "file")
            pages += 1
            link = _LINK_NEXT.search(response.headers.get("link", ""))
            if link is None:
                truncated = None if len(files) <= MAX_FILES else f"only the first {MAX_FILES} files were checked"
                return {"files": files[:MAX_FILES], "truncated": truncated}
            cursor = parse_qs(urlsplit(link.group(1)).query).get("cursor")
            if not cursor:
                return {"files": files[:MAX_FILES], "truncated": "the listing's next page has no cursor: only its first pages were checked"}
            if pages >= MAX_PAGES or len(files) >= MAX_FILES:
                shown = min(len(files), MAX_FILES)
                return {"files": files[:MAX_FILES], "truncated": f"the listing has more than {shown} files: only those were checked"}
            url = f"{base}&cursor={quote(cursor[0], safe='')}"

    answer = session.lookup(("hub-tree", kind, repo_id, sha), fetch)
    files = tuple(
        TreeFile(
            entry["path"],
            entry["size"],
            entry["oid"],
            entry["sha256"],
            entry["status"],
            tuple(Verdict(*verdict) for verdict in entry["verdicts"]),
        )
        for entry in answer["files"]
        if entry["path"]
    )
    return Tree(files, answer["truncated"])


def _file(entry: dict[str, Any]) -> dict[str, Any]:
    """What is kept of one listed file (JSON, for the cache)."""
    path = entry.get("path")
    size = entry.get("size")
    lfs = entry.get("lfs")
    lfs_oid = lfs.get("oid") if isinstance(lfs, dict) else None
    sha256 = lfs_oid if isinstance(lfs_oid, str) and re.fullmatch(r"[0-9a-f]{64}", lfs_oid) else None
    status, verdicts = _security(entry)
    return {
        "path": path if isinstance(path, str) else "",
        "size": size if isinstance(size, int) and not isinstance(size, bool) else None,
        "oid": entry.get("oid") if isinstance(entry.get("oid"), str) else "",
        "sha256": sha256,
        "status": status,
        "verdicts": verdicts,
    }


def _security(entry: dict[str, Any]) -> tuple[str | None, list[list[str]]]:
    """(overall status, [[scanner, status, detail], ...]) of a listed file: `securityFileStatus`
    (the hub's API, huggingface_hub) or `security` (older huggingface.js: `safe`, `virusFound`)."""
    status_block = entry.get("securityFileStatus")
    if isinstance(status_block, dict):
        verdicts = []
        for key, scanner in SCANNERS.items():
            block = status_block.get(key)
            if isinstance(block, dict) and isinstance(block.get("status"), str):
                verdicts.append([scanner, block["status"].lower(), _detail(block)])
        status = status_block.get("status")
        return (status.lower() if isinstance(status, str) else None), verdicts
    legacy = entry.get("security")
    if isinstance(legacy, dict) and isinstance(legacy.get("safe"), bool):
        verdicts = []
        av = legacy.get("avScan")
        if isinstance(av, dict) and av.get("virusFound"):
            names = av.get("virusNames")
            verdicts.append([SCANNERS["avScan"], "unsafe", ", ".join(str(n) for n in names) if isinstance(names, list) else ""])
        pickles = legacy.get("pickleImportScan")
        if isinstance(pickles, dict) and pickles.get("highestSafetyLevel") in ("suspicious", "dangerous"):
            level = "unsafe" if pickles["highestSafetyLevel"] == "dangerous" else "suspicious"
            verdicts.append([SCANNERS["pickleImportScan"], level, _detail(pickles)])
        return ("safe" if legacy["safe"] else "unsafe"), verdicts
    return None, []


def _detail(block: dict[str, Any]) -> str:
    """The flagged pickle imports of a scanner's answer (`posix.system (dangerous)`), else its message."""
    imports = block.get("pickleImports", block.get("imports"))
    if isinstance(imports, list):
        flagged = [
            f"{item.get('module')}.{item.get('name')} ({item.get('safety')})"
            for item in imports
            if isinstance(item, dict) and item.get("safety") in ("suspicious", "dangerous")
        ]
        if flagged:
            more = f" and {len(flagged) - MAX_IMPORTS} more" if len(flagged) > MAX_IMPORTS else ""
            return "imports " + ", ".join(flagged[:MAX_IMPORTS]) + more
    message = block.get("message")
    return message[:200] if isinstance(message, str) else ""


def small_text(session: OnlineSession, kind: str, repo_id: str, sha: str, entry: TreeFile) -> str | None:
    """The text of a small file of the commit (a config, a code file), never executed; None when
    it is larger than `MAX_TEXT` (as listed, or as served)."""
    if entry.size is not None and entry.size > MAX_TEXT:
        return None
    url = file_url(session, kind, repo_id, sha, entry.path)

    def fetch() -> str | None:
        body = session.http.request("GET", url, token_for="hub").body
        return body if len(body) <= MAX_TEXT else None

    text: str | None = session.lookup(("hub-file", kind, repo_id, sha, entry.path), fetch)
    return text


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def verified_bytes(text: str, entry: TreeFile) -> bytes | None:
    """The bytes of a file read as `text`, when some encoding of it has the blob id the tree
    listed (requests decodes with the charset it is told, or Latin-1); else None."""
    for encoding in ("utf-8", "latin-1"):
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            continue
        if git_blob_id(data) == entry.oid:
            return data
    return None
