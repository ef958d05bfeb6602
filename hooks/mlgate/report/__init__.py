"""Output formats. Each takes a scan `Result` (and the rules that ran) and returns text."""

from __future__ import annotations

from mlgate.report import github, json_report, markdown, sarif, text

FORMATS = {
    "text": text.render,
    "json": json_report.render,
    "github": github.render,
    "sarif": sarif.render,
    "markdown": markdown.render,
}
