"""The `mlgate-pins` pre-commit hook, for real: `pre-commit try-repo` on a throwaway project.

pre-commit clones the hook repository at a commit and pip-installs it into its own virtual
environment, so this needs the package index (as `pip install` does) and takes a while.

try-repo on a work tree with uncommitted changes adds the modified and staged files to a shadow
commit, but not untracked ones, so a new module not yet `git add`-ed would be missing. The test
therefore hands try-repo a snapshot of the work tree as it is on disk (every file git does not
ignore), committed in a temporary repository: what is tested is exactly what is checked out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlgate import yamlfile
from mlgate.files import SourceFile
from mlgate.pins import HOOK as PINS
from realcorpus import CORPUS

REPO = Path(__file__).resolve().parents[1]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def hook_entry(hook_id: str) -> dict[str, str]:
    """The scalar fields of one hook in .pre-commit-hooks.yaml."""
    [document] = yamlfile.load_documents(SourceFile.from_text(".pre-commit-hooks.yaml", (REPO / ".pre-commit-hooks.yaml").read_text()))
    for hook in yamlfile.elements(document):
        if yamlfile.text_of(yamlfile.get(hook, "id")) == hook_id:
            return {key: yamlfile.text_of(value) for key, _, value in yamlfile.items(hook)}
    raise AssertionError(f"no hook {hook_id!r} in .pre-commit-hooks.yaml")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def snapshot_of_work_tree(target: Path) -> Path:
    """This repository's files as they are on disk, committed in a new repository."""
    listed = git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the work tree, not yet in the index
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination, follow_symlinks=False)  # keeps hooks/mlgate/docs a symlink
    init_repo(target)
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "snapshot")
    return target


def init_repo(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "user.name", "mlgate tests")
    git(path, "config", "commit.gpgsign", "false")


def try_repo(project: Path, hooks_repo: Path, home: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "PRE_COMMIT"))}
    env["PRE_COMMIT_HOME"] = str(home)  # hermetic: its own clones and virtual environments
    return subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(hooks_repo), "mlgate-pins", "--all-files", "--color", "never"],
        cwd=project, env=env, capture_output=True, text=True, timeout=1200,
    )


def test_pre_commit_try_repo_blocks_then_passes(tmp_path):
    assert PRE_COMMIT.is_file(), f"{PRE_COMMIT} is missing: install the test extras (pip install -e '.[test]')"
    hooks_repo = snapshot_of_work_tree(tmp_path / "mlgate")
    project = tmp_path / "project"
    init_repo(project)
    requirements = project / "requirements.txt"
    requirements.write_text("torch>=2.0\n")
    git(project, "add", "requirements.txt")

    blocked = try_repo(project, hooks_repo, tmp_path / "pre-commit-home")
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode == 1, output
    assert "requirements.txt:1:1: PIN001" in output, output

    requirements.write_text("torch==2.1.0\n")
    git(project, "add", "requirements.txt")
    passed = try_repo(project, hooks_repo, tmp_path / "pre-commit-home")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"mlgate pins\.+Passed", passed.stdout), passed.stdout


def test_hook_runs_the_pins_entry_point_on_the_files_pre_commit_passes():
    entry = hook_entry("mlgate-pins")
    assert (entry["entry"], entry["language"], entry["pass_filenames"]) == ("mlgate-pins", "python", "true")


# Paths of every kind pins reads, and look-alikes it does not: the pre-commit `files` filter must
# agree with the scanners, or pre-commit would skip a manifest (or pass a file mlgate ignores).
SAMPLE_PATHS = [
    "requirements.txt", "requirements-dev.txt", "dev-requirements.txt", "requirements_flax.txt",
    "requirements/base.txt", "requirements/base.in", "requirements.in", "constraints.txt", "deps/gpu.pip",
    "docs/requirements.txt", "pyproject.toml", "sub/pkg/pyproject.toml", "setup.cfg", "setup.py", "Pipfile",
    "Pipfile.lock", "uv.lock", "poetry.lock", "pdm.lock", "pylock.toml", "pylock.dev.toml",
    "environment.yml", "environment-gpu.yaml", "conda.yml", "envs/conda-cuda.yaml",
    "Dockerfile", "docker/Dockerfile", "Dockerfile.gpu", "docker/deploy.Dockerfile", "Containerfile",
    ".github/workflows/ci.yml", ".github/workflows/release.yaml", "action.yml", ".github/actions/setup/action.yaml",
    "reqs/base.txt", "Requirements/Dev.TXT", "env.yml", "docker/Containerfile.cpu", ".pre-commit-config.yml",
    ".pre-commit-config.yaml", "scripts/install.sh", "tools/setup.bash", "tools/setup.zsh", "scripts/setup", "bin/run",
    "notebooks/train.ipynb",
    # not manifests
    "README.md", "src/model.py", "setup.py.orig", "requirements.md", "config.yaml", ".github/dependabot.yml",
    "docker-compose.yml", "data/train.json", "pyproject.toml.bak", "Makefile", ".github/workflows/README.md",
    "notebooks/train.py", "scripts/install.ps1", "scripts/train.py", "Dockerfile.dockerignore", "docker/.dockerignore",
    ".github/workflows/sub/ci.yml", "requirements.json", "src/bin.py",
]


def scanned_by_pins(path: str) -> bool:
    return any(scanner.matches(path) for scanner in PINS.scanners)


def test_files_filter_agrees_with_the_scanners_on_sample_paths():
    files = re.compile(hook_entry("mlgate-pins")["files"])
    disagree = [path for path in SAMPLE_PATHS if bool(files.search(path)) != scanned_by_pins(path)]
    assert disagree == []


def test_files_filter_agrees_with_the_scanners_on_the_real_corpus():
    files = re.compile(hook_entry("mlgate-pins")["files"])
    # Corpus files are stored as <owner>__<repo>/<path in that repository>.
    paths = [path.relative_to(CORPUS).as_posix().split("/", 1)[1] for path in CORPUS.rglob("*") if path.is_file() and path.parent != CORPUS]
    assert len(paths) > 300
    disagree = [path for path in paths if bool(files.search(path)) != scanned_by_pins(path)]
    assert disagree == []
