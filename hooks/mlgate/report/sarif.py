"""SARIF 2.1.0 for GitHub code scanning (and any other SARIF viewer).

One run; the driver lists every rule (not only those that fired) with its documentation page
as help, so a viewer can explain an alert without mlgate installed. Results carry our
fingerprint as a partial fingerprint, which is what lets code scanning follow an alert across
commits that move lines.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from mlgate import __version__, rule_pages, taxonomy
from mlgate.findings import Finding, Result, Rule, Severity
from mlgate.report.plain import printable_json
from mlgate.report.text import where_in_file

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SOURCE_ROOT = "%SRCROOT%"
FINGERPRINT_KEY = "mlgate/v1"
LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
# GitHub ranks security alerts by this score: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, < 4 low.
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}
_WHAT_IT_FINDS = re.compile(r"^## What it finds\s*\n+(.+?)\n\s*\n", re.MULTILINE | re.DOTALL)


def _descriptor(rule: Rule) -> dict[str, Any]:
    page = rule_pages.page(rule.code)
    found = _WHAT_IT_FINDS.search(page or "")
    full = " ".join(found.group(1).split()) if found else rule.summary
    hint = f"{rule.fix} (`mlgate explain {rule.code}` prints the rule's page)"
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": full},
        "help": {"text": hint, "markdown": page or hint},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "tags": ["security", "supply-chain", rule.hook, *_classification_tags(rule)],
        },
        "relationships": _relationships(rule),
    }


# The run's taxonomies (`run.taxonomies`, in this order: a reference names one by index too).
CWE = "CWE"
OWASP_ML = "OWASP ML Security Top 10"
TAXONOMIES = (CWE, OWASP_ML)


def _classification_tags(rule: Rule) -> list[str]:
    """The rule's OWASP ML risk and CWE ids as tags, which is what code-scanning filters read:
    CWE in CodeQL's spelling (`external/cwe/cwe-079`), which GitHub shows on the alert."""
    return [f"OWASP-{rule.owasp_ml}", *(f"external/cwe/cwe-{number:03d}" for number in rule.cwe)]


def _relationships(rule: Rule) -> list[dict[str, Any]]:
    """The rule's taxa, SARIF's own way to classify a rule (§3.52): every finding of the rule is an
    instance of its OWASP risk and of its first CWE (the taxon is a "superset" of the rule); the
    further CWE ids are related ("relevant") without that promise."""
    targets = [(OWASP_ML, rule.owasp_ml, "superset")]
    targets += [(CWE, str(number), "superset" if position == 0 else "relevant") for position, number in enumerate(rule.cwe)]
    return [
        {"target": {"id": taxon, "toolComponent": {"name": name, "index": TAXONOMIES.index(name)}}, "kinds": [kind]}
        for name, taxon, kind in targets
    ]


def _taxonomies(rules: list[Rule]) -> list[dict[str, Any]]:
    """The CWE and OWASP ML entries the rules name (not the whole lists: `isComprehensive` is false)."""
    cwe_ids = sorted({number for rule in rules for number in rule.cwe})
    risks = sorted({rule.owasp_ml for rule in rules})
    cwe = {
        "name": CWE,
        "organization": "MITRE",
        "informationUri": taxonomy.CWE_URL,
        "shortDescription": {"text": "The MITRE Common Weakness Enumeration"},
        "isComprehensive": False,
        "taxa": [_taxon(str(number), taxonomy.CWE_TITLES.get(number), taxonomy.cwe_page(number)) for number in cwe_ids],
    }
    owasp = {
        "name": OWASP_ML,
        "version": taxonomy.OWASP_ML_VERSION,
        "organization": "OWASP",
        "informationUri": taxonomy.OWASP_ML_URL,
        "shortDescription": {"text": "OWASP Machine Learning Security Top 10"},
        "isComprehensive": False,
        "taxa": [_taxon(risk, taxonomy.OWASP_ML_TOP_10[risk], taxonomy.owasp_ml_page(risk)) for risk in risks],
    }
    return [cwe, owasp]  # the order of TAXONOMIES


def _taxon(identifier: str, title: str | None, page: str) -> dict[str, Any]:
    taxon: dict[str, Any] = {"id": identifier, "helpUri": page}
    if title:  # a plugin's rule may name a CWE whose title mlgate does not carry
        taxon["shortDescription"] = {"text": title}
    return taxon


def _artifact(path: str) -> dict[str, Any]:
    posix = PurePosixPath(path)
    if posix.is_absolute():  # scanned outside the current directory: no base to be relative to
        return {"uri": "file://" + quote(path, errors="surrogateescape")}
    # A file name that is not UTF-8 (its bytes kept as surrogates) is written as those bytes.
    return {"uri": quote(path, errors="surrogateescape"), "uriBaseId": SOURCE_ROOT}


def _location(finding: Finding) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(finding.path)}
    if finding.line is not None:
        physical["region"] = {"startLine": finding.line, "startColumn": finding.column or 1}
    elif finding.offset is not None and finding.member is None:
        # An offset inside an archive member is not an offset in the file: that one stays in the message.
        physical["region"] = {"byteOffset": finding.offset}
    return {"physicalLocation": physical}


def _result(finding: Finding, index: int) -> dict[str, Any]:
    return {
        "ruleId": finding.rule.code,
        "ruleIndex": index,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{finding.message}{where_in_file(finding)}"},
        "locations": [_location(finding)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {"severity": str(finding.severity), "hook": finding.rule.hook},
    }


def render(result: Result, rules: list[Rule]) -> str:
    index = {rule.code: number for number, rule in enumerate(rules)}
    notifications = [
        {
            "level": "error" if error.fails(result.strict_errors) else "warning",
            "message": {"text": error.message},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact(error.path)}}],
        }
        for error in result.errors
    ]
    run = {
        "tool": {
            "driver": {
                "name": "mlgate",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_descriptor(rule) for rule in rules],
                "supportedTaxonomies": [{"name": name, "index": index} for index, name in enumerate(TAXONOMIES)],
            }
        },
        "taxonomies": _taxonomies(rules),
        "invocations": [{"executionSuccessful": not result.failing_errors(), "toolExecutionNotifications": notifications}],
        "columnKind": "unicodeCodePoints",
        "results": [_result(finding, index[finding.rule.code]) for finding in result.findings],
    }
    document = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return printable_json(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
