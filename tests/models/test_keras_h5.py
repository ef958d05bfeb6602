"""Keras: `.keras` zips (config.json) and `.h5` files (model_config), with and without h5py."""

from __future__ import annotations

import json
import sys

import pytest
from zipgen import Entry, build

from mlgate.models import keras

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
LAMBDA_3 = {"class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAA", "defaults": None, "closure": None}}


def layer(class_name: str, config: dict, module: str = "keras.layers", registered: str | None = None) -> dict:
    return {"module": module, "class_name": class_name, "config": config, "registered_name": registered}


def keras3(*layers: dict) -> str:
    return json.dumps(layer("Sequential", {"name": "sequential", "layers": list(layers)}, module="keras"))


def keras_zip(config: str) -> bytes:
    return build(
        [
            Entry("metadata.json", b'{"keras_version": "3.4.1"}'),
            Entry("config.json", config.encode()),
            Entry("model.weights.h5", HDF5_MAGIC + b"\0" * 64),
        ]
    ).data


DENSE = layer("Dense", {"name": "dense", "units": 4, "activation": "relu"})


def test_keras3_lambda_layer(scan_tree):
    config = keras3(DENSE, layer("Lambda", {"name": "scale", "function": LAMBDA_3}))
    scan = scan_tree({"model.keras": keras_zip(config)}, select="models")
    assert [(f.rule.code, f.path, f.member, f.offset) for f in scan.findings] == [
        ("MOD007", "model.keras", "config.json", config.index('{"class_name": "__lambda__"')),
    ]
    assert scan.messages("MOD007") == [
        "Lambda layer 'scale' carries a serialized Python lambda (bytecode) that runs when the model is loaded"
    ]


def test_lambda_outside_a_layer(scan_tree):
    config = keras3(layer("Dense", {"name": "dense", "units": 4, "activation": LAMBDA_3}))
    scan = scan_tree({"model.keras": keras_zip(config)}, select="models")
    assert [(f.rule.code, f.offset) for f in scan.findings] == [("MOD007", config.index('{"class_name": "__lambda__"'))]
    assert scan.messages("MOD007") == ["the model config carries a serialized Python lambda (bytecode) that runs when the model is loaded"]


def test_benign_keras_configs(scan_tree):
    hub = layer(
        "GemmaBackbone", {"name": "gemma"}, module="keras_hub.src.models.gemma.gemma_backbone", registered="keras_hub>GemmaBackbone"
    )
    named = layer("Lambda", {"name": "l", "function": "my_fn", "function_type": "function"})
    scan = scan_tree(
        {
            "a.keras": keras_zip(keras3(DENSE, hub)),
            "b.keras": keras_zip(keras3(named)),
            "c.zip": build([Entry("config.json", b'{"model_type": "bert"}')]).data,
        },
        select="models",
    )
    assert (scan.findings, scan.errors) == ([], [])


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (
            {"module": "builtins", "class_name": "function", "config": "exec", "registered_name": "function"},
            "config loads 'function' from module 'builtins', outside Keras: loading imports and runs it",
        ),
        (
            {"class_name": "MyLayer", "config": {}, "registered_name": "Custom>MyLayer"},
            "config needs the custom object 'Custom>MyLayer': code from outside Keras runs when it is rebuilt",
        ),
        (
            {"module": "keras.utils", "class_name": "function", "config": "get_file", "registered_name": "function"},
            "config calls Keras' keras.utils.get_file while loading: it fetches files or turns safe mode off",
        ),
    ],
)
def test_custom_objects(scan_tree, obj, message):
    config = keras3(
        DENSE, layer("Activation", {"name": "act", "activation": obj}), layer("Activation", {"name": "again", "activation": obj})
    )
    scan = scan_tree({"model.keras": keras_zip(config)}, select="models")
    first = config.index(json.dumps(obj))
    assert [(f.rule.code, f.member, f.offset) for f in scan.findings] == [("MOD008", "config.json", first)]
    assert scan.messages("MOD008") == [message]


def test_keras_preset_folder_config(scan_tree):
    config = keras3(layer("Lambda", {"name": "scale", "function": LAMBDA_3}))
    transformers = json.dumps({"architectures": ["BertModel"], "model_type": "bert", "module": "x", "class_name": "y"})
    scan = scan_tree({"preset/config.json": config, "bert/config.json": transformers, "other/settings.json": config}, select="models")
    assert [(f.rule.code, f.path, f.member, f.offset) for f in scan.findings] == [
        ("MOD007", "preset/config.json", None, config.index('{"class_name": "__lambda__"')),
    ]


KERAS2_LAMBDA = {
    "class_name": "Lambda",
    "config": {"name": "lambda_1", "function": ["4wEAAAAAAAAA", None, None], "function_type": "lambda", "module": "__main__"},
}
KERAS2 = json.dumps(
    {
        "class_name": "Sequential",
        "config": {"name": "sequential", "layers": [{"class_name": "Dense", "config": {"units": 2}}, KERAS2_LAMBDA]},
    }
)


def fake_h5(config: str, *, userblock: int = 0) -> tuple[bytes, int]:
    """HDF5 signature, filler, then the attribute the way HDF5 stores it: contiguously."""
    head = b"\0" * userblock + HDF5_MAGIC + b"\0" * 200 + b"model_config\0\0\0\0"
    return head + config.encode() + b"\0" * 100 + b"model_weights", len(head)


@pytest.fixture
def no_h5py(monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)


def test_h5_lambda_found_in_the_raw_bytes(scan_tree, no_h5py):
    data, at = fake_h5(KERAS2)
    other, other_at = fake_h5(KERAS2, userblock=512)
    scan = scan_tree({"model.h5": data, "weights": other}, select="models")
    lambda_at = KERAS2.index('{"class_name": "Lambda"')
    assert [(f.rule.code, f.path, f.member, f.offset) for f in scan.findings] == [
        ("MOD007", "model.h5", None, at + lambda_at),
        ("MOD007", "weights", None, other_at + lambda_at),
    ]
    assert scan.messages("MOD007")[0] == "Lambda layer 'lambda_1' carries serialized Python bytecode that runs when the model is loaded"


def test_h5_without_lambda_or_keras(scan_tree, no_h5py):
    clean = KERAS2.replace('"Lambda"', '"Dropout"')
    scan = scan_tree({"model.h5": fake_h5(clean)[0], "data.h5": HDF5_MAGIC + b"\0" * 300 + b"dataset"}, select="models")
    assert (scan.findings, scan.errors) == ([], [])


def test_h5_keras_model_without_a_readable_config_is_an_error(scan_tree, no_h5py):
    data = HDF5_MAGIC + b"\0" * 100 + b"model_config\0" + b"\x17compressed?" * 10
    scan = scan_tree({"model.h5": data}, select="models")
    assert scan.findings == []
    assert scan.errors == [
        (
            "model.h5",
            "Keras HDF5 model whose model_config could not be found in the raw bytes: install h5py so mlgate can read it and check it for Lambda layers",
        )
    ]


def test_h5_read_with_h5py_when_the_raw_search_finds_nothing(scan_tree, tmp_path, monkeypatch):
    h5py = pytest.importorskip("h5py")
    monkeypatch.setattr(keras, "scan_embedded", lambda data, where: ([], False))
    with h5py.File(tmp_path / "model.h5", "w") as handle:
        handle.attrs["keras_version"] = "2.15.0"
        handle.attrs["model_config"] = KERAS2
        handle.create_dataset("model_weights/dense/kernel", data=[1.0, 2.0])
    with h5py.File(tmp_path / "data.h5", "w") as handle:
        handle.create_dataset("x", data=[1, 2, 3])
    data = (tmp_path / "model.h5").read_bytes()
    scan = scan_tree({}, select="models")
    assert [(f.rule.code, f.path, f.offset) for f in scan.findings] == [
        ("MOD007", "model.h5", data.find(KERAS2.encode()) + KERAS2.index('{"class_name": "Lambda"')),
    ]
    assert scan.errors == []
