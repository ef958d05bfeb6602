"""Which errors fail the run (docs/configuration.md, "Errors"): a text file that is not valid in
its own language is listed and does not fail unless `strict-errors` asks; an unreadable file, a
missing path and an internal error always fail."""

from __future__ import annotations

import json

import pytest
from tests.conftest import write_tree

from mlgate import file_scans
from mlgate.cli import main
from mlgate.files import InvalidText, ScanError, UnreadableFile
from mlgate.findings import ERROR, INVALID, Result, ScanErrorEntry, Severity

INVALID_TEXT = {
    # a docs snippet with `{placeholders}`: not YAML
    "docs/samples/bentoml.yaml": "kind: InferenceService\nspec:\n  predictor:\n    containers:\n      image: {docker_username}/iris\n      ports: 1\n",
    "analysis.ipynb": '{"cells": [{"cell_type": "code", "source": ["!pip install torch"]\n',
    "deploy/bad.json": '{"apiVersion": "v1", "kind": \n',
}


def run(capsys, *args: str) -> tuple[int, dict]:
    code = main(["check", "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def make(files: dict) -> None:
        write_tree(tmp_path, files)

    return make


def test_invalid_text_is_listed_and_does_not_fail_the_run(tree, capsys):
    tree(INVALID_TEXT)
    code, report = run(capsys, ".")
    assert code == 0
    assert {error["path"] for error in report["errors"]} == set(INVALID_TEXT)
    assert {error["kind"] for error in report["errors"]} == {"invalid"}
    assert report["findings"] == []


@pytest.mark.parametrize("how", ["--strict-errors", "config"])
def test_strict_errors_makes_invalid_text_fail(tree, capsys, how):
    tree({**INVALID_TEXT, ".mlgate.yaml": "strict-errors: true\n" if how == "config" else "fail-on: low\n"})
    code, report = run(capsys, *(["--strict-errors"] if how != "config" else []), ".")
    assert code == 1
    assert len(report["errors"]) == 3


def test_the_text_report_still_shows_every_error_and_says_which_do_not_fail(tree, capsys):
    tree(INVALID_TEXT)
    assert main(["check", "."]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("analysis.ipynb: error: invalid notebook JSON: ") for line in out)
    assert out[-1].endswith("3 errors (3 not failing the run: invalid text; see strict-errors) in 3 scanned files.")


def test_an_unreadable_file_still_fails(tree, capsys, tmp_path):
    tree({"ok.yaml": "a: 1\n"})
    (tmp_path / "requirements.txt").write_bytes(b"torch==2.5.1\n\xff\xfe\n")
    code, report = run(capsys, ".")
    assert code == 1
    assert report["errors"] == [{"path": "requirements.txt", "message": "not valid UTF-8 (byte 13); not scanned"}]


def test_strict_errors_must_be_a_boolean(tree, capsys):
    tree({".mlgate.yaml": "strict-errors: sometimes\n"})
    assert main(["check", "."]) == 2
    assert "key 'strict-errors': expected true or false" in capsys.readouterr().err


def test_error_kinds():
    assert file_scans.error_kind(InvalidText("invalid YAML at line 1: x")) == INVALID
    assert file_scans.error_kind(ScanError("invalid TOML: x")) == ERROR  # the type decides, never the message
    assert file_scans.error_kind(UnreadableFile("cannot read file: denied")) == ERROR
    assert file_scans.error_kind(ScanError("lz4-compressed joblib file: install the lz4 package")) == ERROR
    listed = Result(errors=[ScanErrorEntry("a.yaml", "invalid YAML", INVALID)])
    assert not listed.failed(Severity.LOW)
    assert Result(errors=listed.errors, strict_errors=True).failed(Severity.LOW)
    assert Result(errors=[ScanErrorEntry("x", "internal error in demo/x: KeyError: 1")]).failed(Severity.LOW)


def test_the_hooks_own_parsers_raise_invalid_text():
    """pins' TOML and JSON readers and the shared YAML reader (after the pure parser's second reading)."""
    from mlgate import yamlfile
    from mlgate.files import SourceFile
    from mlgate.hook import ScanContext
    from mlgate.pins import lockfiles, tomlfile

    with pytest.raises(InvalidText, match="invalid TOML"):
        tomlfile.load(SourceFile.from_text("pyproject.toml", "[project\n"))
    with pytest.raises(InvalidText, match="invalid JSON"):
        list(lockfiles.pipfile_lock(SourceFile.from_text("Pipfile.lock", "{"), ScanContext()))
    with pytest.raises(InvalidText, match="invalid YAML"):
        yamlfile.compose_text("_target_: [\n")
