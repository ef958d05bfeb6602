"""`--online` and `--fix` for the pins hook.

Online: exact pins noted by the scanners are looked up in OSV (PIN030, and PIN031 for
advisories that make loading a model run code); tags of actions and pre-commit repositories
and image tags are resolved, and the finding says what they point to now. Exact pins and
actions released less than the `cooldown` setting ago are PIN032 (`pins/cooldown.py`).
Fix: the fixers below rewrite a reference to what it resolves to, keeping the human ref:
`uses: o/r@<sha> # v4`, `rev: <sha>  # frozen: v1.2.3`, `FROM image:tag@sha256:<digest>`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlgate import yamlfile
from mlgate.files import SourceFile
from mlgate.findings import Finding, Severity
from mlgate.hook import ScanContext
from mlgate.online import Edit, Fixer, OnlineError, OnlineSession
from mlgate.online.github import commit_of, github_repo
from mlgate.pins import cooldown, osv
from mlgate.pins.pinned import PIN, pin_key
from mlgate.pins.requirement import canonical_name
from mlgate.pins.resolve import Image, digest_of
from mlgate.pins.rules import ACTION_NOT_PINNED, IMAGE_NO_DIGEST, KNOWN_VULNERABLE, MODEL_LOADING_RCE, PRECOMMIT_REV

# Advisories where loading a model (or a scanner's verdict on one) is the door to code execution.
CODE_EXECUTION_ON_LOAD = frozenset(
    {
        "CVE-2025-32434",
        "GHSA-53q9-r3pm-6pq6",  # torch.load(weights_only=True) still runs code
        "CVE-2024-3660",  # Keras Lambda layers run code on load before 2.13
        "CVE-2025-1550",
        "CVE-2025-8747",  # Keras load_model safe_mode bypasses
        "CVE-2024-34359",  # llama-cpp-python: a GGUF chat template runs code (Jinja2 SSTI)
        "CVE-2024-3568",
        "CVE-2023-6730",
        "CVE-2023-7018",  # transformers: pickle in checkpoints and vocab files
        "CVE-2024-11392",
        "CVE-2024-11393",
        "CVE-2024-11394",
        "CVE-2024-37052",
        "CVE-2024-37053",
        "CVE-2024-37054",
        "CVE-2024-37055",
        "CVE-2024-37056",
        "CVE-2024-37057",
        "CVE-2024-37059",
        "CVE-2024-37060",  # MLflow: loading a logged model runs code
        "CVE-2025-1716",
        "CVE-2025-1889",
        "CVE-2025-1944",
        "CVE-2025-1945",  # picklescan passes malicious pickles
    }
)
ML_PACKAGES = frozenset(
    {
        "torch",
        "transformers",
        "keras",
        "tensorflow",
        "tf-keras",
        "mlflow",
        "joblib",
        "llama-cpp-python",
        "diffusers",
        "huggingface-hub",
        "safetensors",
        "onnx",
        "onnxruntime",
        "lightning",
        "pytorch-lightning",
        "scikit-learn",
        "skops",
        "picklescan",
        "modelscan",
        "bentoml",
        "torchserve",
        "vllm",
        "sentence-transformers",
    }
)
_LOADING = re.compile(r"deseriali[sz]|pickle|weights_only|torch\.load|load_model|safe_mode|checkpoint|model file|chat template", re.I)
_RUNS_CODE = re.compile(r"arbitrary code|code execution|execute (?:arbitrary )?code|remote code|\bRCE\b", re.I)
_TOKEN = re.compile(r"[^\s\"'#,\]}]+")
SHOWN = 4  # advisories spelled out in one message; the rest are counted


def runs_code_on_load(package: str, advisory: osv.Advisory) -> bool:
    if CODE_EXECUTION_ON_LOAD.intersection(advisory.names):
        return True
    text = f"{advisory.summary} {advisory.details}"
    return canonical_name(package) in ML_PACKAGES and bool(_LOADING.search(text)) and bool(_RUNS_CODE.search(text))


def _describe(advisories: list[osv.Advisory]) -> str:
    parts = []
    for advisory in advisories[:SHOWN]:
        aliases = f" ({', '.join(advisory.aliases)})" if advisory.aliases else ""
        fixed = f"fixed in {', '.join(advisory.fixed)}" if advisory.fixed else "no fixed version"
        summary = f": {advisory.summary}" if advisory.summary else ""
        parts.append(f"{advisory.id}{aliases}, {advisory.severity or 'severity not given'}, {fixed}{summary}")
    more = f"; and {len(advisories) - SHOWN} more" if len(advisories) > SHOWN else ""
    return "; ".join(parts) + more


def _severity(advisories: list[osv.Advisory]) -> Severity:
    known = [Severity.parse(a.severity) for a in advisories if a.severity]
    return max(known) if known else KNOWN_VULNERABLE.severity


def advisory_findings(session: OnlineSession, context: ScanContext) -> list[Finding]:
    pins = sorted(set(context.notes_of(PIN)), key=lambda p: (p.path, p.line, p.column))
    if not pins:
        return []
    database = context.options.get("osv-database") or session.settings.osv_database
    try:
        found = osv.query_database(database, pins) if database else osv.query_api(session, pins)
    except OnlineError as exc:
        session.error(database or session.settings.osv_url, str(exc))
        return []
    findings = []
    for pin in pins:
        name, version = pin.subject
        advisories = found.get(pin_key(pin), [])
        on_load = [a for a in advisories if runs_code_on_load(name, a)]
        other = [a for a in advisories if a not in on_load]
        if on_load:
            message = f"{name} {version} has advisories that let a model file run code when it is loaded: {_describe(on_load)}{pin.where}"
            findings.append(MODEL_LOADING_RCE.finding(pin.path, pin.line, pin.column, message))
        if other:
            message = f"{name} {version} has {len(other)} known advisor{'y' if len(other) == 1 else 'ies'}: {_describe(other)}{pin.where}"
            findings.append(KNOWN_VULNERABLE.finding(pin.path, pin.line, pin.column, message, severity=_severity(other)))
    return findings


def check(session: OnlineSession, context: ScanContext, findings: list[Finding]) -> list[Finding]:
    """The hook's online check: the findings, each movable ref told what it is now, then the
    advisories of exact pins, then the pins to releases inside the cooldown (`pins.cooldown`)."""
    found = advisory_findings(session, context) if session.wanted(KNOWN_VULNERABLE.code) or session.wanted(MODEL_LOADING_RCE.code) else []
    found += cooldown.release_findings(session, context)
    checked = [_with_resolution(session, finding) for finding in findings]
    for finding in findings if cooldown.wanted(session) else []:
        uses = _uses(finding) if finding.rule is ACTION_NOT_PINNED and finding.line else None
        young = cooldown.moved_action_finding(session, finding, *uses) if uses else None
        if young is not None:
            found.append(young)
    return [*checked, *found]


def _with_resolution(session: OnlineSession, finding: Finding) -> Finding:
    """`finding`, with what its reference resolves to now added to the message when it has one."""
    resolve = _RESOLVERS.get(finding.rule.code)
    if resolve is None:
        return finding
    source = SourceFile(path=finding.path, abspath=Path(finding.path).absolute())
    try:
        resolved = resolve(session, finding, source)
    except OnlineError as exc:
        session.error(finding.path, f"line {finding.line}: {exc}")
        return finding
    return dataclasses.replace(finding, message=f"{finding.message}; {resolved.now}") if resolved else finding


# --- the reference under a finding ------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """A movable reference and what pins it: `old` at `column` becomes `new`, and `comment`
    (the human ref) goes at `comment_column` when the line has room for one."""

    old: str
    new: str
    column: int
    comment: str
    comment_column: int | None
    now: str  # what it points to today, for the finding's message

    def edits(self, finding: Finding) -> list[Edit]:
        if finding.line is None:  # no line, no token: `_token` finds nothing there to resolve
            return []
        edits = [Edit(finding.path, finding.line, self.column, self.old, self.new)]
        if self.comment and self.comment_column is not None:
            edits.append(Edit(finding.path, finding.line, self.comment_column, "", self.comment))
        return edits


def _token(source: SourceFile, finding: Finding) -> tuple[str, int, int | None]:
    """(token at the finding, its column, the column where a trailing comment may go or None)."""
    line = source.line_text(finding.line)
    start = (finding.column or 1) - 1
    match = _TOKEN.match(line, start)
    if match is None:
        return "", start + 1, None
    quote = line[start - 1] if start and line[start - 1] in "\"'" else ""
    after = match.end() + (1 if quote and line.startswith(quote, match.end()) else 0)
    rest = line[after:]
    return match.group(), start + 1, after + 1 if not rest.strip() or rest.lstrip().startswith("#") else None


def _uses(finding: Finding) -> tuple[str, str, str] | None:
    """(owner, repo, ref) of the `uses: owner/repo[/path]@ref` under a PIN020 finding; None without a ref."""
    source = SourceFile(path=finding.path, abspath=Path(finding.path).absolute())
    target, at, ref = _token(source, finding)[0].partition("@")
    parts = target.split("/")
    return (parts[0], parts[1], ref) if at and ref and len(parts) >= 2 else None


def _action(session: OnlineSession, finding: Finding, source: SourceFile) -> Resolved | None:
    """`uses: owner/repo[/path]@ref` -> `owner/repo[/path]@<sha> # ref`."""
    token, column, comment_column = _token(source, finding)
    target, at, ref = token.partition("@")
    parts = target.split("/")
    if not at or not ref or len(parts) < 2:
        return None
    sha = commit_of(session, parts[0], parts[1], ref)
    return Resolved(ref, sha, column + len(target) + 1, f" # {ref}", comment_column, f"'{ref}' is commit {sha} today")


def _precommit(session: OnlineSession, finding: Finding, source: SourceFile) -> Resolved | None:
    """`rev: v1.2.3` of a GitHub-hosted repository -> `rev: <sha>  # frozen: v1.2.3`."""
    token, column, comment_column = _token(source, finding)
    for root in yamlfile.load_documents(source):
        for repo in yamlfile.elements(yamlfile.get(root, "repos")):
            rev = yamlfile.get(repo, "rev")
            if rev is None or yamlfile.position(rev)[0] != finding.line or yamlfile.text_of(rev) != token:
                continue
            found = github_repo(yamlfile.text_of(yamlfile.get(repo, "repo")) or "")
            if found is None:
                return None
            sha = commit_of(session, *found, token)
            return Resolved(token, sha, column, f"  # frozen: {token}", comment_column, f"'{token}' is commit {sha} today")
    return None


def _image(session: OnlineSession, finding: Finding, source: SourceFile) -> Resolved | None:
    """`image:tag` -> `image:tag@sha256:<digest>` (the tag stays, for people)."""
    token, column, _ = _token(source, finding)
    image = Image.parse(token)
    if image is None:
        return None
    digest = digest_of(session, image)
    return Resolved(token, f"{token}@{digest}", column, "", None, f"it is {digest} today")


Resolver = Callable[[OnlineSession, Finding, SourceFile], "Resolved | None"]
_RESOLVERS: dict[str, Resolver] = {ACTION_NOT_PINNED.code: _action, PRECOMMIT_REV.code: _precommit, IMAGE_NO_DIGEST.code: _image}


def fix(session: OnlineSession, finding: Finding, source: SourceFile) -> list[Edit]:
    resolved = _RESOLVERS[finding.rule.code](session, finding, source)
    return resolved.edits(finding) if resolved else []


FIXES: dict[str, Fixer] = dict.fromkeys(_RESOLVERS, fix)
