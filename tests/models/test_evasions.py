"""Every class of evasion in evasions.py, under every name a loader would accept it by.

A pickle is judged as a pickle whatever the file is called: pickle.load, torch.load and
joblib.load do not look at names. Each case must give its rule at its byte offset as the
file's most severe finding.
"""

from __future__ import annotations

import pytest
from evasions import ALL, READINGS, RESOLUTION, STORED
from picklegen import REDUCE, STOP, TUPLE1, Pickle, short_unicode, stack_global

from mlgate.findings import Severity
from mlgate.models.callables import Policy, Verdict, dangerous_reason

NAMES = ["model.pkl", "weights.bin", "model.pth", "clf.sav", "blob.dat", "config.json", "checkpoint"]


def worst(scan) -> tuple[str, str, int | None]:
    finding = max(scan.findings, key=lambda f: (f.severity, -(f.offset or 0)))
    return finding.rule.code, finding.path, finding.offset


@pytest.mark.parametrize("case_id, data, rule, offset", ALL, ids=[case[0] for case in ALL])
def test_each_evasion_is_reported_at_its_offset(scan_tree, case_id, data, rule, offset):
    scan = scan_tree({"model.pkl": data}, select="models")
    assert worst(scan) == (rule, "model.pkl", offset)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case_id, data, rule, offset", READINGS + STORED[:2], ids=[case[0] for case in READINGS + STORED[:2]])
def test_whatever_the_file_is_called(scan_tree, name, case_id, data, rule, offset):
    scan = scan_tree({name: data}, select="models")
    assert worst(scan) == (rule, name, offset)


@pytest.mark.parametrize("case_id, data, rule, offset", RESOLUTION, ids=[case[0] for case in RESOLUTION])
def test_resolved_targets_name_the_route(scan_tree, case_id, data, rule, offset):
    """The message says what the dotted name resolves to, so a reviewer sees the real target."""
    scan = scan_tree({"model.pkl": data}, select="models")
    message = scan.messages(rule)[0]
    assert "via REDUCE" in message
    if rule == "MOD002" and case_id != "allowed-package-unlisted-class":
        assert "the attribute chain" in message


@pytest.mark.parametrize(
    "module, qualname, verdict",
    [
        ("sklearn.utils", "subprocess.Popen", Verdict.DANGEROUS),
        ("transformers.utils", "os.system", Verdict.DANGEROUS),
        ("mypkg", "errors.ctypes.CDLL", Verdict.DANGEROUS),
        ("future.moves.subprocess", "check_output", Verdict.DANGEROUS),  # a module path reaching subprocess
        ("six.moves", "builtins.exec", Verdict.DANGEROUS),
        ("numpy", "load", Verdict.DANGEROUS),
        ("mypkg.layers", "Block.__reduce_ex__", Verdict.DANGEROUS),
        ("scipy.signal._ltisys", "TransferFunction", Verdict.UNKNOWN),  # scipy's own signal package, not the stdlib's
        ("mypkg.test", "Model", Verdict.UNKNOWN),
        ("mypkg", "signal.SIGKILL", Verdict.DANGEROUS),  # as an attribute, `signal` is whatever the module imported
        ("collections", "OrderedDict", Verdict.ALLOWED),
        ("collections", "OrderedDict.fromkeys", Verdict.UNKNOWN),
        ("torch", "_utils._rebuild_tensor_v2", Verdict.UNKNOWN),  # the allowlist holds exact objects
        ("torch._utils", "_rebuild_tensor_v2", Verdict.ALLOWED),
        ("__torch__.torch.nn.modules.linear", "Linear", Verdict.ALLOWED),
        ("json", "loads", Verdict.UNKNOWN),
    ],
)
def test_verdicts_on_the_resolved_path(module, qualname, verdict):
    assert Policy().verdict(f"{module}.{qualname}", module) is verdict


def test_without_a_module_every_component_after_the_first_is_an_attribute():
    """A Hydra `_target_` has no module/attribute split: the strictest reading is taken."""
    assert dangerous_reason("mypkg.signal.SIGKILL") is not None
    assert dangerous_reason("mypkg.signal.SIGKILL", "mypkg.signal") is None


def test_a_reviewers_allowed_callable_does_not_cover_a_route_to_a_dangerous_one(scan_tree):
    stream = Pickle(4)
    stream.add(stack_global("our_pkg.models", "subprocess.Popen"), short_unicode("id"), TUPLE1)
    at = stream.add(REDUCE, STOP)
    scan = scan_tree({"model.pkl": stream.bytes()}, select="models", options={"models": {"allowed-callables": ["our_pkg.*"]}})
    assert [(f.rule.code, f.path, f.offset, f.severity) for f in scan.findings] == [("MOD001", "model.pkl", at, Severity.CRITICAL)]


def test_the_frame_reading_of_torch_load_names_the_hidden_global(scan_tree):
    case = next(case for case in READINGS if case[0] == "frame-hides-bytes-from-bytesio")
    scan = scan_tree({"data.pkl": case[1]}, select="models")
    assert [(f.rule.code, f.offset) for f in scan.findings if "os.system" in f.message and "FRAMEs hide bytes" in f.message] == [
        ("MOD001", case[3])
    ]
