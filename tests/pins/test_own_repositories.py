"""PIN002 judged from the repository: code of the project's own owner installed or cloned at a
branch is first-party (peft installing `huggingface/transformers` at main); anyone else's is reported."""

from __future__ import annotations

GIT_CONFIG = '[remote "origin"]\n\turl = https://github.com/huggingface/peft.git\n'
REQUIREMENTS = (
    "git+https://github.com/huggingface/transformers\n"
    "git+https://github.com/bitsandbytes-foundation/bitsandbytes.git\n"
    "accelerate @ git+ssh://git@github.com/huggingface/accelerate.git@main\n"
    "git+git@github.com:huggingface/datasets.git\n"
)
SCRIPT = "#!/bin/sh\ngit clone https://github.com/microsoft/unilm.git\ngit clone https://github.com/huggingface/peft.git\n"
DOCKERFILE = "FROM python:3.12@sha256:" + "a" * 64 + "\nADD https://github.com/huggingface/peft.git /src\n"
THIRD_PARTY = [
    ("PIN002", "peft/examples/requirements.txt", 2, 1),
    ("PIN002", "peft/scripts/get.sh", 2, 11),
]


def _peft(**extra: str) -> dict[str, str]:
    return {
        "peft/examples/requirements.txt": REQUIREMENTS,
        "peft/scripts/get.sh": SCRIPT,
        "peft/docker/Dockerfile": DOCKERFILE,
        **extra,
    }


def test_own_owner_from_the_git_remote_is_first_party(scan_tree):
    scan = scan_tree(_peft(**{"peft/.git/config": GIT_CONFIG}), select="pins")
    assert scan.hits == THIRD_PARTY


def _at_top(hits: list[tuple[str, str, int, int]]) -> list[tuple[str, str, int, int]]:
    return [(rule, path.removeprefix("peft/"), line, column) for rule, path, line, column in hits]


def test_own_owner_from_setup_py_without_git(scan_tree):
    # A snapshot without `.git`, scanned from its top (`peft/`): setup.py's url names this repository.
    setup = 'from setuptools import setup\nsetup(name="peft", url="https://github.com/huggingface/peft",)\n'
    scan = scan_tree(_peft(**{"peft/setup.py": setup}), select="pins", cwd="peft")
    assert scan.hits == _at_top(THIRD_PARTY)


def test_a_url_of_another_repository_in_setup_py_adopts_nobody(scan_tree):
    # setup.py links to transformers, not to this repository: huggingface is not this project's owner.
    setup = 'setup(name="peft", project_urls={"Uses": "https://github.com/huggingface/transformers"})\n'
    scan = scan_tree(_peft(**{"peft/setup.py": setup}), select="pins", cwd="peft")
    assert [hit[2] for hit in scan.hits if hit[1] == "examples/requirements.txt"] == [1, 2, 3, 4]


def test_without_an_identity_every_branch_reference_is_reported(scan_tree):
    scan = scan_tree(_peft(), select="pins")
    assert scan.hits == [
        ("PIN002", "peft/docker/Dockerfile", 2, 5),
        ("PIN002", "peft/examples/requirements.txt", 1, 1),
        ("PIN002", "peft/examples/requirements.txt", 2, 1),
        ("PIN002", "peft/examples/requirements.txt", 3, 14),
        ("PIN002", "peft/examples/requirements.txt", 4, 1),
        ("PIN002", "peft/scripts/get.sh", 2, 11),
        ("PIN002", "peft/scripts/get.sh", 3, 11),
    ]


def test_report_first_party_repositories_reports_them_again(scan_tree):
    scan = scan_tree(_peft(**{"peft/.git/config": GIT_CONFIG}), select="pins", options={"pins": {"report-first-party-repositories": True}})
    assert len([hit for hit in scan.hits if hit[0] == "PIN002"]) == 7


def test_findings_before_an_unreadable_include_are_kept_beside_the_error(scan_tree):
    # requirements raise an unreadable include after yielding every finding: the filter passes them on
    requirements = "git+https://github.com/other/x\n-r extra.txt\ngit+https://github.com/huggingface/peft\n"
    files = {"peft/.git/config": GIT_CONFIG, "peft/requirements.txt": requirements, "peft/extra.txt": b"\0\0binary"}
    scan = scan_tree(files, select="pins")
    assert scan.hits == [("PIN002", "peft/requirements.txt", 1, 1)]
    assert [path for path, message in scan.errors if "extra.txt" in message] == ["peft/requirements.txt"]
