"""`--fix` writes every file or none: a file that cannot be written, or changes while the fix
is made, leaves the whole tree as it was, with an error naming it and no traceback.

The tests run as any user, root included (root ignores permission bits), so failures are
made the way they happen to anyone: a read-only file (refused by policy), a symbolic link, a
file changed by someone else between the read and the rename, a folder that refuses the
staged copy, a rename that fails halfway."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import write_tree
from httpfake import online_env, server  # noqa: F401  (fixtures)
from mlgate.cli import main
from mlgate.online import Edit, fix

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
FILES = {"a.yml": "uses: o/r@v1\n", "b.yml": "uses: o/r@v1\n", "c.yml": "uses: o/r@v1\n"}
EDITS = [Edit(name, 1, 11, "v1", SHA) for name in FILES]


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    write_tree(tmp_path, FILES)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def contents(root: Path) -> dict[str, str]:
    """Every file in the folder: the originals, and any staged copy left behind."""
    return {path.name: path.read_text() for path in sorted(root.iterdir()) if path.is_file()}


def test_all_files_are_rewritten_when_all_can_be(tree):
    assert fix.apply(EDITS) == (["a.yml", "b.yml", "c.yml"], [])
    assert contents(tree) == {name: f"uses: o/r@{SHA}\n" for name in FILES}


def test_a_read_only_file_means_no_file_is_written(tree):
    (tree / "b.yml").chmod(0o444)
    assert fix.apply(EDITS) == ([], [("b.yml", "not fixed: the file is read-only")])
    assert contents(tree) == FILES


def test_a_symbolic_link_is_not_replaced(tree):
    (tree / "b.yml").unlink()
    (tree / "b.yml").symlink_to("c.yml")
    assert fix.apply(EDITS[:2]) == ([], [("b.yml", "not fixed: it is a symbolic link; edit the file it points to")])
    assert contents(tree) == FILES | {"b.yml": FILES["c.yml"]}
    assert (tree / "b.yml").is_symlink()


def test_a_file_changed_after_it_was_read_means_no_file_is_written(tree, monkeypatch):
    staged = []
    original = fix._stage

    def stage_then_someone_edits_c(rewrite):
        original(rewrite)
        staged.append(rewrite.shown)
        if rewrite.shown == "c.yml":
            (tree / "c.yml").write_text("uses: o/r@v1  # edited meanwhile\n")

    monkeypatch.setattr(fix, "_stage", stage_then_someone_edits_c)
    assert fix.apply(EDITS) == ([], [("c.yml", "not fixed: the file changed while it was being fixed; run the fix again")])
    assert staged == ["a.yml", "b.yml", "c.yml"]
    assert contents(tree) == FILES | {"c.yml": "uses: o/r@v1  # edited meanwhile\n"}  # and no staged copy left


def test_a_folder_that_refuses_the_staged_copy_means_no_file_is_written(tree, monkeypatch):
    real_mkstemp = fix.tempfile.mkstemp

    def mkstemp(**kwargs):
        if kwargs["prefix"] == ".c.yml.":
            raise PermissionError(13, "Permission denied")
        return real_mkstemp(**kwargs)

    monkeypatch.setattr(fix.tempfile, "mkstemp", mkstemp)
    assert fix.apply(EDITS) == ([], [("c.yml", "not fixed: Permission denied")])
    assert contents(tree) == FILES


def test_a_rename_that_fails_halfway_puts_back_the_files_already_renamed(tree, monkeypatch):
    renames = []
    real_replace = os.replace

    def replace(source, target):
        renames.append(str(target))
        if str(target) == "c.yml" and source.endswith(".mlgate") and len(renames) == 3:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(fix.os, "replace", replace)
    assert fix.apply(EDITS) == ([], [("c.yml", "not fixed: No space left on device")])
    assert renames == ["a.yml", "b.yml", "c.yml", "a.yml", "b.yml"]  # the last two put the originals back
    assert contents(tree) == FILES


def test_the_command_reports_the_error_and_writes_nothing(tmp_path, monkeypatch, server, online_env, capsys):
    workflow = "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
    write_tree(tmp_path, {".github/workflows/a.yml": workflow, ".github/workflows/b.yml": workflow})
    (tmp_path / ".github/workflows/b.yml").chmod(0o444)
    server.reply("GET", "/repos/actions/checkout/commits/v4", body={"sha": SHA})
    monkeypatch.chdir(tmp_path)
    assert main(["fix", "."]) == 1
    assert [path.read_text() for path in sorted((tmp_path / ".github/workflows").iterdir())] == [workflow, workflow]
    out, err = capsys.readouterr()
    assert ".github/workflows/b.yml: error: not fixed: the file is read-only" in out.splitlines()
    assert err == "mlgate: no file rewritten: 1 fix(es) could not be made (see the errors)\n"
