"""GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`.

GitHub turns each command into an annotation on the pull request's diff, but shows only 10
annotations of each level (error, warning, notice) per step and 50 per job (actions/toolkit,
docs/problem-matchers.md). So the most severe findings come first, at most 10 per level are
sent as commands, and the rest are printed as plain log lines that the job summary counts.

Every line printed here is a `command`, whose values are escaped and whose line holds no legacy
`##[` command, or a `log_line`, which the runner reads as no command (see `plain`).
"""

from __future__ import annotations

from mlgate.findings import Finding, Result, Rule, ScanErrorEntry, Severity
from mlgate.report.plain import escape_data, escape_property, log_line, without_legacy_commands
from mlgate.report.text import location, where_in_file

ANNOTATIONS_PER_LEVEL = 10
LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "notice"}


def command(level: str, message: str, **properties: object) -> str:
    given = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value is not None)
    line = f"::{level} {given}::{escape_data(message)}" if given else f"::{level}::{escape_data(message)}"
    return without_legacy_commands(line)


def by_severity(findings: list[Finding]) -> list[Finding]:
    """Most severe first; the engine's path/line order within one severity."""
    return sorted(findings, key=lambda f: -f.severity)


def split_annotated(result: Result, reserved_errors: int = 0) -> tuple[list[Finding], list[Finding]]:
    """(findings sent as annotations, findings GitHub would not show). Error annotations printed
    before the report (`reserved_errors`) and errors of files that could not be scanned take
    error slots first: they fail the run."""
    used = {"error": min(reserved_errors + len(result.errors), ANNOTATIONS_PER_LEVEL), "warning": 0, "notice": 0}
    shown: list[Finding] = []
    hidden: list[Finding] = []
    for finding in by_severity(result.findings):
        level = LEVELS[finding.severity]
        if used[level] < ANNOTATIONS_PER_LEVEL:
            used[level] += 1
            shown.append(finding)
        else:
            hidden.append(finding)
    return shown, hidden


def annotation(finding: Finding) -> str:
    rule = finding.rule
    return command(
        LEVELS[finding.severity],
        f"{finding.message}{where_in_file(finding)}\nfix: {rule.fix} (mlgate explain {rule.code})",
        file=finding.path,
        line=finding.line,
        col=finding.column,
        title=f"mlgate {rule.code} {rule.name} [{finding.severity}]",
    )


def error_annotation(error: ScanErrorEntry) -> str:
    return command("error", error.message, file=error.path, title="mlgate: file not scanned")


def plain(finding: Finding) -> str:
    return log_line(f"mlgate: {location(finding)}: {finding.rule.code} [{finding.severity}] {finding.message}")


def render(result: Result, rules: list[Rule], reserved_errors: int = 0) -> str:
    shown, hidden = split_annotated(result, reserved_errors)
    out = [error_annotation(error) for error in result.errors[:ANNOTATIONS_PER_LEVEL]]
    out += [log_line(f"mlgate: {error.path}: error: {error.message}") for error in result.errors[ANNOTATIONS_PER_LEVEL:]]
    out += [annotation(finding) for finding in shown]
    out += [plain(finding) for finding in hidden]
    if hidden:
        out.append(
            f"mlgate: {len(hidden)} more finding(s) not annotated: GitHub shows {ANNOTATIONS_PER_LEVEL} annotations per level in a step."
        )
    return "".join(line + "\n" for line in out)
