"""Ways to accept a finding: an inline comment, or a baseline of fingerprints.

Inline: `mlgate: ignore[CODE]` (several codes separated by commas; a hook name works
too) in whatever comment syntax the file has, on the offending line or the line above.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from mlgate.errors import UsageError
from mlgate.findings import Finding

INLINE = re.compile(r"mlgate:\s*ignore\[([A-Za-z0-9_,\s-]+)\]")


def inline_codes(line: str) -> set[str]:
    codes: set[str] = set()
    for match in INLINE.finditer(line):
        codes.update(part.strip() for part in match.group(1).split(",") if part.strip())
    return codes


def is_suppressed_inline(finding: Finding, line_text: str, previous_line_text: str) -> bool:
    wanted = {finding.rule.code, finding.rule.hook}
    return bool(wanted & (inline_codes(line_text) | inline_codes(previous_line_text)))


class BaselineError(UsageError):
    pass


def write_baseline(path: str, findings: list[Finding]) -> None:
    entries = [
        {"fingerprint": f.fingerprint, "rule": f.rule.code, "path": f.path, "message": f.message}
        for f in sorted(findings, key=lambda f: f.sort_key)
    ]
    Path(path).write_text(json.dumps({"version": 1, "findings": entries}, indent=2) + "\n", encoding="utf-8")


def read_baseline(path: str) -> set[str]:
    """Fingerprints listed in a baseline file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found") from None
    except (OSError, ValueError) as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc}") from None
    entries = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: not an mlgate baseline (no 'findings' list)")
    return {entry["fingerprint"] for entry in entries if isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str)}
