"""The README's rules table, generated from the rule declarations (the registry).

    python tools/rules_table.py           # print the table
    python tools/rules_table.py --write   # replace the table in README.md with it

tests/test_conventions.py fails, printing this table, while README.md's differs from it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from mlgate.findings import declared_rules
from mlgate.plugins import HOOK_MODULES, load_hooks

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN = "<!-- rules table: generated from the rule declarations by `python tools/rules_table.py --write` -->"
END = "<!-- end of rules table -->"
_MARKUP = re.compile(r"([\\`*_|<>\[\]])")


def _cell(text: str) -> str:
    """A summary as plain text in a table cell: Markdown characters and the cell pipe escaped."""
    return _MARKUP.sub(r"\\\1", " ".join(text.split()))


def table() -> str:
    """One row per declared rule of every hook, hook by hook (the order of `HOOK_MODULES`), by code."""
    load_hooks()  # importing a hook imports its rules module, which declares (registers) its rules
    rows = ["| code | severity | OWASP ML | CWE | what it reports |", "|---|---|---|---|---|"]
    for hook in HOOK_MODULES:
        for rule in sorted(declared_rules(hook), key=lambda rule: rule.code):
            cwe = ", ".join(f"CWE-{number}" for number in rule.cwe)
            rows.append(f"| [{rule.code}](docs/rules/{rule.code}.md) | {rule.severity} | {rule.owasp_ml} | {cwe} | {_cell(rule.summary)} |")
    return "\n".join(rows) + "\n"


def readme_table(text: str) -> str:
    """The generated part of README.md's text (between the markers)."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"README.md has no rules table markers ({BEGIN!r} ... {END!r})")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def write(path: Path = README) -> None:
    text = path.read_text(encoding="utf-8")
    readme_table(text)  # the markers are there
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    path.write_text(f"{before}{BEGIN}\n{table()}{END}{after}", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    elif sys.argv[1:]:
        sys.exit(__doc__)
    else:
        sys.stdout.write(table())
