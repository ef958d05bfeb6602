"""pre-commit configurations: `rev:` at a commit, `additional_dependencies` pinned."""

from __future__ import annotations

import pytest

from mlgate.pins import precommit
from realcorpus import CORPUS

SHA = "0123456789abcdef0123456789abcdef01234567"
CONFIG = ".pre-commit-config.yaml"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".pre-commit-config.yaml", True),
        ("sub/.pre-commit-config.yml", True),
        (".pre-commit-hooks.yaml", False),
        ("pre-commit-config.yaml", False),
    ],
)
def test_matches(path, expected):
    assert precommit.matches(path) is expected


def test_revs_must_be_commits(scan_tree):
    text = f"""repos:
  - repo: https://github.com/psf/black
    rev: 24.3.0
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: {SHA}  # frozen: v0.4.1
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: "v4.6.0"
  - repo: https://github.com/no/rev
    hooks: [{{id: x}}]
  - repo: local
    hooks: [{{id: y, entry: y, language: system}}]
  - repo: meta
    hooks: [{{id: check-hooks-apply}}]
"""
    scan = scan_tree({CONFIG: text}, select="pins")
    assert scan.hits == [("PIN021", CONFIG, 3, 10), ("PIN021", CONFIG, 7, 11), ("PIN021", CONFIG, 8, 11)]
    assert scan.messages("PIN021") == [
        "https://github.com/psf/black is at rev '24.3.0', a tag or branch that can be moved to other code",
        "https://github.com/pre-commit/pre-commit-hooks is at rev 'v4.6.0', a tag or branch that can be moved to other code",
        "https://github.com/no/rev has no rev: pre-commit cannot pin it, and it follows whatever the repository serves",
    ]


def test_additional_dependencies(scan_tree):
    text = f"""repos:
  - repo: https://github.com/pre-commit/mirrors-mypy
    rev: {SHA}
    hooks:
      - id: mypy
        additional_dependencies: [types-requests, "pydantic==2.7.1", 'numpy>=1.26']
      - id: prettier
        additional_dependencies: ["prettier@3.2.5", "@types/node@20"]
      - id: eslint
        language: node
        additional_dependencies: [eslint-plugin-react]
      - id: conda-hook
        language: conda
        additional_dependencies: [numpy=1.26, scipy=1.11.4]
  - repo: local
    hooks:
      - id: check
        name: check
        entry: check
        language: python
        additional_dependencies:
          - requests
          - tool @ git+https://github.com/o/tool
"""
    scan = scan_tree({CONFIG: text}, select="pins")
    assert scan.hits == [
        ("PIN001", CONFIG, 6, 35),
        ("PIN001", CONFIG, 6, 71),
        ("PIN001", CONFIG, 14, 35),
        ("PIN001", CONFIG, 22, 13),
        ("PIN002", CONFIG, 23, 20),
    ]
    assert scan.messages("PIN001")[0].startswith("additional_dependencies: 'types-requests' has no version pin")


def test_hostile_yaml(scan_tree):
    assert scan_tree({CONFIG: "repos: " + "[" * 5000}, select="pins").hits == []
    anchor = "x: &r\n  repo: https://github.com/a/b\n  rev: v1\n"
    text = anchor + "repos:\n" + "  - *r\n" * 5000
    assert scan_tree({CONFIG: text}, select="pins").hits == [("PIN021", CONFIG, 3, 8)]


def test_corpus_configs(scan_tree):
    paths = {f"{name}/{CONFIG}": CORPUS / f"{name}/{CONFIG}" for name in ("huggingface__peft", "microsoft__DeepSpeed")}
    scan = scan_tree({name: path.read_text(encoding="utf-8") for name, path in paths.items()}, select="pins")
    peft, deepspeed = (f"{name}/{CONFIG}" for name in ("huggingface__peft", "microsoft__DeepSpeed"))
    assert scan.hits == [
        ("PIN021", peft, 3, 10),
        ("PIN021", peft, 10, 10),
        ("PIN021", deepspeed, 8, 10),
        ("PIN021", deepspeed, 26, 10),
        ("PIN021", deepspeed, 31, 10),
        ("PIN021", deepspeed, 55, 10),
        ("PIN021", deepspeed, 68, 10),
    ]
