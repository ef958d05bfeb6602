"""Output formats. Each takes a scan `Result` (and the rules that ran) and returns text."""

from __future__ import annotations

from mlgate.report import json_report, text

FORMATS = {
    "text": text.render,
    "json": json_report.render,
}
