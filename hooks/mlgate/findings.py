"""Rules, findings and their fingerprints: the vocabulary every hook and report shares."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from mlgate import taxonomy


class Severity(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (expected one of: {', '.join(str(s) for s in cls)})") from None


# Every declared rule, by code, in declaration order. Declaring a `Rule` is what registers it:
# a hook's rules are here once its `rules` module is imported.
_REGISTRY: dict[str, Rule] = {}


@dataclass(frozen=True)
class Rule:
    """One check. `fix` is the one-line hint printed under every finding of this rule.

    Constructing a rule declares it: it joins the registry (`declared_rules`), and a second
    rule with the same code is an error at once.
    """

    code: str
    name: str
    hook: str
    severity: Severity
    summary: str
    fix: str
    # Its risk in the OWASP Machine Learning Security Top 10 (2023), "ML01".."ML10", and the CWE ids
    # of the weakness it finds, the one every finding is an instance of first (see mlgate.taxonomy).
    owasp_ml: str = field(kw_only=True)
    cwe: tuple[int, ...] = field(kw_only=True)
    # Reported only by an `--online` run: an offline run never checks it (so an ignore comment
    # naming it is not unused there).
    online_only: bool = field(default=False, kw_only=True)

    def __post_init__(self) -> None:
        taxonomy.check(self.code, self.owasp_ml, self.cwe)
        if self.code in _REGISTRY:
            raise ValueError(f"rule {self.code} is declared twice (hook {_REGISTRY[self.code].hook!r}, then hook {self.hook!r})")
        _REGISTRY[self.code] = self

    def finding(
        self,
        path: str,
        line: int | None,
        column: int | None,
        message: str,
        *,
        severity: Severity | None = None,
        offset: int | None = None,
        member: str | None = None,
        context: str | None = None,
    ) -> Finding:
        return Finding(
            rule=self,
            path=path,
            line=line,
            column=column,
            message=message,
            severity=severity or self.severity,
            offset=offset,
            member=member,
            context=context,
        )

    def to_dict(self) -> dict[str, Any]:
        """What `mlgate rules --format json` and the JSON report say about the rule."""
        return {
            "code": self.code,
            "name": self.name,
            "hook": self.hook,
            "severity": str(self.severity),
            "summary": self.summary,
            "fix": self.fix,
            "owasp_ml": self.owasp_ml,
            "cwe": list(self.cwe),
        }


def declared_rules(hook: str | None = None) -> tuple[Rule, ...]:
    """The declared rules of `hook` (all of them when None), in declaration order."""
    return tuple(rule for rule in _REGISTRY.values() if hook is None or rule.hook == hook)


@dataclass(frozen=True)
class Finding:
    """One reported problem, immutable: derive a changed copy with `dataclasses.replace`.

    `context` is what the fingerprint is built from; when a hook leaves it empty the core
    fills in the stripped text of the offending line, so moving a line does not change it.
    """

    rule: Rule
    path: str
    line: int | None
    column: int | None
    message: str
    severity: Severity
    offset: int | None = None
    member: str | None = None
    context: str | None = None
    fingerprint: str = field(default="", compare=False)

    @property
    def in_binary_content(self) -> bool:
        """Located in a file's bytes (a byte offset, an archive member) rather than on a line of
        text: a model file's content, which no comment can sit beside."""
        return self.line is None or self.offset is not None or self.member is not None

    @property
    def sort_key(self) -> tuple[str, int, int, str, int, str]:
        return (self.path, self.line or 0, self.column or 0, self.member or "", self.offset or 0, self.rule.code)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule.code,
            "hook": self.rule.hook,
            "severity": str(self.severity),
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "fix": self.rule.fix,
            "fingerprint": self.fingerprint,
        }
        if self.offset is not None:
            data["offset"] = self.offset
        if self.member is not None:
            data["member"] = self.member
        return data


# What an error entry is, and so whether it fails the run (see "Errors" in docs/configuration.md):
INVALID = "invalid"  # a text file not valid in its own language: listed; fails only with strict-errors
ERROR = "error"  # anything else (an unreadable or missing file, an internal error, --online/--fix): fails
NOT_FAILING = frozenset({INVALID})


@dataclass
class ScanErrorEntry:
    path: str
    message: str
    kind: str = ERROR

    def fails(self, strict: bool = False) -> bool:
        """Whether this error fails the run (every error does with `strict-errors`)."""
        return strict or self.kind not in NOT_FAILING

    def to_dict(self) -> dict[str, str]:
        data = {"path": self.path, "message": self.message}
        if self.kind != ERROR:  # an error that does not fail the run says what it is
            data["kind"] = self.kind
        return data


@dataclass(frozen=True)
class UnusedIgnore:
    """An `mlgate: ignore[...]` comment with codes that hid no finding: `codes` are those."""

    path: str
    line: int
    codes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "codes": list(self.codes)}


@dataclass
class Result:
    """What a run found: the findings, the files that could not be scanned, the files `--fix` rewrote."""

    scanned_files: int = 0
    findings: list[Finding] = field(default_factory=list)
    errors: list[ScanErrorEntry] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)  # files `--fix` rewrote: the run fails so they get reviewed
    strict_errors: bool = False  # every error fails the run, invalid and unreadable files too
    # files left out, by reason (see `mlgate.files.SKIP_REASONS`): a walk leaves out git-ignored
    # files and symlinks; a named path is scanned unless an exclude pattern matches it
    skipped: dict[str, int] = field(default_factory=dict)
    # one-line notes for stderr, never failing the run (an exclude pattern that matched nothing)
    warnings: list[str] = field(default_factory=list)
    hidden_inline: int = 0  # findings an inline ignore comment hid
    hidden_by_baseline: int = 0  # findings whose fingerprint the baseline lists
    hidden_as_generated: int = 0  # findings on generated copies, reported at their source (`mlgate.generated`)
    unused_ignores: list[UnusedIgnore] = field(default_factory=list)  # filled with report-unused-ignores

    def failing_errors(self) -> list[ScanErrorEntry]:
        return [error for error in self.errors if error.fails(self.strict_errors)]

    def failed(self, fail_on: Severity) -> bool:
        return bool(self.failing_errors() or self.fixed) or any(f.severity >= fail_on for f in self.findings)


def assign_fingerprints(findings: list[Finding], content_digests: Mapping[str, str] | None = None) -> list[Finding]:
    """The findings, in the same order, each with a stable id: rule + path + normalised
    context + occurrence index, and for a finding in binary content the sha256 of its file
    (`content_digests`, by path).

    Line numbers are left out on purpose so that unrelated edits which move lines keep
    the id (and so baselines and code-scanning alerts) unchanged. A model file's finding names
    what it found (the callables of a pickle) but not all that runs (their arguments): its
    file's digest makes a swapped payload a new finding. Without `content_digests` the ids are
    those of a version-1 baseline.
    """
    import hashlib  # loads OpenSSL: paid only by runs that have findings

    seen: dict[tuple[str, str, str], int] = {}
    fingerprints: dict[int, str] = {}
    for position, finding in sorted(enumerate(findings), key=lambda item: item[1].sort_key):
        context = " ".join((finding.context or "").split())
        key = (finding.rule.code, finding.path, context)
        index = seen.get(key, 0)
        seen[key] = index + 1
        parts = [*key, str(index)]
        if content_digests and finding.in_binary_content and finding.path in content_digests:
            parts.append(f"sha256:{content_digests[finding.path]}")
        digest = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass"))
        fingerprints[position] = digest.hexdigest()[:20]
    return [dataclasses.replace(finding, fingerprint=fingerprints[position]) for position, finding in enumerate(findings)]
