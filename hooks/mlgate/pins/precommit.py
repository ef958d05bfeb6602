"""pre-commit configurations: hook repositories at a commit, and their extra dependencies.

- `repos[].rev` that is not a full commit SHA (PIN021) at the rev value; a remote repo
  without any `rev` is reported at its `repo:` value. `repo: local` and `repo: meta` have
  no revision.
- `additional_dependencies` are installed into the hook's environment: for Python hooks
  (the hook's `language:` says python, or says nothing) each entry must be an exact pin
  (PIN001/002/003); for `language: conda` a conda spec. Without a language, an entry
  written `name@version` is taken for an npm-style package and left alone.
"""

from __future__ import annotations

import re

from mlgate import yamlfile
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.pins import commands
from mlgate.pins.requirement import Problem, check_conda_spec, check_requirement
from mlgate.pins.rules import PRECOMMIT_REV
from mlgate.problem import is_full_sha

_NAMES = (".pre-commit-config.yaml", ".pre-commit-config.yml")
_PYTHON_LANGUAGES = (None, "python", "python_venv")
_NPM_STYLE = re.compile(r"@?[\w.-]+(?:/[\w.-]+)?@[^\s:/@]+")


def matches(path: str) -> bool:
    return path.rsplit("/", 1)[-1] in _NAMES


def _dependency_problems(text: str, language: str | None) -> list[Problem]:
    if language == "conda":
        return check_conda_spec(text)
    if language not in _PYTHON_LANGUAGES or (language is None and _NPM_STYLE.fullmatch(text.strip())):
        return []
    return check_requirement(text)


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[int] = set()

    def report(problems: list[Problem], node: yamlfile.Node, prefix: str = "") -> None:
        _, locate = yamlfile.scalar_text(source, node)
        place = commands.placer(source.path, locate)
        findings.extend(place(Problem(p.rule, prefix + p.message, p.offset)) for p in problems)

    for root in yamlfile.load_documents(source):
        for repo in yamlfile.elements(yamlfile.get(root, "repos")):
            if id(repo) in seen:
                continue
            seen.add(id(repo))
            url_node, rev_node = yamlfile.get(repo, "repo"), yamlfile.get(repo, "rev")
            url, rev = yamlfile.text_of(url_node), yamlfile.text_of(rev_node)
            if url_node is not None and url is not None and url not in ("local", "meta"):
                if rev_node is None or rev is None:
                    report(
                        [
                            Problem(
                                PRECOMMIT_REV, f"{url} has no rev: pre-commit cannot pin it, and it follows whatever the repository serves"
                            )
                        ],
                        url_node,
                    )
                elif not is_full_sha(rev):
                    report([Problem(PRECOMMIT_REV, f"{url} is at rev '{rev}', a tag or branch that can be moved to other code")], rev_node)
            for hook in yamlfile.elements(yamlfile.get(repo, "hooks")):
                language = yamlfile.text_of(yamlfile.get(hook, "language"))
                for dependency in yamlfile.elements(yamlfile.get(hook, "additional_dependencies")):
                    text = yamlfile.text_of(dependency)
                    if text is not None:
                        report(_dependency_problems(text, language), dependency, "additional_dependencies: ")
    return findings


SCANNER = Scanner("precommit", matches=matches, scan=scan)
