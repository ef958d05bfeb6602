"""Model files for benchmarks/bench_models.py, written byte by byte: nothing is ever loaded.

- `write_torch_zip(path, total_bytes)`: a benign PyTorch checkpoint as `torch.save` lays it out
  (`archive/data.pkl` rebuilding an OrderedDict of tensors with `_rebuild_tensor_v2` and
  persistent ids, then one stored, 64-byte-aligned `archive/data/N` member per tensor), built with
  the standard zipfile module, so no torch is needed.
- `MALICIOUS`: one file per attack class a model scanner must catch (a command is written in
  each, never run), from the classic `os.system` REDUCE to the scanner bypasses published in
  2024-2025 (renamed or tampered zip members, broken streams, unusual extensions).
- `BENIGN_OTHER`: files that are not models, which a scanner walking a repository also meets.

Only the standard library is used (and the writers the tests share: tests/models/protowire.py
for protobuf fields, tests/models/targen.py for tar archives).
"""

from __future__ import annotations

import json
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "models"))
from protowire import field, number  # noqa: E402
from targen import tar_archive  # noqa: E402

ALIGNMENT = 64  # torch.save aligns tensor data to 64 bytes with a padding extra field ("FB")
CHUNK = 1 << 20
COMMAND = "echo mlgate-benchmark"  # what the payloads would run; nothing here runs it

# --- pickle opcodes ------------------------------------------------------------------------------


class Pickle:
    """A pickle written opcode by opcode, with a memo for globals as CPython's pickler keeps it."""

    def __init__(self, protocol: int = 2):
        self.out = bytearray(b"\x80" + bytes([protocol])) if protocol >= 2 else bytearray()
        self.memo: dict[str, int] = {}

    def op(self, code: bytes) -> Pickle:
        self.out += code
        return self

    def text(self, value: str) -> Pickle:
        data = value.encode()
        return self.op(b"X" + struct.pack("<I", len(data)) + data)

    def int(self, value: int) -> Pickle:
        return self.op(b"J" + struct.pack("<i", value))

    def put(self) -> int:
        index = len(self.memo)
        self.op(b"q" + bytes([index]) if index < 256 else b"r" + struct.pack("<I", index))
        return index

    def get(self, index: int) -> Pickle:
        return self.op(b"h" + bytes([index]) if index < 256 else b"j" + struct.pack("<I", index))

    def global_(self, module: str, name: str) -> Pickle:
        key = f"{module}\n{name}\n"
        if key in self.memo:
            return self.get(self.memo[key])
        self.op(b"c" + key.encode())
        self.memo[key] = self.put()
        return self

    def ints(self, values: tuple[int, ...]) -> Pickle:
        self.op(b"(")
        for value in values:
            self.int(value)
        return self.op(b"t")

    def call(self, module: str, name: str, *args: str) -> Pickle:
        """module.name(*args) via REDUCE."""
        self.global_(module, name).op(b"(")
        for arg in args:
            self.text(arg)
        return self.op(b"tR")

    def stop(self) -> bytes:
        return bytes(self.out + b".")


def call_pickle(module: str, name: str, *args: str, protocol: int = 2) -> bytes:
    return Pickle(protocol).call(module, name, *args).stop()


def state_dict_pickle(tensors: list[tuple[str, tuple[int, ...]]], payload: Callable[[Pickle], None] | None = None) -> bytes:
    """The data.pkl torch.save writes for an OrderedDict of float32 tensors (storage key = index)."""
    p = Pickle(2).global_("collections", "OrderedDict").op(b")R")
    if payload is not None:
        payload(p)
        p.op(b"0")  # POP: the payload's result is dropped, the state dict loads as usual
    p.op(b"(")
    for index, (name, shape) in enumerate(tensors):
        p.text(name).global_("torch._utils", "_rebuild_tensor_v2").op(b"(")
        p.op(b"(").text("storage").global_("torch", "FloatStorage").text(str(index)).text("cpu").int(_numel(shape)).op(b"tQ")
        p.int(0).ints(shape).ints(contiguous_stride(shape)).op(b"\x89").global_("collections", "OrderedDict").op(b")RtR")
    return p.op(b"u").stop()


def contiguous_stride(shape: tuple[int, ...]) -> tuple[int, ...]:
    stride, step = [], 1
    for size in reversed(shape):
        stride.append(step)
        step *= size
    return tuple(reversed(stride))


# --- zip archives ----------------------------------------------------------------------------------


def _aligned(zf: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    """A stored entry whose data starts on an ALIGNMENT boundary, as torch's writer does."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    header_end = zf.fp.tell() + 30 + len(name.encode()) + 4
    pad = -header_end % ALIGNMENT
    info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
    return info


def torch_zip(path: Path, members: Iterator[tuple[str, bytes | Iterator[bytes]]]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, content in members:
            with zf.open(_aligned(zf, name), "w", force_zip64=False) as member:
                for chunk in [content] if isinstance(content, bytes) else content:
                    member.write(chunk)


def transformer_shapes(total_bytes: int, width: int = 1024) -> list[tuple[str, tuple[int, ...]]]:
    """Tensor names and shapes of a GPT-like state_dict of about `total_bytes` of float32."""
    shapes = [("wte.weight", (50257, width)), ("wpe.weight", (1024, width))]
    used = 4 * (50257 + 1024) * width
    layer = 0
    while used < total_bytes:
        block = [
            ("ln_1.weight", (width,)),
            ("ln_1.bias", (width,)),
            ("attn.c_attn.weight", (width, 3 * width)),
            ("attn.c_attn.bias", (3 * width,)),
            ("attn.c_proj.weight", (width, width)),
            ("attn.c_proj.bias", (width,)),
            ("ln_2.weight", (width,)),
            ("ln_2.bias", (width,)),
            ("mlp.c_fc.weight", (width, 4 * width)),
            ("mlp.c_fc.bias", (4 * width,)),
            ("mlp.c_proj.weight", (4 * width, width)),
            ("mlp.c_proj.bias", (width,)),
        ]
        for name, shape in block:
            shapes.append((f"h.{layer}.{name}", shape))
            used += 4 * _numel(shape)
        layer += 1
    return shapes


def _numel(shape: tuple[int, ...]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


def _filler(size: int) -> Iterator[bytes]:
    """`size` bytes of non-zero, incompressible-looking data, without holding them all."""
    block = bytes((i * 2654435761 >> 13) & 0xFF for i in range(CHUNK))
    while size > 0:
        yield block[: min(size, CHUNK)]
        size -= CHUNK


def write_torch_zip(path: Path, total_bytes: int) -> None:
    tensors = transformer_shapes(total_bytes)
    prefix = path.stem
    members: list[tuple[str, bytes | Iterator[bytes]]] = [
        (f"{prefix}/data.pkl", state_dict_pickle(tensors)),
        (f"{prefix}/.format_version", b"1"),
        (f"{prefix}/.storage_alignment", b"64"),
        (f"{prefix}/byteorder", b"little"),
    ]
    members += [(f"{prefix}/data/{index}", _filler(4 * _numel(shape))) for index, (_, shape) in enumerate(tensors)]
    members += [(f"{prefix}/version", b"3\n"), (f"{prefix}/.data/serialization_id", b"0" * 40)]
    torch_zip(path, iter(members))


def small_torch_zip(path: Path, data_pkl: bytes, extra: tuple[tuple[str, bytes], ...] = ()) -> None:
    prefix = path.stem
    tensors = [("linear.weight", (2, 4)), ("linear.bias", (2,))]
    members = [(f"{prefix}/data.pkl", data_pkl), *extra, (f"{prefix}/byteorder", b"little")]
    members += [(f"{prefix}/data/{index}", b"\x01" * 4 * _numel(shape)) for index, (_, shape) in enumerate(tensors)]
    members.append((f"{prefix}/version", b"3\n"))
    torch_zip(path, iter(members))


TINY_TENSORS = [("linear.weight", (2, 4)), ("linear.bias", (2,))]


def _patch_member(path: Path, member: str, patch: Callable[[bytearray, int, int], None]) -> None:
    """Rewrite header bytes of `member`: patch(data, local_header_offset, central_header_offset)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    local = data.find(b"PK\x03\x04")
    while data[local + 30 : local + 30 + len(name)] != name:
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.find(b"PK\x01\x02", central + 4)
    patch(data, local, central)
    path.write_bytes(bytes(data))


# --- other containers ------------------------------------------------------------------------------


def npy_object(payload: bytes) -> bytes:
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload


def gguf_text(value: str) -> bytes:
    """A GGUF string: u64 length, then UTF-8."""
    data = value.encode()
    return struct.pack("<Q", len(data)) + data


def gguf(metadata: dict[str, str]) -> bytes:
    """A GGUF v3 file with string metadata and no tensors (header layout of the GGUF spec)."""
    body = b"".join(gguf_text(key) + struct.pack("<I", 8) + gguf_text(value) for key, value in metadata.items())
    return b"GGUF" + struct.pack("<IQQ", 3, 0, len(metadata)) + body


def onnx_tensor(name: str, shape: tuple[int, ...], *, raw: bytes | None = None, location: str | None = None) -> bytes:
    """TensorProto{dims, FLOAT, name, raw_data | external_data + EXTERNAL}."""
    body = b"".join(number(1, size) for size in shape) + number(2, 1) + field(8, name.encode())
    if location is None:
        return body + field(9, raw or b"")
    entry = lambda key, value: field(13, field(1, key.encode()) + field(2, value.encode()))  # noqa: E731
    return body + entry("location", location) + entry("length", "16") + number(14, 1)


def onnx_model(graph: bytes) -> bytes:
    """ModelProto{ir_version 8, opset 17, graph}."""
    return number(1, 8) + field(8, number(2, 17)) + field(7, graph)


def onnx_external(location: str) -> bytes:
    return onnx_model(field(5, onnx_tensor("weight", (4,), location=location)) + field(2, b"g"))


def write_zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)


def keras_zip(path: Path, layer: dict) -> None:
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "layers": [layer]}}
    write_zip(
        path,
        {
            "metadata.json": json.dumps({"keras_version": "3.15.1"}).encode(),
            "config.json": json.dumps(config).encode(),
            "model.weights.h5": b"\x89HDF\r\n\x1a\n" + b"\0" * 64,
        },
    )


def saved_model(op: str) -> bytes:
    """SavedModel{meta_graphs: MetaGraphDef{graph_def: GraphDef{node: NodeDef{name, op}}}} with
    a serving graph x -> op -> y (field numbers of tensorflow/core/protobuf/saved_model.proto)."""
    nodes = [("x", "Placeholder"), ("drop", op), ("y", "Identity")]
    graph = b"".join(field(1, field(1, name.encode()) + field(2, kind.encode())) for name, kind in nodes)
    return number(1, 1) + field(2, field(1, field(4, b"serve")) + field(2, graph))


def keras_metadata(layer: dict) -> bytes:
    """keras_metadata.pb of a Keras SavedModel: SavedMetadata{nodes: SavedObject{node_id,
    node_path, identifier, metadata}}, the model's JSON config in the root node's metadata."""
    config = {"name": "sequential", "class_name": "Sequential", "config": {"name": "sequential", "layers": [layer]}}
    root = number(2, 0) + field(3, b"root") + field(4, b"_tf_keras_sequential") + field(5, json.dumps(config).encode())
    return field(1, root)


def bytes_value_pickle(key: str, payload: bytes) -> bytes:
    """pickle.dumps({key: payload}) at protocol 4: the payload kept as BINBYTES."""
    return Pickle(4).op(b"}").text(key).op(b"B" + struct.pack("<I", len(payload)) + payload + b"s").stop()


# --- the malicious specimens ---------------------------------------------------------------------

SSTI = (
    "{% for x in ().__class__.__base__.__subclasses__() %}{% if 'warning' in x.__name__ %}{{ x()._module.__builtins__['__import__']('os').popen('"
    + COMMAND
    + "').read() }}{% endif %}{% endfor %}"
)


def _exec_payload(p: Pickle) -> None:
    p.call("builtins", "exec", f"import os; os.system({COMMAND!r})")


def _stack_global_eval() -> bytes:
    """Protocol 4: module and name memoized, fetched back with BINGET before STACK_GLOBAL."""
    p = Pickle(4).text("builtins").op(b"\x940").text("eval").op(b"\x940").op(b"h\x00h\x01\x93")
    return p.op(b"(").text(f"__import__('os').system({COMMAND!r})").op(b"tR").stop()


def _broken_stream() -> bytes:
    """nullifAI: the payload runs, then the stream breaks (no STOP) so loaders raise after it."""
    return bytes(Pickle(2).call("posix", "system", COMMAND).op(b"\xff\xfe garbage").out)


def _legacy_torch() -> bytes:
    """Pre-zip torch.save: magic, protocol, sys_info pickles; the payload in the model pickle."""
    magic = Pickle(2).op(b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")).stop()
    version = Pickle(2).op(b"M\xe9\x03").stop()
    sys_info = Pickle(2).op(b"}").text("little_endian").op(b"\x88s").stop()
    model = Pickle(2).call("posix", "system", COMMAND).stop()
    return magic + version + sys_info + model + Pickle(2).op(b"]").stop()


def _zip_with(path: Path, pickle: bytes, tamper: Callable[[bytearray, int, int], None]) -> None:
    small_torch_zip(path, pickle)
    _patch_member(path, f"{path.stem}/data.pkl", tamper)


def _rename_local(data: bytearray, local: int, central: int) -> None:
    """CVE-2025-1944: the local header names another file than the central directory."""
    name_end = local + 30 + int.from_bytes(data[local + 26 : local + 28], "little")
    data[name_end - 3 : name_end] = b"txt"


def _set_flag_bits(data: bytearray, local: int, central: int) -> None:
    """CVE-2025-1945: the 'encrypted' flag bit set, which torch ignores and zipfile refuses."""
    data[local + 6] |= 0x01
    data[central + 8] |= 0x01


def _corrupt_crc(data: bytearray, local: int, central: int) -> None:
    """CVE-2025-10156: a wrong CRC-32 in the central directory."""
    for index in range(central + 16, central + 20):
        data[index] ^= 0xFF


MaliciousWriter = Callable[[Path], None]
MALICIOUS: dict[str, tuple[str, MaliciousWriter]] = {
    "reduce_os_system.pkl": (
        "protocol 0 `os.system` REDUCE: the classic",
        lambda path: path.write_bytes(f"cos\nsystem\n(S'{COMMAND}'\ntR.".encode()),
    ),
    "stack_global_eval.pt": (
        "pickle (not zip) named .pt, STACK_GLOBAL of memoized `builtins.eval`",
        lambda path: path.write_bytes(_stack_global_eval()),
    ),
    "protocol0_system.bin": (
        "protocol 0 `posix.system` in a .bin (CVE-2025-10155: extension)",
        lambda path: path.write_bytes(f"cposix\nsystem\n(S'{COMMAND}'\ntR.".encode()),
    ),
    "model": (
        "no extension: `runpy._run_code`",
        lambda path: path.write_bytes(call_pickle("runpy", "_run_code", f"import os; os.system({COMMAND!r})", "{}")),
    ),
    "pip_main.pkl": (
        "`pip.main(['install', ...])` (CVE-2025-1716)",
        lambda path: path.write_bytes(call_pickle("pip", "main", "install", "not-a-real-package")),
    ),
    "asyncio_subprocess.pkl": (
        "`asyncio.unix_events._UnixSubprocessTransport` (CVE-2025-10157: submodule)",
        lambda path: path.write_bytes(call_pickle("asyncio.unix_events", "_UnixSubprocessTransport", COMMAND)),
    ),
    "broken_after_payload.pkl": ("payload, then a broken stream (nullifAI, 2025)", lambda path: path.write_bytes(_broken_stream())),
    "broken_after_payload.bin": ("the same under a PyTorch-style .bin name", lambda path: path.write_bytes(_broken_stream())),
    "torch_exec.pt": (
        "torch zip whose data.pkl calls `builtins.exec` before the state dict",
        lambda path: small_torch_zip(path, state_dict_pickle(TINY_TENSORS, _exec_payload)),
    ),
    "torch_extra_member.pt": (
        "torch zip with a second pickle member `extra/state.pkl` calling `os.system`",
        lambda path: small_torch_zip(
            path, state_dict_pickle(TINY_TENSORS), ((f"{path.stem}/extra/state.pkl", call_pickle("os", "system", COMMAND)),)
        ),
    ),
    "zip_name_mismatch.pt": (
        "local header name differs from the central directory (CVE-2025-1944)",
        lambda path: _zip_with(path, state_dict_pickle(TINY_TENSORS, _exec_payload), _rename_local),
    ),
    "zip_flag_bits.pt": (
        "'encrypted' flag bit set on data.pkl (CVE-2025-1945)",
        lambda path: _zip_with(path, state_dict_pickle(TINY_TENSORS, _exec_payload), _set_flag_bits),
    ),
    "zip_bad_crc.pt": (
        "wrong CRC-32 in the central directory (CVE-2025-10156)",
        lambda path: _zip_with(path, state_dict_pickle(TINY_TENSORS, _exec_payload), _corrupt_crc),
    ),
    "legacy_torch_system.pt": (
        "legacy (pre-zip) torch format, payload in the model pickle",
        lambda path: path.write_bytes(_legacy_torch()),
    ),
    "joblib_zlib_popen.joblib": (
        "zlib-compressed joblib pickle calling `subprocess.Popen`",
        lambda path: path.write_bytes(zlib.compress(call_pickle("subprocess", "Popen", COMMAND), 3)),
    ),
    "npy_object_system.npy": (
        ".npy with object dtype whose pickle calls `os.system`",
        lambda path: path.write_bytes(npy_object(call_pickle("os", "system", COMMAND, protocol=3))),
    ),
    "pickle_named.safetensors": (
        "a pickle named .safetensors",
        lambda path: path.write_bytes(call_pickle("os", "system", COMMAND, protocol=4)),
    ),
    "keras_module_os.keras": (
        ".keras config.json naming `os.system` as a layer (CVE-2025-1550 class)",
        lambda path: keras_zip(path, {"module": "os", "class_name": "system", "config": {"command": COMMAND}, "registered_name": None}),
    ),
    "gguf_ssti.gguf": (
        "GGUF chat_template with a Jinja SSTI payload (CVE-2024-34359)",
        lambda path: path.write_bytes(gguf({"general.architecture": "llama", "tokenizer.chat_template": SSTI})),
    ),
    "onnx_escape.onnx": (
        "ONNX external_data location `../../../../etc/passwd`",
        lambda path: path.write_bytes(onnx_external("../../../../etc/passwd")),
    ),
    "hf_ssti/tokenizer_config.json": (
        "Hugging Face tokenizer_config.json whose chat_template is a Jinja SSTI payload",
        lambda path: path.write_bytes(json.dumps({"bos_token": "<s>", "chat_template": SSTI}).encode()),
    ),
    "tf_writefile/saved_model.pb": (
        "TensorFlow SavedModel whose serving graph runs WriteFile",
        lambda path: path.write_bytes(saved_model("WriteFile")),
    ),
    "nemo_target.nemo": (
        "NeMo .nemo tar whose model_config.yaml has `_target_: os.system` (CVE-2025-23304)",
        lambda path: path.write_bytes(
            tar_archive({"./model_config.yaml": f"preprocessor:\n  _target_: os.system\n  command: {COMMAND}\n".encode()})
        ),
    ),
    "keras_savedmodel/keras_metadata.pb": (
        "Keras model saved as a TensorFlow SavedModel, a Lambda layer (bytecode) in keras_metadata.pb",
        lambda path: path.write_bytes(
            keras_metadata(
                {
                    "class_name": "Lambda",
                    "config": {"name": "lambda", "function": ["4wEAAAAAAAAA", None, None], "function_type": "lambda", "module": "__main__"},
                }
            )
        ),
    ),
    "torchserve.mar": (
        "TorchServe archive whose handler.py calls `subprocess.Popen`",
        lambda path: write_zip(
            path,
            {
                "MAR-INF/MANIFEST.json": json.dumps({"model": {"modelName": "m", "handler": "handler.py"}}).encode(),
                "handler.py": f"import subprocess\n\nsubprocess.Popen({COMMAND!r}, shell=True)\n".encode(),
            },
        ),
    ),
    "nested_bytes.pkl": (
        "a dict whose value is a pickle kept as bytes, calling `os.system` when unpickled",
        lambda path: path.write_bytes(bytes_value_pickle("optimizer", call_pickle("os", "system", COMMAND, protocol=4))),
    ),
}

BENIGN_OTHER: dict[str, bytes] = {
    "README.md": b"# Model card\n\nA tiny model for the benchmark.\n",
    "train.py": b"import torch\n\nmodel = torch.nn.Linear(4, 2)\ntorch.save(model.state_dict(), 'model.pt')\n",
    "requirements.txt": b"torch==2.13.0\nnumpy==2.4.6\n",
    "config.json": json.dumps({"architectures": ["GPT2LMHeadModel"], "n_embd": 1024, "n_layer": 24}).encode(),
    "tokenizer_config.json": json.dumps({"chat_template": "{% for m in messages %}{{ m['content'] }}{% endfor %}"}).encode(),
    "metrics.csv": b"epoch,loss\n1,0.93\n2,0.71\n",
    "params.yaml": b"lr: 0.001\nbatch_size: 32\n",
    "style.css": b"body { margin: 0; }\n(a) { color: red; }\n",
    "notes.txt": b"(this is not a pickle)\n",
    "logo.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 200,
    "weights.bin": struct.pack("<256f", *[i / 256 for i in range(256)]),  # raw float32, e.g. ONNX external data
}


# Fixtures the real libraries wrote that do carry code: a scanner should flag them.
FIXTURES_WITH_CODE = {
    "torchscript.pt": "torch.jit.save archive: code/ members run on torch.jit.load",
    "keras_lambda.keras": "Keras 3 model with a Lambda layer (serialized bytecode)",
    "keras_lambda.h5": "the same model in the legacy HDF5 format",
}


def write_mixed(folder: Path, fixtures: Path) -> dict[str, list[str]]:
    """The mixed directory; its file names by group: benign model files made by the real
    libraries, real files that carry code, malicious specimens, files that are not models."""
    folder.mkdir(parents=True, exist_ok=True)
    groups: dict[str, list[str]] = {"benign": [], "code": [], "malicious": list(MALICIOUS), "other": list(BENIGN_OTHER)}
    for source in sorted(fixtures.iterdir()):
        if source.is_file() and source.suffix not in (".md", ".py"):
            (folder / source.name).write_bytes(source.read_bytes())
            groups["code" if source.name in FIXTURES_WITH_CODE else "benign"].append(source.name)
    for name, (_, write) in MALICIOUS.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        write(folder / name)
    for name, content in BENIGN_OTHER.items():
        (folder / name).write_bytes(content)
    return groups
