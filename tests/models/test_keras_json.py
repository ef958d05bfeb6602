"""Keras configs decoded as Keras decodes them (Python's json: escapes, BOMs, UTF-16/32), wherever
they are (a .keras zip behind other bytes, an HDF5 attribute, weights .npz inside a .keras), Lambda
layers in every form that carries code, and a search of binaries whose work is linear, counted.
The oracle: json.loads decides what a config says; mlgate must read the same."""

from __future__ import annotations

import codecs
import json
import os
import struct
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from picklegen import system_call
from test_keras_h5 import HDF5_MAGIC, KERAS2, LAMBDA_3, fake_h5, keras3, keras_zip, layer
from test_numpy_headers import data_start, npy
from zipgen import Entry, build

from mlgate.models import hdf5, keras
from mlgate.models.formats import Malformed
from mlgate.models.where import Where

EXAMPLES = int(os.environ.get("MLGATE_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=EXAMPLES <= 300)
LAMBDA_CONFIG = keras3(layer("Dense", {"name": "dense", "units": 4}), layer("Lambda", {"name": "scale", "function": LAMBDA_3}))
LAMBDA_MESSAGE = "Lambda layer 'scale' carries a serialized Python lambda (bytecode) that runs when the model is loaded"


@pytest.fixture(autouse=True)
def no_h5py(monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)


def escape_keys(text: str, keys=("class_name", "config", "module", "registered_name", "function", "function_type")) -> str:
    """Every listed key written with \\u escapes, which json decodes to the same key."""
    for key in keys:
        text = text.replace(
            f'"{key}"', '"' + "".join(f"\\u{ord(char):04x}" if index % 2 == 0 else char for index, char in enumerate(key)) + '"'
        )
    return text


def lambda_hits(found) -> list[tuple[str, int | None]]:
    return [(f.rule.code, f.offset) for f in found]


ENCODINGS = [
    pytest.param(lambda text: text.encode("utf-8"), "utf-8", 0, id="utf-8"),
    pytest.param(lambda text: codecs.BOM_UTF8 + text.encode("utf-8"), "utf-8", 3, id="utf-8 with BOM"),
    pytest.param(lambda text: text.encode("utf-16"), "utf-16-le", 2, id="utf-16 with BOM"),
    pytest.param(lambda text: text.encode("utf-16-be"), "utf-16-be", 0, id="utf-16-be"),
    pytest.param(lambda text: text.encode("utf-16-le"), "utf-16-le", 0, id="utf-16-le"),
    pytest.param(lambda text: text.encode("utf-32"), "utf-32-le", 4, id="utf-32 with BOM"),
    pytest.param(lambda text: text.encode("utf-32-be"), "utf-32-be", 0, id="utf-32-be"),
]


@pytest.mark.parametrize(("encode", "codec", "bom"), ENCODINGS)
@pytest.mark.parametrize("escaped", [False, True], ids=["plain keys", "escaped keys"])
def test_config_json_in_every_encoding_json_loads_accepts(scan_tree, encode, codec, bom, escaped):
    text = escape_keys(LAMBDA_CONFIG) if escaped else LAMBDA_CONFIG
    data = encode(text)
    assert json.loads(data) == json.loads(LAMBDA_CONFIG)  # what Keras reads
    scan = scan_tree({"model.keras": keras_zip_bytes(data)}, select="models")
    at = _object_start(text)
    assert [(f.rule.code, f.member, f.offset) for f in scan.findings] == [("MOD007", "config.json", bom + len(text[:at].encode(codec)))]
    assert scan.messages("MOD007") == [LAMBDA_MESSAGE]


def _object_start(text: str, class_name: str = "__lambda__") -> int:
    """Character offset of the `{` of the object with this class_name, found by decoding (the reference)."""
    decoder = json.JSONDecoder()
    for index, char in enumerate(text):
        if char == "{":
            try:
                value, _ = decoder.raw_decode(text, index)
            except ValueError:
                continue
            if isinstance(value, dict) and value.get("class_name") == class_name:
                return index
    raise AssertionError(f"no {class_name} object")


def keras_zip_bytes(config: bytes) -> bytes:
    return build([Entry("metadata.json", b'{"keras_version": "3.4.1"}'), Entry("config.json", config)]).data


def test_json_keras_refuses_is_not_judged(scan_tree):
    """Text after the value, or a second BOM (one is skipped), makes json.loads (and Keras) fail: nothing is built."""
    for data in [LAMBDA_CONFIG.encode() + b" trailing", ("\ufeff\ufeff" + LAMBDA_CONFIG).encode("utf-8")]:
        with pytest.raises(ValueError):
            json.loads(data)
        assert keras.scan_config(data, Where("config.json")) == []


@pytest.mark.parametrize(
    "prefix",
    [HDF5_MAGIC + b"\0" * 100, b"\x93NUMPY\x01\x00\x10\x00{}", b"GGUF\x03\x00\x00\x00" + b"\0" * 40, b"\x80\x04N.", b"plain text\n"],
    ids=["hdf5", "npy", "gguf", "pickle", "text"],
)
def test_a_keras_zip_behind_other_bytes(scan_tree, prefix):
    """zipfile (and so keras.models.load_model) finds the archive from its end, whatever precedes it."""
    archive = keras_zip(LAMBDA_CONFIG)
    scan = scan_tree({"model.keras": prefix + archive}, select="models")
    found = [(f.rule.code, f.member, f.offset) for f in scan.findings if f.rule.code in ("MOD005", "MOD007")]
    assert found == [("MOD005", None, 0), ("MOD007", "config.json", _object_start(LAMBDA_CONFIG))]


def test_weights_npz_inside_a_keras_zip_with_an_object_array(scan_tree):
    """Keras 3's NpzIOStore loads model.weights.npz with allow_pickle=True."""
    malicious, at = system_call()
    member = npy("(2,)O", malicious)
    weights = build([Entry("vars/0.npy", npy("<f4", b"\0" * 8)), Entry("vars/1.npy", member)]).data
    archive = build([Entry("config.json", keras3(layer("Dense", {"name": "d"})).encode()), Entry("model.weights.npz", weights)]).data
    scan = scan_tree({"model.keras": archive}, select="models")
    assert [(f.rule.code, f.member, f.offset) for f in scan.findings] == [
        ("MOD001", "model.weights.npz!vars/1.npy", data_start(member) + at)
    ]


# -- Lambda layers ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"name": "l", "function": ["4wEAAAAAAAAA", None, None], "function_type": "lambda"},
            "Lambda layer 'l' carries serialized Python bytecode that runs when the model is loaded",
        ),
        (
            {"name": "l", "function": "4wEAAAAAAAAA", "function_type": "lambda"},
            "Lambda layer 'l' carries serialized Python bytecode that runs when the model is loaded",
        ),
        (
            {"name": "l", "function": ["4wEAAAAAAAAA", None, None]},
            "Lambda layer 'l' carries serialized Python bytecode that runs when the model is loaded",
        ),
        (
            {"name": "l", "function": "f", "function_type": "function", "output_shape": "4wEAAAAA", "output_shape_type": "lambda"},
            "Lambda layer 'l' carries serialized Python bytecode as its output_shape that runs when the model is loaded",
        ),
        (
            {"name": "l", "function": "f", "function_type": "function", "mask": "4wEAAAAA", "mask_type": "lambda"},
            "Lambda layer 'l' carries serialized Python bytecode as its mask that runs when the model is loaded",
        ),
        (
            {"name": "l", "function": "lambda x: eval('print(1)')"},
            "Lambda layer 'l' carries Python source text in place of a function name: code for whatever compiles it on load",
        ),
        (
            {"name": "l", "function": "lambda x: __import__('os').system('id')", "function_type": "function"},
            "Lambda layer 'l' carries Python source text in place of a function name: code for whatever compiles it on load",
        ),
    ],
    ids=["keras2 list", "keras2 base64 string", "list without type", "output_shape", "mask", "source text", "source text typed function"],
)
def test_lambda_layers_carrying_code(config, message):
    text = json.dumps({"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "Lambda", "config": config}]}})
    data, at = fake_h5(text)
    found = hdf5.scan(data, Where("model.h5"))
    assert [(f.rule.code, f.offset, f.message) for f in found] == [("MOD007", at + text.index('{"class_name": "Lambda"'), message)]


@pytest.mark.parametrize("function", ["my_fn", "pkg.module.fn", "tf.math.square"])
def test_lambda_layers_naming_a_function_carry_no_code(function):
    text = json.dumps(
        {
            "class_name": "Sequential",
            "config": {
                "layers": [
                    {
                        "class_name": "Lambda",
                        "config": {
                            "name": "l",
                            "function": function,
                            "function_type": "function",
                            "output_shape": [None, 4],
                            "output_shape_type": "raw",
                        },
                    }
                ]
            },
        }
    )
    assert hdf5.scan(fake_h5(text)[0], Where("model.h5")) == []


def test_the_modelaudit_style_source_lambda_in_an_h5():
    """A Lambda whose function is `lambda x: eval(...)` source text, in a Keras 2 .h5 layout."""
    source = {"class_name": "Lambda", "config": {"function": "lambda x: eval('print(\"security test\")')"}}
    text = json.dumps({"class_name": "Sequential", "config": {"name": "malicious_model", "layers": [source]}})
    data, at = fake_h5(text)
    assert [(f.rule.code, f.offset) for f in hdf5.scan(data, Where("model.h5"))] == [("MOD007", at + _object_start(text, "Lambda"))]


def test_h5_model_config_with_escaped_keys_and_keys_in_any_order():
    text = escape_keys(
        json.dumps(
            {
                "config": {
                    "layers": [
                        {"config": {"name": "l", "function": ["4wE", None, None], "function_type": "lambda"}, "class_name": "Lambda"}
                    ]
                },
                "class_name": "Sequential",
            }
        )
    )
    data, at = fake_h5(text)
    found = hdf5.scan(data, Where("model.h5"))
    assert [(f.rule.code, f.offset) for f in found] == [("MOD007", at + _object_start(text, "Lambda"))]


def test_h5_config_with_undecodable_bytes_keeps_byte_offsets():
    """h5py hands Keras undecodable bytes as surrogate escapes: the offsets after them stay exact."""
    text = KERAS2.replace('"name": "sequential"', '"name": "s\udcff\udcfe"')
    raw = text.encode("utf-8", "surrogateescape")
    data = HDF5_MAGIC + b"\0" * 50 + raw + b"\0"
    found = hdf5.scan(data, Where("model.h5"))
    assert [(f.rule.code, f.offset) for f in found] == [("MOD007", 58 + raw.index(b'{"class_name": "Lambda"'))]


# -- the search's work ---------------------------------------------------------------------
class Work:
    def __init__(self, monkeypatch):
        self.attempts = 0
        self.characters = 0
        original = keras._Search._decode_at

        def counted(search, text, start, offset):
            self.attempts += 1
            before = search.work
            try:
                return original(search, text, start, offset)
            finally:
                self.characters += search.work - before

        monkeypatch.setattr(keras._Search, "_decode_at", counted)


@pytest.mark.parametrize(
    ("filler", "bounded"),
    [
        (b'{"class_name": 1 ' * 70_000, False),  # undecodable candidates: each fails at once
        (b'{"class_name": ' * 70_000, "nested too deeply"),  # json itself gives up (as Keras' json.loads would)
        (b'{"a":1,' * 150_000, False),
        (b'{"a":1} ' * 125_000, False),  # many small objects, each decoded once
        (b'{"a":"' + b'{\\"' * 250_000, False),  # a string full of braces: one candidate
        (b'{"a":' * 900 + b'"' + b"x" * (1 << 20), "costs more than it should"),  # nested, unclosed: every candidate runs to the end
        (b'{"' * (1 << 19), "costs more than it should"),
    ],
    ids=["class_name", "nested class_name", "keys", "objects", "escaped quotes", "nested unclosed", "brace-quote"],
)
def test_search_work_is_linear_in_the_file(monkeypatch, filler, bounded):
    """1 MB with an HDF5 signature (the bound is per byte, so a larger file shows nothing more:
    the work is counted, not timed): decoded characters stay within WORK_PER_BYTE x the text
    searched; inputs that would cost more stop at the bound with a MOD004-worthy error, never a hang."""
    work = Work(monkeypatch)
    data = HDF5_MAGIC + filler
    bound = keras.WORK_PER_BYTE * len(data) + keras.WORK_FREE
    if bounded:
        with pytest.raises(Malformed, match=bounded):
            hdf5.scan(data, Where("model.h5"))
    else:
        assert hdf5.scan(data, Where("model.h5")) == []
    assert work.characters <= bound + 4 * len(data)  # the last attempt may overshoot by its own window


def test_a_real_config_is_decoded_once_whatever_its_size(monkeypatch):
    work = Work(monkeypatch)
    layers = [layer("Dense", {"name": f"d{index}", "units": 4}) for index in range(5_000)] + [
        layer("Lambda", {"name": "scale", "function": LAMBDA_3})
    ]
    text = keras3(*layers)
    data, at = fake_h5(text)
    found = hdf5.scan(data, Where("model.h5"))
    assert [(f.rule.code, f.offset) for f in found] == [("MOD007", at + _object_start(text))]
    assert work.attempts <= 12  # the window grows 4x at a time until it holds the config
    assert work.characters <= 2 * len(text) + keras._CANDIDATE_COST * work.attempts


# -- the oracle: json.loads ------------------------------------------------------------------
_KEYS = ["class_name", "config", "module", "registered_name", "name", "layers", "function", "function_type", "x"]
_CLASSES = ["Lambda", "__lambda__", "Dense", "Sequential", "function"]
_LEAVES = st.one_of(
    st.none(),
    st.integers(-3, 3),
    st.sampled_from(_CLASSES + ["keras.layers", "os", "my>Thing", "lambda", "lambda x: x", "f", "get_file", "\u00e9\u4e2d\U0001f600"]),
)
_VALUES = st.recursive(
    _LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=5)), max_leaves=20
)


def reference_lambdas(value: object) -> int:
    """How many objects json.loads yields that Keras would run as code (the reference judge)."""
    if isinstance(value, list):
        return sum(reference_lambdas(item) for item in value)
    if not isinstance(value, dict):
        return 0
    own = value.get("class_name") == "__lambda__" or (
        value.get("class_name") == "Lambda"
        and isinstance(value.get("config"), dict)
        and keras._lambda_code(value["config"], "x") is not None
    )
    return own + sum(reference_lambdas(item) for item in value.values())


def write(value: object, escape: bool, ascii_only: bool, indent: int | None) -> str:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    return escape_keys(text, tuple(_KEYS)) if escape else text


@FUZZ
@given(
    st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=5).map(
        lambda extra: {"class_name": "Sequential", "config": {"layers": []}, **extra}
    ),
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, 1]),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32-le"]),
)
def test_configs_read_as_json_loads_reads_them(value, escape, ascii_only, indent, encoding):
    text = write(value, escape, ascii_only, indent)
    data = text.encode(encoding)
    reference = json.loads(data)
    assert reference == value
    found = keras.scan_config(data, Where("config.json"))
    assert len([f for f in found if f.rule.code == "MOD007"]) == reference_lambdas(reference)
    if encoding == "utf-8":  # the same text stored in an HDF5 attribute: the same findings
        h5 = HDF5_MAGIC + b"\0" * 8 + struct.pack("<Q", len(data)) + data + b"\0" * 8
        embedded = hdf5.scan(h5, Where("model.h5"))
        assert [(f.rule.code, f.message, f.offset) for f in embedded] == [(f.rule.code, f.message, f.offset + 24) for f in found]
        for finding in found:
            assert data[finding.offset : finding.offset + 1] == b"{"
