"""The rule pages (docs/rules/CODE.md): complete, and their examples true (one page per rule,
and one rule per page, is tests/test_conventions.py).

Each page's `## Example` holds a **Bad** and a **Good** snippet, each labelled with the file name
it belongs in. For hooks whose inputs are text manifests, both are scanned with the real engine:
the bad one must raise the page's rule and the good one must be clean, so a page cannot drift
away from what mlgate does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from httpfake import online_env, server  # noqa: F401  (fixtures, for the online examples)
from mlgate import taxonomy
from mlgate.cli import main
from mlgate.files import SKIP_REASONS
from mlgate.plugins import load_hooks
from mlgate.rule_pages import DOCS

DOCS_DIR = Path(__file__).resolve().parents[1] / "docs" / "rules"
HOOKS = {hook.name: hook for hook in load_hooks()}
RULES = {rule.code: rule for hook in HOOKS.values() for rule in hook.rules}
SECTIONS = ["What it finds", "Why it is dangerous", "Example", "How to fix", "Suppress"]
HEADER = re.compile(r"\*\*Severity:\*\* (\w+) · \*\*Hook:\*\* `(\w+)` · \*\*Options:\*\* (.+)")
EXAMPLE = re.compile(r"^\*\*(Bad|Good)\*\* — `([^`]+)`\n\n```[\w-]*\n(.*?)\n```$", re.MULTILINE | re.DOTALL)
# Hooks whose examples are text files that can be scanned as written (a model file is binary).
# Rules whose examples need a hub revision with given contents (a flagged file, pickle-only
# weights, remote code): tests/online/test_hub_verdicts.py runs them against its hub stand-in.
HUB_CONTENT_EXAMPLES = {"HUB011", "HUB012", "HUB013", "HUB014"}
SCANNABLE_EXAMPLES = sorted(
    code for code, rule in RULES.items() if rule.hook in ("pins", "hub", "services") and code not in HUB_CONTENT_EXAMPLES
)
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
ONLINE_EXAMPLES = {"PIN030", "PIN031", "HUB010", "PIN032", "HUB020"}
# The cooldown rules' examples: release dates the fake APIs answer, by the clock of `cooldown_example`.
YOUNG_SHA, OLD_SHA = "6c0e6080953db56375760c0471a8c5f2929baf11", "1b0d29e1d1a47f4e5f0ff4a5c3f1a4e6a2a0c9d7"


def cooldown_example(code: str, request) -> str | None:
    """For PIN032/HUB020: serve the examples' release dates (hours old for Bad, weeks for Good)
    with the clock fixed, and return the rule to select (the hub's other online checks would
    ask this fake hub for more than the example is about); None for other rules."""
    if code not in ("PIN032", "HUB020"):
        return None
    from datetime import datetime, timezone

    from mlgate.online import cooldown

    request.getfixturevalue("monkeypatch").setattr(cooldown, "now", lambda: datetime(2024, 12, 5, 12, 0, tzinfo=timezone.utc))
    server = request.getfixturevalue("server")
    server.reply("GET", "/pypi/ultralytics/8.3.41/json", body={"urls": [{"upload_time_iso_8601": "2024-12-04T20:51:00.000000Z"}]})
    server.reply("GET", "/pypi/ultralytics/8.3.40/json", body={"urls": [{"upload_time_iso_8601": "2024-11-20T10:00:00.000000Z"}]})
    for sha, date in ((YOUNG_SHA, "2024-12-05T08:00:00.000Z"), (OLD_SHA, "2024-11-01T08:00:00.000Z")):
        server.reply("GET", f"/api/models/acme/sentiment/revision/{sha}", body={"sha": sha})
        server.reply("GET", f"/api/models/acme/sentiment/commits/{sha}", body=[{"id": sha, "date": date}])
    return code


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


def classification(rule) -> str:
    """The start of a page's fifth line: the rule's OWASP ML risk and CWE ids, each linked to its page."""
    risk = f"[{rule.owasp_ml} {taxonomy.OWASP_ML_TOP_10[rule.owasp_ml]}]({taxonomy.owasp_ml_page(rule.owasp_ml)})"
    weaknesses = ", ".join(f"[CWE-{number}]({taxonomy.cwe_page(number)})" for number in rule.cwe)
    return f"**OWASP ML:** {risk} · **CWE:** {weaknesses} — "


@pytest.mark.parametrize("code", sorted(RULES))
def test_page_states_the_rules_owasp_ml_risk_and_cwe_ids_with_a_reason(code):
    lines = page(code).splitlines()
    assert lines[3:6:2] == ["", ""], f"{code}: line 5, between blank lines, is the OWASP ML / CWE line"
    expected = classification(RULES[code])
    assert lines[4].startswith(expected), f"{code}: line 5 must start with\n{expected}"
    reason = lines[4].removeprefix(expected)
    assert len(reason.split()) >= 5 and reason.endswith("."), f"{code}: give the reason in a sentence after the ids"


def test_a_page_that_names_other_ids_fails_the_check():
    rule = RULES["PIN020"]
    assert page("PIN020").splitlines()[4].startswith(classification(rule))
    for changed in ({"owasp_ml": "ML05"}, {"cwe": (494,)}, {"cwe": (829, 494)}):
        other = type("Other", (), {"owasp_ml": rule.owasp_ml, "cwe": rule.cwe, **changed})
        assert not page("PIN020").splitlines()[4].startswith(classification(other))


def test_the_readme_documents_every_key_of_the_json_report():
    readme = (DOCS_DIR.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### JSON output", 1)[1].split("\n## ", 1)[0]
    schema = json.loads((DOCS_DIR.parent / "report.schema.json").read_text(encoding="utf-8"))
    keys = set(schema["properties"])
    for part in ("finding", "error", "rule", "unused_ignore"):
        keys |= set(schema["$defs"][part]["properties"])
    assert sorted(key for key in keys if f"`{key}`" not in section) == []
    assert "docs/report.schema.json" in section
    # The reasons a file is skipped, as the walk names them, each explained in the README and the schema.
    skipped = schema["properties"]["skipped"]["description"]
    assert sorted(reason for reason in SKIP_REASONS if f"`{reason}`" not in section or reason not in skipped) == []


def test_every_option_is_documented_on_a_rule_page():
    pages = "".join(page(code) for code in RULES)
    for hook in HOOKS.values():
        for option in hook.options:
            assert f"`{option.name}`" in pages, option.name


@pytest.mark.parametrize("code", SCANNABLE_EXAMPLES)
def test_bad_example_raises_the_rule(code, scan_tree, request):
    if code in ONLINE_EXAMPLES:
        request.getfixturevalue("online_env")
    select = cooldown_example(code, request)
    path, snippet = examples(code)["Bad"]
    options = {RULES[code].hook: EXAMPLE_OPTIONS.get(code, {})}
    scan = scan_tree({path: snippet}, select=select, options=options, online=code in ONLINE_EXAMPLES)
    assert scan.errors == []
    assert code in {hit[0] for hit in scan.hits}, scan.hits


@pytest.mark.parametrize("code", SCANNABLE_EXAMPLES)
def test_good_example_is_clean(code, scan_tree, request):
    if code in ONLINE_EXAMPLES:
        request.getfixturevalue("online_env")
    select = cooldown_example(code, request)
    path, snippet = examples(code)["Good"]
    options = {RULES[code].hook: EXAMPLE_OPTIONS.get(code, {})}
    scan = scan_tree({path: snippet}, select=select, options=options, online=code in ONLINE_EXAMPLES)
    assert (scan.hits, scan.errors) == ([], [])


def test_rules_lists_each_rules_owasp_ml_risk_and_cwe_ids(capsys):
    assert main(["rules"]) == 0
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    assert sorted(lines) == sorted(RULES)
    assert lines["PIN020"][:6] == ["PIN020", "high", "pins", "ML06", "CWE-829", "action-not-pinned"]
    assert lines["SVC003"][:6] == ["SVC003", "high", "services", "ML05", "CWE-1392,CWE-798", "default-credentials"]
    assert main(["rules", "--format", "json"]) == 0
    listed = {rule["code"]: rule for rule in json.loads(capsys.readouterr().out)}
    assert {code: (rule["owasp_ml"], rule["cwe"]) for code, rule in listed.items()} == {
        code: (rule.owasp_ml, list(rule.cwe)) for code, rule in RULES.items()
    }
    assert listed["HUB001"] == RULES["HUB001"].to_dict()


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
