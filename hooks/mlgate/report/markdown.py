"""A Markdown report for `$GITHUB_STEP_SUMMARY`: counts per hook and severity, the findings,
how to fix or suppress them, and how many GitHub left without an annotation.

Everything that comes from the scanned tree (paths, messages) is written as an inline code
span: GitHub renders no Markdown or HTML inside one, and neither autolinks URLs, e-mail
addresses, commit SHAs, `#123` / `owner/repo#123` references nor turns `@name` into a mention
there (backslash escapes would stop the markup but not the links and mentions, which GitHub
adds to the rendered text). The table-cell pipe is the one character that still needs an
escape inside a code span (GFM tables extension).
"""

from __future__ import annotations

import re
from collections import Counter

from mlgate.findings import Result, Rule, Severity
from mlgate.report.github import ANNOTATIONS_PER_LEVEL, by_severity, split_annotated
from mlgate.report.plain import visible
from mlgate.report.text import where_in_file

MAX_ROWS = 200  # the summary of one step is capped at 1 MiB; the SARIF and JSON reports have everything
SEVERITIES = sorted(Severity, reverse=True)
_BACKTICKS = re.compile(r"`+")
_ESCAPED_PIPE = "\\|"


def cell(text: str) -> str:
    """Plain text that stays plain inside a table cell: one line, as a code span whose fence
    is longer than any run of backticks inside, padded so that a leading or trailing backtick
    cannot join the fence (CommonMark strips one space on each side)."""
    text = visible(" ".join(text.split()))
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    return f"{fence} {text.replace('|', _ESCAPED_PIPE)} {fence}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _counts(result: Result, rules: list[Rule]) -> list[str]:
    hooks = sorted({rule.hook for rule in rules} | {f.rule.hook for f in result.findings})
    counts = Counter((f.rule.hook, f.severity) for f in result.findings)
    out = ["| hook | " + " | ".join(str(s) for s in SEVERITIES) + " | total |", "|---|" + "---:|" * (len(SEVERITIES) + 1)]
    for hook in hooks:
        row = [counts[hook, severity] for severity in SEVERITIES]
        out.append(f"| {hook} | " + " | ".join(str(n) for n in row) + f" | {sum(row)} |")
    return out


def render(result: Result, rules: list[Rule], reserved_errors: int = 0) -> str:
    findings = result.findings
    by_level = Counter(str(f.severity) for f in findings)
    detail = ", ".join(f"{by_level[str(s)]} {s}" for s in SEVERITIES if by_level[str(s)])
    title = f"## mlgate: {_plural(len(findings), 'finding')}" + (f" ({detail})" if detail else "")
    title += f" in {_plural(result.scanned_files, 'scanned file')}"
    if result.errors:
        title += f", {_plural(len(result.errors), 'file')} not scanned"
    out = [title, "", *_counts(result, rules), ""]

    _, hidden = split_annotated(result, reserved_errors)
    if hidden:
        out += [
            f"> GitHub shows at most {ANNOTATIONS_PER_LEVEL} annotations of each level per step: the most severe "
            f"findings are annotated on the diff, **{len(hidden)} more are not** and are listed here only.",
            "",
        ]
    if findings:
        out += ["| severity | rule | location | message |", "|---|---|---|---|"]
        for finding in by_severity(findings)[:MAX_ROWS]:
            message = cell(finding.message + where_in_file(finding))
            where = finding.path if finding.line is None else f"{finding.path}:{finding.line}:{finding.column or 1}"
            out.append(f"| {finding.severity} | {finding.rule.code} | {cell(where)} | {message} |")
        if len(findings) > MAX_ROWS:
            out += ["", f"…and {len(findings) - MAX_ROWS} more: see the SARIF or JSON report."]
        out.append("")
    if result.errors:
        out += ["### Files that could not be scanned", "", "| path | error |", "|---|---|"]
        out += [f"| {cell(error.path)} | {cell(error.message)} |" for error in result.errors]
        out.append("")
    if findings:
        fired = sorted({f.rule for f in findings}, key=lambda rule: rule.code)
        out += ["### How to fix", ""]
        out += [f"- **{rule.code}** {rule.summary}: {rule.fix} (`mlgate explain {rule.code}`)" for rule in fired]
        out += [
            "",
            "### How to suppress a finding you have reviewed",
            "",
            "- one line: a comment `mlgate: ignore[CODE]` at the end of that line, or alone on the line just above it;",
            "- all current findings at once: `mlgate baseline`, then commit `.mlgate-baseline.json` and pass it as `baseline`;",
            "- a reviewed model file: an entry in the models hook's `allowlist` with its path and sha256 (accepted only while the digest is unchanged);",
            "- a whole rule: `ignore` in `.mlgate.yaml` or `[tool.mlgate]`.",
            "",
        ]
    return "\n".join(out) + "\n"
