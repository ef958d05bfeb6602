"""The reports GitHub reads: workflow commands (annotations), SARIF 2.1.0, the Markdown summary.

tests/schemas/sarif-schema-2.1.0.json is the OASIS SARIF 2.1.0 schema, vendored unchanged from
oasis-tcs/sarif-spec, Schemata/sarif-schema-2.1.0.json at commit
85971b3e048f61a6d643b95fc6233d073302f5b8 (its $id names that file; 112,785 characters).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import re
from functools import lru_cache
from pathlib import Path

import jsonschema
import pytest

from conftest import write_tree
from mlgate.cli import main
from mlgate.findings import INVALID, Finding, Result, ScanErrorEntry, Severity, UnusedIgnore, assign_fingerprints
from mlgate.models.rules import DANGEROUS_CALL as MOD001
from mlgate.pins.rules import ACTION_NOT_PINNED as PIN020
from mlgate.pins.rules import IMAGE_NO_DIGEST as PIN010
from mlgate.pins.rules import UNPINNED as PIN001
from mlgate.plugins import load_hooks
from mlgate.report import FORMATS, github, json_report, markdown, plain, sarif
from mlgate.rule_pages import DOCS

SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
ALL_RULES = sorted((rule for hook in load_hooks() for rule in hook.rules), key=lambda rule: rule.code)


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    # Not check_schema(): the official file has a known slip, region's `anyOf` written inside its
    # `properties` (so it names a property instead of constraining the region), which the 2020-12
    # metaschema rejects. Everything else validates as published.
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def validate_sarif(document: dict) -> None:
    """Raise unless `document` is valid against the official SARIF 2.1.0 schema."""
    _validator().validate(document)


def _unescape(text: str, *, is_property: bool) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if is_property else []) + [("%25", "%")]
    for escaped, unescaped in pairs:
        text = text.replace(escaped, unescaped)
    return text


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command as the runner reads it: `::name key=value,key=value::message`."""
    found = re.fullmatch(r"::([a-z-]+)(?: ([^:]*))?::(.*)", line)
    assert found, f"not one workflow command: {line!r}"
    name, given, message = found.groups()
    properties = dict(pair.split("=", 1) for pair in given.split(",")) if given else {}
    return name, {key: _unescape(value, is_property=True) for key, value in properties.items()}, _unescape(message, is_property=False)


def result_of(*findings: Finding, errors: list[ScanErrorEntry] | None = None, scanned: int = 1) -> Result:
    listed = assign_fingerprints([dataclasses.replace(finding, context=finding.context or finding.message) for finding in findings])
    return Result(scanned_files=scanned, findings=listed, errors=errors or [])


# ---- workflow commands -------------------------------------------------------------------


def test_escaping_matches_the_actions_toolkit():
    assert plain.escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert plain.escape_property("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext%3A a%2Cb"


def test_a_crafted_file_name_and_message_cannot_start_another_command():
    path = "x,line=1::pwn\n::add-mask::secret%0A.txt"
    finding = PIN001.finding(path, 3, 5, "msg\n::stop-commands::token\r\n::error::fake")
    lines = github.render(result_of(finding), ALL_RULES).splitlines()
    assert len(lines) == 1
    assert lines[0] == (
        "::warning file=x%2Cline=1%3A%3Apwn%0A%3A%3Aadd-mask%3A%3Asecret%250A.txt,line=3,col=5,"
        "title=mlgate PIN001 unpinned-requirement [medium]::msg%0A::stop-commands::token%0D%0A::error::fake"
        "%0Afix: pin the exact version (name==X.Y.Z), ideally with --hash, or keep ranges only where a lock file pins them (mlgate explain PIN001)"
    )
    level, properties, message = parse_command(lines[0])
    assert (level, properties["file"], properties["line"], properties["col"]) == ("warning", path, "3", "5")
    assert message.startswith("msg\n::stop-commands::token\r\n::error::fake\nfix: ")


def test_severity_maps_to_error_warning_notice():
    findings = [
        MOD001.finding("m.bin", None, None, "critical one", offset=7),
        PIN020.finding("ci.yml", 1, 2, "high one"),
        PIN001.finding("r.txt", 1, 1, "medium one"),
        PIN001.finding("r.txt", 2, 1, "low one", severity=Severity.LOW),
    ]
    commands = [parse_command(line) for line in github.render(result_of(*findings), ALL_RULES).splitlines()]
    assert [
        (level, props.get("file"), props.get("line"), props.get("col"), message.split("\n")[0]) for level, props, message in commands
    ] == [
        ("error", "m.bin", None, None, "critical one (byte offset 7)"),
        ("error", "ci.yml", "1", "2", "high one"),
        ("warning", "r.txt", "1", "1", "medium one"),
        ("notice", "r.txt", "2", "1", "low one"),
    ]


def test_the_most_severe_come_first_and_only_ten_per_level_are_annotated():
    highs = [PIN020.finding("ci.yml", line, 9, f"high {line}") for line in range(1, 13)]
    mediums = [PIN001.finding("r.txt", line, 1, f"medium {line}") for line in range(1, 12)]
    critical = MOD001.finding("z/model.pt", None, None, "critical", member="archive/data.pkl", offset=42)
    errors = [ScanErrorEntry("broken.toml", "cannot parse")]
    lines = github.render(result_of(*highs, *mediums, critical, errors=errors), ALL_RULES).splitlines()

    assert lines[0] == "::error file=broken.toml,title=mlgate%3A file not scanned::cannot parse"
    assert parse_command(lines[1])[1:] == (
        {"file": "z/model.pt", "title": "mlgate MOD001 pickle-dangerous-call [critical]"},
        "critical (member archive/data.pkl, byte offset 42)\nfix: " + MOD001.fix + " (mlgate explain MOD001)",
    )
    # 1 error entry + 1 critical + 8 highs fill the 10 error annotations; 10 of 11 mediums are warnings.
    assert [parse_command(line)[1]["line"] for line in lines[2:10]] == [str(n) for n in range(1, 9)]
    assert [parse_command(line)[0] for line in lines[10:20]] == ["warning"] * 10
    assert lines[20:] == [
        "mlgate: ci.yml:9:9: PIN020 [high] high 9",
        "mlgate: ci.yml:10:9: PIN020 [high] high 10",
        "mlgate: ci.yml:11:9: PIN020 [high] high 11",
        "mlgate: ci.yml:12:9: PIN020 [high] high 12",
        "mlgate: r.txt:11:1: PIN001 [medium] medium 11",
        "mlgate: 5 more finding(s) not annotated: GitHub shows 10 annotations per level in a step.",
    ]


def test_json_report_keeps_offset_and_member_of_binary_findings():
    finding = MOD001.finding("model.pt", None, None, "calls os.system", member="archive/data.pkl", offset=42)
    data = result_of(finding).findings[0].to_dict()
    assert (data["line"], data["column"], data["member"], data["offset"]) == (None, None, "archive/data.pkl", 42)


REPORT_SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "report.schema.json"


def validate_json_report(document: dict) -> None:
    """Raise unless `document` is valid against the JSON report's published schema."""
    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator_class(schema, format_checker=validator_class.FORMAT_CHECKER).validate(document)


def test_json_report_of_a_real_scan_follows_its_schema_and_classifies_its_rules(tmp_path, monkeypatch, capsys):
    write_tree(tmp_path, {"requirements.txt": "torch>=2\n", "weights.txt": pickle.dumps(Payload(), protocol=4)})
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--format", "json", "requirements.txt", "weights.txt"]) == 1
    document = json.loads(capsys.readouterr().out)
    validate_json_report(document)
    assert [(f["rule"], f["path"], f["line"], f.get("offset")) for f in document["findings"]] == [
        ("PIN001", "requirements.txt", 1, None),
        ("MOD001", "weights.txt", None, 37),
    ]
    assert document["rules"] == {"MOD001": MOD001.to_dict(), "PIN001": PIN001.to_dict()}
    assert (document["rules"]["MOD001"]["owasp_ml"], document["rules"]["MOD001"]["cwe"]) == ("ML06", [502])
    assert (document["rules"]["PIN001"]["owasp_ml"], document["rules"]["PIN001"]["cwe"]) == ("ML06", [829])


def test_json_report_of_a_clean_run_has_every_key_and_no_rules():
    document = json.loads(json_report.render(result_of(), ALL_RULES))
    validate_json_report(document)
    assert (document["findings"], document["rules"], document["hidden_inline"], document["unused_ignores"]) == ([], {}, 0, [])


def test_json_report_with_every_optional_part_follows_its_schema():
    result = result_of(
        MOD001.finding("model.pt", None, None, "calls os.system", member="archive/data.pkl", offset=42),
        PIN020.finding("ci.yml", 3, 9, "tag"),
        errors=[ScanErrorEntry("bad.toml", "cannot parse", kind=INVALID), ScanErrorEntry("gone.txt", "cannot read")],
    )
    result.hidden_inline, result.hidden_by_baseline, result.skipped = 2, 16, {"gitignored": 3, "excluded": 1}
    result.unused_ignores = [UnusedIgnore("ci.yml", 4, ("PIN020",))]
    result.warnings = ["--exclude 'tests/' matched nothing"]
    document = json.loads(json_report.render(result, ALL_RULES))
    validate_json_report(document)
    assert list(document["rules"]) == ["MOD001", "PIN020"]
    assert (document["hidden_inline"], document["hidden_by_baseline"], document["skipped"]) == (2, 16, {"excluded": 1, "gitignored": 3})
    assert document["unused_ignores"] == [{"path": "ci.yml", "line": 4, "codes": ["PIN020"]}]
    assert document["warnings"] == ["--exclude 'tests/' matched nothing"]
    assert document["errors"] == [
        {"path": "bad.toml", "message": "cannot parse", "kind": "invalid"},
        {"path": "gone.txt", "message": "cannot read"},
    ]


@pytest.mark.parametrize(
    ("where", "change", "error"),
    [
        ((), {"undocumented": 1}, "Additional properties are not allowed"),
        (("findings", 0), {"undocumented": 1}, "Additional properties are not allowed"),
        (("rules", "PIN001"), {"owasp_ml": "ML11"}, "'ML11' does not match"),
        (("rules", "PIN001"), {"cwe": []}, r"\[\] should be non-empty"),
        (("findings", 0), {"severity": "fatal"}, "'fatal' is not one of"),
    ],
)
def test_the_json_report_schema_check_can_fail(where, change, error):
    document = json.loads(json_report.render(result_of(PIN001.finding("r.txt", 1, 1, "unpinned")), ALL_RULES))
    part = document
    for key in where:
        part = part[key]
    part.update(change)
    with pytest.raises(jsonschema.ValidationError, match=error):
        validate_json_report(document)


# ---- SARIF --------------------------------------------------------------------------------


def test_sarif_lists_every_rule_with_its_page_and_security_severity():
    document = json.loads(sarif.render(result_of(), ALL_RULES))
    validate_sarif(document)
    driver = document["runs"][0]["tool"]["driver"]
    assert (driver["name"], [rule["id"] for rule in driver["rules"]]) == ("mlgate", [rule.code for rule in ALL_RULES])
    pin020 = next(rule for rule in driver["rules"] if rule["id"] == "PIN020")
    assert pin020["name"] == "action-not-pinned"
    assert pin020["shortDescription"] == {"text": PIN020.summary}
    assert pin020["fullDescription"]["text"].startswith("A `uses:` reference to a GitHub Action or reusable workflow at a tag or branch")
    assert pin020["help"]["markdown"] == (DOCS / "PIN020.md").read_text(encoding="utf-8")
    assert pin020["properties"] == {
        "security-severity": "8.0",
        "tags": ["security", "supply-chain", "pins", "OWASP-ML06", "external/cwe/cwe-829"],
    }
    scores = {rule["id"]: rule["properties"]["security-severity"] for rule in driver["rules"]}
    assert (scores["MOD001"], scores["PIN001"], scores["PIN007"]) == ("9.5", "5.5", "3.0")


def test_sarif_classifies_every_rule_by_owasp_ml_and_cwe_as_tags_and_taxa():
    document = json.loads(sarif.render(result_of(), ALL_RULES))
    validate_sarif(document)
    run = document["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["supportedTaxonomies"] == [{"name": "CWE", "index": 0}, {"name": "OWASP ML Security Top 10", "index": 1}]
    cwe, owasp = run["taxonomies"]
    assert (cwe["name"], cwe["organization"], cwe["isComprehensive"]) == ("CWE", "MITRE", False)
    assert (owasp["name"], owasp["version"], owasp["organization"]) == ("OWASP ML Security Top 10", "2023", "OWASP")
    # Only the taxa the rules name, each with its title and page.
    assert [taxon["id"] for taxon in cwe["taxa"]] == [str(n) for n in sorted({n for rule in ALL_RULES for n in rule.cwe})]
    assert [taxon["id"] for taxon in owasp["taxa"]] == ["ML05", "ML06"]
    assert next(taxon for taxon in cwe["taxa"] if taxon["id"] == "502") == {
        "id": "502",
        "shortDescription": {"text": "Deserialization of Untrusted Data"},
        "helpUri": "https://cwe.mitre.org/data/definitions/502.html",
    }
    assert owasp["taxa"][0] == {
        "id": "ML05",
        "shortDescription": {"text": "Model Theft"},
        "helpUri": "https://owasp.org/www-project-machine-learning-security-top-10/docs/ML05_2023-Model_Theft.html",
    }
    rules = {rule["id"]: rule for rule in driver["rules"]}
    # SVC003: OWASP ML05 and CWE-1392 hold for every finding ("superset"), CWE-798 is related.
    assert rules["SVC003"]["relationships"] == [
        {"target": {"id": "ML05", "toolComponent": {"name": "OWASP ML Security Top 10", "index": 1}}, "kinds": ["superset"]},
        {"target": {"id": "1392", "toolComponent": {"name": "CWE", "index": 0}}, "kinds": ["superset"]},
        {"target": {"id": "798", "toolComponent": {"name": "CWE", "index": 0}}, "kinds": ["relevant"]},
    ]
    assert rules["SVC003"]["properties"]["tags"][-3:] == ["OWASP-ML05", "external/cwe/cwe-1392", "external/cwe/cwe-798"]
    # CWE tags are spelled as CodeQL spells them, three digits at least: GitHub reads that form.
    assert "external/cwe/cwe-022" in rules["MOD010"]["properties"]["tags"]
    # Every relationship points at a taxon the run defines.
    defined = {(component["name"], taxon["id"]) for component in run["taxonomies"] for taxon in component["taxa"]}
    for rule in driver["rules"]:
        for relationship in rule["relationships"]:
            target = relationship["target"]
            assert run["taxonomies"][target["toolComponent"]["index"]]["name"] == target["toolComponent"]["name"]
            assert (target["toolComponent"]["name"], target["id"]) in defined


def test_sarif_results_locate_text_and_binary_findings():
    findings = [
        PIN010.finding("docker/My Dockerfile", 4, 6, "image by tag"),
        MOD001.finding("models/a.pt", None, None, "calls os.system", member="archive/data.pkl", offset=42),
        MOD001.finding("models/b.pkl", None, None, "calls os.system", offset=7),
    ]
    result = result_of(*findings, errors=[ScanErrorEntry("bad.toml", "cannot parse")])
    findings = result.findings  # with their fingerprints
    document = json.loads(sarif.render(result, ALL_RULES))
    validate_sarif(document)
    run = document["runs"][0]
    index = [rule.code for rule in ALL_RULES]
    assert run["results"] == [
        {
            "ruleId": "PIN010",
            "ruleIndex": index.index("PIN010"),
            "level": "warning",
            "message": {"text": "image by tag"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "docker/My%20Dockerfile", "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": 4, "startColumn": 6},
                    }
                }
            ],
            "partialFingerprints": {"mlgate/v1": findings[0].fingerprint},
            "properties": {"severity": "medium", "hook": "pins"},
        },
        {
            "ruleId": "MOD001",
            "ruleIndex": index.index("MOD001"),
            "level": "error",
            "message": {"text": "calls os.system (member archive/data.pkl, byte offset 42)"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "models/a.pt", "uriBaseId": "%SRCROOT%"}}}],
            "partialFingerprints": {"mlgate/v1": findings[1].fingerprint},
            "properties": {"severity": "critical", "hook": "models"},
        },
        {
            "ruleId": "MOD001",
            "ruleIndex": index.index("MOD001"),
            "level": "error",
            "message": {"text": "calls os.system (byte offset 7)"},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": "models/b.pkl", "uriBaseId": "%SRCROOT%"}, "region": {"byteOffset": 7}}}
            ],
            "partialFingerprints": {"mlgate/v1": findings[2].fingerprint},
            "properties": {"severity": "critical", "hook": "models"},
        },
    ]
    assert all(len(finding.fingerprint) == 20 for finding in findings)
    assert run["invocations"] == [
        {
            "executionSuccessful": False,
            "toolExecutionNotifications": [
                {
                    "level": "error",
                    "message": {"text": "cannot parse"},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": "bad.toml", "uriBaseId": "%SRCROOT%"}}}],
                },
            ],
        }
    ]


def test_the_schema_check_can_fail():
    document = json.loads(sarif.render(result_of(PIN001.finding("r.txt", 0, 1, "line zero")), ALL_RULES))
    with pytest.raises(jsonschema.ValidationError, match="0 is less than the minimum of 1"):
        validate_sarif(document)
    document = json.loads(sarif.render(result_of(), ALL_RULES))
    document["runs"][0]["results"] = [{"message": {"text": "x"}, "level": "fatal"}]
    with pytest.raises(jsonschema.ValidationError, match="'fatal' is not one of"):
        validate_sarif(document)


class Payload:
    def __reduce__(self):
        return (os.system, ("id",))


def test_cli_writes_valid_sarif_for_a_real_scan(tmp_path, monkeypatch, capsys):
    write_tree(tmp_path, {"requirements.txt": "torch>=2\n", "weights.txt": pickle.dumps(Payload(), protocol=4)})
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--format", "sarif", "--output", "out.sarif", "requirements.txt", "weights.txt"]) == 1
    document = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    validate_sarif(document)
    assert [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"].get("region")) for r in document["runs"][0]["results"]] == [
        ("PIN001", "warning", {"startLine": 1, "startColumn": 1}),
        ("MOD001", "error", {"byteOffset": 37}),  # the REDUCE opcode (pickletools.dis: "37: R REDUCE")
    ]


def test_every_format_is_a_cli_choice(capsys):
    assert list(FORMATS) == ["text", "json", "github", "sarif", "markdown"]
    assert main(["check", "--format", "yaml"]) == 2
    error = capsys.readouterr().err
    assert "argument --format: invalid choice: 'yaml' (choose from " in error
    assert re.findall(r"\w+", error.split("choose from", 1)[1]) == ["text", "json", "github", "sarif", "markdown"]


# ---- Markdown summary ---------------------------------------------------------------------


def test_markdown_summary_counts_lists_and_explains():
    findings = [
        PIN001.finding("requirements.txt", 2, 1, "'numpy' has no version pin"),
        MOD001.finding("models/x.bin", None, None, "pickle calls posix.system", offset=42),
    ]
    text = markdown.render(result_of(*findings, scanned=3), ALL_RULES)
    hooks = sorted({rule.hook for rule in ALL_RULES})
    rows = {"models": "| models | 1 | 0 | 0 | 0 | 1 |", "pins": "| pins | 0 | 0 | 1 | 0 | 1 |"}
    assert text == "\n".join(
        [
            "## mlgate: 2 findings (1 critical, 1 medium) in 3 scanned files",
            "",
            "| hook | critical | high | medium | low | total |",
            "|---|---:|---:|---:|---:|---:|",
            *[rows.get(hook, f"| {hook} | 0 | 0 | 0 | 0 | 0 |") for hook in hooks],
            "",
            "| severity | rule | location | message |",
            "|---|---|---|---|",
            "| critical | MOD001 | ` models/x.bin ` | ` pickle calls posix.system (byte offset 42) ` |",
            "| medium | PIN001 | ` requirements.txt:2:1 ` | ` 'numpy' has no version pin ` |",
            "",
            "### How to fix",
            "",
            f"- **MOD001** {MOD001.summary}: {MOD001.fix} (`mlgate explain MOD001`)",
            f"- **PIN001** {PIN001.summary}: {PIN001.fix} (`mlgate explain PIN001`)",
            "",
            "### How to suppress a finding you have reviewed",
            "",
            "- one line: a comment `mlgate: ignore[CODE]` at the end of that line, or alone on the line just above it;",
            "- all current findings at once: `mlgate baseline`, then commit `.mlgate-baseline.json` and pass it as `baseline`;",
            "- a reviewed model file: an entry in the models hook's `allowlist` with its path and sha256 (accepted only while the digest is unchanged);",
            "- a whole rule: `ignore` in `.mlgate.yaml` or `[tool.mlgate]`.",
            "",
            "",
        ]
    )


def test_markdown_writes_what_the_scanned_tree_controls_as_code_spans():
    finding = PIN001.finding("a|b_[x](http://e.x)`.txt", 1, 1, "<img src=x onerror=alert(1)> *bold* ~~s~~ & \\ ![i](u)\nnext @octocat #1")
    row = next(line for line in markdown.render(result_of(finding), ALL_RULES).splitlines() if line.startswith("| medium"))
    assert row == (
        "| medium | PIN001 | `` a\\|b_[x](http://e.x)`.txt:1:1 `` | "
        "` <img src=x onerror=alert(1)> *bold* ~~s~~ & \\ ![i](u) next @octocat #1 ` |"
    )


def test_markdown_says_how_many_findings_have_no_annotation():
    findings = [PIN020.finding("ci.yml", line, 9, f"high {line}") for line in range(1, 14)]
    text = markdown.render(result_of(*findings), ALL_RULES)
    assert (
        "> GitHub shows at most 10 annotations of each level per step: the most severe findings are "
        "annotated on the diff, **3 more are not** and are listed here only."
    ) in text.splitlines()
    assert "more are not" not in markdown.render(result_of(*findings[:10]), ALL_RULES)


def test_markdown_lists_files_that_could_not_be_scanned():
    text = markdown.render(result_of(errors=[ScanErrorEntry("pyproject.toml", "bad TOML | at line 3")]), ALL_RULES)
    assert text.splitlines()[0] == "## mlgate: 0 findings in 1 scanned file, 1 file not scanned"
    assert "| ` pyproject.toml ` | ` bad TOML \\| at line 3 ` |" in text.splitlines()
