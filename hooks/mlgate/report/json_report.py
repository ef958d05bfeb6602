"""The JSON object of the interface contract (design.md).

JSON escapes line breaks and control characters itself; `##[` (a workflow command wherever it
appears in a line of a CI log) is written `##\\u005b`, the same string to any JSON reader."""

from __future__ import annotations

import json
from typing import Any

from mlgate import __version__
from mlgate.findings import Result, Rule
from mlgate.report.plain import printable_json


def render(result: Result, rules: list[Rule]) -> str:
    document = {
        "version": __version__,
        "scanned_files": result.scanned_files,
        "findings": [finding.to_dict() for finding in result.findings],
        "errors": [error.to_dict() for error in result.errors],
        "rules": _rules_of(result),
        "hidden_inline": result.hidden_inline,
        "hidden_by_baseline": result.hidden_by_baseline,
        "hidden_as_generated": result.hidden_as_generated,
        "skipped": dict(sorted(result.skipped.items())),
        "warnings": list(result.warnings),
        "unused_ignores": [ignore.to_dict() for ignore in result.unused_ignores],
    }
    return printable_json(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def _rules_of(result: Result) -> dict[str, dict[str, Any]]:
    """What the rules that fired are (name, fix, OWASP ML risk, CWE ids), by code, in code order:
    a reader looks a finding's `rule` up here."""
    fired = {finding.rule.code: finding.rule for finding in result.findings}
    return {code: fired[code].to_dict() for code in sorted(fired)}
