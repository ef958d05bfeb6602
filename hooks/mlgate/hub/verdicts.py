"""What a referenced hub revision holds, read without downloading it (`--online`, `mlgate scan hf://...`).

For one repository at one commit (a reference pinned to it, or the commit its branch names
today), from the hub's tree listing with per-file security information (`mlgate.online.hub_api`):

- HUB011: a file the hub's scanners (antivirus, pickle imports, third-party scanners) flag as
  unsafe, suspicious or caution, naming the file, the scanner and what it saw;
- HUB012, once per revision: files that can run code and that no scanner has verified yet, or a
  listing cut short by its bounds; and what a remote scan could not read;
- HUB013: a loader that reads model weights (transformers, diffusers, sentence-transformers
  style) that would read pickle-based ones, because the revision has no `*.safetensors` or the
  call says `use_safetensors=False`; those files go to the remote scan of the run's hooks
  (`session.scan_remote`), whose problems are reported at the same place;
- HUB014: for `trust_remote_code=True`, the code files `config.json`'s `auto_map` makes the
  loader import at that revision (and the files they import relatively, as transformers does),
  with their sha256, and which of them the branch head (`main`) has changed.

Fetched files (config.json, code) are read as text and hashed: never executed or imported.
A `Place` turns a message into a finding where the caller wants it: the referencing line (the
hook's online check) or `hf://owner/repo@sha/<file>` (`mlgate scan`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from mlgate.findings import Finding, Rule, Severity
from mlgate.hub.references import PICKLE_SUFFIXES
from mlgate.hub.rules import FLAGGED_FILE, PICKLE_ONLY_WEIGHTS, REMOTE_CODE_FILES, UNVERIFIED_REVISION
from mlgate.online import OnlineError, OnlineSession, RemoteFile, hub_api
from mlgate.online.hub_api import Tree, TreeFile
from mlgate.online.ranged import BUDGET_SPENT, NOT_READ_REMOTELY

RULES = (FLAGGED_FILE, UNVERIFIED_REVISION, PICKLE_ONLY_WEIGHTS, REMOTE_CODE_FILES)
DEFAULT_BRANCH = "main"
FLAGGED = {"unsafe": Severity.CRITICAL, "suspicious": Severity.HIGH, "caution": Severity.MEDIUM}
UNVERIFIED = ("unscanned", "queued", "error")
# Files whose loading can run code: what an unscanned revision is about (a README is not).
CODE_SUFFIXES = (
    *PICKLE_SUFFIXES, ".py", ".npy", ".npz", ".h5", ".hdf5", ".keras", ".zip", ".tar", ".tgz", ".gz", ".7z", ".pb",
)  # fmt: skip
# Pickles beside the weights that a loader does not read (a Trainer's state).
NOT_WEIGHTS = re.compile(r"(?:training_args\.bin|optimizer\.pt|scheduler\.pt|scaler\.pt|rng_state.*\.pth)$")
MAX_NAMES = 5  # files named in one message
MAX_CODE_FILES = 20  # remote code files followed from auto_map
MAX_REMOTE_FILES = 20  # pickle files handed to the remote scan per revision
# transformers' own reading of a remote module's relative imports (`get_relative_imports`).
_RELATIVE_IMPORT = re.compile(r"^\s*(?:import\s+\.(\S+)\s*$|from\s+\.(\S+)\s+import)", re.MULTILINE)

# (rule, message, severity or None for the rule's, path of the file in the repository or None) -> finding
Place = Callable[[Rule, str, Severity | None, str | None], Finding]


@dataclass(frozen=True)
class Revision:
    kind: str
    repo_id: str
    sha: str

    @property
    def label(self) -> str:
        return f"hub {self.kind} '{self.repo_id}' at commit {self.sha[:12]}"


@dataclass(frozen=True)
class Load:
    """How the reference is loaded, as far as the code says."""

    weights: bool = False  # a loader that reads model weights (from_pretrained of a model class, SentenceTransformer)
    refuses_safetensors: bool = False  # use_safetensors=False
    remote_code: bool = False  # trust_remote_code=True


def wanted(session: OnlineSession) -> bool:
    """Whether any of these checks is selected, or a hook of the run scans remote files (else no listing is fetched)."""
    return any(session.wanted(rule.code) for rule in RULES) or any(hook.remote_scan for hook in session.hooks)


def check_revision(session: OnlineSession, revision: Revision, load: Load, place: Place, contents: bool = True) -> list[Finding]:
    """The findings of one revision (`contents` False: only the remote code's, HUB014); raises
    OnlineError when its listing cannot be read."""
    if not wanted(session) or not (contents or load.remote_code):
        return []
    tree = hub_api.tree(session, revision.kind, revision.repo_id, revision.sha)
    found: list[Finding] = []
    if contents and session.wanted(FLAGGED_FILE.code):
        found.extend(_flagged(tree, revision, place))
    unverified = _unverified(tree, revision) if contents and session.wanted(UNVERIFIED_REVISION.code) else []
    found.extend(place(UNVERIFIED_REVISION, message, None, None) for message in unverified)
    if contents and load.weights and revision.kind == "model":
        found.extend(_weights(session, tree, revision, load, place))
    if load.remote_code and revision.kind == "model" and session.wanted(REMOTE_CODE_FILES.code):
        found.extend(remote_code(session, tree, revision, place))
    return found


def _flagged(tree: Tree, revision: Revision, place: Place) -> list[Finding]:
    found = []
    for entry in tree.files:
        flagged = [verdict for verdict in entry.verdicts if verdict.status in FLAGGED]
        statuses = [verdict.status for verdict in flagged] + ([entry.status] if entry.status in FLAGGED else [])
        if not statuses:
            continue
        worst = max(statuses, key=lambda status: FLAGGED[status])
        said = "; ".join(f"{v.scanner}: {v.status}{f', {v.detail}' if v.detail else ''}" for v in flagged) or f"status {worst}"
        message = (
            f"the hub flags {entry.path} of {revision.label} as {worst} ({said}): loading it from this revision can run an attacker's code"
        )
        found.append(place(FLAGGED_FILE, message, FLAGGED[worst], entry.path))
    return found


def _names(paths: list[str]) -> str:
    more = f" and {len(paths) - MAX_NAMES} more" if len(paths) > MAX_NAMES else ""
    return ", ".join(paths[:MAX_NAMES]) + more


def _unverified(tree: Tree, revision: Revision) -> list[str]:
    """HUB012's messages: the revision's code-capable files without a scan verdict (once), and a truncated listing."""
    messages = []
    unscanned = [
        entry
        for entry in tree.files
        if entry.path.lower().endswith(CODE_SUFFIXES)
        and entry.status not in FLAGGED
        and (entry.status is None or entry.status in UNVERIFIED)
    ]
    if unscanned:
        shown = _names([f"{entry.path} ({entry.status or 'no verdict'})" for entry in unscanned])
        messages.append(
            f"{revision.label} has {len(unscanned)} file(s) that can run code when loaded and that the hub has not scanned yet: "
            f"{shown}; nothing vouches for them"
        )
    if tree.truncated:
        messages.append(f"the file listing of {revision.label} was cut short ({tree.truncated}): the files beyond were not checked")
    return messages


# --- weights ---------------------------------------------------------------------------------------


def pickle_weights(tree: Tree) -> list[TreeFile]:
    """The revision's pickle-based weight files (not a trainer's state saved beside them)."""
    return [entry for entry in tree.files if entry.path.lower().endswith(PICKLE_SUFFIXES) and not NOT_WEIGHTS.search(entry.name)]


def _weights(session: OnlineSession, tree: Tree, revision: Revision, load: Load, place: Place) -> list[Finding]:
    """HUB013 when the loader would read pickle-based weights, then the remote scan of those files."""
    pickles = pickle_weights(tree)
    has_safetensors = any(entry.path.lower().endswith(".safetensors") for entry in tree.files)
    if not pickles or (has_safetensors and not load.refuses_safetensors):
        return []
    found = []
    if session.wanted(PICKLE_ONLY_WEIGHTS.code):
        reason = "use_safetensors=False makes the loader read them" if has_safetensors else "the revision has no *.safetensors weights"
        message = (
            f"the loader reads pickle-based weights of {revision.label} ({_names([entry.path for entry in pickles])}): {reason}; "
            "unpickling runs whatever code the file names"
        )
        found.append(place(PICKLE_ONLY_WEIGHTS, message, None, None))
    files = [
        RemoteFile(hub_api.file_url(session, revision.kind, revision.repo_id, revision.sha, entry.path), entry.path, entry.size)
        for entry in pickles[:MAX_REMOTE_FILES]
    ]
    found.extend(place_remote_results(session, files, revision, place))
    return found


def place_remote_results(session: OnlineSession, files: list[RemoteFile], revision: Revision, place: Place) -> list[Finding]:
    """The remote scan's problems of `files`, placed. What it did not read is HUB012 when a limit
    stopped it (the byte budget, a format not read remotely), and an error entry when the server or
    the network did (no Range support, a failed or inconsistent answer): the check could not be made."""
    found = []
    for remote, problems, unscanned in session.scan_remote(files):
        for rule, severity, message in problems:
            found.append(place(rule, f"{remote.path} of {revision.label}: {message}", severity, remote.path))
        if not unscanned:
            continue
        message = f"mlgate's remote scan did not read all of {remote.path} of {revision.label}: {unscanned}"
        unread = place(UNVERIFIED_REVISION, message, None, remote.path)
        if BUDGET_SPENT not in unscanned and NOT_READ_REMOTELY not in unscanned:
            session.error(unread.path, f"line {unread.line}: {message}" if unread.line else message)
        elif session.wanted(UNVERIFIED_REVISION.code):
            found.append(unread)
    return found


# --- remote code -------------------------------------------------------------------------------------


# The files whose `auto_map` names the classes `trust_remote_code=True` imports: the model's config, and
# the tokenizer's and processor's (`AutoTokenizer`/`AutoProcessor.from_pretrained(..., trust_remote_code=True)`).
AUTO_MAP_FILES = ("config.json", "tokenizer_config.json", "preprocessor_config.json", "processor_config.json")


def _auto_map(session: OnlineSession, tree: Tree, revision: Revision) -> list[str] | None:
    """The class references of the `auto_map` of the revision's config files (`modeling_x.XModel`,
    `other/repo--modeling_x.XModel`, tokenizer lists with nulls); None when it has none of those files."""
    entries = [entry for name in AUTO_MAP_FILES if (entry := tree.file(name)) is not None]
    if not entries:
        return None
    references: list[str] = []
    for entry in entries:
        text = hub_api.small_text(session, revision.kind, revision.repo_id, revision.sha, entry)
        if text is None:
            raise OnlineError(f"{entry.path} of {revision.label} is larger than {hub_api.MAX_TEXT} bytes: not read")
        try:
            config = json.loads(text)
        except ValueError:
            raise OnlineError(f"{entry.path} of {revision.label} is not valid JSON") from None
        auto_map = config.get("auto_map") if isinstance(config, dict) else None
        for value in auto_map.values() if isinstance(auto_map, dict) else ():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and "." in item and item not in references:
                    references.append(item)
    return references


def _module_file(class_reference: str) -> str:
    """`modeling_x.XModel` -> `modeling_x.py` (transformers: the part before the class name)."""
    return class_reference.rpartition(".")[0].replace(".", "/") + ".py"


@dataclass(frozen=True)
class CodeFile:
    path: str
    oid: str | None  # git blob id; None: not in the revision
    sha256: str | None


def code_files(session: OnlineSession, tree: Tree, revision: Revision, modules: list[str]) -> list[CodeFile]:
    """The files `modules` name in the revision, and the ones they import relatively, with their sha256."""
    queue, seen = list(modules), set()
    files: list[CodeFile] = []
    while queue and len(files) < MAX_CODE_FILES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        entry = tree.file(path)
        if entry is None:
            files.append(CodeFile(path, None, None))
            continue
        text = hub_api.small_text(session, revision.kind, revision.repo_id, revision.sha, entry)
        data = hub_api.verified_bytes(text, entry) if text is not None else None
        sha256 = entry.sha256 or (hashlib.sha256(data).hexdigest() if data is not None else None)
        files.append(CodeFile(path, entry.oid, sha256))
        folder = path.rpartition("/")[0]
        for match in _RELATIVE_IMPORT.finditer(text or ""):
            module = (match.group(1) or match.group(2)).replace(".", "/")
            queue.append(f"{folder}/{module}.py" if folder else f"{module}.py")
    return files


def _listed(files: list[CodeFile]) -> str:
    return ", ".join(
        f"{file.path} (not in this revision: loading fails)"
        if file.oid is None
        else f"{file.path} (sha256 {file.sha256 or 'unknown: the file could not be read'})"
        for file in files
    )


def remote_code(session: OnlineSession, tree: Tree, revision: Revision, place: Place) -> list[Finding]:
    """HUB014: the code `trust_remote_code=True` runs at the revision, and what main would change."""
    references = _auto_map(session, tree, revision)
    if not references:
        return []
    local = [_module_file(reference) for reference in references if "--" not in reference]
    foreign = [reference.split("--", 1) for reference in references if "--" in reference]
    parts, severity = [], None
    modules = list(dict.fromkeys(local))
    if modules:
        files = code_files(session, tree, revision, modules)
        parts.append(f"trust_remote_code=True runs this code of {revision.label}: {_listed(files)}")
        parts.append(_update(session, revision, files))
    for other, reference in foreign:
        other_sha = hub_api.revision_sha(session, "model", other, DEFAULT_BRANCH)
        severity = Severity.CRITICAL
        if other_sha is None:
            parts.append(
                f"{_module_file(reference)} comes from hub model '{other}', which does not exist: whoever creates it runs code here"
            )
            continue
        there = Revision("model", other, other_sha)
        files = code_files(session, hub_api.tree(session, "model", other, other_sha), there, [_module_file(reference)])
        parts.append(
            f"{_listed(files)} comes from hub model '{other}' at its default branch (commit {other_sha[:12]} today), "
            "whatever this revision is pinned to: whoever can push there runs code here"
        )
    return [place(REMOTE_CODE_FILES, "; ".join(part for part in parts if part), severity, None)]


def _update(session: OnlineSession, revision: Revision, files: list[CodeFile]) -> str:
    """What moving to the branch head would change in `files` (compared by git blob id)."""
    head = hub_api.revision_sha(session, revision.kind, revision.repo_id, DEFAULT_BRANCH)
    if head is None:
        return f"the repository has no branch '{DEFAULT_BRANCH}' to compare with"
    if head == revision.sha:
        return f"this is what '{DEFAULT_BRANCH}' holds today"
    head_tree = hub_api.tree(session, revision.kind, revision.repo_id, head)
    head_revision = Revision(revision.kind, revision.repo_id, head)
    head_modules = [_module_file(reference) for reference in (_auto_map(session, head_tree, head_revision) or []) if "--" not in reference]
    changed = [file.path for file in files if (entry := head_tree.file(file.path)) is None or entry.oid != file.oid]
    added = [module for module in head_modules if module not in {file.path for file in files}]
    if not changed and not added:
        return f"'{DEFAULT_BRANCH}' (commit {head[:12]}) runs the same code files"
    said = [f"changes {', '.join(changed)}"] if changed else []
    said += [f"adds {', '.join(added)}"] if added else []
    return f"updating to '{DEFAULT_BRANCH}' (commit {head[:12]}) {' and '.join(said)}: review that diff before moving the pin"
