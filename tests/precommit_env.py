"""One real pre-commit environment of mlgate's hooks per test session.

`pre-commit try-repo` clones the hook repository into a fresh temporary store and builds a new
virtual environment on every call (it ignores PRE_COMMIT_HOME), which costs seconds each time.
The end-to-end tests instead point a `.pre-commit-config.yaml` at a snapshot of this work tree
(`repo:` a local git repository, `rev:` its commit) and share one PRE_COMMIT_HOME: pre-commit
clones the snapshot and pip-installs it into its own virtual environment once, exactly as it
does for a user's `pre-commit install`, and every test then runs `pre-commit run` for real in
its own project repository.

The snapshot is the work tree as it is on disk (untracked and modified files included), copied
file by file without .git, virtual environments, caches and build output, then committed in a
new repository: it does not depend on this checkout's git index, and works from a fresh clone.
Under pytest-xdist each worker process builds its own snapshot and environment (the session
fixture is per process); pre-commit's store takes a lock, so nothing is shared unsafely.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"

# Never part of the snapshot: version control, virtual environments, caches, build output and
# downloaded tools (the same things .gitignore lists).
SKIPPED_DIRECTORIES = {
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
    ".tox",
    ".nox",
    ".eggs",
    ".venv",
    "venv",
    ".ci-venv",
    ".ci-wheels",
    "node_modules",
    "build",
    "dist",
}
SKIPPED_PATHS = {"benchmarks/.work"}


def _hooks() -> list:
    from mlgate import yamlfile
    from mlgate.files import SourceFile

    [document] = yamlfile.load_documents(SourceFile.from_text(".pre-commit-hooks.yaml", (REPO / ".pre-commit-hooks.yaml").read_text()))
    return yamlfile.elements(document)


def hook_ids() -> list[str]:
    """The ids in .pre-commit-hooks.yaml, in order."""
    from mlgate import yamlfile

    return [yamlfile.text_of(yamlfile.get(hook, "id")) for hook in _hooks()]


def hook_entry(hook_id: str) -> dict[str, str]:
    """The scalar fields of one hook in .pre-commit-hooks.yaml."""
    from mlgate import yamlfile

    for hook in _hooks():
        if yamlfile.text_of(yamlfile.get(hook, "id")) == hook_id:
            return {key: yamlfile.text_of(value) for key, _, value in yamlfile.items(hook)}
    raise AssertionError(f"no hook {hook_id!r} in .pre-commit-hooks.yaml")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=clean_env()).stdout


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without git's and pre-commit's own variables (a test may run
    inside a git hook, where GIT_DIR and GIT_INDEX_FILE point at another repository)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(extra)
    return env


def init_repo(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "user.name", "mlgate tests")
    git(path, "config", "commit.gpgsign", "false")


def _skipped(directory: Path) -> bool:
    name = directory.name
    return (
        name in SKIPPED_DIRECTORIES
        or name.endswith(".egg-info")
        or (directory / "pyvenv.cfg").exists()  # any virtual environment, whatever its name
        or directory.relative_to(REPO).as_posix() in SKIPPED_PATHS
    )


def copy_work_tree(target: Path) -> Path:
    """This repository's files as they are on disk, symlinks kept as symlinks (hooks/mlgate/docs)."""
    for root, directories, files in os.walk(REPO):
        here = Path(root)
        destination = target / here.relative_to(REPO)
        destination.mkdir(parents=True, exist_ok=True)
        for name in list(directories):
            path = here / name
            if path.is_symlink():
                directories.remove(name)
                os.symlink(os.readlink(path), destination / name)
            elif _skipped(path):
                directories.remove(name)
        for name in files:
            if name.endswith((".pyc", ".pyo")):
                continue
            shutil.copy2(here / name, destination / name, follow_symlinks=False)
    return target


def snapshot_of_work_tree(target: Path) -> Path:
    """This repository's work tree, committed in a new repository at `target`."""
    copy_work_tree(target)
    init_repo(target)
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "snapshot")
    return target


@dataclass(frozen=True)
class HookEnvironment:
    """A committed snapshot of mlgate and a pre-commit home where its hook environment is built."""

    repo: Path
    rev: str
    home: Path

    def config(self, hook_ids: list[str], args: dict[str, list[str]] | None = None) -> str:
        """A .pre-commit-config.yaml using these hooks of the snapshot (with `args` per hook id)."""
        lines = [f"repos:\n  - repo: {self.repo}\n    rev: {self.rev}\n    hooks:\n"]
        for hook_id in hook_ids:
            lines.append(f"      - id: {hook_id}\n")
            if args and hook_id in args:
                lines.append(f"        args: [{', '.join(args[hook_id])}]\n")
        return "".join(lines)

    def env(self, **extra: str) -> dict[str, str]:
        return clean_env(PRE_COMMIT_HOME=str(self.home), **extra)

    def pre_commit(self, project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """`pre-commit ARGS` in `project`, with this session's pre-commit home."""
        return subprocess.run(
            [str(PRE_COMMIT), *args, "--color", "never"] if args[0] == "run" else [str(PRE_COMMIT), *args],
            cwd=project,
            env=env or self.env(),
            capture_output=True,
            text=True,
            timeout=1200,
        )


def build_hook_environment(repo: Path, root: Path, hook_ids: list[str]) -> HookEnvironment:
    """Have pre-commit build the environment of `hook_ids` from the snapshot `repo` once, in a
    pre-commit home under `root`."""
    assert PRE_COMMIT.is_file(), f"{PRE_COMMIT} is missing: install the test extras (pip install -e '.[test]')"
    hooks = HookEnvironment(repo, git(repo, "rev-parse", "HEAD").strip(), root / "pre-commit-home")
    warm = root / "install-hooks"
    init_repo(warm)
    (warm / ".pre-commit-config.yaml").write_text(hooks.config(hook_ids), encoding="utf-8")
    installed = hooks.pre_commit(warm, "install-hooks")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return hooks
