"""`mlgate-models` (= check --select models) imports only the hooks it needs, and still
validates a configuration file against every hook."""

from __future__ import annotations

import subprocess
import sys

PROBE = "import sys; from mlgate.cli import main; code = main(sys.argv[1:]); print(sorted(m for m in sys.modules if m in ('mlgate.pins', 'mlgate.models')), code)"


def run(tmp_path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    return result.stdout.strip().splitlines()[-1]  # after the report


def test_a_selected_hook_alone_is_imported_without_configuration(tmp_path):
    (tmp_path / ".git").mkdir()  # the configuration search stops at the repository root
    assert run(tmp_path, "check", "--select", "models", ".") == "['mlgate.models'] 0"


def test_configuration_and_ignore_lists_are_checked_against_every_hook(tmp_path):
    (tmp_path / ".git").mkdir()
    assert run(tmp_path, "check", "--select", "models", "--ignore", "PIN001", ".") == "['mlgate.models', 'mlgate.pins'] 0"
    (tmp_path / ".mlgate.yaml").write_text("pins:\n  bogus: 1\n")
    assert run(tmp_path, "check", "--select", "models", ".") == "['mlgate.models', 'mlgate.pins'] 2"


def test_a_configuration_without_other_hooks_sections_loads_only_the_selected_hook(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".mlgate.yaml").write_text("exclude: [tests/*]\nmodels:\n  allowed-callables: []\n")
    assert run(tmp_path, "check", "--select", "models", ".") == "['mlgate.models'] 0"
    (tmp_path / ".mlgate.yaml").write_text("exclude: [tests/*]\nseverity:\n  PIN001: low\n")
    assert run(tmp_path, "check", "--select", "models", ".") == "['mlgate.models', 'mlgate.pins'] 0"
