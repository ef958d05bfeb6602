"""mlgate passes on its own repository, as .pre-commit-config.yaml and the mlgate workflow run it
(with .mlgate.yaml, which leaves out the deliberately bad inputs under tests/)."""

from __future__ import annotations

from mlgate.cli import main
from test_precommit_e2e import REPO, hook_ids


def test_mlgate_passes_on_its_own_repository(monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    code = main(["check", "."])
    output = capsys.readouterr().out
    assert (code, output.startswith("mlgate: 0 findings in ")) == (0, True), output


def test_its_own_workflows_and_action_are_scanned(monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    assert main(["check", "--format", "json", "--select", "pins", "action.yml", ".github/workflows", "action/requirements.txt"]) == 0
    assert '"scanned_files": 4,' in capsys.readouterr().out


def test_the_readme_pre_commit_entry_lists_every_hook():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    entry = readme.split("## pre-commit", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert [line.split("id: ", 1)[1] for line in entry.splitlines() if "- id: " in line] == hook_ids()
