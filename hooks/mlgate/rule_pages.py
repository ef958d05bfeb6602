"""The rule pages (docs/rules/CODE.md, shipped in the package): what `mlgate explain` prints and
what the SARIF report gives viewers as each rule's help."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).parent / "docs" / "rules"


def page(code: str) -> str | None:
    """The documentation page of rule `code`, or None when it has none (a plugin's rule, say)."""
    path = DOCS / f"{code}.md"
    return path.read_text(encoding="utf-8") if path.is_file() else None
