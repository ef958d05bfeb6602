"""`--online` and `--fix` for the hub hook (named by `Hook.online`; imported only when used).

Online: each movable hub reference (HUB001) is resolved on the hub (`HF_ENDPOINT`, with
`HF_TOKEN` when set) to the commit its revision names today; a repository that no longer
exists is reported (HUB010), critically when its whole namespace is gone, because then
anyone can register it and serve their own files under the old name ("namespace reuse").
References pinned to a commit SHA (notes the scanners return, see `references.PINNED_AT_COMMIT`) are
checked too: HUB010 when the hub does not have that commit, or the repository or namespace.
torch.hub references (HUB003) are resolved on GitHub.

What the revision holds (`verdicts.py`): for each reference at a commit (pinned, or the commit its
branch names today), the hub's own per-file scan verdicts (HUB011, HUB012), pickle-only weights
for a loader that reads weights (HUB013, and the files handed to the remote scan of the run's
hooks), and for `trust_remote_code=True` (notes `references.REMOTE_CODE`) the code it runs (HUB014).
`scan_repository` does the same for `mlgate scan hf://owner/repo[@revision]`.

Fix (token-exact edits): `/resolve/<branch>/` in hub URLs becomes `/resolve/<sha>/`; in
Python, a loader's `revision="main"` becomes `revision="<sha>"  # main`, and a loader call
without one gets `revision="<sha>"` added before its closing parenthesis (`# main`); in a YAML
config, the revision setting beside the model key (`revision: main`) becomes `revision: <sha>  # main`
(none is added); `torch.hub.load("owner/repo:v1")` becomes `"owner/repo:<sha>"`.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlgate import python_ast, yamlfile
from mlgate.files import ScanError, SourceFile
from mlgate.findings import Finding, Rule, Severity
from mlgate.hook import ScanContext
from mlgate.hub import cooldown, verdicts
from mlgate.hub.configs import sibling_revision
from mlgate.hub.references import HUB_URL, PINNED_AT_COMMIT, REMOTE_CODE, setting_key, url_repository
from mlgate.hub.rules import MISSING_REFERENCE, TORCH_HUB_UNPINNED, UNPINNED
from mlgate.hub.verdicts import Load, Place, Revision, check_revision
from mlgate.notes import Note
from mlgate.online import Edit, Fixer, OnlineError, OnlineSession
from mlgate.online.github import commit_of
from mlgate.online.hub_api import HubRepository, MissingRepository, revision_sha
from mlgate.problem import is_full_sha

DEFAULT_BRANCH = "main"  # what the hub and `revision=None` mean by "no revision"
# What a HUB001 finding for a named repository says (hub/references.py writes it).
_NAMED = re.compile(r"hub (model|dataset|space) '([^']+)' is loaded .*?(?:at '([^']*)'|without a revision)")
_TORCH_HUB = re.compile(r"([A-Za-z0-9][\w.-]*)/([\w.-]+)(?::([^\s'\"]+))?")
# Loader calls that take `revision=`; only these get one added.
_TAKES_REVISION = frozenset(
    {
        "from_pretrained",
        "load_dataset",
        "load_dataset_builder",
        "hf_hub_download",
        "snapshot_download",
        "SentenceTransformer",
        "CrossEncoder",
    }
)


@dataclass(frozen=True)
class Target:
    """The hub repository under a finding, and the edits that pin it once its commit is known."""

    kind: str
    repo_id: str
    revision: str  # DEFAULT_BRANCH when none is written
    pin: Callable[[str], list[Edit]]  # sha -> edits; [] when this place cannot be edited


def hub_commit(session: OnlineSession, kind: str, repo_id: str, revision: str) -> str | None:
    """The commit `revision` names in the repository today; None when the hub has no such repository or revision."""
    return revision_sha(session, kind, repo_id, revision)


def _exists(session: OnlineSession, path: str) -> bool:
    url = f"{session.settings.hf_endpoint}/api/{path}"
    return session.lookup(("hub-exists", path), lambda: session.http.request("GET", url, ok=(200, 401, 404), token_for="hub").status == 200)


def missing(session: OnlineSession, kind: str, repo_id: str, revision: str) -> tuple[str, Severity]:
    """Why the hub cannot resolve `revision` of the repository (message, severity), after `hub_commit` said None."""
    namespace = repo_id.split("/", 1)[0] if "/" in repo_id else ""
    if _exists(session, f"{kind}s/{repo_id}"):
        if is_full_sha(revision):
            return (
                f"hub {kind} '{repo_id}' has no commit '{revision}': its history was rewritten (force-push, squash) "
                "or the commit never was in it, so loading it fails today; review the repository again before pinning a new commit"
            ), Severity.HIGH
        return (
            f"hub {kind} '{repo_id}' has no revision '{revision}': loading it fails today, and whoever creates that branch or tag decides what loads",
            Severity.HIGH,
        )
    if namespace and not (_exists(session, f"users/{namespace}/overview") or _exists(session, f"organizations/{namespace}/overview")):
        return (
            f"hub {kind} '{repo_id}': the namespace '{namespace}' no longer exists on the hub, so anyone can register it "
            "and publish their own repository under this name (namespace reuse)"
        ), Severity.CRITICAL
    return (
        f"hub {kind} '{repo_id}' does not exist on the hub (deleted, renamed or private): a repository re-created under this name would be loaded without review",
        Severity.HIGH,
    )


# --- what a finding points at -----------------------------------------------------------------


def _string_start(line: str, column: int) -> int:
    """Index of the first character of the value at a finding: past an opening quote."""
    start = column - 1
    return start + 1 if line[start : start + 1] in ("'", '"') else start


def _url_target(finding: Finding, line: str, start: int) -> Target | None:
    match = HUB_URL.match(line, start)
    line_number = finding.line
    if match is None or line_number is None or match.group("action") != "resolve" or any(mark in match.group() for mark in "{$"):
        return None
    revision, rev_column = match.group("rev"), match.start("rev") + 1

    def pin(sha: str) -> list[Edit]:
        return [Edit(finding.path, line_number, rev_column, revision, sha)]

    kind = (match.group("kind") or "models/").rstrip("s/")
    return Target(kind, url_repository(match), revision, pin)


def _python_call(source: SourceFile, line_number: int, column: int) -> ast.Call | None:
    """The loader call whose repository argument is the string at (line, column)."""
    try:
        nodes = python_ast.module(source).nodes
    except ScanError:
        return None
    line = source.line_text(line_number)
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        values = [*node.args, *(keyword.value for keyword in node.keywords)]
        for value in values:
            if (
                isinstance(value, ast.Constant)
                and value.lineno == line_number
                and python_ast.char_column(line, value.col_offset) + 1 == column
            ):
                return node
    return None


def _python_pin(source: SourceFile, finding: Finding, revision: str | None) -> Callable[[str], list[Edit]]:
    """How to pin the loader call under the finding: replace its `revision=` or add one."""
    if finding.line is None:
        return _unpinnable
    call = _python_call(source, finding.line, finding.column or 1)
    name = (
        call.func.attr
        if call is not None and isinstance(call.func, ast.Attribute)
        else getattr(call.func, "id", "")
        if call is not None
        else ""
    )
    if call is None or name not in _TAKES_REVISION:
        return lambda sha: []
    written = next((k.value for k in call.keywords if k.arg == "revision"), None)
    lines = source.lines
    if written is not None:
        if not (isinstance(written, ast.Constant) and written.value == revision):
            return lambda sha: []  # a variable, or not the revision the finding names
        if written.end_col_offset is None:  # parsed nodes always have their end
            return _unpinnable
        line_number, line = written.lineno, lines[written.lineno - 1]
        column = python_ast.char_column(line, written.col_offset) + 1
        old = line[column - 1 : python_ast.char_column(line, written.end_col_offset)]
        return lambda sha: [
            Edit(finding.path, line_number, column, old, f'"{sha}"'),
            *_comment(finding.path, line_number, line, revision or DEFAULT_BRANCH),  # `revision=None`: the default branch
        ]
    # After the last argument (before any trailing comma): valid however the call is laid out.
    arguments: list[ast.expr | ast.keyword] = [*call.args, *call.keywords]
    last = max(arguments, key=lambda node: (node.end_lineno or 0, node.end_col_offset or 0))
    end_line, end_column = last.end_lineno, last.end_col_offset
    if end_line is None or end_column is None:  # parsed nodes always have their end
        return _unpinnable
    line = lines[end_line - 1]
    column = python_ast.char_column(line, end_column) + 1
    return lambda sha: [
        Edit(finding.path, end_line, column, "", f', revision="{sha}"'),
        *_comment(finding.path, end_line, line, DEFAULT_BRANCH),
    ]


def _yaml_pin(source: SourceFile, finding: Finding, repo_id: str, revision: str | None) -> Callable[[str], list[Edit]]:
    """How to pin a config's reference: the revision setting beside it (`revision: main` -> `revision: <sha>  # main`).

    A config without one is left alone: which key its program reads (`revision`,
    `model_revision`, none at all) is the program's business, and a strict parser rejects an unknown key.
    """
    if not revision:
        return _unpinnable
    for root in yamlfile.load_documents(source):
        for node in yamlfile.walk(root):
            siblings = {setting_key(key): value for key, _, value in yamlfile.items(node)}
            for key, _, value in yamlfile.items(node):
                if yamlfile.position(value)[0] != finding.line or yamlfile.text_of(value) != repo_id:
                    continue
                written = sibling_revision(siblings, setting_key(key))
                if written is None or yamlfile.text_of(written) != revision:
                    return _unpinnable
                line_number, column = yamlfile.position(written)
                line = source.line_text(line_number)
                quote = line[column - 1] if line[column - 1 : column] in ("'", '"') else ""
                old = f"{quote}{revision}{quote}"
                if line[column - 1 : column - 1 + len(old)] != old:
                    return _unpinnable  # a block scalar or an escape: not one token
                return lambda sha: [
                    Edit(finding.path, line_number, column, old, f"{quote}{sha}{quote}"),
                    *_comment(finding.path, line_number, line, revision),
                ]
    return _unpinnable


def _unpinnable(sha: str) -> list[Edit]:
    return []


def _comment(path: str, line_number: int, line: str, ref: str) -> list[Edit]:
    """`  # <ref>` at the end of a line that has no comment and is not inside a long string."""
    if "#" in line or '"""' in line or "'''" in line or line.rstrip().endswith("\\"):
        return []
    return [Edit(path, line_number, len(line.rstrip()) + 1, "", f"  # {ref}")]


def target_of(finding: Finding, source: SourceFile) -> Target | None:
    line = source.line_text(finding.line)
    start = _string_start(line, finding.column or 1)
    url = _url_target(finding, line, start)
    if url is not None:
        return url
    named = _NAMED.search(finding.message)
    if named is None:
        return None
    kind, repo_id, revision = named.groups()
    if source.path.endswith(".py"):
        pin = _python_pin(source, finding, revision)
    elif source.path.endswith((".yaml", ".yml")):  # not JSON: a JSON file has no room for the `# main` comment
        pin = _yaml_pin(source, finding, repo_id, revision)
    else:
        pin = _unpinnable
    return Target(kind, repo_id, revision or DEFAULT_BRANCH, pin)


# --- torch.hub ---------------------------------------------------------------------------------


def _torch_hub(session: OnlineSession, finding: Finding, source: SourceFile) -> tuple[str, list[Edit]] | None:
    """(what the ref is today, the edits) for `torch.hub.load("owner/repo[:ref]", ...)`."""
    if finding.line is None:
        return None
    line = source.line_text(finding.line)
    start = _string_start(line, finding.column or 1)
    match = _TORCH_HUB.match(line, start)
    if match is None:
        return None
    owner, repo, ref = match.groups()
    sha = commit_of(session, owner, repo, ref or "HEAD")
    if ref:
        return f"'{ref}' is commit {sha} today", [Edit(finding.path, finding.line, match.start(3) + 1, ref, sha)]
    return f"its default branch is commit {sha} today", [Edit(finding.path, finding.line, match.end() + 1, "", f":{sha}")]


# --- the hook's online check and fixers ----------------------------------------------------------


def _missing_commits(session: OnlineSession, context: ScanContext) -> list[Finding]:
    """HUB010 for each SHA-pinned reference (noted by the scanners) whose commit the hub does not
    have; what the others hold (`verdicts`)."""
    found: list[Finding] = []
    if not (session.wanted(MISSING_REFERENCE.code) or verdicts.wanted(session)):
        return found
    for note in context.notes_of(PINNED_AT_COMMIT):
        kind, repo_id, sha = note.subject
        try:
            if hub_commit(session, kind, repo_id, sha) is None:
                if session.wanted(MISSING_REFERENCE.code):
                    message, severity = missing(session, kind, repo_id, sha)
                    found.append(MISSING_REFERENCE.finding(note.path, note.line, note.column, message + note.where, severity=severity))
            else:
                found.extend(check_revision(session, Revision(kind, repo_id, sha), _load_at(note), _at_note(note)))
        except OnlineError as exc:
            session.error(note.path, f"line {note.line}: {exc}")
    return found


def _remote_code(session: OnlineSession, context: ScanContext) -> list[Finding]:
    """HUB014 for each `trust_remote_code=True` reference; for one not pinned to a commit (no
    HUB001 and no commit note stands for it), what its revision holds too."""
    found: list[Finding] = []
    if not verdicts.wanted(session):
        return found
    for note in context.notes_of(REMOTE_CODE):
        kind, repo_id, revision = note.subject
        try:
            sha = hub_commit(session, kind, repo_id, revision)
            if sha is not None:
                load = dataclasses.replace(_load_at(note), remote_code=True)
                found.extend(
                    check_revision(session, Revision(kind, repo_id, sha), load, _at_note(note), contents=not is_full_sha(revision))
                )
        except OnlineError as exc:
            session.error(note.path, f"line {note.line}: {exc}")
    return found


def _at_note(note: Note) -> Place:
    return lambda rule, message, severity, file: rule.finding(note.path, note.line, note.column, message + note.where, severity=severity)


def _at_finding(finding: Finding) -> Place:
    return lambda rule, message, severity, file: rule.finding(finding.path, finding.line, finding.column, message, severity=severity)


# Classes whose from_pretrained reads no weights (a tokenizer's vocabulary, a config, a scheduler's settings).
_NO_WEIGHTS = re.compile(r"(?:Tokenizer|TokenizerFast|Processor|Config|FeatureExtractor|Scheduler|Template)$")
_WEIGHT_CALLS = frozenset({"SentenceTransformer", "CrossEncoder", "SparseEncoder", "pipeline"})


def _load_at(place: Note | Finding) -> Load:
    """How the Python loader call at a reference loads it (nothing known for other files)."""
    if not place.path.endswith(".py") or not place.line:
        return Load()
    call = _python_call(SourceFile(path=place.path, abspath=Path(place.path).absolute()), place.line, place.column or 1)
    if call is None:
        return Load()
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    owner = func.value if isinstance(func, ast.Attribute) else None
    owner_name = owner.attr if isinstance(owner, ast.Attribute) else owner.id if isinstance(owner, ast.Name) else ""
    weights = (name == "from_pretrained" and not _NO_WEIGHTS.search(owner_name)) or name in _WEIGHT_CALLS
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}

    def constant(key: str) -> object:
        value = keywords.get(key)
        return value.value if isinstance(value, ast.Constant) else None

    return Load(
        weights=weights, refuses_safetensors=constant("use_safetensors") is False, remote_code=constant("trust_remote_code") is True
    )


def check(session: OnlineSession, context: ScanContext, findings: list[Finding]) -> list[Finding]:
    """The hook's online check: the findings, each unpinned reference told which commit it names
    today, then the references the hub cannot resolve, and what the referenced revisions hold."""
    found = [*_missing_commits(session, context), *_remote_code(session, context), *cooldown.revision_findings(session, context)]
    checked: list[Finding] = []
    for finding in findings:
        checked.append(finding)
        if finding.rule not in (UNPINNED, TORCH_HUB_UNPINNED) or not finding.line:
            continue
        source = SourceFile(path=finding.path, abspath=Path(finding.path).absolute())
        try:
            if finding.rule is TORCH_HUB_UNPINNED:
                resolved = _torch_hub(session, finding, source)
                if resolved:
                    checked[-1] = dataclasses.replace(finding, message=f"{finding.message}; {resolved[0]}")
                continue
            target = target_of(finding, source)
            if target is None:
                continue
            sha = hub_commit(session, target.kind, target.repo_id, target.revision)
            if sha is not None:
                checked[-1] = dataclasses.replace(finding, message=f"{finding.message}; '{target.revision}' is commit {sha} today")
                found.extend(check_revision(session, Revision(target.kind, target.repo_id, sha), _load_at(finding), _at_finding(finding)))
            elif session.wanted(MISSING_REFERENCE.code):
                message, severity = missing(session, target.kind, target.repo_id, target.revision)
                found.append(MISSING_REFERENCE.finding(finding.path, finding.line, finding.column, message, severity=severity))
        except OnlineError as exc:
            session.error(finding.path, f"line {finding.line}: {exc}")
    return [*checked, *found]


def scan_repository(session: OnlineSession, repository: HubRepository) -> list[Finding]:
    """`mlgate scan hf://...`: what one repository holds at a revision, as if a weights loader
    (for a model) loaded it with trust_remote_code=True, each finding at `hf://owner/repo@sha[/file]`."""
    sha = hub_commit(session, repository.kind, repository.repo_id, repository.revision)
    if sha is None:
        raise MissingRepository(missing(session, repository.kind, repository.repo_id, repository.revision)[0])
    at = dataclasses.replace(repository, revision=sha).uri

    def place(rule: Rule, message: str, severity: Severity | None, file: str | None) -> Finding:
        return rule.finding(f"{at}/{file}" if file else at, None, None, message, severity=severity)

    model = repository.kind == "model"
    return check_revision(session, Revision(repository.kind, repository.repo_id, sha), Load(weights=model, remote_code=model), place)


def fix_revision(session: OnlineSession, finding: Finding, source: SourceFile) -> list[Edit]:
    target = target_of(finding, source)
    if target is None:
        return []
    sha = hub_commit(session, target.kind, target.repo_id, target.revision)
    return target.pin(sha) if sha is not None else []


def fix_torch_hub(session: OnlineSession, finding: Finding, source: SourceFile) -> list[Edit]:
    resolved = _torch_hub(session, finding, source)
    return resolved[1] if resolved else []


FIXES: dict[str, Fixer] = {UNPINNED.code: fix_revision, TORCH_HUB_UNPINNED.code: fix_torch_hub}
