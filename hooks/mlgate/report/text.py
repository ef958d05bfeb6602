"""Human output: one entry per rule and target, most severe first, then the counts per rule.

    train.py:3:9: HUB001 [medium] hub model 'acme/model' is loaded without a revision ...
        1000 occurrences: train.py:3:9, train.py:8:9, eval.py:2:9 and 997 more
        fix: pin revision= to a full commit SHA  (mlgate explain HUB001)

The first line of an entry is the `path:line:col: CODE [severity] message` line editors and
problem matchers read, at the entry's first occurrence; a finding in a binary file (a model)
is placed at `path:1:1`, its archive member and byte offset said after the message. JSON,
SARIF and the GitHub annotations list every occurrence; this report is for reading.

Each line is neutralised for the CI logs it ends up in (pre-commit prints it into the job log,
where the runner reads workflow commands) and for terminals: line breaks, ANSI escapes and
bidirectional overrides in a file name or message are shown percent-encoded, never acted on;
the only escape codes printed are the report's own colours."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import TextIO

from mlgate.findings import Finding, Result, Rule, Severity
from mlgate.report.plain import neutralised, visible, without_commands

SHOWN_LOCATIONS = 3  # per entry; the count says how many more
COLOURS = ("auto", "always", "never")

# SGR parameters: the severity's colour, the rule code in bold, the fix in green.
_SEVERITY_STYLE = {Severity.CRITICAL: "1;31", Severity.HIGH: "31", Severity.MEDIUM: "33", Severity.LOW: "36"}
_BOLD, _FIX, _FAINT = "1", "32", "2"

Segment = tuple[str, str | None]  # scanned or fixed text, and the SGR style it is shown in (None: plain)


@dataclass(frozen=True)
class TextOptions:
    """How `mlgate check` prints the text report.

    `label` names who speaks in the summary line (`mlgate`, or the hook script pre-commit runs).
    `silent_when_clean` prints nothing when nothing needs attention: pre-commit runs a hook as
    several processes, one per batch of files, and prints their output one after another, so a
    passing batch's `0 findings` line would sit next to another batch's findings (pre-commit
    says `Passed` itself)."""

    colour: bool = False
    quiet: bool = False  # the summary line only
    statistics: bool = False  # the counts per rule and the summary line only
    label: str = "mlgate"
    silent_when_clean: bool = False


def use_colour(choice: str, stream: TextIO | None) -> bool:
    """Whether to colour what is written to `stream` (None: a file): `--color always|never`
    decide; `auto` follows NO_COLOR (https://no-color.org) before FORCE_COLOR (the order of
    CPython's own colouring), then colours a terminal only, never a dumb one."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if stream is None or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def location(finding: Finding) -> str:
    """`path:line:col`, or for a binary finding `path!member@offset` (the GitHub log lines)."""
    if finding.line is not None:
        return f"{finding.path}:{finding.line}:{finding.column or 1}"
    where = finding.path
    if finding.member is not None:
        where += f"!{finding.member}"
    if finding.offset is not None:
        where += f"@{finding.offset}"
    return where


def where_in_file(finding: Finding) -> str:
    """For a binary finding, the archive member and byte offset that the message lacks."""
    parts = []
    if finding.member is not None:
        parts.append(f"member {finding.member}")
    if finding.offset is not None:
        parts.append(f"byte offset {finding.offset}")
    return f" ({', '.join(parts)})" if parts and finding.line is None else ""


def editor_location(finding: Finding) -> str:
    """`path:line:col` that editors and terminals open; a binary finding is at `path:1:1`."""
    return f"{finding.path}:{finding.line or 1}:{finding.column or 1}"


def group_key(finding: Finding) -> tuple[Severity, str, str, str]:
    """What makes two findings one entry: the same rule, severity and target. A message names
    its target (the package, the action and its ref, the image, the hub id, the service and its
    port), so the same message is the same target wherever it occurs. A binary finding's message
    names what the file does (a pickle's callables) but not the file, so its file is part of it."""
    return (finding.severity, finding.rule.code, finding.message, finding.path if finding.line is None else "")


def grouped(findings: list[Finding]) -> list[list[Finding]]:
    """The findings as entries, most severe first, then by rule code, then by where the entry
    first occurs; each entry's findings in the engine's path and line order."""
    groups: dict[tuple[Severity, str, str, str], list[Finding]] = {}
    for finding in sorted(findings, key=lambda f: f.sort_key):
        groups.setdefault(group_key(finding), []).append(finding)
    return sorted(groups.values(), key=lambda group: (-group[0].severity, group[0].rule.code, group[0].sort_key))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _line(segments: list[Segment], colour: bool) -> str:
    if not colour:
        return neutralised("".join(text for text, _ in segments))
    return without_commands(
        "".join(f"\x1b[{style}m{visible(text)}\x1b[0m" if style and text else visible(text) for text, style in segments)
    )


def _entry(group: list[Finding]) -> list[list[Segment]]:
    first, rule = group[0], group[0].rule
    lines: list[list[Segment]] = [
        [
            (f"{editor_location(first)}: ", None),
            (rule.code, _BOLD),
            (" ", None),
            (f"[{first.severity}]", _SEVERITY_STYLE[first.severity]),
            (f" {first.message}{where_in_file(first)}", None),
        ]
    ]
    if len(group) > 1:
        places = ", ".join(editor_location(finding) + where_in_file(finding) for finding in group[:SHOWN_LOCATIONS])
        more = f" and {len(group) - SHOWN_LOCATIONS} more" if len(group) > SHOWN_LOCATIONS else ""
        lines.append([("    ", None), (f"{len(group)} occurrences", _BOLD), (f": {places}{more}", None)])
    lines.append([("    ", None), ("fix:", _FIX), (f" {rule.fix}  ", None), (f"(mlgate explain {rule.code})", _FAINT)])
    return lines


def _statistics(findings: list[Finding]) -> list[list[Segment]]:
    """One line per rule: how many findings, the rule's highest severity among them, its name."""
    counts = Counter(finding.rule.code for finding in findings)
    rules = {finding.rule.code: finding.rule for finding in findings}
    worst: dict[str, Severity] = {}
    for finding in findings:
        worst[finding.rule.code] = max(worst.get(finding.rule.code, finding.severity), finding.severity)
    width = len(str(max(counts.values(), default=0)))
    return [
        [
            (f"{counts[code]:>{width}}  ", None),
            (f"{code:<7}", _BOLD),
            (" ", None),
            (f"{str(worst[code]):<8}", _SEVERITY_STYLE[worst[code]]),
            (f"  {rules[code].name}", None),
        ]
        for code in sorted(counts, key=lambda code: (-worst[code], code))
    ]


def summary(result: Result, label: str = "mlgate") -> str:
    """One line: the findings shown by severity, the errors, the files scanned, what was hidden
    (by ignore comments, by the baseline) and the files a walk left out, by reason."""
    counts = Counter(f.severity for f in result.findings)
    detail = ", ".join(f"{counts[s]} {s}" for s in sorted(Severity, reverse=True) if counts[s])
    text = _plural(len(result.findings), "finding") + (f" ({detail})" if detail else "")
    if result.errors:
        text += f", {_plural(len(result.errors), 'error')}"
        listed = len(result.errors) - len(result.failing_errors())
        if listed:
            text += f" ({listed} not failing the run: invalid text; see strict-errors)"
    text += f" in {_plural(result.scanned_files, 'scanned file')}"
    hidden = [
        f"{count} {how}"
        for count, how in (
            (result.hidden_inline, "by ignore comments"),
            (result.hidden_by_baseline, "by the baseline"),
            (result.hidden_as_generated, "as generated copies reported at their source"),
        )
        if count
    ]
    if hidden:
        text += f"; {result.hidden_inline + result.hidden_by_baseline + result.hidden_as_generated} more hidden ({', '.join(hidden)})"
    skipped = {reason: count for reason, count in result.skipped.items() if count}
    if skipped:
        reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(skipped.items(), key=lambda item: (-item[1], item[0])))
        text += f"; {_plural(sum(skipped.values()), 'file')} skipped ({reasons})"
    return f"{label}: {text}."


def _comment(codes: tuple[str, ...]) -> str:
    return f"mlgate: ignore[{', '.join(codes)}]" if codes else "mlgate: ignore"


def _needs_attention(result: Result) -> bool:
    return bool(result.findings or result.errors or result.unused_ignores or result.fixed)


def _errors(result: Result) -> list[list[Segment]]:
    """The files that could not be scanned, then the ignore comments that hid nothing."""
    lines: list[list[Segment]] = [
        [(f"{error.path}: ", None), ("error:", _SEVERITY_STYLE[Severity.HIGH]), (f" {error.message}", None)] for error in result.errors
    ]
    lines += [
        [(f"{ignore.path}:{ignore.line}: ", None), ("unused ignore:", _BOLD), (f" {_comment(ignore.codes)} hid no finding", None)]
        for ignore in result.unused_ignores
    ]
    return lines


def render(result: Result, rules: list[Rule], options: TextOptions | None = None) -> str:
    options = options or TextOptions()
    attention = _needs_attention(result)
    if (options.quiet or options.silent_when_clean) and not attention:
        return ""
    lines: list[list[Segment]] = []
    if options.quiet:
        pass  # the summary line only
    elif options.statistics:
        lines += _statistics(result.findings)
    else:
        for group in grouped(result.findings):
            lines += _entry(group)
        if len(result.findings) > 1:  # one finding needs no count
            lines += [[], *_statistics(result.findings)]
        lines += _errors(result)
    lines.append([(summary(result, options.label), _BOLD if attention else None)])
    return "".join(_line(line, options.colour) + "\n" for line in lines)
