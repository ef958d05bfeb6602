"""Shared test helpers.

`scan_tree(tmp_path, {"requirements.txt": "torch\n"}, select="pins")` writes the files,
runs the real engine over the folder (as `mlgate check` would, from inside it) and
returns findings as (rule, path, line, column) tuples plus the full result.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlgate import engine
from mlgate.config import load_config
from mlgate.findings import Result
from mlgate.plugins import load_hooks

os.environ.setdefault("MLGATE_DEBUG", "1")  # a scanner bug fails the test instead of becoming an error entry


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


class Scan:
    def __init__(self, result: Result):
        self.result = result
        self.findings = result.findings
        self.errors = [(e.path, e.message) for e in result.errors]

    @property
    def hits(self) -> list[tuple[str, str, int | None, int | None]]:
        return [(f.rule.code, f.path, f.line, f.column) for f in self.findings]

    @property
    def rule_lines(self) -> list[tuple[str, str, int | None]]:
        return [(f.rule.code, f.path, f.line) for f in self.findings]

    def messages(self, code: str) -> list[str]:
        return [f.message for f in self.findings if f.rule.code == code]


@pytest.fixture
def scan_tree(tmp_path, monkeypatch):
    def run(
        files: dict[str, str | bytes],
        select: str | None = None,
        options: dict | None = None,
        paths: list[str] | None = None,
        online: bool = False,
        cwd: str = "",
    ) -> Scan:
        write_tree(tmp_path, files)
        monkeypatch.chdir(tmp_path / cwd)  # `cwd`: a folder of the tree to run in, as a user at its top
        hooks = load_hooks()
        config = load_config(None, hooks, start=tmp_path)
        if select:
            config.select = [select]
        for hook, values in (options or {}).items():
            config.hook_options.setdefault(hook, {}).update(values)
        session = None
        if online:  # endpoints from the environment, as `mlgate check --online` makes them
            from mlgate.online import OnlineSession

            session = OnlineSession()
        return Scan(engine.scan(paths or ["."], hooks, config, online=session))

    return run


@pytest.fixture
def hub_scan(scan_tree):
    """`hub_scan(files, **options)`: `scan_tree` with only the hub hook, asserting no errors."""

    def run(files: dict[str, str], **options):
        scan = scan_tree(files, select="hub", options={"hub": options} if options else None)
        assert scan.errors == []
        return scan

    return run


@pytest.fixture(scope="session")
def work_tree_snapshot(tmp_path_factory) -> Path:
    """This work tree as it is on disk, committed in a temporary repository (tests/precommit_env.py):
    the hook repository pre-commit clones, and the action's checkout in tests/test_action.py.
    pre-commit reads it through git (its commit), so files a build leaves in it change nothing."""
    from precommit_env import snapshot_of_work_tree

    return snapshot_of_work_tree(tmp_path_factory.mktemp("snapshot") / "mlgate")


@pytest.fixture(scope="session")
def precommit_hooks(tmp_path_factory, work_tree_snapshot):
    """The snapshot as a pre-commit hook repository, with pre-commit's environment for every hook
    of .pre-commit-hooks.yaml built once for the session (see tests/precommit_env.py)."""
    from precommit_env import build_hook_environment, hook_ids

    return build_hook_environment(work_tree_snapshot, tmp_path_factory.mktemp("precommit"), hook_ids())
