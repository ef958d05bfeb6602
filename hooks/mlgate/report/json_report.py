"""The JSON object of the interface contract (design.md).

JSON escapes line breaks and control characters itself; `##[` (a workflow command wherever it
appears in a line of a CI log) is written `##\\u005b`, the same string to any JSON reader."""

from __future__ import annotations

import json

from mlgate import __version__
from mlgate.findings import Result, Rule
from mlgate.report.plain import printable_json


def render(result: Result, rules: list[Rule]) -> str:
    document = {
        "version": __version__,
        "scanned_files": result.scanned_files,
        "findings": [finding.to_dict() for finding in result.findings],
        "errors": [error.to_dict() for error in result.errors],
    }
    return printable_json(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
