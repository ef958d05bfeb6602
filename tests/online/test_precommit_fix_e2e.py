"""`mlgate-pins` with `args: [--fix]` under a real `pre-commit run`: the first run fixes the
files and fails, the next one passes. GitHub is a fake API on 127.0.0.1 (GITHUB_API_URL).

Like tests/test_precommit_e2e.py, pre-commit pip-installs the hook repository (a snapshot of
this work tree) into its own virtual environment, so this needs the package index.
"""

from __future__ import annotations

import os
import re
import subprocess

from httpfake import server  # noqa: F401  (a fixture)
from test_precommit_e2e import PRE_COMMIT, git, init_repo, snapshot_of_work_tree

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
WORKFLOW = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4  # fetch the code\n"


def pre_commit_run(project, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PRE_COMMIT), "run", "--all-files", "--color", "never"],
        cwd=project, env=env, capture_output=True, text=True, timeout=1200,
    )


def test_pre_commit_fix_fails_once_then_passes(tmp_path, server):
    server.reply("GET", "/repos/actions/checkout/commits/v4", body={"sha": SHA})
    hooks_repo = snapshot_of_work_tree(tmp_path / "mlgate")
    revision = git(hooks_repo, "rev-parse", "HEAD").strip()
    project = tmp_path / "project"
    init_repo(project)
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks_repo}\n    rev: {revision}\n    hooks:\n      - id: mlgate-pins\n        args: [--fix]\n"
    )
    workflow = project / ".github" / "workflows" / "ci.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(WORKFLOW)
    git(project, "add", "-A")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "PRE_COMMIT", "GITHUB_", "GH_"))}
    env.update(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), GITHUB_API_URL=server.url, MLGATE_CACHE_DIR=str(tmp_path / "cache"))

    fixed = pre_commit_run(project, env)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "files were modified by this hook" in fixed.stdout, fixed.stdout
    assert workflow.read_text() == WORKFLOW.replace("actions/checkout@v4  #", f"actions/checkout@{SHA} # v4  #")

    passed = pre_commit_run(project, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"mlgate pins\.+Passed", passed.stdout), passed.stdout
    assert workflow.read_text() == WORKFLOW.replace("actions/checkout@v4  #", f"actions/checkout@{SHA} # v4  #")
    assert server.seen() == [("GET", "/repos/actions/checkout/commits/v4")]
