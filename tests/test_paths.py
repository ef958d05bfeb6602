"""Which files a run scans: named paths, the walk of a folder (git's ignore rules, symlinks),
exclude patterns read as git reads .gitignore, and bad paths or output locations (exit 2, one line).

The exclude patterns are checked against git itself: every verdict of `mlgate.excludes` must be
what `git check-ignore` says of the same pattern in a `.gitignore`, for the examples of
gitignore(5) and for generated patterns.
"""

from __future__ import annotations

import json
import os
import pickletools
import re
import socket
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import demo_hook
from conftest import write_tree
from mlgate import engine, plugins
from mlgate.cli import main
from mlgate.config import load_config
from mlgate.excludes import Exclude, Excluder

# A pickle that runs `id` through os.system when loaded: written opcode by opcode, never unpickled.
PAYLOAD = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."
PAYLOAD_REDUCE = next(position for opcode, _, position in pickletools.genops(PAYLOAD) if opcode.name == "REDUCE")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def init_repo(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys, *args: str) -> tuple[int, dict, str]:
    code, out, err = run(capsys, "check", "--format", "json", *args)
    return code, (json.loads(out) if out else {}), err


def hits(doc: dict) -> list[tuple[str, str, int | None]]:
    return [(f["rule"], f["path"], f["line"]) for f in doc["findings"]]


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """Only the demo hook (DEMO001 on a line saying BAD in a .txt file); cwd is a fresh folder."""
    monkeypatch.setattr(plugins, "HOOK_MODULES", {"demo": "demo_hook"})
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- named paths are scanned -----------------------------------------------------------


def test_a_named_git_ignored_folder_is_scanned_and_its_walk_counts_what_git_ignores(tmp_path, monkeypatch, capsys):
    init_repo(tmp_path)
    write_tree(tmp_path, {".gitignore": "downloads/\n", "downloads/model.pkl": PAYLOAD, "requirements.txt": "torch==2.1.0\n"})
    monkeypatch.chdir(tmp_path)

    code, doc, _ = run_json(capsys, "--select", "models", "downloads")
    assert code == 1
    assert [(f["rule"], f["path"], f["line"], f["offset"]) for f in doc["findings"]] == [
        ("MOD001", "downloads/model.pkl", None, PAYLOAD_REDUCE)
    ]
    assert doc["scanned_files"] == 1

    code, doc, _ = run_json(capsys, "--select", "models", ".")  # the walk of the repository honours .gitignore
    assert (code, doc["findings"], doc["skipped"]) == (0, [], {"gitignored": 1})


def test_a_named_git_ignored_file_and_a_folder_inside_an_ignored_one_are_scanned(tmp_path, monkeypatch, capsys):
    init_repo(tmp_path)
    write_tree(tmp_path, {".gitignore": "*.pkl\ncache/\n", "models/m.pkl": PAYLOAD, "cache/deep/x.pkl": PAYLOAD})
    monkeypatch.chdir(tmp_path)
    code, doc, _ = run_json(capsys, "--select", "models", "models/m.pkl", "cache/deep")
    assert code == 1
    assert hits(doc) == [("MOD001", "cache/deep/x.pkl", None), ("MOD001", "models/m.pkl", None)]
    # A named folder git does not ignore keeps git's rules inside: `*.pkl` leaves its pickle out, counted.
    code, doc, _ = run_json(capsys, "--select", "models", "models")
    assert (code, doc["scanned_files"], doc["skipped"]) == (0, 0, {"gitignored": 1})


def test_a_named_symlink_to_a_file_outside_is_scanned_a_walked_one_is_not(demo, capsys, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "notes.txt").write_text("fine\nBAD\n")
    write_tree(tmp_path, {"a.txt": "fine\n"})
    os.symlink(outside / "notes.txt", tmp_path / "link.txt")

    code, doc, _ = run_json(capsys, "link.txt")
    assert (code, hits(doc)) == (1, [("DEMO001", "link.txt", 2)])
    code, doc, _ = run_json(capsys, ".")
    assert (code, hits(doc), doc["scanned_files"], doc["skipped"]) == (0, [], 1, {"symlink": 1})


def test_plain_walk_counts_tool_folders_and_linked_folders(demo, capsys, tmp_path):
    write_tree(tmp_path, {"a.txt": "BAD\n", ".venv/lib/x.txt": "BAD\n", ".venv/lib/y.txt": "BAD\n", "node_modules/z.txt": "BAD\n"})
    os.symlink(tmp_path / ".venv", tmp_path / "env-link")
    code, doc, _ = run_json(capsys, ".")
    assert (code, hits(doc), doc["skipped"]) == (1, [("DEMO001", "a.txt", 1)], {"default-excluded": 3, "symlink": 1})


# --- exclude patterns: .gitignore semantics ---------------------------------------------

TREE = {
    "a.txt": "BAD\n",
    "tests/b.txt": "BAD\n",
    "tests/keep.txt": "BAD\n",
    "tests/unit/c.txt": "BAD\n",
    "src/tests/d.txt": "BAD\n",
    "src/fixtures/e.txt": "BAD\n",
    "testsuite/f.txt": "BAD\n",
}
EVERY_PATH = sorted(name for name in TREE)


@pytest.mark.parametrize(
    ("patterns", "left_out"),
    [
        (["tests"], ["src/tests/d.txt", "tests/b.txt", "tests/keep.txt", "tests/unit/c.txt"]),
        (["tests/"], ["src/tests/d.txt", "tests/b.txt", "tests/keep.txt", "tests/unit/c.txt"]),
        (["./tests/*"], ["tests/b.txt", "tests/keep.txt", "tests/unit/c.txt"]),
        (["tests/*"], ["tests/b.txt", "tests/keep.txt", "tests/unit/c.txt"]),
        (["/tests"], ["tests/b.txt", "tests/keep.txt", "tests/unit/c.txt"]),
        (["**/fixtures/**"], ["src/fixtures/e.txt"]),
        (["*.txt", "!a.txt"], [name for name in EVERY_PATH if name != "a.txt"]),
        (["tests/*", "!tests/keep.txt"], ["tests/b.txt", "tests/unit/c.txt"]),
        # git cannot re-include a file inside an excluded folder: `tests/` excludes the folder itself
        (["tests/", "!tests/keep.txt"], ["src/tests/d.txt", "tests/b.txt", "tests/keep.txt", "tests/unit/c.txt"]),
        (["test*/"], ["src/tests/d.txt", "tests/b.txt", "tests/keep.txt", "tests/unit/c.txt", "testsuite/f.txt"]),
    ],
)
def test_exclude_spellings_read_as_gitignore(demo, capsys, patterns, left_out):
    write_tree(Path.cwd(), TREE)
    code, doc, err = run_json(capsys, *[f"--exclude={pattern}" for pattern in patterns], ".")
    assert sorted(f["path"] for f in doc["findings"]) == sorted(set(EVERY_PATH) - set(left_out))
    assert doc["skipped"] == {"excluded": len(left_out)}
    assert err == ""


def test_the_config_exclude_is_relative_to_the_configuration_file(demo, capsys, tmp_path):
    write_tree(
        tmp_path, {"repo/.mlgate.yaml": "exclude: [/tests]\n", "repo/tests/a.txt": "BAD\n", "repo/b.txt": "BAD\n", "tests/c.txt": "BAD\n"}
    )
    code, doc, _ = run_json(capsys, "repo")
    assert hits(doc) == [("DEMO001", "repo/b.txt", 1)]
    assert doc["skipped"] == {"excluded": 1}


def test_exclude_applies_to_named_files(demo, capsys, tmp_path):
    write_tree(tmp_path, {".mlgate.yaml": "exclude: [tests/]\n", "tests/a.txt": "BAD\n", "b.txt": "BAD\n"})
    code, doc, err = run_json(capsys, "tests/a.txt", "b.txt")
    assert (hits(doc), doc["skipped"], err) == ([("DEMO001", "b.txt", 1)], {"excluded": 1}, "")


def test_a_named_folder_is_scanned_even_if_a_pattern_excludes_it_or_a_folder_above(demo, capsys, tmp_path):
    write_tree(
        tmp_path, {".mlgate.yaml": "exclude: [tests/, '*.log.txt']\n", "tests/fixtures/a.txt": "BAD\n", "tests/fixtures/b.log.txt": "BAD\n"}
    )
    code, doc, _ = run_json(capsys, "tests/fixtures")
    assert (hits(doc), doc["skipped"]) == ([("DEMO001", "tests/fixtures/a.txt", 1)], {"excluded": 1})  # inside, patterns still apply
    code, doc, _ = run_json(capsys, "tests/fixtures/a.txt")  # a named file: pre-commit names files, `exclude` must hold
    assert (hits(doc), doc["skipped"]) == ([], {"excluded": 1})
    (tmp_path / ".mlgate.yaml").write_text("exclude: ['tests/**']\n")  # a pattern that matches the files themselves
    code, doc, _ = run_json(capsys, "tests/fixtures")
    assert (hits(doc), doc["skipped"]) == ([], {"excluded": 2})


def test_a_pattern_that_matches_nothing_is_one_warning_line(demo, capsys, tmp_path):
    write_tree(tmp_path, {".mlgate.yaml": "exclude: [vendor/, tests]\n", "tests/a.txt": "BAD\n", "b.txt": "BAD\n"})
    code, doc, err = run_json(capsys, "--exclude", "*.pkl", "--exclude", "b.txt", ".")
    assert hits(doc) == []
    assert err.splitlines() == [
        "mlgate: warning: .mlgate.yaml: exclude pattern 'vendor/' matches no file",
        "mlgate: warning: --exclude '*.pkl' matches no file under the scanned paths",
    ]
    assert code == 0


def test_no_warning_for_files_named_one_by_one_or_a_sub_folder(demo, capsys, tmp_path):
    """pre-commit names a few files; a sub-folder is not the project: a configured pattern that
    matches nothing there may match elsewhere."""
    write_tree(tmp_path, {".mlgate.yaml": "exclude: [vendor/]\n", "src/a.txt": "BAD\n", "vendor/b.txt": "BAD\n"})
    assert run_json(capsys, "src/a.txt")[2] == ""
    assert run_json(capsys, "src")[2] == ""
    assert run_json(capsys, ".")[2] == ""  # it matches vendor/ here


def test_a_pattern_that_matches_only_git_ignored_files_is_not_reported(demo, capsys, tmp_path):
    init_repo(tmp_path)
    write_tree(tmp_path, {".gitignore": ".venv/\n", ".venv/lib/x.txt": "BAD\n", "a.txt": "fine\n"})
    code, doc, err = run_json(capsys, "--exclude", ".venv", ".")
    assert (code, doc["skipped"], err) == (0, {"gitignored": 1}, "")


# Examples from gitignore(5), the spellings of issue 16, and git's corner cases: each pattern
# list is written to a .gitignore and `git check-ignore` says what git leaves out.
GIT_TREE = [
    "hello.c", "hello.txt", "doc/frotz/a.txt", "a/doc/frotz/b.txt", "frotz/c.txt", "x/frotz/d.txt", "foo/bar", "a/foo/bar",
    "a/foo/x/bar", "abc/def/g.txt", "a/b", "a/x/b", "a/x/y/b", "doc/index.html", "doc/api/a.html", "#file", "!important!.txt",
    "tests/keep.py", "tests/unit/t.py", "src/tests/y.py", "b/fixtures/x/z.pkl", "b/fixtures/keep.pkl", "top.pkl", "testsfile.txt",
    "bar/foo/baz", "trailing ", "br[ack]et", "Upper.TXT",
]  # fmt: skip
GIT_CASES = [
    ["hello.*"], ["doc/frotz/"], ["frotz/"], ["foo/"], ["/foo"], ["doc/*.html"], ["**/foo"], ["**/foo/bar"], ["abc/**"], ["a/**/b"],
    ["/*", "!/foo", "/foo/*", "!/foo/bar"], ["\\#file"], ["\\!important!.txt"], ["#file"], ["tests"], ["tests/"], ["/tests/*"],
    ["tests/*"], ["**/fixtures/**"], ["*.pkl"], ["tests/", "!tests/keep.py"], ["tests/*", "!tests/keep.py"],
    ["**/fixtures/**", "!**/fixtures/keep.pkl"], ["b/fixtures/", "!b/fixtures/keep.pkl"], ["*.pkl", "!top.pkl"], ["foo/**", "!foo/bar"],
    ["a/*/b"], ["?oo"], ["[a-c]/*"], ["[!a]/*"], ["[^a]/*"], ["*/"], ["foo/*/"], ["doc/**/"], ["**"], ["*"], ["a/**"], ["**/b"],
    ["*.pkl/"], ["foo "], ["trailing\\ "], ["tests/**", "!tests/unit/"], ["tests/**", "!tests/unit/", "!tests/unit/**"],
    ["/*", "!/tests"], ["b/**/z.pkl"], ["a/***/b"], ["br\\[ack]et"], ["br[[]ack]et"], ["[[:upper:]]*"], ["*.[tT][xX][tT]"],
    ["a**b"], ["foo/**bar"], ["a**/b"], ["/a**/b"], ["a/x**/b"], ["a/**b"], ["x/a**"], ["[a-"], ["\\"], ["doc/frotz"], ["/doc/frotz/a.txt"], ["a/b/"], ["x/**/d.txt"],
]  # fmt: skip


def _git_verdicts(repo: Path, patterns: list[str], files: list[str]) -> list[str]:
    (repo / ".gitignore").write_text("\n".join(patterns) + "\n", encoding="utf-8")
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin", "-z"], cwd=repo, input="\0".join(files) + "\0", capture_output=True, text=True
    )
    assert done.returncode in (0, 1), done.stderr
    return sorted(name for name in done.stdout.split("\0") if name)


def _mlgate_verdicts(repo: Path, patterns: list[str], files: list[str]) -> list[str]:
    excluder = Excluder([Exclude(pattern, repo, "test") for pattern in patterns])
    return sorted(name for name in files if excluder.excludes(repo / name, repo, walked=True))


@pytest.fixture(scope="module")
def git_tree(tmp_path_factory) -> tuple[Path, list[str]]:
    repo = tmp_path_factory.mktemp("gitignore")
    init_repo(repo)
    write_tree(repo, dict.fromkeys(GIT_TREE, "x\n"))
    return repo, sorted(GIT_TREE)


@pytest.mark.parametrize("patterns", GIT_CASES, ids=lambda patterns: " ".join(patterns))
def test_exclude_verdicts_are_gits(git_tree, patterns):
    repo, files = git_tree
    assert _mlgate_verdicts(repo, patterns, files) == _git_verdicts(repo, patterns, files)


_PIECES = st.sampled_from(["a", "b", "x", "*", "**", "?", "/", "[ab]", "[!a]", "\\*", ".", "foo", "fixtures"])
# `./` is the one spelling read differently on purpose (git matches nothing with it): tested above.
_PATTERN = (
    st.tuples(st.booleans(), st.lists(_PIECES, min_size=1, max_size=6))
    .map(lambda item: ("!" if item[0] else "") + "".join(item[1]))
    .filter(lambda pattern: not pattern.lstrip("!").startswith("./"))
)
_FUZZ_TREE = ["a/b", "a/x/b", "ab", "ba", "x.a", "b/a", "b/b", "foo/a", "foo/b/fixtures/x", "fixtures/a/b", "x/foo/a", "*", "a/*/b", "?"]


@pytest.fixture(scope="module")
def fuzz_repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("fuzz")
    init_repo(repo)
    write_tree(repo, dict.fromkeys(_FUZZ_TREE, "x\n"))
    return repo


@settings(max_examples=150, deadline=None)
@given(patterns=st.lists(_PATTERN, min_size=1, max_size=4))
def test_generated_exclude_patterns_agree_with_git(fuzz_repo, patterns):
    assert _mlgate_verdicts(fuzz_repo, patterns, _FUZZ_TREE) == _git_verdicts(fuzz_repo, patterns, _FUZZ_TREE)


# --- configuration found from the scanned path ------------------------------------------


def test_the_scanned_repository_s_own_configuration_is_used(demo, capsys, tmp_path):
    init_repo(tmp_path / "repo")
    write_tree(
        tmp_path, {".mlgate.yaml": "fail-on: critical\n", "repo/.mlgate.yaml": "demo:\n  allow: [BAD]\n", "repo/a.txt": "BAD\nMEH\n"}
    )
    code, doc, _ = run_json(capsys, "repo")
    assert (code, hits(doc)) == (1, [("DEMO002", "repo/a.txt", 2)])  # the repository's allow list, its fail-on (low)
    code, doc, _ = run_json(capsys, "repo/a.txt")  # a file: from its folder upwards
    assert (code, hits(doc)) == (1, [("DEMO002", "repo/a.txt", 2)])


def test_a_pyproject_table_is_found_from_the_scanned_path(demo, capsys, tmp_path):
    write_tree(tmp_path, {"proj/pyproject.toml": '[tool.mlgate]\nignore = ["DEMO001"]\n', "proj/sub/a.txt": "BAD\n"})
    code, doc, _ = run_json(capsys, "proj/sub")
    assert (code, hits(doc)) == (0, [])


def test_paths_under_two_configurations_are_a_usage_error(demo, capsys, tmp_path):
    write_tree(tmp_path, {"one/.mlgate.yaml": "{}\n", "two/.mlgate.yaml": "{}\n", "one/a.txt": "BAD\n", "two/b.txt": "BAD\n"})
    code, out, err = run(capsys, "check", "one", "two")
    assert (code, out) == (2, "")
    assert err == (
        "mlgate: error: one and two are under different configuration files (one/.mlgate.yaml, two/.mlgate.yaml): "
        "scan each project in its own run, or name one with --config\n"
    )
    code, doc, _ = run_json(capsys, "--config", "one/.mlgate.yaml", "one", "two")
    assert hits(doc) == [("DEMO001", "one/a.txt", 1), ("DEMO001", "two/b.txt", 1)]


def test_a_path_under_no_configuration_takes_the_other_paths_one(demo, capsys, tmp_path):
    init_repo(tmp_path / "plain")
    write_tree(tmp_path, {"repo/.mlgate.yaml": "ignore: [DEMO001]\n", "repo/a.txt": "BAD\n", "plain/b.txt": "BAD\n"})
    code, doc, _ = run_json(capsys, "repo", "plain")
    assert (code, hits(doc)) == (0, [])


def test_show_settings_names_the_file_and_every_effective_value(demo, capsys, tmp_path):
    write_tree(tmp_path, {"repo/.mlgate.yaml": "exclude: [tests/]\nfail-on: high\nseverity:\n  DEMO002: medium\ndemo:\n  mode: b\n"})
    code, out, err = run(capsys, "check", "--show-settings", "--exclude", "*.pkl", "--ignore", "DEMO002", "repo")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:2] == ["# configuration file: repo/.mlgate.yaml", "# for: repo"]
    assert lines[-3:] == ["demo:", "  allow: []", '  mode: "b"']
    for line in [
        "select: []  # every hook",
        'ignore: ["DEMO002"]',
        'fail-on: "high"',
        "baseline: null",
        'severity: {"DEMO002": "medium"}',
        "strict-errors: false",
    ]:
        assert line in lines
    exclude = lines.index("exclude:")
    assert lines[exclude + 1 : exclude + 3] == ['  - "tests/"  # relative to repo', '  - "*.pkl"  # --exclude, relative to .']
    import yaml  # the output is YAML in the shape of .mlgate.yaml

    assert yaml.safe_load(out)["demo"] == {"allow": [], "mode": "b"}


def test_show_settings_without_a_configuration_file(demo, capsys, tmp_path):
    init_repo(tmp_path)
    code, out, _ = run(capsys, "check", "--show-settings", "--fail-on", "medium")
    assert code == 0
    assert out.splitlines()[:2] == ["# configuration file: none (the defaults)", "# for: ."]
    assert 'fail-on: "medium"' in out.splitlines()


# --- bad paths and output locations: exit 2, one line, nothing scanned -------------------


def _usage_error(capsys, *args: str) -> str:
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, ""), err
    assert len(err.splitlines()) == 1 and err.startswith("mlgate: error: "), err
    return err.strip()


def test_output_into_a_missing_folder(demo, capsys, tmp_path):
    write_tree(tmp_path, {"a.txt": "BAD\n"})
    assert (
        _usage_error(capsys, "check", "--output", "missing/dir/r.json", ".")
        == "mlgate: error: --output missing/dir/r.json: folder missing/dir does not exist"
    )
    assert (
        _usage_error(capsys, "baseline", "--output", "missing/dir/b.json", ".")
        == "mlgate: error: --output missing/dir/b.json: folder missing/dir does not exist"
    )
    assert not (tmp_path / "missing").exists()


def test_output_onto_a_folder(demo, capsys, tmp_path):
    write_tree(tmp_path, {"a.txt": "BAD\n", "out/keep": ""})
    assert _usage_error(capsys, "check", "--output", "out", ".") == "mlgate: error: --output out: is a folder"
    assert _usage_error(capsys, "baseline", "--output", "out", ".") == "mlgate: error: --output out: is a folder"


def test_output_that_cannot_be_written(demo, capsys, tmp_path, monkeypatch):
    write_tree(tmp_path, {"a.txt": "BAD\n"})

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "write_text", refuse)  # root can write anywhere: refuse as a read-only disk would
    assert _usage_error(capsys, "check", "--output", "r.json", ".") == "mlgate: error: --output r.json: cannot write: Permission denied"
    assert _usage_error(capsys, "baseline", "--output", "b.json", ".") == "mlgate: error: --output b.json: cannot write: Permission denied"


def test_a_named_self_referencing_symlink(demo, capsys, tmp_path):
    os.symlink("loop", tmp_path / "loop")
    assert _usage_error(capsys, "check", "loop") == "mlgate: error: loop: too many levels of symbolic links"


def test_a_named_broken_symlink(demo, capsys, tmp_path):
    os.symlink("gone.txt", tmp_path / "link.txt")
    assert _usage_error(capsys, "check", "link.txt") == "mlgate: error: link.txt: broken symlink (its target 'gone.txt' does not exist)"


def test_a_missing_path_stops_the_run_before_anything_is_read(demo, capsys, tmp_path):
    write_tree(tmp_path, {"a.txt": "BAD\n"})
    assert _usage_error(capsys, "check", "a.txt", "nope/") == "mlgate: error: nope/: no such file or directory"
    assert _usage_error(capsys, "baseline", "nope") == "mlgate: error: nope: no such file or directory"
    assert not (tmp_path / ".mlgate-baseline.json").exists()


def test_a_named_fifo_or_socket(demo, capsys, tmp_path):
    os.mkfifo(tmp_path / "pipe")
    assert _usage_error(capsys, "check", "pipe") == "mlgate: error: pipe: not a file or a folder (a fifo)"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind("sock")
        assert _usage_error(capsys, "check", "sock") == "mlgate: error: sock: not a file or a folder (a socket)"
    finally:
        server.close()


def test_a_fifo_inside_a_walk_is_counted_not_opened(demo, capsys, tmp_path):
    write_tree(tmp_path, {"a.txt": "BAD\n"})
    os.mkfifo(tmp_path / "pipe.txt")
    code, doc, _ = run_json(capsys, ".")
    assert (hits(doc), doc["skipped"]) == ([("DEMO001", "a.txt", 1)], {"special-file": 1})


def test_a_named_unreadable_file(demo, capsys, tmp_path, monkeypatch):
    write_tree(tmp_path, {"a.txt": "BAD\n"})
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: path != "a.txt" and real_access(path, mode, **kw))  # root reads anything
    assert _usage_error(capsys, "check", "a.txt") == "mlgate: error: a.txt: permission denied"


def test_an_unreadable_file_inside_a_walk_stays_an_error_entry(demo, capsys, tmp_path, monkeypatch):
    write_tree(tmp_path, {"a.txt": "BAD\n", "b.txt": "BAD\n"})
    real_open, real_os_open = open, os.open

    def refusing_b(opener):
        def refuse_b(path, *args, **kwargs):
            if str(path).endswith("b.txt"):
                raise PermissionError(13, "Permission denied")
            return opener(path, *args, **kwargs)

        return refuse_b

    monkeypatch.setattr("builtins.open", refusing_b(real_open))
    monkeypatch.setattr(os, "open", refusing_b(real_os_open))  # how a whole small file is read
    code, doc, _ = run_json(capsys, ".")
    assert code == 1
    assert hits(doc) == [("DEMO001", "a.txt", 1)]
    assert doc["errors"] == [{"path": "b.txt", "message": "cannot read file: Permission denied"}]


# --- the engine: what a walk reports in Result.skipped ------------------------------------


def test_engine_result_counts_skipped_files_by_reason(tmp_path, monkeypatch):
    init_repo(tmp_path)
    write_tree(tmp_path, {".gitignore": "build/\n", "build/a.pkl": PAYLOAD, "build/b.pkl": PAYLOAD, "tests/c.txt": "x\n", "d.txt": "x\n"})
    monkeypatch.chdir(tmp_path)
    hooks = [demo_hook.HOOK]
    config = load_config(None, hooks, paths=["."])
    config.exclude = [Exclude("tests/", tmp_path, "--exclude")]
    result = engine.scan(["."], hooks, config)
    assert (result.scanned_files, result.skipped, result.warnings) == (1, {"gitignored": 2, "excluded": 1}, [])  # d.txt


def test_the_action_leaves_out_a_symlink_a_pull_request_adds(tmp_path, monkeypatch):
    """The Action names the changed files: a link to a file of the runner must not be followed
    (and quoted in a public log) just because the pull request named it."""
    from mlgate.github_action import changed_files

    outside = tmp_path / "runner-secret.txt"
    outside.write_text("TOKEN=abc\n")
    repo = tmp_path / "repo"
    init_repo(repo)
    write_tree(repo, {"README.md": "x\n"})
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    write_tree(repo, {"requirements.txt": "torch\n"})
    os.symlink(outside, repo / "constraints.txt")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "head")
    monkeypatch.chdir(repo)
    assert changed_files("HEAD~1", "HEAD") == ["requirements.txt"]


def test_pre_commit_honours_exclude_patterns_on_the_files_it_names(tmp_path, precommit_hooks):
    """pre-commit names every file: `tests/` (a folder pattern, which the old fnmatch reading
    never matched) must leave out the files under tests/, and no pattern warning is printed for a
    list of files."""
    project = tmp_path / "project"
    init_repo(project)
    (project / ".pre-commit-config.yaml").write_text(precommit_hooks.config(["mlgate-pins", "mlgate-models"]), encoding="utf-8")
    write_tree(
        project,
        {
            ".mlgate.yaml": "exclude: [tests/, unused/]\n",
            "requirements.txt": "numpy==2.0.0\ntorch>=2.0\n",
            "tests/requirements.txt": "pytest\n",
            "tests/data/model.pkl": PAYLOAD,
        },
    )
    git(project, "add", "-A")
    done = precommit_hooks.pre_commit(project, "run", "--all-files")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "requirements.txt:2:1: PIN001" in output
    assert "tests/" not in output  # neither the unpinned pytest nor the pickle under tests/
    assert re.search(r"^mlgate models\.+Passed$", done.stdout, re.MULTILINE), output
    assert "warning" not in output
