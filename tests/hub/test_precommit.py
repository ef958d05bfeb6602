"""The `mlgate-hub` entry of .pre-commit-hooks.yaml: its `files` filter agrees with the scanners."""

from __future__ import annotations

import re

from mlgate.hub import HOOK
from test_precommit_e2e import hook_entry

SAMPLE_PATHS = [
    "train.py",
    "src/pkg/model.py",
    "tool.pyw",
    "notebooks/explore.ipynb",
    "configs/train.yaml",
    "conf/serve.yml",
    "adapter_config.json",
    ".github/workflows/ci.yml",
    "action.yml",
    "docker-compose.yml",
    "scripts/download.sh",
    "tools/setup.bash",
    "bin/fetch",
    "scripts/run",
    "Dockerfile",
    "docker/Dockerfile.gpu",
    "serve.Dockerfile",
    "Containerfile",
    "dockerfile.py",
    # not read by the hub hook
    "README.md",
    "requirements.txt",
    "model.safetensors",
    "weights.bin",
    "Makefile",
    "setup.cfg",
    "pyproject.toml",
    "Dockerfile.dockerignore",
    "docker/.dockerignore",
    "notes.txt",
    "scripts/train.py.orig",
    "data.csv",
]


def scanned_by_hub(path: str) -> bool:
    return any(scanner.matches(path) for scanner in HOOK.scanners)


def test_files_filter_agrees_with_the_scanners():
    entry = hook_entry("mlgate-hub")
    assert (entry["entry"], entry["language"], entry["pass_filenames"]) == ("mlgate-hub", "python", "true")
    files = re.compile(entry["files"])
    assert [path for path in SAMPLE_PATHS if bool(files.search(path)) != scanned_by_hub(path)] == []
