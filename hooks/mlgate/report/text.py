"""Human output: `path:line:col: CODE [severity] message` and a fix hint under it.

Each line is neutralised for the CI logs it ends up in (pre-commit prints it into the job log,
where the runner reads workflow commands) and for terminals: line breaks, ANSI escapes and
bidirectional overrides in a file name or message are shown percent-encoded, never acted on."""

from __future__ import annotations

from collections import Counter

from mlgate.findings import Finding, Result, Rule
from mlgate.report.plain import neutralised


def location(finding: Finding) -> str:
    if finding.line is not None:
        return f"{finding.path}:{finding.line}:{finding.column or 1}"
    where = finding.path
    if finding.member is not None:
        where += f"!{finding.member}"
    if finding.offset is not None:
        where += f"@{finding.offset}"
    return where


def render(result: Result, rules: list[Rule]) -> str:
    out = []
    for finding in result.findings:
        out.append(f"{location(finding)}: {finding.rule.code} [{finding.severity}] {finding.message}")
        out.append(f"    fix: {finding.rule.fix}  (mlgate explain {finding.rule.code})")
    for error in result.errors:
        out.append(f"{error.path}: error: {error.message}")
    counts = Counter(str(f.severity) for f in result.findings)
    detail = ", ".join(f"{counts[s]} {s}" for s in ("critical", "high", "medium", "low") if counts[s])
    summary = f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''}"
    if detail:
        summary += f" ({detail})"
    if result.errors:
        summary += f", {len(result.errors)} error{'s' if len(result.errors) != 1 else ''}"
        listed = len(result.errors) - len(result.failing_errors())
        if listed:
            summary += f" ({listed} not failing the run: invalid text; see strict-errors)"
    out.append(f"mlgate: {summary} in {result.scanned_files} scanned file{'s' if result.scanned_files != 1 else ''}.")
    return "".join(neutralised(line) + "\n" for line in out)
