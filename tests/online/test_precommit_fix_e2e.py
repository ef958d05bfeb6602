"""`mlgate-pins` with `args: [--fix]` under a real `pre-commit run`: the first run fixes the
files and fails, the next one passes. GitHub is a fake API on 127.0.0.1 (GITHUB_API_URL).

Like tests/test_precommit_e2e.py, pre-commit pip-installs the hook repository (a snapshot of
this work tree) into its own virtual environment, so this needs the package index; the
environment is the session's one (the `precommit_hooks` fixture of tests/conftest.py): `args`
do not change it.
"""

from __future__ import annotations

import re

from httpfake import server  # noqa: F401  (a fixture)
from precommit_env import git, init_repo

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
WORKFLOW = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4  # fetch the code\n"


def test_pre_commit_fix_fails_once_then_passes(tmp_path, server, precommit_hooks):
    server.reply("GET", "/repos/actions/checkout/commits/v4", body={"sha": SHA})
    project = tmp_path / "project"
    init_repo(project)
    (project / ".pre-commit-config.yaml").write_text(precommit_hooks.config(["mlgate-pins"], args={"mlgate-pins": ["--fix"]}))
    workflow = project / ".github" / "workflows" / "ci.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(WORKFLOW)
    git(project, "add", "-A")
    env = {key: value for key, value in precommit_hooks.env().items() if not key.startswith(("GITHUB_", "GH_"))}
    env.update(GITHUB_API_URL=server.url, MLGATE_CACHE_DIR=str(tmp_path / "cache"))

    fixed = precommit_hooks.pre_commit(project, "run", "--all-files", env=env)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "files were modified by this hook" in fixed.stdout, fixed.stdout
    assert workflow.read_text() == WORKFLOW.replace("actions/checkout@v4  #", f"actions/checkout@{SHA} # v4  #")

    passed = precommit_hooks.pre_commit(project, "run", "--all-files", env=env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"mlgate pins\.+Passed", passed.stdout), passed.stdout
    assert workflow.read_text() == WORKFLOW.replace("actions/checkout@v4  #", f"actions/checkout@{SHA} # v4  #")
    assert server.seen() == [("GET", "/repos/actions/checkout/commits/v4")]
