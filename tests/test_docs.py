"""The rule pages (docs/rules/CODE.md): complete, and their examples true (one page per rule,
and one rule per page, is tests/test_conventions.py).

Each page's `## Example` holds a **Bad** and a **Good** snippet, each labelled with the file name
it belongs in. For hooks whose inputs are text manifests, both are scanned with the real engine:
the bad one must raise the page's rule and the good one must be clean, so a page cannot drift
away from what mlgate does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from httpfake import online_env, server  # noqa: F401  (fixtures, for the online examples)
from mlgate.cli import main
from mlgate.plugins import load_hooks
from mlgate.rule_pages import DOCS

DOCS_DIR = Path(__file__).resolve().parents[1] / "docs" / "rules"
HOOKS = {hook.name: hook for hook in load_hooks()}
RULES = {rule.code: rule for hook in HOOKS.values() for rule in hook.rules}
SECTIONS = ["What it finds", "Why it is dangerous", "Example", "How to fix", "Suppress"]
HEADER = re.compile(r"\*\*Severity:\*\* (\w+) · \*\*Hook:\*\* `(\w+)` · \*\*Options:\*\* (.+)")
EXAMPLE = re.compile(r"^\*\*(Bad|Good)\*\* — `([^`]+)`\n\n```[\w-]*\n(.*?)\n```$", re.MULTILINE | re.DOTALL)
# Hooks whose examples are text files that can be scanned as written (a model file is binary).
SCANNABLE_EXAMPLES = sorted(code for code, rule in RULES.items() if rule.hook in ("pins", "hub", "services"))
# Options a page's examples need (the rule only exists in that profile).
OSV_DATABASE = str(Path(__file__).resolve().parent / "fixtures" / "osv")
EXAMPLE_OPTIONS = {
    "PIN007": {"require-hashes": True},
    "PIN030": {"osv-database": OSV_DATABASE},
    "PIN031": {"osv-database": OSV_DATABASE},
    "HUB007": {"allowed-namespaces": ["sentence-transformers", "meta-llama", "our-org"]},
    "HUB008": {"report-unresolved": True},
}
# Rules reported only with --online: their examples run online, against an offline OSV
# database (PIN030/PIN031) and a fake hub on 127.0.0.1 that knows no repository (HUB010).
ONLINE_EXAMPLES = {"PIN030", "PIN031", "HUB010"}


def page(code: str) -> str:
    return (DOCS_DIR / f"{code}.md").read_text(encoding="utf-8")


def section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"no '## {title}' section"
    return match.group(1)


def examples(code: str) -> dict[str, tuple[str, str]]:
    found = EXAMPLE.findall(section(page(code), "Example"))
    assert [kind for kind, _, _ in found] == ["Bad", "Good"], f"{code}: expected a Bad then a Good example"
    return {kind: (path, snippet + "\n") for kind, path, snippet in found}


def test_the_package_reads_pages_from_the_docs_folder():
    assert DOCS.resolve() == DOCS_DIR.resolve()


@pytest.mark.parametrize("code", sorted(RULES))
def test_page_has_title_header_and_sections(code):
    examples(code)
    rule, text = RULES[code], page(code)
    lines = text.splitlines()
    assert lines[0] == f"# {code}: {rule.name}"
    header = HEADER.fullmatch(lines[2])
    assert header, f"{code}: line 3 must be the severity/hook/options line"
    severity, hook, options = header.groups()
    assert (severity, hook) == (str(rule.severity), rule.hook)
    named = re.findall(r"`([\w-]+)`", options)
    assert options == "—" or named, f"{code}: options are backticked names or '—'"
    assert set(named) <= {option.name for option in HOOKS[hook].options}
    assert re.findall(r"^## (.+)$", text, re.MULTILINE) == SECTIONS
    for title in SECTIONS:
        assert section(text, title).strip(), f"{code}: '## {title}' is empty"
    assert f"mlgate: ignore[{code}]" in section(text, "Suppress")
    assert "**Severity:" in section(text, "Why it is dangerous"), f"{code}: explain the severity"


def test_every_option_is_documented_on_a_rule_page():
    pages = "".join(page(code) for code in RULES)
    for hook in HOOKS.values():
        for option in hook.options:
            assert f"`{option.name}`" in pages, option.name


@pytest.mark.parametrize("code", SCANNABLE_EXAMPLES)
def test_bad_example_raises_the_rule(code, scan_tree, request):
    if code in ONLINE_EXAMPLES:
        request.getfixturevalue("online_env")
    path, snippet = examples(code)["Bad"]
    scan = scan_tree({path: snippet}, options={RULES[code].hook: EXAMPLE_OPTIONS.get(code, {})}, online=code in ONLINE_EXAMPLES)
    assert scan.errors == []
    assert code in {hit[0] for hit in scan.hits}, scan.hits


@pytest.mark.parametrize("code", SCANNABLE_EXAMPLES)
def test_good_example_is_clean(code, scan_tree, request):
    if code in ONLINE_EXAMPLES:
        request.getfixturevalue("online_env")
    path, snippet = examples(code)["Good"]
    scan = scan_tree({path: snippet}, options={RULES[code].hook: EXAMPLE_OPTIONS.get(code, {})}, online=code in ONLINE_EXAMPLES)
    assert (scan.hits, scan.errors) == ([], [])


def test_explain_prints_the_page(capsys):
    assert main(["explain", "PIN001"]) == 0
    assert capsys.readouterr().out == page("PIN001")


def test_explain_accepts_lower_case(capsys):
    assert main(["explain", "pin020"]) == 0
    assert capsys.readouterr().out.startswith("# PIN020: action-not-pinned\n")


def test_explain_unknown_code_is_a_usage_error(capsys):
    assert main(["explain", "PIN999"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "unknown rule code 'PIN999'" in captured.err
