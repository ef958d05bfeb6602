"""Hostile input under every manifest name `pins` reads: an error entry (or a finding),
never a traceback or a hang, and the run goes on over the other files."""

from __future__ import annotations

import json

import pytest

from conftest import write_tree
from mlgate.cli import main
from workcount import count_calls

ALIAS_BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{n}: &{n} [" + ", ".join([f"*{p}"] * 9) + "]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
)

HOSTILE = {
    "requirements.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
    "requirements-dev.txt": b"torch>=2 \xff\xfe\n",
    "pyproject.toml": "[project\ndependencies = ['x'",
    "deep/pyproject.toml": "a = " + "[" * 50000 + "]" * 50000 + "\n",
    "Pipfile": "[packages\n",
    "setup.cfg": "[options\ninstall_requires =\n  torch\n",
    "setup.py": "setup(install_requires=[" + "(" * 100000 + ")" * 100000 + "])\n",
    "bad/setup.py": "def (:\n",
    "environment.yml": ALIAS_BOMB + "\ndependencies:\n  - *i\n",
    "deep/environment.yml": "dependencies: " + "[" * 100000 + "]" * 100000 + "\n",
    ".github/workflows/bomb.yml": ALIAS_BOMB + "\njobs:\n  x:\n    steps: *i\n",
    ".github/workflows/broken.yml": "jobs: [\n",
    ".pre-commit-config.yaml": "repos: &r\n  - repo: *r\n",
    "Dockerfile": b"FROM \x00\x01\x02",
    "notebook.ipynb": '{"cells": [' + "[" * 100000,
    "scripts/install.sh": b"\xfe\xfe pip install torch\n",
    "Pipfile.lock": "{" * 100000,
    "uv.lock": "[[package]\n",
}


def test_hostile_manifests_become_error_entries(tmp_path, monkeypatch, capsys):
    write_tree(tmp_path, HOSTILE | {"ok/requirements.txt": "torch\n"})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLGATE_DEBUG", "")  # the real CLI path: nothing may escape as a traceback
    code, calls = count_calls(main, ["check", "--select", "pins", "--format", "json", "."])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    # No hang: the whole run makes fewer function calls than the inputs have bytes (about 0.4 a
    # byte today); a reader that went back over its input per character would make billions.
    size = sum(len(content) for content in HOSTILE.values())
    assert calls <= 5 * size, (calls, size)
    # The good file next to them is still scanned.
    assert [(f["rule"], f["path"], f["line"]) for f in doc["findings"] if f["path"] == "ok/requirements.txt"] == [
        ("PIN001", "ok/requirements.txt", 1)
    ]
    errors = {e["path"]: e["message"] for e in doc["errors"]}
    assert not [m for m in errors.values() if "internal error" in m], errors
    must_error = set(HOSTILE) - {"environment.yml", ".github/workflows/bomb.yml", ".pre-commit-config.yaml"}
    assert sorted(must_error - set(errors)) == []


def test_huge_requirements_file(tmp_path, monkeypatch, capsys):
    big = tmp_path / "requirements.txt"
    with open(big, "w") as handle:
        line = "numpy==1.26.4\n"
        handle.write(line * (50 * 1024 * 1024 // len(line)))
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--select", "pins", "--format", "json", "."]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["errors"] == [
        {"path": "requirements.txt", "message": "file is 50.0 MB, larger than the 5 MB limit for text manifests; not scanned"}
    ]


@pytest.mark.parametrize("name", ["requirements.txt", "environment.yml", ".github/workflows/ci.yml", "Dockerfile", "setup.py"])
def test_empty_files_are_fine(tmp_path, monkeypatch, capsys, name):
    write_tree(tmp_path, {name: ""})
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--select", "pins", "--format", "json", "."]) == 0
