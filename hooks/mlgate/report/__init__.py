"""Output formats: one module per format, each with `render(result, rules) -> str`.

Only the format asked for is imported: a pre-commit run prints text and should not pay for
loading the SARIF or Markdown writers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlgate.findings import Result, Rule

# format name (as given to --format) -> module in this package
FORMATS = {
    "text": "text",
    "json": "json_report",
    "github": "github",
    "sarif": "sarif",
    "markdown": "markdown",
}


def render(format_name: str, result: Result, rules: list[Rule]) -> str:
    text: str = importlib.import_module(f"mlgate.report.{FORMATS[format_name]}").render(result, rules)  # every format's render returns str
    return text
