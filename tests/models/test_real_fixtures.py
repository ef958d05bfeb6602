"""The models hook on files the real libraries wrote: no false "critical" or "high".

tests/fixtures/models/ holds small benign files made by torch, numpy, pandas, scikit-learn,
joblib, XGBoost, LightGBM, safetensors, ONNX, h5py, Keras and gguf (make_fixtures.py there made
them; its README lists each file with the library version). The whole folder is scanned once
with the real engine, as `mlgate check --select models` would, and every file's findings are
compared with the exact list below: pickle-based files get exactly one MOD003 (the format can
run code), formats without code get nothing, and the two files that really do carry code —
a TorchScript archive and a Keras model with a Lambda layer — get the rule made for them.
Nothing here is ever loaded: the tests read bytes only.
"""

from __future__ import annotations

import importlib.util
import os
import struct
from pathlib import Path

import pytest

from mlgate import engine
from mlgate.config import load_config
from mlgate.findings import Severity
from mlgate.plugins import load_hooks

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
JOBLIB_COMPRESSIONS = ("zlib", "gzip", "bz2", "lzma", "xz", "lz4")
# lz4 is not in the standard library: without the package an lz4 joblib file is an error
# entry (never a pass); with it, the file is decompressed and scanned like the others.
HAVE_LZ4 = importlib.util.find_spec("lz4") is not None
LZ4_ERRORS = [] if HAVE_LZ4 else [("joblib_forest_lz4.joblib", "lz4-compressed joblib file: install the lz4 package so mlgate can scan it")]

# file -> [(rule, member)] it must raise, nothing more, nothing less.
EXPECTED: dict[str, list[tuple[str, str | None]]] = {
    # PyTorch zip checkpoints: the one pickle member torch.load unpickles.
    "torch_state_dict.pt": [("MOD003", "torch_state_dict/data.pkl")],
    "pytorch_model.bin": [("MOD003", "pytorch_model/data.pkl")],
    "torch_checkpoint.ckpt": [("MOD003", "torch_checkpoint/data.pkl")],
    # A whole nn.Sequential: torch.nn classes and _rebuild_parameter rebuild data.
    "torch_module.pt": [("MOD003", "torch_module/data.pkl")],
    # Pre-zip torch.save: five pickles back to back, then raw storage bytes.
    "torch_legacy.pt": [("MOD003", None)],
    # torch.jit.save: Python code members that run on load (first code member named).
    "torchscript.pt": [("MOD006", "torchscript/code/__torch__.py")],
    "numpy_plain.npy": [],
    "numpy_object.npy": [("MOD003", None)],
    "numpy_arrays.npz": [],
    "numpy_compressed.npz": [],
    "numpy_object.npz": [("MOD003", "labels.npy")],
    "pandas_frame.pkl": [("MOD003", None)],
    **{f"sklearn_{model}_p{protocol}.pkl": [("MOD003", None)] for model in ("logreg", "forest", "pipeline") for protocol in (4, 5)},
    "joblib_forest_plain.joblib": [("MOD003", None)],
    # Compressed joblib: the findings name the decompressed stream as the member.
    **{f"joblib_forest_{kind}.joblib": [("MOD003", f"<{kind} stream>")] for kind in JOBLIB_COMPRESSIONS},
    **({} if HAVE_LZ4 else {"joblib_forest_lz4.joblib": []}),
    "xgboost_booster.pkl": [("MOD003", None)],
    "xgboost_classifier.pkl": [("MOD003", None)],
    "lightgbm_booster.pkl": [("MOD003", None)],
    "lightgbm_classifier.pkl": [("MOD003", None)],
    "model.safetensors": [],
    "numpy_weights.safetensors": [],
    "tiny.onnx": [],
    "tiny_external.onnx": [],
    "tiny_external.onnx_data": [],
    "h5py_arrays.h5": [],
    "keras_dense.keras": [],
    "keras_dense.h5": [],
    "keras_dense.weights.h5": [],
    # A real Lambda layer: its bytecode is in the config, exactly what MOD007 is for.
    "keras_lambda.keras": [("MOD007", "config.json")],
    "keras_lambda.h5": [("MOD007", None)],
    "tiny_chat.gguf": [],
    "README.md": [],
    "make_fixtures.py": [],
}
# Files that really carry code: their high/critical finding is the point, not a false alarm.
CARRIES_CODE = {"torchscript.pt", "keras_lambda.keras", "keras_lambda.h5"}


@pytest.fixture(scope="module")
def result() -> engine.Result:
    hooks = load_hooks()
    here = Path.cwd()
    os.chdir(FIXTURES)
    try:
        config = load_config(None, hooks, start=FIXTURES)
        config.select = ["models"]
        return engine.scan(["."], hooks, config)
    finally:
        os.chdir(here)


def found(result: engine.Result, name: str) -> list[tuple[str, str | None]]:
    return sorted((f.rule.code, f.member) for f in result.findings if f.path == name)


def test_every_fixture_has_an_expected_verdict():
    assert sorted(path.name for path in FIXTURES.iterdir()) == sorted(EXPECTED)


def test_the_folder_is_scanned_without_errors(result):
    assert [(e.path, e.message) for e in result.errors] == LZ4_ERRORS
    assert result.scanned_files == len(EXPECTED)


def test_no_false_critical_or_high_on_what_the_real_libraries_write(result):
    alarms = [
        (f.rule.code, f.path, f.member, f.message) for f in result.findings if f.severity >= Severity.HIGH and f.path not in CARRIES_CODE
    ]
    assert alarms == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_findings_of_each_file(result, name):
    assert found(result, name) == sorted(EXPECTED[name])


def test_nothing_else_is_reported(result):
    assert sorted(f.path for f in result.findings) == sorted(name for name, hits in EXPECTED.items() for _ in hits)


def test_a_plain_pickle_is_reported_at_its_first_byte(result):
    [finding] = [f for f in result.findings if f.path == "sklearn_logreg_p5.pkl"]
    assert (finding.line, finding.column, finding.offset) == (None, None, 0)
    assert finding.severity == Severity.MEDIUM


def test_an_object_npy_is_reported_where_its_pickle_starts(result):
    data = (FIXTURES / "numpy_object.npy").read_bytes()
    header_length = struct.unpack_from("<H", data, 8)[0]  # format 1.0: magic, version, u16 length
    [finding] = [f for f in result.findings if f.path == "numpy_object.npy"]
    assert data[10 + header_length] == 0x80  # the pickle's PROTO opcode
    assert finding.offset == 10 + header_length


def test_torch_zip_findings_point_into_the_pickle_member(result):
    offsets = {f.path: f.offset for f in result.findings if f.member and f.member.endswith("/data.pkl")}
    assert offsets == {name: 0 for name in ("torch_state_dict.pt", "pytorch_model.bin", "torch_checkpoint.ckpt", "torch_module.pt")}
