"""mlgate's pre-commit hooks, for real: `pre-commit run` on a throwaway project.

pre-commit clones the hook repository at a commit and pip-installs it into its own virtual
environment, so this needs the package index (as `pip install` does). The hook repository is a
snapshot of the work tree as it is on disk (tests/precommit_env.py), committed in a temporary
repository, so what is tested is exactly what is checked out; the `precommit_hooks` session
fixture (tests/conftest.py) has pre-commit build its environment once, and every case below
runs `pre-commit run` in its own project with that shared pre-commit home.
"""

from __future__ import annotations

import pickletools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlgate.pins import HOOK as PINS
from precommit_env import PRE_COMMIT, REPO, git, hook_entry, hook_ids, init_repo, snapshot_of_work_tree  # noqa: F401  (re-exported)
from realcorpus import CORPUS


@dataclass(frozen=True)
class HookCase:
    """One hook of .pre-commit-hooks.yaml, run by pre-commit on a file that must block the commit
    (`blocked_line` is in the output) and then on a good version of the same file."""

    hook_id: str
    path: str
    bad: str | bytes
    good: str | bytes
    blocked_line: str


def _reduce_offset(data: bytes) -> int:
    return next(position for opcode, _, position in pickletools.genops(data) if opcode.name == "REDUCE")


# A pickle that calls os.system, under a name no model scanner looks at (picklescan CVE-2025-1889).
TROJAN = b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."

# One entry per hook; a new hook adds its own (its id, a file that must block, a fixed version).
HOOK_CASES = [
    HookCase("mlgate-pins", "requirements.txt", "torch>=2.0\n", "torch==2.1.0\n", "requirements.txt:1:1: PIN001"),
    HookCase(
        "mlgate-models",
        "data/cache.txt",
        TROJAN,
        b"not a model\n",
        f"data/cache.txt:1:1: MOD001 [critical] pickle calls posix.system via REDUCE: runs processes or shell commands (byte offset {_reduce_offset(TROJAN)})",
    ),
    HookCase(
        "mlgate-services",
        "docker-compose.yml",
        'services:\n  ray:\n    command: ray start --head --dashboard-host=0.0.0.0\n    ports:\n      - "8265:8265"\n',
        'services:\n  ray:\n    command: ray start --head --dashboard-host=0.0.0.0\n    ports:\n      - "127.0.0.1:8265:8265"\n',
        "docker-compose.yml:5:10: SVC001 [critical]",
    ),
    HookCase(
        "mlgate-hub",
        "train.py",
        "from transformers import AutoModel\nm = AutoModel.from_pretrained('acme/llm')\n",
        "from transformers import AutoModel\nm = AutoModel.from_pretrained('acme/llm', revision='0123456789abcdef0123456789abcdef01234567')\n",
        "train.py:2:31: HUB001 [medium]",
    ),
]


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")


@pytest.mark.parametrize("case", HOOK_CASES, ids=lambda case: case.hook_id)
def test_pre_commit_run_blocks_then_passes(tmp_path, precommit_hooks, case):
    project = tmp_path / "project"
    init_repo(project)
    (project / ".pre-commit-config.yaml").write_text(precommit_hooks.config([case.hook_id]), encoding="utf-8")
    _write(project / case.path, case.bad)
    git(project, "add", "-A")

    blocked = precommit_hooks.pre_commit(project, "run", "--files", case.path)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode == 1, output
    assert case.blocked_line in output, output

    _write(project / case.path, case.good)
    git(project, "add", case.path)
    passed = precommit_hooks.pre_commit(project, "run", "--files", case.path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    name = re.escape(hook_entry(case.hook_id)["name"])
    assert re.search(rf"^{name}\.+Passed$", passed.stdout, re.MULTILINE), passed.stdout


def test_every_hook_has_a_pre_commit_case():
    assert sorted(case.hook_id for case in HOOK_CASES) == sorted(hook_ids())


def test_hook_runs_the_pins_entry_point_on_the_files_pre_commit_passes():
    entry = hook_entry("mlgate-pins")
    assert (entry["entry"], entry["language"], entry["pass_filenames"]) == ("mlgate-pins", "python", "true")


# Paths of every kind pins reads, and look-alikes it does not: the pre-commit `files` filter must
# agree with the scanners, or pre-commit would skip a manifest (or pass a file mlgate ignores).
SAMPLE_PATHS = [
    "requirements.txt",
    "requirements-dev.txt",
    "dev-requirements.txt",
    "requirements_flax.txt",
    "requirements/base.txt",
    "requirements/base.in",
    "requirements.in",
    "constraints.txt",
    "deps/gpu.pip",
    "docs/requirements.txt",
    "pyproject.toml",
    "sub/pkg/pyproject.toml",
    "setup.cfg",
    "setup.py",
    "Pipfile",
    "Pipfile.lock",
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "pylock.toml",
    "pylock.dev.toml",
    "environment.yml",
    "environment-gpu.yaml",
    "conda.yml",
    "envs/conda-cuda.yaml",
    "Dockerfile",
    "docker/Dockerfile",
    "Dockerfile.gpu",
    "docker/deploy.Dockerfile",
    "Containerfile",
    ".github/workflows/ci.yml",
    ".github/workflows/release.yaml",
    "action.yml",
    ".github/actions/setup/action.yaml",
    "reqs/base.txt",
    "Requirements/Dev.TXT",
    "env.yml",
    "docker/Containerfile.cpu",
    ".pre-commit-config.yml",
    ".pre-commit-config.yaml",
    "scripts/install.sh",
    "tools/setup.bash",
    "tools/setup.zsh",
    "scripts/setup",
    "bin/run",
    "notebooks/train.ipynb",
    "docker-compose.yml",
    "deploy/compose.yaml",
    "docker-compose.gpu.yml",
    "Compose-dev.YAML",
    # not manifests
    "README.md",
    "src/model.py",
    "setup.py.orig",
    "requirements.md",
    "config.yaml",
    ".github/dependabot.yml",
    "composer.json",
    "compose.yaml.bak",
    "data/train.json",
    "pyproject.toml.bak",
    "Makefile",
    ".github/workflows/README.md",
    "notebooks/train.py",
    "scripts/install.ps1",
    "scripts/train.py",
    "Dockerfile.dockerignore",
    "docker/.dockerignore",
    ".github/workflows/sub/ci.yml",
    "requirements.json",
    "src/bin.py",
    "tools/dockerfile.py",
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
