"""The core, exercised through the real CLI with a fake `demo` hook (tests/demo_hook.py)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

import demo_hook
from conftest import write_tree
from mlgate import engine, plugins
from mlgate.cli import main
from mlgate.config import Config
from mlgate.hook import Scanner


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """Only the demo hook is registered; cwd is a fresh folder."""
    monkeypatch.setattr(plugins, "HOOK_MODULES", {"demo": "demo_hook"})
    monkeypatch.chdir(tmp_path)

    def run(files: dict, *args: str) -> tuple[int, str, str]:
        write_tree(tmp_path, files)
        return main(list(args)) if args else None

    return run


def run_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["check", "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_text_output_has_location_code_severity_and_fix(demo, capsys):
    code = demo({"a.txt": "ok\n  BAD here\n"}, "check", ".")
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0] == "a.txt:2:3: DEMO001 [high] line says BAD"
    assert out[1] == "    fix: remove BAD  (mlgate explain DEMO001)"
    assert out[-1] == "mlgate: 1 finding (1 high) in 1 scanned file."


def test_json_output_follows_the_contract(demo, capsys):
    demo({"sub/a.txt": "BAD\n", "b.bin": "BAD\n"})
    code, doc = run_json(capsys, ".")
    assert code == 1
    assert doc["scanned_files"] == 1
    assert doc["errors"] == []
    [finding] = doc["findings"]
    assert {k: finding[k] for k in ("rule", "hook", "severity", "path", "line", "column", "message")} == {
        "rule": "DEMO001",
        "hook": "demo",
        "severity": "high",
        "path": "sub/a.txt",
        "line": 1,
        "column": 1,
        "message": "line says BAD",
    }
    assert len(finding["fingerprint"]) == 20


def test_clean_tree_exits_zero(demo, capsys):
    assert demo({"a.txt": "fine\n"}, "check", ".") == 0


def test_fail_on_threshold(demo, capsys):
    assert demo({"a.txt": "MEH\n"}, "check", "--fail-on", "medium", ".") == 0
    assert "a.txt:1:1: DEMO002 [low]" in capsys.readouterr().out
    assert main(["check", "--fail-on", "low", "."]) == 1


def test_select_and_ignore_by_code_hook_and_prefix(demo, capsys):
    demo({"a.txt": "BAD MEH\n"})
    assert [f["rule"] for f in run_json(capsys, "--select", "DEMO002", ".")[1]["findings"]] == ["DEMO002"]
    assert [f["rule"] for f in run_json(capsys, "--ignore", "DEMO001", ".")[1]["findings"]] == ["DEMO002"]
    assert [f["rule"] for f in run_json(capsys, "--ignore", "demo", ".")[1]["findings"]] == []
    assert [f["rule"] for f in run_json(capsys, "--select", "demo0", ".")[1]["findings"]] == ["DEMO001", "DEMO002"]


def test_unknown_selector_is_a_usage_error(demo, capsys):
    assert demo({}, "check", "--select", "NOPE1", ".") == 2
    assert "unknown hook or rule code 'NOPE1'" in capsys.readouterr().err


def test_missing_path_is_a_usage_error(demo, capsys):
    demo({"a.txt": "fine\n"})
    assert main(["check", "--format", "json", "a.txt", "missing.txt"]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "mlgate: error: missing.txt: no such file or directory\n")


def test_output_file(demo, capsys, tmp_path):
    assert demo({"a.txt": "BAD\n"}, "check", "--format", "json", "--output", "out.json", "a.txt") == 1
    assert capsys.readouterr().out == ""
    assert json.loads((tmp_path / "out.json").read_text())["findings"][0]["rule"] == "DEMO001"


# --- configuration -------------------------------------------------------------------


def test_yaml_config_sets_options_and_ignore(demo, capsys):
    demo({".mlgate.yaml": "ignore: [DEMO002]\ndemo:\n  allow: [BAD]\n", "a.txt": "BAD MEH\n"})
    code, doc = run_json(capsys, ".")
    assert (code, doc["scanned_files"], doc["findings"], doc["errors"]) == (0, 1, [], [])


def test_pyproject_config_and_severity_override(demo, capsys):
    demo({"pyproject.toml": '[tool.mlgate]\nfail-on = "high"\n[tool.mlgate.severity]\nDEMO001 = "low"\n', "a.txt": "BAD\n"})
    code, doc = run_json(capsys, ".")
    assert code == 0  # BAD is now low, below fail-on high
    assert [(f["rule"], f["severity"]) for f in doc["findings"]] == [("DEMO001", "low")]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("colour: red\n", ".mlgate.yaml: key 'colour': unknown key"),
        ("fail-on: severe\n", ".mlgate.yaml: key 'fail-on': unknown severity 'severe'"),
        ("demo:\n  mode: c\n", ".mlgate.yaml: key 'demo.mode': expected one of: a, b"),
        ("demo:\n  nope: 1\n", ".mlgate.yaml: key 'demo.nope': unknown option (allowed: allow, mode)"),
        ("select: [XYZ9]\n", ".mlgate.yaml: key 'select': unknown hook or rule code 'XYZ9'"),
        ("severity:\n  DEMO001: huge\n", ".mlgate.yaml: key 'severity.DEMO001': unknown severity 'huge'"),
        ("a: [\n", ".mlgate.yaml: cannot read configuration: invalid YAML"),
        ("- 1\n", ".mlgate.yaml: the mlgate configuration must be a table/mapping"),
    ],
)
def test_bad_configuration_is_exit_2_naming_file_and_key(demo, capsys, config, message):
    assert demo({".mlgate.yaml": config, "a.txt": "BAD\n"}, "check", ".") == 2
    err = capsys.readouterr().err
    assert err.startswith("mlgate: error: ")
    assert message in err


def test_bad_toml_config(demo, capsys):
    assert demo({"pyproject.toml": "[tool.mlgate\n"}, "check", "--config", "pyproject.toml", ".") == 2
    assert "pyproject.toml: cannot read configuration" in capsys.readouterr().err


def test_toml_config_whose_tool_is_not_a_table(demo, capsys):
    assert demo({"mlgate.toml": "tool = 1\n"}, "check", "--config", "mlgate.toml", ".") == 2
    assert "mlgate.toml: 'tool' must be a table, not int" in capsys.readouterr().err


def test_explicit_missing_config(demo, capsys):
    assert demo({}, "check", "--config", "nope.yaml", ".") == 2
    assert "nope.yaml: configuration file not found" in capsys.readouterr().err


def test_pyproject_without_mlgate_table_is_not_config(demo, capsys):
    demo({"pyproject.toml": "[project]\nname='x'\n", "a.txt": "BAD\n"})
    assert run_json(capsys, ".")[0] == 1


# --- suppressions ----------------------------------------------------------------------


def test_inline_suppression_on_line_and_line_above(demo, capsys):
    demo({"a.txt": "BAD  # mlgate: ignore[DEMO001]\n# mlgate: ignore[demo]\nBAD\nBAD // mlgate: ignore[DEMO002]\n"})
    code, doc = run_json(capsys, ".")
    assert [(f["rule"], f["line"]) for f in doc["findings"]] == [("DEMO001", 4)]


def test_inline_suppression_with_several_codes(demo, capsys):
    demo({"a.txt": "BAD MEH <!-- mlgate: ignore[DEMO002, DEMO001] -->\n"})
    assert run_json(capsys, ".")[1]["findings"] == []


def test_baseline_hides_known_findings_and_survives_moved_lines(demo, capsys, tmp_path):
    demo({"a.txt": "BAD one\nok\n"})
    assert main(["baseline", "--output", "base.json", "."]) == 0
    baseline = json.loads((tmp_path / "base.json").read_text())
    assert [entry["rule"] for entry in baseline["findings"]] == ["DEMO001"]
    # Unrelated edits move the known finding; a new one appears.
    (tmp_path / "a.txt").write_text("new line\nanother\nBAD one\nok\nBAD two\n")
    code, doc = run_json(capsys, "--baseline", "base.json", ".")
    assert code == 1
    assert [(f["rule"], f["line"]) for f in doc["findings"]] == [("DEMO001", 5)]


def test_baseline_from_config(demo, capsys, tmp_path):
    demo({"a.txt": "BAD\n"})
    main(["baseline", "--output", "base.json", "."])
    (tmp_path / ".mlgate.yaml").write_text("baseline: base.json\n")
    assert run_json(capsys, ".")[0] == 0


def test_identical_lines_get_distinct_fingerprints(demo, capsys):
    demo({"a.txt": "BAD\nBAD\n"})
    prints = [f["fingerprint"] for f in run_json(capsys, ".")[1]["findings"]]
    assert len(set(prints)) == 2


def test_bad_baseline_is_usage_error(demo, capsys):
    assert demo({"base.json": "{}", "a.txt": "BAD\n"}, "check", "--baseline", "base.json", ".") == 2
    assert "not an mlgate baseline" in capsys.readouterr().err
    assert main(["check", "--baseline", "absent.json", "."]) == 2


# --- walking files ---------------------------------------------------------------------


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_git_ignored_files_and_dot_git_are_skipped(demo, capsys, tmp_path):
    demo({"keep.txt": "BAD\n", "ignored.txt": "BAD\n", ".gitignore": "ignored.txt\n", "build/x.txt": "BAD\n"})
    git(tmp_path, "init", "-q")
    (tmp_path / ".git" / "notes.txt").write_text("BAD\n")
    assert [f["path"] for f in run_json(capsys, ".")[1]["findings"]] == ["build/x.txt", "keep.txt"]


def test_a_sub_folder_of_a_work_tree_still_uses_git(demo, capsys, tmp_path):
    # The work tree is found by looking for `.git` upwards, so a scan of `src/` from the
    # repository root still skips what git ignores.
    demo({"src/keep.txt": "BAD\n", "src/ignored.txt": "BAD\n", ".gitignore": "ignored.txt\n"})
    git(tmp_path, "init", "-q")
    assert [f["path"] for f in run_json(capsys, "src")[1]["findings"]] == ["src/keep.txt"]


def test_a_folder_outside_any_work_tree_never_starts_git(demo, capsys, monkeypatch):
    import subprocess as subprocess_module

    def no_git(*args, **kwargs):
        raise AssertionError(f"git started for a folder that is not under version control: {args}")

    monkeypatch.setattr(subprocess_module, "run", no_git)
    monkeypatch.delenv("GIT_DIR", raising=False)
    demo({"a.txt": "BAD\n", "ignored.txt": "BAD\n", ".gitignore": "ignored.txt\n"})
    # Without git, .gitignore means nothing (as for git itself outside a repository).
    assert [f["path"] for f in run_json(capsys, ".")[1]["findings"]] == ["a.txt", "ignored.txt"]


def test_plain_walk_skips_vcs_and_venv_folders(demo, capsys, tmp_path):
    demo({"a.txt": "BAD\n", ".venv/lib/x.txt": "BAD\n", "node_modules/y.txt": "BAD\n"})
    assert [f["path"] for f in run_json(capsys, ".")[1]["findings"]] == ["a.txt"]


def test_symlinks_are_not_followed_out_of_the_tree(demo, capsys, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("BAD\n")
    demo({"a.txt": "fine\n"})
    os.symlink(outside / "secret.txt", tmp_path / "link.txt")
    os.symlink(outside, tmp_path / "linkdir")
    code, doc = run_json(capsys, ".")
    assert (code, doc["findings"], doc["errors"]) == (0, [], [])
    code, doc = run_json(capsys, "link.txt")  # named explicitly: followed, shown by the link's path
    assert [(f["rule"], f["path"], f["line"]) for f in doc["findings"]] == [("DEMO001", "link.txt", 1)]


def test_exclude_globs(demo, capsys):
    demo({"a.txt": "BAD\n", "vendor/b.txt": "BAD\n"})
    assert [f["path"] for f in run_json(capsys, "--exclude", "vendor/*", ".")[1]["findings"]] == ["a.txt"]


# --- hostile input reaching the core ---------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00BAD", "binary content where a text file was expected; not scanned"),
        (
            b"\xff\xfeB\x00A\x00\x00\xd8",
            "binary content where a text file was expected; not scanned",
        ),  # a UTF-16 BOM, then a lone surrogate
        (b"BAD \xe9t\xe9\n", "not valid UTF-8 (byte 4); not scanned"),
    ],
)
def test_undecodable_text_is_an_error_entry_and_the_run_goes_on(demo, capsys, content, message):
    demo({"a.txt": content, "b.txt": "BAD\n"})
    code, doc = run_json(capsys, ".")
    assert code == 1
    assert doc["errors"] == [{"path": "a.txt", "message": message}]
    assert [f["path"] for f in doc["findings"]] == ["b.txt"]


def test_huge_text_file_is_refused_quickly(demo, capsys, tmp_path):
    demo({"b.txt": "BAD\n"})
    with open(tmp_path / "a.txt", "wb") as handle:
        handle.write(b"x" * (50 * 1024 * 1024))
    code, doc = run_json(capsys, ".")
    assert doc["errors"] == [{"path": "a.txt", "message": "file is 50.0 MB, larger than the 5 MB limit for text manifests; not scanned"}]
    assert [f["path"] for f in doc["findings"]] == ["b.txt"]


def test_crlf_and_bom_are_normalised(demo, capsys):
    demo({"a.txt": "\ufeffok\r\nBAD\r\n"})
    assert [(f["line"], f["column"]) for f in run_json(capsys, ".")[1]["findings"]] == [(2, 1)]


# --- rules and explain ------------------------------------------------------------------


def test_rules_json(demo, capsys):
    assert main(["rules", "--format", "json"]) == 0
    assert [r["code"] for r in json.loads(capsys.readouterr().out)] == ["DEMO001", "DEMO002"]


def test_usage_errors_exit_2(demo, capsys):
    assert main(["check", "--format", "xml"]) == 2
    assert main(["frobnicate"]) == 2
    assert main([]) == 2


def test_a_reader_that_leaves_early_gets_no_traceback():
    # `mlgate rules | head -1`: stdout closed before mlgate writes.
    process = subprocess.Popen([sys.executable, "-m", "mlgate", "rules"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert (process.wait(), stderr) == (1, "")


# --- a scanner with a bug ---------------------------------------------------------------------


def _crashing_hook():
    def crash(source, context):
        raise RuntimeError(f"cannot cope with {source.path}")

    crashing = Scanner("crashy", matches=lambda path: path.endswith("boom.txt"), scan=crash)
    return dataclasses.replace(demo_hook.HOOK, scanners=(crashing, *demo_hook.HOOK.scanners))


def test_a_scanner_that_raises_is_an_internal_error_entry_and_the_run_goes_on(tmp_path, monkeypatch):
    monkeypatch.delenv("MLGATE_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {"boom.txt": "BAD one\n", "other.txt": "BAD two\n"})
    result = engine.scan(["."], [_crashing_hook()], Config())
    assert [(error.path, error.message) for error in result.errors] == [
        ("boom.txt", "internal error in demo/crashy: RuntimeError: cannot cope with boom.txt")
    ]
    assert result.errors[0].message.startswith("internal error in demo/crashy")
    # the other file, and the hook's other scanner on the same file, are still scanned
    assert result.scanned_files == 2
    assert sorted((f.rule.code, f.path, f.line) for f in result.findings) == [("DEMO001", "boom.txt", 1), ("DEMO001", "other.txt", 1)]
    assert result.failed(demo_hook.BAD.severity)


def test_with_mlgate_debug_a_scanner_bug_propagates(tmp_path, monkeypatch):
    monkeypatch.setenv("MLGATE_DEBUG", "1")
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {"boom.txt": "BAD one\n", "other.txt": "BAD two\n"})
    with pytest.raises(RuntimeError, match="cannot cope with boom.txt"):
        engine.scan(["."], [_crashing_hook()], Config())


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tests/unit/model.yaml", True),
        ("pkg/test/config.yaml", True),
        ("historyserver/testdata/minio.yaml", True),
        ("src/fixtures/creds.env", True),
        ("src/test_train.py", True),
        ("src/train_test.py", True),
        ("conftest.py", True),
        ("runtimes/alibi-explain/tests_alibi_explain/helpers/utils.py", True),
        ("test-data/model.yaml", True),
        ("backend/python/vllm/test.py", True),  # LocalAI's backends, unittest's `test*.py`
        ("app/tests.py", True),  # Django's
        ("src/latest.py", False),
        ("src/contest/app.py", False),
        ("testing/app.py", False),
        ("latest_tests/app.py", False),
        ("docs/samples/lora/test-examples/isvc.yaml", False),
        ("src/testing_utils.py", False),
        ("deploy/latest/app.yaml", False),
        ("attestations/values.yaml", False),
    ],
)
def test_what_counts_as_test_code_or_data(path, expected):
    from mlgate.files import is_test_path

    assert is_test_path(path) is expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("docs/examples/sklearn/model.joblib", True),
        ("docs-gb/examples/tempo/model.pickle", True),
        ("python/sklearnserver/sklearnserver/example_models/pkl/model.pkl", True),
        ("samples/v1beta1/sklearn/model.joblib", True),
        ("benchmarking/testserver/models/iris/model.joblib", True),
        ("Tutorials/intro/vocab.pkl", True),
        ("src/models/classifier.joblib", False),
        ("docs.pkl", False),  # the file's own name says nothing of where it is
        ("doctor/model.pkl", False),
        ("resamples/model.pkl", False),
        ("exampletools/model.pkl", False),
    ],
)
def test_what_counts_as_documentation_or_examples(path, expected):
    from mlgate.files import is_example_path

    assert is_example_path(path) is expected


def test_a_context_computes_a_result_once_per_file_and_purpose(tmp_path):
    from mlgate.hook import ScanContext

    (tmp_path / "template").write_text("x: 1\n")
    context = ScanContext()
    calls: list[str] = []

    def judge(source):
        calls.append(source.path)
        return [source.text]

    template = context.source(tmp_path / "template")
    first = context.once("a", template, judge)
    assert context.once("a", context.source(tmp_path / "template"), judge) is first
    context.once("b", template, judge)
    assert len(calls) == 2 and first == ["x: 1\n"]
