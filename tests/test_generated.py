"""Generated and vendored copies (`.gitattributes` linguist attributes): a finding on a copy is shown
at its source only; one the source does not have is kept (mlgate.generated, engine)."""

from __future__ import annotations

import json

import pytest

from conftest import write_tree
from mlgate import generated
from mlgate.generated import is_generated
from mlgate.report import json_report

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kserve-controller
spec:
  template:
    spec:
      containers:
        - name: proxy
          image: quay.io/brancz/kube-rbac-proxy:v0.18.0
"""
ATTRIBUTES = "# Helm chart generated files\ncharts/**/files/** linguist-generated=true\nvendor/** linguist-vendored\n"


@pytest.mark.parametrize(
    ("lines", "path", "generated"),
    [
        (ATTRIBUTES, "charts/kserve/files/resources.yaml", True),
        (ATTRIBUTES, "charts/a/b/files/deep/x.yaml", True),
        (ATTRIBUTES, "config/resources.yaml", False),
        (ATTRIBUTES, "vendor/lib/values.yaml", True),
        (ATTRIBUTES, "src/vendor/lib/values.yaml", False),  # anchored: `vendor/**` is at the top only
        ("*.pb.go linguist-generated\n", "api/v1/types.pb.go", True),  # no slash: the name at any depth
        ("*.yaml linguist-generated\nkeep.yaml -linguist-generated\n", "a/keep.yaml", False),  # a later line wins
        ("*.yaml linguist-generated=false\n", "a.yaml", False),
        ("*.yaml linguist-detectable=true\n", "a.yaml", False),  # other attributes say nothing
        ("vendor/ linguist-vendored\n", "vendor/x.yaml", False),  # a folder pattern does not reach into it (git)
        ("gen/**/*.yaml linguist-generated\n", "gen/x.yaml", True),  # `/**/` is zero or more folders
        ("gen/[ab].yaml linguist-generated\n", "gen/b.yaml", True),
    ],
)
def test_gitattributes_patterns_as_git_matches_them(lines, path, generated, tmp_path):
    write_tree(tmp_path, {"repo/.git/config": "", "repo/.gitattributes": lines, f"repo/{path}": ""})
    assert is_generated(tmp_path / "repo" / path) is generated


def test_a_deeper_gitattributes_wins(tmp_path):
    files = {"r/.git/config": "", "r/.gitattributes": "*.yaml linguist-generated\n", "r/src/.gitattributes": "*.yaml -linguist-generated\n"}
    write_tree(tmp_path, {**files, "r/src/a.yaml": "", "r/b.yaml": ""})
    assert not is_generated(tmp_path / "r/src/a.yaml") and is_generated(tmp_path / "r/b.yaml")


def test_a_generated_copy_is_shown_at_its_source_only(scan_tree):
    only_in_copy = DEPLOYMENT.replace("kube-rbac-proxy:v0.18.0", "only-here:v1")
    scan = scan_tree(
        {
            ".gitattributes": ATTRIBUTES,
            "config/manager.yaml": DEPLOYMENT,
            "charts/kserve/files/resources.yaml": DEPLOYMENT + "---\n" + only_in_copy,
        },
        select="pins",
    )
    assert scan.hits == [
        ("PIN010", "charts/kserve/files/resources.yaml", 21, 18),  # no counterpart outside: kept
        ("PIN010", "config/manager.yaml", 10, 18),
    ]
    assert scan.result.hidden_as_generated == 1
    assert json.loads(json_report.render(scan.result, []))["hidden_as_generated"] == 1


def test_without_gitattributes_every_copy_is_reported(scan_tree):
    scan = scan_tree({"config/manager.yaml": DEPLOYMENT, "charts/kserve/files/resources.yaml": DEPLOYMENT}, select="pins")
    assert scan.hits == [("PIN010", "charts/kserve/files/resources.yaml", 10, 18), ("PIN010", "config/manager.yaml", 10, 18)]
    assert scan.result.hidden_as_generated == 0


def test_hostile_gitattributes_are_bounded(tmp_path):
    # a pattern of many stars would backtrack on a long name, and every rule is tried on every file
    # with a finding: such patterns are ignored, and the rules read stop at a bound
    stars = "*a" * 40 + "*b linguist-generated\n"
    many = "".join(f"dir{n}/** linguist-generated\n" for n in range(50_000))
    write_tree(tmp_path, {"r/.git/config": "", "r/.gitattributes": stars + many, f"r/{'a' * 200}.yaml": ""})
    rules = generated._rules(str(tmp_path / "r"))
    assert len(rules) == generated._MAX_RULES and all("a" not in rule.regex.pattern for rule, _ in rules)
    assert not is_generated(tmp_path / "r" / f"{'a' * 200}.yaml")
