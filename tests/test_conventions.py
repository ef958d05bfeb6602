"""Conventions every rule follows, checked against the registry (declaring a `Rule` registers it).

A code is its hook's prefix and three digits; codes are unique; every rule has a page in
docs/rules/ and every page a rule; a hook's rules are exactly the ones declared for it; the
README's rules table is the one tools/rules_table.py generates from the declarations.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from mlgate import taxonomy
from mlgate.findings import Rule, Severity, declared_rules
from mlgate.plugins import HOOK_MODULES, load_hooks

REPO = Path(__file__).resolve().parents[1]
DOCS_DIR = REPO / "docs" / "rules"
PREFIXES = {"pins": "PIN", "models": "MOD", "hub": "HUB", "services": "SVC"}
HOOKS = {hook.name: hook for hook in load_hooks()}  # importing the hooks declares their rules
# Only the shipped hooks' rules: tests declare rules of fake hooks too (tests/demo_hook.py).
RULES = [rule for rule in declared_rules() if rule.hook in HOOK_MODULES]


def _rules_table():
    spec = importlib.util.spec_from_file_location("rules_table", REPO / "tools" / "rules_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_shipped_hook_has_a_prefix():
    assert sorted(PREFIXES) == sorted(HOOK_MODULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_code_is_the_hooks_prefix_and_three_digits(rule):
    assert re.fullmatch(r"[A-Z]{3}\d{3}", rule.code), f"{rule.code}: expected PREFIX + 3 digits"
    assert rule.code[:3] == PREFIXES[rule.hook], f"{rule.code} is declared for hook {rule.hook!r}, whose prefix is {PREFIXES[rule.hook]}"


def test_no_rule_of_another_hook_takes_a_shipped_prefix():
    owners = {prefix: hook for hook, prefix in PREFIXES.items()}
    strays = [(rule.code, rule.hook) for rule in declared_rules() if rule.code[:3] in owners and rule.hook != owners[rule.code[:3]]]
    assert strays == []


def test_codes_and_names_are_unique():
    codes = [rule.code for rule in RULES]
    names = [rule.name for rule in RULES]
    assert len(codes) == len(set(codes))
    assert sorted(name for name in set(names) if names.count(name) > 1) == []


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_names_an_owasp_ml_risk_and_known_cwe_ids(rule):
    assert re.fullmatch(r"ML(0[1-9]|10)", rule.owasp_ml), rule.owasp_ml
    assert rule.cwe and len(set(rule.cwe)) == len(rule.cwe)
    # A shipped rule names only CWE ids whose MITRE title mlgate carries (the reports print it).
    assert [number for number in rule.cwe if number not in taxonomy.CWE_TITLES] == []


def test_every_cwe_title_is_used_by_a_rule():
    assert sorted(set(taxonomy.CWE_TITLES) - {number for rule in RULES for number in rule.cwe}) == []


@pytest.mark.parametrize(
    ("owasp_ml", "cwe", "error"),
    [
        ("ML11", (829,), "owasp_ml 'ML11' is not one of ML01, "),
        ("ml06", (829,), "owasp_ml 'ml06' is not one of"),
        ("", (829,), "owasp_ml '' is not one of"),
        ("ML06", (), r"cwe must name at least one CWE id, as positive integers \(got \(\)\)"),
        ("ML06", ("CWE-829",), r"cwe must name at least one CWE id, as positive integers \(got \('CWE-829',\)\)"),
        ("ML06", (0,), r"cwe must name at least one CWE id, as positive integers \(got \(0,\)\)"),
        ("ML06", (829, 829), r"cwe names an id twice \(\(829, 829\)\)"),
    ],
)
def test_a_rule_without_a_valid_classification_is_not_declared(owasp_ml, cwe, error):
    with pytest.raises(ValueError, match=f"rule TST001: {error}"):
        Rule("TST001", "test", "test", Severity.LOW, "summary", "fix", owasp_ml=owasp_ml, cwe=cwe)
    assert "TST001" not in {rule.code for rule in declared_rules()}


def test_a_rule_needs_both_classifications():
    with pytest.raises(TypeError, match="owasp_ml"):
        Rule("TST002", "test", "test", Severity.LOW, "summary", "fix", cwe=(829,))
    with pytest.raises(TypeError, match="cwe"):
        Rule("TST002", "test", "test", Severity.LOW, "summary", "fix", owasp_ml="ML06")


def test_declaring_a_code_twice_is_an_error():
    existing = RULES[0]
    with pytest.raises(ValueError, match=f"rule {existing.code} is declared twice"):
        Rule(existing.code, "another", existing.hook, Severity.LOW, "a second declaration", "none", owasp_ml="ML06", cwe=(829,))
    assert declared_rules(existing.hook)[0] is existing


@pytest.mark.parametrize("name", sorted(HOOK_MODULES))
def test_a_hooks_rules_are_the_ones_declared_for_it(name):
    assert HOOKS[name].rules == declared_rules(name)
    assert HOOKS[name].rules, f"hook {name} declares no rule"


def test_every_rule_has_a_page_and_every_page_belongs_to_a_rule():
    pages = {path.stem for path in DOCS_DIR.glob("*.md")}
    codes = {rule.code for rule in RULES}
    assert sorted(codes - pages) == [], "rules without a page in docs/rules/ (see CONTRIBUTING.md)"
    assert sorted(pages - codes) == [], "pages in docs/rules/ that belong to no declared rule"


def test_the_readme_rules_table_is_generated_from_the_registry():
    tool = _rules_table()
    expected = tool.table()
    actual = tool.readme_table((REPO / "README.md").read_text(encoding="utf-8"))
    rows = lambda table: {line.split(" | ", 1)[0] for line in table.splitlines()[2:]}  # noqa: E731
    assert (sorted(rows(expected) - rows(actual)), sorted(rows(actual) - rows(expected))) == ([], []), (
        f"rules missing from README.md (first list) or not declared (second); run `python tools/rules_table.py --write`:\n{expected}"
    )
    assert actual == expected, f"README.md's rules table is stale; run `python tools/rules_table.py --write`. Expected:\n{expected}"
