"""A realistic directory of model folders for benchmarks/bench_models.py, written byte by byte.

What an ML repository or a downloaded hub snapshot holds, at the sizes real models have:
weights of a few hundred MB next to tokenizer and config files, pickles and joblib files
whose bulk is numpy array bytes, a legacy (pre-zip) torch checkpoint, NumPy arrays, a GGUF,
an ONNX graph with its initializers, the Keras/HDF5 files made by the real libraries
(tests/fixtures/models, small: HDF5 cannot be written without h5py), and ordinary source,
data and image files. Every file is benign. Each format is laid out as its library writes
it (checked once against torch 2.13, numpy 2.4, joblib 1.6 loading these bytes), with the
standard library only; sizes are scaled by `scale` (1.0: about 1.1 GB in all).
"""

from __future__ import annotations

import json
import struct
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from model_specimens import (
    Pickle,
    _filler,
    _numel,
    contiguous_stride,
    field,
    gguf_text,
    onnx_model,
    onnx_tensor,
    state_dict_pickle,
    torch_zip,
    transformer_shapes,
)

MB = 1 << 20
FORMAT_VERSION = "3"  # bump when the layout changes: the folder is rebuilt


def _array_dtype(p: Pickle, descr: str = "f4") -> Pickle:
    """numpy.dtype(descr, False, True) with its BUILD state, as numpy pickles it."""
    p.global_("numpy", "dtype").op(b"(").text(descr).op(b"\x89\x88tR(").int(3).text("<").op(b"NNN").int(-1).int(-1).int(0)
    return p.op(b"tb")


def numpy_pickle(arrays: dict[str, tuple[int, ...]]) -> Iterator[bytes]:
    """pickle.dumps({name: float32 array}) at protocol 4: _reconstruct, then BUILD with the
    array's bytes as one BINBYTES (streamed: the bytes are never all in memory)."""
    p = Pickle(4).op(b"}(")
    for name, shape in arrays.items():
        p.text(name).global_("numpy._core.multiarray", "_reconstruct").op(b"(").global_("numpy", "ndarray").op(b"(").int(0).op(b"tC\x01bt")
        p.op(b"R(").int(1).ints(shape)
        _array_dtype(p).op(b"\x89")
        size = 4 * _numel(shape)
        yield bytes(p.op(b"B" + struct.pack("<I", size)).out)
        p.out.clear()
        yield from _filler(size)
        p.op(b"tb")
    yield p.op(b"u").stop()


def joblib_plain(arrays: dict[str, tuple[int, ...]]) -> Iterator[bytes]:
    """joblib.dump({name: float32 array}) uncompressed: a NumpyArrayWrapper per array, whose
    BUILD is followed by a padding-length byte, the padding (array data starts on a 16-byte
    boundary of the file) and the raw array bytes."""
    p, written = Pickle(4).op(b"}("), 0
    for name, shape in arrays.items():
        p.text(name).global_("joblib.numpy_pickle", "NumpyArrayWrapper").op(b")\x81}(")
        p.text("subclass").global_("numpy", "ndarray").text("shape").ints(shape).text("order").text("C").text("dtype")
        _array_dtype(p).text("allow_mmap").op(b"\x88").text("numpy_array_alignment_bytes").int(16).op(b"ub")
        written += len(p.out) + 1
        padding = -written % 16
        yield bytes(p.out) + bytes([padding]) + b"\xff" * padding
        written += padding + 4 * _numel(shape)
        p.out.clear()
        yield from _filler(4 * _numel(shape))
    yield bytes(p.op(b"u").out + b".")


def legacy_torch(tensors: list[tuple[str, tuple[int, ...]]]) -> Iterator[bytes]:
    """torch.save(state_dict, f, _use_new_zipfile_serialization=False): magic number, protocol
    version, sys info, the state dict with persistent storage ids, the storage keys, then
    each storage as an 8-byte element count and its bytes."""
    yield Pickle(2).op(b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")).stop()
    yield Pickle(2).op(b"M\xe9\x03").stop()
    info = Pickle(2).op(b"}(").text("protocol_version").op(b"M\xe9\x03").text("little_endian").op(b"\x88").text("type_sizes").op(b"}(")
    for name, size in (("short", 2), ("int", 4), ("long", 4)):
        info.text(name).int(size)
    yield info.op(b"uu").stop()
    model = Pickle(2).global_("collections", "OrderedDict").op(b")R(")
    for index, (name, shape) in enumerate(tensors):
        model.text(name).global_("torch._utils", "_rebuild_tensor_v2").op(b"(")
        model.op(b"(").text("storage").global_("torch", "FloatStorage").text(str(index)).text("cpu").int(_numel(shape)).op(b"NtQ")
        model.int(0).ints(shape).ints(contiguous_stride(shape)).op(b"\x89").global_("collections", "OrderedDict").op(b")RtR")
    yield model.op(b"u").stop()
    keys = Pickle(2).op(b"](")
    for index in range(len(tensors)):
        keys.text(str(index))
    yield keys.op(b"e").stop()
    for _, shape in tensors:
        yield struct.pack("<q", _numel(shape))
        yield from _filler(4 * _numel(shape))


def safetensors(tensors: list[tuple[str, tuple[int, ...]]]) -> Iterator[bytes]:
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in tensors:
        size = 4 * _numel(shape)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    yield struct.pack("<Q", len(text)) + text
    for _name, shape in tensors:
        yield from _filler(4 * _numel(shape))


def npy(shape: tuple[int, ...]) -> Iterator[bytes]:
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}"
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    yield b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
    yield from _filler(4 * _numel(shape))


def gguf_model(tensors: list[tuple[str, tuple[int, ...]]], template: str) -> Iterator[bytes]:
    """GGUF v3: metadata (with a benign chat template), tensor infos (F32), 32-byte aligned data."""
    metadata = {"general.architecture": "llama", "general.name": "bench", "tokenizer.chat_template": template}
    body = b"".join(gguf_text(key) + struct.pack("<I", 8) + gguf_text(value) for key, value in metadata.items())
    infos, offset = b"", 0
    for name, shape in tensors:
        infos += gguf_text(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", size) for size in shape)
        infos += struct.pack("<IQ", 0, offset)
        offset += -(-4 * _numel(shape) // 32) * 32
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata)) + body + infos
    yield head + b"\0" * (-len(head) % 32)
    for _, shape in tensors:
        size = 4 * _numel(shape)
        yield from _filler(size)
        yield b"\0" * (-size % 32)


def onnx_graph_model(tensors: list[tuple[str, tuple[int, ...]]]) -> bytes:
    """ModelProto with a MatMul graph whose initializers carry their raw_data inline."""
    graph = b"".join(field(5, onnx_tensor(name, shape, raw=b"".join(_filler(4 * _numel(shape))))) for name, shape in tensors)
    node = field(1, b"x") + field(1, tensors[0][0].encode()) + field(2, b"y") + field(4, b"MatMul")
    return onnx_model(graph + field(1, node) + field(2, b"main") + field(11, field(1, b"x")) + field(12, field(1, b"y")))


def npz(arrays: dict[str, tuple[int, ...]], path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, shape in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                for chunk in npy(shape):
                    member.write(chunk)


def _write(path: Path, content: bytes | Iterator[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for chunk in [content] if isinstance(content, bytes) else content:
            out.write(chunk)


def _text_files(scale: float) -> dict[str, Callable[[], bytes]]:
    """Tokenizer, config, source, data and image files of the size real ones have (made on
    demand: listing the names must not build megabytes in the benchmark's own process)."""
    words = lambda: [f"tok{index}" for index in range(int(30000 * scale) + 100)]  # noqa: E731
    rows = lambda: "".join(f"{index},{index * 0.37 % 1:.6f},{index % 7},label{index % 3}\n" for index in range(int(200000 * scale)))  # noqa: E731
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "source": ["import torch\n", "model = torch.load('model.pt', weights_only=True)\n"],
                "metadata": {},
                "outputs": [],
                "execution_count": 1,
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return {
        "bert-base/config.json": lambda: json.dumps({"architectures": ["BertModel"], "hidden_size": 768, "num_hidden_layers": 12}).encode(),
        "bert-base/tokenizer.json": lambda: json.dumps(
            {"version": "1.0", "model": {"type": "WordPiece", "vocab": {w: i for i, w in enumerate(words())}}}
        ).encode(),
        "bert-base/tokenizer_config.json": lambda: json.dumps({"do_lower_case": True, "model_max_length": 512}).encode(),
        "bert-base/vocab.txt": lambda: "\n".join(words()).encode(),
        "bert-base/special_tokens_map.json": lambda: json.dumps({"cls_token": "[CLS]", "sep_token": "[SEP]"}).encode(),
        "bert-base/README.md": lambda: b"---\nlicense: apache-2.0\n---\n# bert-base\n\nWeights in safetensors and PyTorch formats.\n",
        "llama-gguf/README.md": lambda: b"# A quantized chat model\n",
        "src/train.py": lambda: (
            b"import torch\n\n\ndef main():\n    model = torch.nn.Linear(768, 2)\n    torch.save(model.state_dict(), 'model.pt')\n" * 20
        ),
        "src/utils.py": lambda: b"from pathlib import Path\n\n\ndef load(path: Path) -> bytes:\n    return path.read_bytes()\n" * 40,
        "src/explore.ipynb": lambda: json.dumps(notebook).encode(),
        "requirements.txt": lambda: b"torch==2.13.0\nnumpy==2.4.6\nscikit-learn==1.9.1\ntransformers==4.60.0\n",
        "data/train.csv": lambda: b"id,score,bucket,label\n" + rows().encode(),
        "docs/figure.png": lambda: b"\x89PNG\r\n\x1a\n" + b"".join(_filler(int(200_000 * scale))),
        ".gitattributes": lambda: b"*.bin filter=lfs diff=lfs merge=lfs -text\n*.safetensors filter=lfs diff=lfs merge=lfs -text\n",
    }


# Committed files the real libraries wrote, for the formats that cannot be written here.
FROM_FIXTURES = {
    "keras/keras_dense.h5": "keras_dense.h5",
    "keras/keras_dense.keras": "keras_dense.keras",
    "keras/weights.weights.h5": "keras_dense.weights.h5",
    "sklearn/pipeline.pkl": "sklearn_pipeline_p5.pkl",
    "sklearn/forest.joblib": "joblib_forest_zlib.joblib",
    "sklearn/xgboost.pkl": "xgboost_classifier.pkl",
    "sklearn/lightgbm.pkl": "lightgbm_classifier.pkl",
    "torchscript/model.pt": "torchscript.pt",
}


def _model_writers(folder: Path, scale: float) -> dict[str, Callable[[Path], None]]:
    """Relative path -> writer of each generated model file."""
    width = max(64, int(768 * scale**0.5) // 64 * 64)
    bert = transformer_shapes(int(256 * MB * scale), width=width)
    rows = lambda count: max(1, int(count * scale))  # noqa: E731
    chat = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"

    def streamed(make: Callable[[], bytes | Iterator[bytes]]) -> Callable[[Path], None]:
        return lambda path: _write(path, make())

    return {
        "bert-base/pytorch_model.bin": lambda path: torch_zip(
            path,
            iter(
                [
                    ("pytorch_model/data.pkl", state_dict_pickle(bert)),
                    ("pytorch_model/byteorder", b"little"),
                    *((f"pytorch_model/data/{index}", _filler(4 * _numel(shape))) for index, (_, shape) in enumerate(bert)),
                    ("pytorch_model/version", b"3\n"),
                ]
            ),
        ),
        "bert-base/model.safetensors": streamed(lambda: safetensors(bert)),
        "llama-gguf/model-f32.gguf": streamed(lambda: gguf_model(transformer_shapes(int(192 * MB * scale), width=width), chat)),
        "sklearn/embeddings.pkl": streamed(lambda: numpy_pickle({"words": (rows(8192), 1024), "docs": (rows(4096), 1024)})),
        "sklearn/classifier.joblib": streamed(
            lambda: joblib_plain({"coef": (rows(8192), 1024), "intercept": (1024,), "centers": (rows(4096), 1024)})
        ),
        "legacy/resnet_legacy.pt": streamed(lambda: legacy_torch(transformer_shapes(int(96 * MB * scale), width=width))),
        "numpy/features.npy": streamed(lambda: npy((rows(16384), 1024))),
        "numpy/arrays.npz": lambda path: npz({"train": (rows(4096), 1024), "test": (rows(2048), 1024), "labels": (rows(4096),)}, path),
        "onnx/model.onnx": streamed(lambda: onnx_graph_model([(f"w{index}", (rows(1024), 1024)) for index in range(8)])),
    }


def realistic_groups(scale: float = 1.0) -> dict[str, list[str]]:
    """The file names by group: 'benign' model files, 'code' (TorchScript: runs code by
    design), 'other' files that are not models."""
    benign = [*_model_writers(Path("."), scale), *(name for name in FROM_FIXTURES if name != "torchscript/model.pt")]
    return {"benign": benign, "code": ["torchscript/model.pt"], "other": list(_text_files(scale))}


def write_realistic(folder: Path, fixtures: Path, scale: float = 1.0) -> None:
    """Writes the folders under `folder`, unless they are there already at this scale and layout."""
    marker = folder.with_name(folder.name + ".layout")  # beside the folder: not a file the tools scan
    stamp = f"{FORMAT_VERSION} {scale}"
    if folder.is_dir() and marker.exists() and marker.read_text() == stamp:
        return
    for path, write in _model_writers(folder, scale).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        write(folder / path)
    for path, source in FROM_FIXTURES.items():
        _write(folder / path, (fixtures / source).read_bytes())
    for path, make in _text_files(scale).items():
        _write(folder / path, make())
    marker.write_text(stamp)


if __name__ == "__main__":
    # bench_models.py writes the folder in a process of its own: the peak RSS of a tool it times
    # would otherwise include the benchmark's own memory at the fork.
    write_realistic(Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]))
