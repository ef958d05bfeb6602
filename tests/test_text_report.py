"""The text report people read: one entry per rule and target, most severe first, counts per rule,
colour on a terminal, `-q`, `--statistics`, `--exit-zero`, an honest summary line, and the per-hook
scripts' own name in their usage, version and errors. Through the CLI, a terminal (a pty) and a
real `pre-commit run`."""

from __future__ import annotations

import dataclasses
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_tree
from mlgate import __version__
from mlgate.cli import main, main_hub, main_models, main_pins, main_services
from mlgate.findings import Result, ScanErrorEntry, UnusedIgnore, assign_fingerprints
from mlgate.models.rules import DANGEROUS_CALL as MOD001
from mlgate.pins.rules import UNPINNED as PIN001
from mlgate.plugins import load_hooks
from mlgate.report import text
from precommit_env import git, init_repo

ALL_RULES = sorted((rule for hook in load_hooks() for rule in hook.rules), key=lambda rule: rule.code)
SCRIPTS = Path(sys.executable).parent

# A pickle that calls os.system (posix.system), its REDUCE at byte offset 30.
TROJAN = b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."
TROJAN_MESSAGE = "pickle calls posix.system via REDUCE: runs processes or shell commands"
HUB_LINE = 'model = AutoModel.from_pretrained("acme/model")\n'
HUB_MESSAGE = (
    "hub model 'acme/model' is loaded by AutoModel.from_pretrained without a revision, so it gets whatever the default branch"
    " holds when it runs; pin revision to a full commit SHA"
)
NUMPY_MESSAGE = "'numpy' has no version pin: a new release, or a hijacked one, is installed without review"
ESC = "\x1b"


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """`tree(files)` writes the files into a fresh current folder."""
    monkeypatch.chdir(tmp_path)
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)

    def write(files: dict[str, str | bytes]) -> Path:
        write_tree(tmp_path, files)
        return tmp_path

    return write


def check(capsys, *args: str) -> tuple[int, list[str]]:
    code = main(["check", *args])
    return code, capsys.readouterr().out.splitlines()


def result_of(*findings, **fields) -> Result:
    listed = assign_fingerprints([dataclasses.replace(finding, context=finding.message) for finding in findings])
    return Result(scanned_files=fields.pop("scanned_files", 1), findings=listed, **fields)


# ---- grouping -----------------------------------------------------------------------------


def test_a_thousand_occurrences_of_one_hub_id_are_one_entry(tree, capsys):
    tree({f"train_{n}.py": "from transformers import AutoModel\n" + HUB_LINE * 100 for n in range(10)})
    code, lines = check(capsys, "--select", "hub", ".")
    assert code == 1
    assert len(lines) < 30
    assert lines == [
        f"train_0.py:2:35: HUB001 [medium] {HUB_MESSAGE}",
        "    1000 occurrences: train_0.py:2:35, train_0.py:3:35, train_0.py:4:35 and 997 more",
        "    fix: pass revision=<40-hex commit SHA> (or /resolve/<sha>/ in URLs, --revision <sha> on the command line)"
        "  (mlgate explain HUB001)",
        "",
        "1000  HUB001  medium    hub-revision-not-pinned",
        "mlgate: 1000 findings (1000 medium) in 10 scanned files.",
    ]
    # every other report still lists every occurrence
    assert main(["check", "--select", "hub", "--format", "json", "."]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert len(findings) == 1000
    assert (findings[-1]["path"], findings[-1]["line"], findings[-1]["column"]) == ("train_9.py", 101, 35)


def test_different_targets_of_one_rule_are_different_entries(tree, capsys):
    tree({"train.py": "from transformers import AutoModel\n" + HUB_LINE + HUB_LINE.replace("acme/model", "acme/other")})
    code, lines = check(capsys, "--select", "hub", ".")
    assert [line.split(" [")[0] for line in lines if not line.startswith(" ")][:2] == ["train.py:2:35: HUB001", "train.py:3:35: HUB001"]
    assert not any("occurrences" in line for line in lines)
    assert sum(line.startswith("    fix: ") for line in lines) == 2


def test_most_severe_first_then_by_rule_code_whatever_the_paths(tree, capsys):
    tree(
        {
            "a/requirements.txt": "numpy\n",  # PIN001, medium, first by path
            "b/train.py": "from transformers import AutoModel\n" + HUB_LINE,  # HUB001, medium
            "z/cache.pkl": TROJAN,  # MOD001, critical, last by path
        }
    )
    code, lines = check(capsys, ".")
    assert code == 1
    assert [line for line in lines if not line.startswith(" ")] == [
        f"z/cache.pkl:1:1: MOD001 [critical] {TROJAN_MESSAGE} (byte offset 30)",
        f"b/train.py:2:35: HUB001 [medium] {HUB_MESSAGE}",
        f"a/requirements.txt:1:1: PIN001 [medium] {NUMPY_MESSAGE}",
        "",
        "1  MOD001  critical  pickle-dangerous-call",
        "1  HUB001  medium    hub-revision-not-pinned",
        "1  PIN001  medium    unpinned-requirement",
        "mlgate: 3 findings (1 critical, 2 medium) in 3 scanned files.",
    ]


def test_one_finding_has_no_count_and_no_per_rule_table(tree, capsys):
    tree({"requirements.txt": "numpy\n"})
    assert check(capsys, ".") == (
        1,
        [
            f"requirements.txt:1:1: PIN001 [medium] {NUMPY_MESSAGE}",
            f"    fix: {PIN001.fix}  (mlgate explain PIN001)",
            "mlgate: 1 finding (1 medium) in 1 scanned file.",
        ],
    )


def test_a_binary_finding_is_at_line_1_column_1_with_member_and_offset_in_the_message(tree, capsys):
    import zipfile

    root = tree({"cache.txt": TROJAN})
    with zipfile.ZipFile(root / "model.pt", "w") as archive:
        archive.writestr("archive/data.pkl", TROJAN)
        archive.writestr("archive/extra.pkl", TROJAN)
    code, lines = check(capsys, "--select", "models", ".")
    assert lines[:5] == [
        f"cache.txt:1:1: MOD001 [critical] {TROJAN_MESSAGE} (byte offset 30)",
        f"    fix: {MOD001.fix}  (mlgate explain MOD001)",
        # one file, one set of callables: one entry, each occurrence placed in the file
        f"model.pt:1:1: MOD001 [critical] {TROJAN_MESSAGE} (member archive/data.pkl, byte offset 30)",
        "    2 occurrences: model.pt:1:1 (member archive/data.pkl, byte offset 30), model.pt:1:1 (member archive/extra.pkl, byte offset 30)",
        f"    fix: {MOD001.fix}  (mlgate explain MOD001)",
    ]
    # the same callables in two files are two entries: the file is the target
    assert sum(line.startswith(("cache.txt:", "model.pt:")) for line in lines) == 2
    # JSON keeps the binary location as it is: no line, the member and the offset
    assert main(["check", "--select", "models", "--format", "json", "model.pt"]) == 1
    finding = json.loads(capsys.readouterr().out)["findings"][0]
    assert (finding["line"], finding["column"], finding["member"], finding["offset"]) == (None, None, "archive/data.pkl", 30)


def test_a_rule_whose_severity_is_raised_sorts_with_its_new_severity(tree, capsys):
    tree(
        {
            "requirements.txt": "numpy\n",
            "train.py": "from transformers import AutoModel\n" + HUB_LINE,
            ".mlgate.yaml": "severity:\n  PIN001: high\n",
        }
    )
    code, lines = check(capsys, ".")
    assert [line.split(" ", 2)[:2] for line in lines if line.endswith(("SHA", "review"))] == [
        ["requirements.txt:1:1:", "PIN001"],
        ["train.py:2:35:", "HUB001"],
    ]


# ---- summary honesty ----------------------------------------------------------------------


def test_the_summary_says_what_was_hidden_and_skipped():
    result = result_of(
        PIN001.finding("requirements.txt", 2, 1, NUMPY_MESSAGE),
        hidden_inline=3,
        hidden_by_baseline=16,
        skipped={"gitignored": 38, "excluded": 2, "symlink": 0},
        scanned_files=5,
    )
    assert text.summary(result) == (
        "mlgate: 1 finding (1 medium) in 5 scanned files; 19 more hidden (3 by ignore comments, 16 by the baseline);"
        " 40 files skipped (gitignored: 38, excluded: 2)."
    )
    assert text.summary(result_of(hidden_by_baseline=16)) == "mlgate: 0 findings in 1 scanned file; 16 more hidden (16 by the baseline)."
    # nothing hidden, nothing skipped: nothing said about them
    assert text.summary(result_of(skipped={"gitignored": 0})) == "mlgate: 0 findings in 1 scanned file."


def test_a_baselined_run_says_how_many_the_baseline_and_ignore_comments_hid(tree, capsys):
    tree(
        {
            "requirements.txt": "numpy\ntorch\nscipy  # mlgate: ignore[PIN001]\n",
            "train.py": "from transformers import AutoModel\n" + HUB_LINE,
        }
    )
    assert main(["baseline", "--output", "baseline.json", "."]) == 0
    code, lines = check(capsys, "--baseline", "baseline.json", ".")
    assert (code, lines) == (0, ["mlgate: 0 findings in 3 scanned files; 4 more hidden (1 by ignore comments, 3 by the baseline)."])


def test_unused_ignore_comments_are_listed_before_the_summary(tree, capsys):
    tree({"requirements.txt": "torch==2.1.0  # mlgate: ignore[PIN001]\nnumpy\n"})
    code, lines = check(capsys, "--show-unused-ignores", ".")
    assert lines[-2:] == [
        "requirements.txt:1: unused ignore: mlgate: ignore[PIN001] hid no finding",
        "mlgate: 1 finding (1 medium) in 1 scanned file.",
    ]
    assert not any("unused ignore" in line for line in check(capsys, ".")[1])


def test_errors_come_after_the_findings_and_the_counts():
    result = result_of(
        MOD001.finding("m.pkl", None, None, TROJAN_MESSAGE, offset=30),
        PIN001.finding("requirements.txt", 2, 1, NUMPY_MESSAGE),
        errors=[ScanErrorEntry("broken.toml", "cannot parse")],
        unused_ignores=[UnusedIgnore("requirements.txt", 1, ())],
    )
    lines = text.render(result, ALL_RULES).splitlines()
    assert lines[-4:] == [
        "1  PIN001  medium    unpinned-requirement",
        "broken.toml: error: cannot parse",
        "requirements.txt:1: unused ignore: mlgate: ignore hid no finding",
        "mlgate: 2 findings (1 critical, 1 medium), 1 error in 1 scanned file.",
    ]


# ---- options: -q, --statistics, --exit-zero ------------------------------------------------


def test_quiet_prints_the_summary_line_only_and_nothing_on_a_clean_run(tree, capsys):
    tree({"requirements.txt": "numpy\n", "clean/requirements.txt": "numpy==2.1.0\n"})
    assert check(capsys, "-q", ".") == (1, ["mlgate: 1 finding (1 medium) in 2 scanned files."])
    assert check(capsys, "--quiet", "clean") == (0, [])
    assert check(capsys, "clean") == (0, ["mlgate: 0 findings in 1 scanned file."])  # without -q: said


def test_statistics_prints_the_counts_per_rule_and_the_summary(tree, capsys):
    tree({"requirements.txt": "numpy\nscipy\n", "z.pkl": TROJAN})
    assert check(capsys, "--statistics", ".") == (
        1,
        [
            "1  MOD001  critical  pickle-dangerous-call",
            "2  PIN001  medium    unpinned-requirement",
            "mlgate: 3 findings (1 critical, 2 medium) in 2 scanned files.",
        ],
    )
    assert check(capsys, "--statistics", "-q", ".") == (1, ["mlgate: 3 findings (1 critical, 2 medium) in 2 scanned files."])


def test_exit_zero_passes_a_run_with_findings_but_not_a_usage_error(tree, capsys):
    tree({"requirements.txt": "numpy\n"})
    assert check(capsys, "--exit-zero", ".") == (
        0,
        [
            f"requirements.txt:1:1: PIN001 [medium] {NUMPY_MESSAGE}",
            f"    fix: {PIN001.fix}  (mlgate explain PIN001)",
            "mlgate: 1 finding (1 medium) in 1 scanned file.",
        ],
    )
    assert check(capsys, ".")[0] == 1
    assert main(["check", "--exit-zero", "--fail-on", "severe", "."]) == 2
    assert main(["check", "--exit-zero", "--config", "missing.yaml", "."]) == 2


# ---- colour -------------------------------------------------------------------------------


COLOURED_HEADER = f"requirements.txt:1:1: {ESC}[1mPIN001{ESC}[0m {ESC}[33m[medium]{ESC}[0m {NUMPY_MESSAGE}"


def test_color_always_colours_severity_code_and_fix(tree, capsys):
    tree({"requirements.txt": "numpy\n", "z.pkl": TROJAN})
    code, lines = check(capsys, "--color", "always", ".")
    assert lines[0] == f"z.pkl:1:1: {ESC}[1mMOD001{ESC}[0m {ESC}[1;31m[critical]{ESC}[0m {TROJAN_MESSAGE} (byte offset 30)"
    assert lines[1] == f"    {ESC}[32mfix:{ESC}[0m {MOD001.fix}  {ESC}[2m(mlgate explain MOD001){ESC}[0m"
    assert lines[2] == COLOURED_HEADER
    assert lines[-1] == f"{ESC}[1mmlgate: 2 findings (1 critical, 1 medium) in 2 scanned files.{ESC}[0m"


@pytest.mark.parametrize(
    ("environment", "option", "coloured"),
    [
        ({}, [], False),  # captured output is no terminal
        ({"FORCE_COLOR": "1"}, [], True),
        ({"NO_COLOR": "1"}, ["--color", "always"], True),  # the option decides over the environment
        ({"FORCE_COLOR": "1"}, ["--color", "never"], False),
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, [], False),  # NO_COLOR first, as CPython's own colouring
        ({"NO_COLOR": ""}, ["--color", "auto"], False),  # empty: as if unset
    ],
)
def test_colour_follows_the_option_then_no_color_then_force_color(tree, capsys, monkeypatch, environment, option, coloured):
    tree({"requirements.txt": "numpy\n"})
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    code, lines = check(capsys, *option, ".")
    assert (ESC in "\n".join(lines)) == coloured
    assert lines[0] == (COLOURED_HEADER if coloured else f"requirements.txt:1:1: PIN001 [medium] {NUMPY_MESSAGE}")


def test_colour_never_lets_scanned_text_act_on_the_terminal_or_the_ci_log():
    hostile = PIN001.finding("::error::x\x1b[2J.txt", 1, 1, "msg \x1b]0;title\x07 ##[add-mask]secret")
    lines = text.render(result_of(hostile), ALL_RULES, text.TextOptions(colour=True)).splitlines()
    assert lines[0] == (
        f"%3A:error::x%1B[2J.txt:1:1: {ESC}[1mPIN001{ESC}[0m {ESC}[33m[medium]{ESC}[0m msg %1B]0;title%07 #%23[add-mask]secret"
    )
    assert all(line.count(ESC) % 2 == 0 for line in lines)  # only the report's own codes, each closed


def _on_a_terminal(args: list[str], cwd: Path) -> str:
    """What `args` print with stdout on a pseudo-terminal (stderr on a pipe)."""
    env = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "FORCE_COLOR")}
    env["TERM"] = "xterm"
    controller, terminal = pty.openpty()
    process = subprocess.Popen(args, cwd=cwd, stdout=terminal, stderr=subprocess.PIPE, env=env)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 1 << 16)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert process.wait(timeout=120) in (0, 1), process.stderr.read() if process.stderr else ""
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_a_terminal_gets_colour_and_a_pipe_does_not(tree):
    root = tree({"requirements.txt": "numpy\n"})
    command = [sys.executable, "-m", "mlgate", "check", "."]
    assert _on_a_terminal(command, root).splitlines()[0] == COLOURED_HEADER
    piped = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120, env=os.environ | {"TERM": "xterm"})
    assert piped.stdout.splitlines()[0] == f"requirements.txt:1:1: PIN001 [medium] {NUMPY_MESSAGE}"


# ---- the per-hook scripts -----------------------------------------------------------------


@pytest.mark.parametrize("script", [main_pins, main_models, main_hub, main_services])
def test_a_hook_script_has_its_own_usage_and_version(script, capsys):
    name = f"mlgate-{script.__name__.removeprefix('main_')}"
    with pytest.raises(SystemExit) as help_exit:
        script(["--help"])
    assert help_exit.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: {name} [-h] ")
    with pytest.raises(SystemExit) as version_exit:
        script(["--version"])
    assert (version_exit.value.code, capsys.readouterr().out) == (0, f"{name} (mlgate {__version__})\n")


def test_the_installed_script_says_its_name(tree):
    root = tree({})
    script = SCRIPTS / "mlgate-pins"
    assert script.is_file(), "install the package (pip install -e .)"
    shown = subprocess.run([script, "--help"], cwd=root, capture_output=True, text=True, timeout=120)
    assert (shown.returncode, shown.stdout.splitlines()[0].split(" [")[0]) == (0, "usage: mlgate-pins")
    version = subprocess.run([script, "--version"], cwd=root, capture_output=True, text=True, timeout=120)
    assert (version.returncode, version.stdout) == (0, f"mlgate-pins (mlgate {__version__})\n")


def test_a_usage_error_says_error_once(tree, capsys):
    tree({})
    assert main(["check", "--bogus", "."]) == 2
    assert capsys.readouterr().err == "mlgate: error: unrecognized arguments: --bogus\n"
    assert main(["check", "--fail-on", "severe"]) == 2
    assert capsys.readouterr().err == (
        "mlgate: error: argument --fail-on: invalid choice: 'severe' (choose from 'low', 'medium', 'high', 'critical')\n"
    )
    assert main(["explain", "PIN999"]) == 2
    assert capsys.readouterr().err == "mlgate: error: unknown rule code 'PIN999' (see `mlgate rules`)\n"
    assert main_pins(["--bogus"]) == 2
    assert capsys.readouterr().err == "mlgate-pins: error: unrecognized arguments: --bogus\n"


def test_a_hook_script_is_silent_on_a_clean_run_and_names_itself_on_findings(tree, capsys):
    tree({"requirements.txt": "numpy\n", "clean.txt": "numpy==2.1.0\n", "requirements-ok.txt": "numpy==2.1.0\n"})
    assert main_pins(["requirements-ok.txt"]) == 0
    assert capsys.readouterr().out == ""  # pre-commit says Passed
    assert main_pins(["requirements.txt"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "mlgate-pins: 1 finding (1 medium) in 1 scanned file."
    # `mlgate check` still says a clean run was clean
    assert check(capsys, "--select", "pins", "requirements-ok.txt") == (0, ["mlgate: 0 findings in 1 scanned file."])


def test_a_hook_script_on_a_terminal_says_a_clean_run_was_clean(tree):
    root = tree({"requirements.txt": "numpy==2.1.0\n"})
    script = SCRIPTS / "mlgate-pins"
    assert _on_a_terminal([str(script), "requirements.txt"], root) == "mlgate-pins: 0 findings in 1 scanned file.\n"


def test_a_failing_hook_under_pre_commit_shows_no_passing_batch_summary(tmp_path, precommit_hooks):
    """pre-commit splits the files into batches, one process each (as many as CPUs, at least 4 files
    a batch), and prints their output one after another: a passing batch must not say `0 findings`."""
    project = tmp_path / "project"
    init_repo(project)
    (project / ".pre-commit-config.yaml").write_text(precommit_hooks.config(["mlgate-pins"]), encoding="utf-8")
    files = {f"requirements-{n:02}.txt": "numpy==2.1.0\n" for n in range(16)}
    files["requirements-15.txt"] = "numpy\n"  # in the last batch
    write_tree(project, files)
    git(project, "add", "-A")
    run = precommit_hooks.pre_commit(project, "run", "--all-files")
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert f"requirements-15.txt:1:1: PIN001 [medium] {NUMPY_MESSAGE}" in output
    assert "0 findings" not in output
    summaries = [line for line in output.splitlines() if "scanned file" in line]
    assert len(summaries) == 1, output
    assert summaries[0].startswith("mlgate-pins: 1 finding (1 medium) in "), output


def test_the_report_options_are_documented():
    repo = Path(__file__).resolve().parents[1]
    readme = (repo / "README.md").read_text(encoding="utf-8")
    configuration = (repo / "docs" / "configuration.md").read_text(encoding="utf-8")
    for option in ("-q, --quiet", "--statistics", "--exit-zero", "--color auto|always|never"):
        assert option in readme, option
    for option in ("`-q`, `--quiet`", "`--statistics`", "`--exit-zero`", "`--color auto\\|always\\|never`", "NO_COLOR", "FORCE_COLOR"):
        assert option in configuration, option
