"""MOD017 / MOD018: Python code (and notebooks) loading a file with a loader that runs code,
judged by where the loaded path comes from. Every case asserts the rule, path, line and severity."""

from __future__ import annotations

import json
import pickle

import pytest

from mlgate.declared_versions import bounds

HEAD = "import os, sys, pickle, argparse\nimport torch\nimport numpy as np\nimport joblib\nfrom huggingface_hub import hf_hub_download\n"
# HEAD is 5 lines: the code of each case starts at line 6.


def loads(scan_tree, files: dict[str, str | bytes]) -> list[tuple[str, str, int | None, str]]:
    scan = scan_tree(files, select="models")
    assert scan.errors == []
    return [(f.rule.code, f.path, f.line, str(f.severity)) for f in scan.findings if f.rule.code in ("MOD017", "MOD018")]


DOWNLOAD = 'p = hf_hub_download("acme/model", "model.bin")\n'


@pytest.mark.parametrize(
    "code",
    [
        "torch.load(p)\n",
        "torch.load(p, weights_only=False)\n",
        'torch.load(p, map_location="cpu")\n',
        "torch.serialization.load(p)\n",
        "pickle.load(open(p, 'rb'))\n",
        "pickle.loads(open(p, 'rb').read())\n",
        "pickle.Unpickler(open(p, 'rb')).load()\n",
        "joblib.load(p)\n",
        "np.load(p, allow_pickle=True)\n",
        "import pandas as pd\npd.read_pickle(p)\n",
        "import dill\ndill.load(open(p, 'rb'))\n",
        "import cloudpickle\ncloudpickle.loads(open(p, 'rb').read())\n",
        "import _pickle\n_pickle.load(open(p, 'rb'))\n",
        "from tensorflow import keras\nkeras.models.load_model(p, safe_mode=False)\n",
        "import tensorflow as tf\ntf.keras.models.load_model(p, safe_mode=False)\n",
        "from torch.package import PackageImporter\nPackageImporter(p)\n",
    ],
)
def test_each_loader_of_a_hub_download_is_critical(scan_tree, code):
    line = 6 + code.count("\n")
    assert loads(scan_tree, {"app.py": HEAD + DOWNLOAD + code}) == [("MOD017", "app.py", line, "critical")]


@pytest.mark.parametrize(
    "code",
    [
        "torch.load(p, weights_only=True)\n",
        'torch.load(p, weights_only=True, map_location="cpu")\n',
        "np.load(p)\n",
        "np.load(p, allow_pickle=False)\n",
        "from tensorflow import keras\nkeras.models.load_model(p)\n",
        "from keras.models import load_model\nload_model(p, safe_mode=True)\n",
        "torch.load(p, **options)\n",  # the flag may be in there: judged where it is literal
        "torch.load(p, weights_only=flag)\n",
        "pickle.loads(pickle.dumps({'a': 1}))\n",  # the program's own bytes
        "import safetensors.torch\nsafetensors.torch.load_file(p)\n",
        "import json\njson.load(open(p))\n",
    ],
)
def test_safe_calls_are_not_reported(scan_tree, code):
    assert loads(scan_tree, {"app.py": HEAD + DOWNLOAD + code}) == []


def test_transformers_use_safetensors_false_from_an_unpinned_hub_repository(scan_tree):
    code = (
        "from transformers import AutoModel\n"
        'AutoModel.from_pretrained("acme/model", use_safetensors=False)\n'
        f'AutoModel.from_pretrained("acme/model", revision="{"a" * 40}", use_safetensors=False)\n'
        'AutoModel.from_pretrained("acme/model")\n'
    )
    assert loads(scan_tree, {"app.py": code}) == [("MOD017", "app.py", 2, "critical"), ("MOD017", "app.py", 3, "high")]


def test_alias_of_torch_load(scan_tree):
    code = "from torch import load as tload\nimport torch as T\n" + DOWNLOAD + "tload(p)\nT.load(p)\ntload(p, weights_only=True)\n"
    code = "from huggingface_hub import hf_hub_download\n" + code
    assert loads(scan_tree, {"app.py": code}) == [("MOD017", "app.py", 5, "critical"), ("MOD017", "app.py", 6, "critical")]


def test_path_built_from_a_download_two_assignments_earlier(scan_tree):
    code = HEAD + DOWNLOAD + 'folder = os.path.dirname(p)\nf = os.path.join(folder, "x.pt")\ntorch.load(f)\n'
    assert loads(scan_tree, {"app.py": code}) == [("MOD017", "app.py", 9, "critical")]
    [finding] = scan_tree({"app.py": code}, select="MOD017").findings
    assert "hf_hub_download() at line 6 from hub repository acme/model, not pinned to a commit" in finding.message


def test_method_chains_of_a_downloaded_path(scan_tree):
    code = (
        HEAD
        + "from pathlib import Path\nfrom huggingface_hub import snapshot_download\n"
        + 'torch.load(Path(snapshot_download("acme/model")).joinpath("m.pt"))\n'
        + 'd = snapshot_download(repo_id="acme/model")\ntorch.load(str(Path(d) / "m.pt"))\n'
    )
    assert loads(scan_tree, {"app.py": code}) == [("MOD017", "app.py", 8, "critical"), ("MOD017", "app.py", 10, "critical")]


def test_a_hub_download_pinned_to_a_commit_is_high(scan_tree):
    code = HEAD + f'p = hf_hub_download("acme/model", "m.bin", revision="{"0" * 40}")\ntorch.load(p)\n'
    code += 'q = hf_hub_download("acme/model", "m.bin", revision="main")\ntorch.load(q)\n'
    assert loads(scan_tree, {"app.py": code}) == [("MOD017", "app.py", 7, "high"), ("MOD017", "app.py", 9, "critical")]


def test_url_downloads_and_files_written_from_them(scan_tree):
    code = HEAD + (
        "import requests, urllib.request\n"
        'urllib.request.urlretrieve("https://example.org/m.pt", "m.pt")\n'
        'torch.load("m.pt")\n'
        'torch.hub.download_url_to_file("https://example.org/n.pt", "/tmp/n.pt")\n'
        'joblib.load("/tmp/n.pt")\n'
        'r = requests.get("https://example.org/o.pkl")\n'
        'with open("o.pkl", "wb") as out:\n'
        "    out.write(r.content)\n"
        'pickle.load(open("o.pkl", "rb"))\n'
        "pickle.loads(requests.get(URL).content)\n"
    )
    assert loads(scan_tree, {"app.py": code}) == [
        ("MOD017", "app.py", 8, "critical"),
        ("MOD017", "app.py", 10, "critical"),
        ("MOD017", "app.py", 14, "critical"),
        ("MOD017", "app.py", 15, "critical"),
    ]


def test_command_line_and_http_arguments_are_critical(scan_tree):
    code = HEAD + (
        "parser = argparse.ArgumentParser()\n"
        'parser.add_argument("--checkpoint-path")\n'
        "args = parser.parse_args()\n"
        "torch.load(args.checkpoint_path)\n"
        "joblib.load(sys.argv[1])\n"
        "import click\n"
        "@click.command()\n"
        '@click.option("--model")\n'
        "def main(model):\n"
        "    return pickle.load(open(model, 'rb'))\n"
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        '@app.post("/predict")\n'
        "def predict(path: str):\n"
        "    return joblib.load(path)\n"
        "from flask import request\n"
        "def upload():\n"
        '    return pickle.loads(request.files["model"].read())\n'
    )
    assert loads(scan_tree, {"app.py": code}) == [
        ("MOD017", "app.py", 9, "critical"),
        ("MOD017", "app.py", 10, "critical"),
        ("MOD017", "app.py", 15, "critical"),
        ("MOD017", "app.py", 20, "critical"),
        ("MOD017", "app.py", 23, "critical"),
    ]


def test_a_wrapper_is_reported_once_as_high_not_at_its_callers(scan_tree):
    code = HEAD + "def load(path):\n    return torch.load(path)\n\nload('a.pt')\nload(other)\n"
    assert loads(scan_tree, {"lib.py": code}) == [("MOD017", "lib.py", 7, "high")]
    [message] = scan_tree({"lib.py": code}, select="MOD017").messages("MOD017")
    assert "parameter path of load(), line 6" in message


def test_checked_in_files_by_what_the_models_hook_says(scan_tree):
    clean = pickle.dumps({"weights": [1.0, 2.0]}, protocol=4)
    evil = b"\x80\x04cos\nsystem\n(S'id'\ntR."
    code = HEAD + 'pickle.load(open("data/clean.pkl", "rb"))\npickle.load(open("data/evil.pkl", "rb"))\ntorch.load("missing.pt")\n'
    found = loads(scan_tree, {"app.py": code, "data/clean.pkl": clean, "data/evil.pkl": evil})
    assert found == [("MOD017", "app.py", 6, "medium"), ("MOD017", "app.py", 7, "high"), ("MOD017", "app.py", 8, "high")]


def test_an_allowlisted_checked_in_file_is_medium(scan_tree):
    import hashlib

    evil = b"\x80\x04cos\nsystem\n(S'id'\ntR."
    options = {"models": {"allowlist": [{"path": "evil.pkl", "sha256": hashlib.sha256(evil).hexdigest()}]}}
    scan = scan_tree({"app.py": HEAD + 'pickle.load(open("evil.pkl", "rb"))\n', "evil.pkl": evil}, select="models", options=options)
    assert [(f.rule.code, f.line, str(f.severity)) for f in scan.findings] == [("MOD017", 6, "medium")]


def test_the_programs_own_files_are_not_model_loads(scan_tree):
    code = HEAD + (
        "def cache(model, path):\n"
        "    torch.save(model, path)\n"
        "    return torch.load(path)\n"
        "def store(obj, name):\n"
        "    with open(name, 'wb') as f:\n"
        "        pickle.dump(obj, f)\n"
        "    with open(name, 'rb') as f:\n"
        "        return pickle.load(f)\n"
        "def other(path):\n"
        "    return torch.load(path)\n"
    )
    assert loads(scan_tree, {"app.py": code}) == [("MOD017", "app.py", 15, "high")]


def test_tests_and_examples_report_only_critical_loads(scan_tree):
    code = HEAD + "def load(path):\n    return torch.load(path)\n" + DOWNLOAD + "torch.load(p)\n"
    files = {"tests/test_io.py": code, "examples/demo.py": code, "src/io.py": code}
    assert loads(scan_tree, files) == [
        ("MOD017", "examples/demo.py", 9, "critical"),
        ("MOD017", "src/io.py", 7, "high"),
        ("MOD017", "src/io.py", 9, "critical"),
        ("MOD017", "tests/test_io.py", 9, "critical"),
    ]


def test_torch_load_default_is_judged_by_the_declared_torch(scan_tree):
    code = HEAD + DOWNLOAD + "torch.load(p)\ntorch.load(p, weights_only=False)\n"
    assert loads(scan_tree, {"app.py": code, "requirements.txt": "torch>=2.6.0\n"}) == [("MOD017", "app.py", 8, "critical")]
    assert loads(scan_tree, {"app.py": code, "requirements.txt": "torch>=2.1\n"}) == [
        ("MOD017", "app.py", 7, "critical"),
        ("MOD017", "app.py", 8, "critical"),
    ]


@pytest.mark.parametrize(
    ("manifest", "text", "line"),
    [
        ("requirements.txt", "numpy\ntorch==2.5.1\n", 2),
        ("requirements-gpu.txt", "torch>=2.1,<2.6\n", 1),
        ("pyproject.toml", '[project]\nname = "x"\ndependencies = [\n  "torch~=2.4.0",\n]\n', 4),
        ("pyproject.toml", '[tool.poetry.dependencies]\npython = "^3.10"\ntorch = "^1.13"\n', 3),
    ],
)
def test_weights_only_on_a_torch_pinned_below_2_6_points_at_the_pin(scan_tree, manifest, text, line):
    code = HEAD + DOWNLOAD + "torch.load(p, weights_only=True)\n"
    scan = scan_tree({"app.py": code, manifest: text}, select="MOD018")
    assert [(f.rule.code, f.path, f.line, str(f.severity)) for f in scan.findings] == [("MOD018", "app.py", 7, "critical")]
    assert f"({manifest}:{line})" in scan.findings[0].message and "CVE-2025-32434" in scan.findings[0].message


@pytest.mark.parametrize("text", ["torch==2.6.0\n", "torch>=2.5\n", "torch\n", "numpy==1.0\n"])
def test_weights_only_on_a_torch_that_may_be_fixed_is_fine(scan_tree, text):
    code = HEAD + DOWNLOAD + "torch.load(p, weights_only=True)\n"
    assert loads(scan_tree, {"app.py": code, "requirements.txt": text}) == []


def test_version_bounds():
    assert bounds("==2.5.1") == ((2, 5, 1), (2, 5, 2))
    assert bounds(">=2.1,<2.6") == ((2, 1), (2, 6))
    assert bounds("~=2.4.0") == ((2, 4, 0), (2, 5))
    assert bounds("^1.13") == ((1, 13), (2,))
    assert bounds(">=2.6") == ((2, 6), None)


def _notebook(cells: list[str]) -> str:
    return json.dumps(
        {"cells": [{"cell_type": "code", "source": cell.splitlines(keepends=True)} for cell in cells], "nbformat": 4}, indent=1
    )


def test_notebooks_share_names_across_cells(scan_tree):
    text = _notebook(
        ["!pip install torch\nimport torch\nfrom huggingface_hub import hf_hub_download\n", DOWNLOAD, "state = torch.load(p)\n"]
    )
    scan = scan_tree({"demo.ipynb": text}, select="MOD017")
    assert [(f.rule.code, f.path, f.line, str(f.severity)) for f in scan.findings] == [("MOD017", "demo.ipynb", 20, "critical")]
    assert scan.findings[0].message.endswith("(cell 3, line 1)")


def test_notebook_safe_load_is_not_reported(scan_tree):
    text = _notebook(["import torch\nfrom huggingface_hub import hf_hub_download\n", DOWNLOAD + "torch.load(p, weights_only=True)\n"])
    assert loads(scan_tree, {"demo.ipynb": text}) == []


def test_a_cache_the_module_writes_itself_is_not_a_model_load(scan_tree):
    code = HEAD + (
        "def _cache_path(name):\n"
        "    return os.path.join(CACHE, name)\n"
        "def load_cached(name):\n"
        "    path = _cache_path(name)\n"
        "    with open(path, 'rb') as f:\n"
        "        return pickle.loads(f.read())\n"
        "def save_cached(name, obj):\n"
        "    with open(_cache_path(name), 'wb') as f:\n"
        "        f.write(pickle.dumps(obj))\n"
        "def load_other(name):\n"
        "    return pickle.load(open(other_path(name), 'rb'))\n"
    )
    assert loads(scan_tree, {"cache.py": code}) == [("MOD017", "cache.py", 16, "high")]


def test_a_file_another_method_saves_to_the_same_attribute_is_the_objects_own_cache(scan_tree):
    code = HEAD + (
        "class Index:\n"
        "    def __init__(self, cache_dir):\n"
        '        self.metadata_file = os.path.join(cache_dir, "meta.pkl")\n'
        "    def save(self):\n"
        "        with open(self.metadata_file, 'wb') as f:\n"
        "            pickle.dump(self.metadata, f)\n"
        "    def load(self):\n"
        "        with open(self.metadata_file, 'rb') as f:\n"
        "            self.metadata = pickle.load(f)\n"
        "    def load_other(self):\n"
        "        return pickle.load(open(self.other_file, 'rb'))\n"
        "    def from_the_command_line(self):\n"
        "        self.metadata_file = sys.argv[1]\n"
        "        return pickle.load(open(sys.argv[1], 'rb'))\n"
    )
    assert loads(scan_tree, {"index.py": code}) == [("MOD017", "index.py", 16, "high"), ("MOD017", "index.py", 19, "critical")]


def test_bytes_that_come_from_no_file_are_medium(scan_tree):
    code = HEAD + (
        "def from_payload(payload):\n"
        "    return pickle.loads(payload.data)\n"  # a message between the program's own processes
        "def from_file(path):\n"
        "    with open(path, 'rb') as f:\n"
        "        return pickle.loads(f.read())\n"
    )
    assert loads(scan_tree, {"ipc.py": code}) == [("MOD017", "ipc.py", 7, "medium"), ("MOD017", "ipc.py", 10, "high")]


def test_bytes_the_programs_own_ranks_sent_are_not_reported(scan_tree):
    # accelerate's gather_object, axolotl's broadcast: a tensor filled by a torch.distributed
    # collective, unpickled as torch's own broadcast_object_list does; another function of the
    # same file that only receives bytes from its caller is still reported.
    code = HEAD + (
        "import torch.distributed as dist\n"
        "def broadcast_object(data, device):\n"
        "    tensor = torch.empty([1024], dtype=torch.uint8, device=device)\n"
        "    dist.broadcast(tensor, 0)\n"
        "    return pickle.loads(bytes(tensor.cpu().tolist()))\n"
        "def gather(outputs, tensor):\n"
        "    torch.distributed.all_gather(outputs, tensor)\n"
        "    return [pickle.loads(t.numpy().tobytes()) for t in outputs]\n"
        "def from_caller(payload):\n"
        "    return pickle.loads(payload)\n"
    )
    assert loads(scan_tree, {"dist.py": code}) == [("MOD017", "dist.py", 15, "medium")]


def test_bytes_received_from_a_socket_are_high_and_a_buffer_grown_with_them_is_followed(scan_tree):
    # gpt-neox's online data client: `data += s.recv(4096)` in a loop, then `pickle.loads(data)`;
    # a buffer grown with what the program pickled itself is its own data
    code = HEAD + (
        "import socket\n"
        "def fetch(address):\n"
        "    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        "    s.connect(address)\n"
        "    data = b''\n"
        "    while True:\n"
        "        chunk = s.recv(4096)\n"
        "        if not chunk:\n"
        "            break\n"
        "        data += chunk\n"
        "    return pickle.loads(data)\n"  # line 16
        "def own(x):\n"
        "    data = b''\n"
        "    data += pickle.dumps(x)\n"
        "    return pickle.loads(data)\n"
    )
    assert loads(scan_tree, {"client.py": code}) == [("MOD017", "client.py", 16, "high")]


def test_fix_adds_weights_only_where_it_is_not_given_and_says_so(tmp_path, monkeypatch, capsys):
    from mlgate.cli import main

    code = (
        "import torch\nfrom torch import load as tl\nfrom huggingface_hub import hf_hub_download\n"
        + DOWNLOAD
        + 'x = torch.load(p, map_location="cpu")\n'
        + "y = tl(\n    p,\n)\n"
        + "z = torch.load(p, weights_only=False)\n"
        + "w = torch.load(p, **options)\n"
        + "v = pickle.load(p)\n"
    )
    (tmp_path / "app.py").write_text(code, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLGATE_CACHE_DIR", str(tmp_path / ".cache"))
    main(["check", "--fix", "--select", "MOD017", "app.py"])
    fixed = (tmp_path / "app.py").read_text(encoding="utf-8")
    assert fixed == code.replace('map_location="cpu")', 'map_location="cpu", weights_only=True)').replace(
        "    p,\n)", "    p,\n    weights_only=True,\n)"
    )
    err = capsys.readouterr().err
    assert "mlgate: note: app.py:5: torch.load now passes weights_only=True" in err
    assert "mlgate: note: app.py:6:" in err and "app.py:9" not in err


def test_paths_joined_alike_are_not_one_file(scan_tree):
    code = HEAD + (
        "def save(clf, output_dir):\n"
        '    joblib.dump(clf, os.path.join(output_dir, "clf.pkl"))\n'
        "def resume(checkpoint):\n"
        '    return joblib.load(os.path.join(checkpoint, "clf.pkl"))\n'
    )
    assert loads(scan_tree, {"trainer.py": code}) == [("MOD017", "trainer.py", 9, "high")]


def test_the_body_of_an_http_request_is_critical(scan_tree):
    code = HEAD + (
        "from starlette.requests import Request\n"
        "async def handler(request: Request):\n"
        "    body = await request.body()\n"
        "    return pickle.loads(body)\n"
        "async def client(resp):\n"
        "    body = await resp.read()\n"
        "    return pickle.loads(body)\n"
    )
    assert loads(scan_tree, {"server.py": code}) == [("MOD017", "server.py", 9, "critical"), ("MOD017", "server.py", 12, "medium")]


def test_a_cache_built_when_missing_is_the_programs_own_file(scan_tree):
    code = HEAD + (
        "def lookup(name):\n"
        '    path = f"data/{name}.lookup"\n'
        "    if os.path.exists(path):\n"
        "        return pickle.load(open(path, 'rb'))\n"
        "    table = build(name)\n"
        "    pickle.dump(table, open(path, 'wb'))\n"
        "    return table\n"
        "def tensors(bs):\n"
        "    return torch.load(io.BytesIO(bs))\n"
    )
    assert loads(scan_tree, {"cache.py": code}) == [("MOD017", "cache.py", 14, "medium")]


def test_weights_loaded_from_a_url_are_a_torch_load_of_a_download(scan_tree):
    code = HEAD + (
        "from torch.hub import load_state_dict_from_url\n"
        'state = load_state_dict_from_url("https://example.org/resnet.pth", map_location="cpu")\n'  # line 7
        "state = torch.hub.load_state_dict_from_url(URL, weights_only=True)\n"
        'state = torch.utils.model_zoo.load_url("https://example.org/vgg.pth")\n'  # line 9
    )
    assert loads(scan_tree, {"app.py": code}) == [("MOD017", "app.py", 7, "critical"), ("MOD017", "app.py", 9, "critical")]


def test_a_module_imported_under_another_name_is_followed(scan_tree):
    code = "import torch as th\nfrom huggingface_hub import hf_hub_download\n" + DOWNLOAD + "th.load(p)\n"
    assert loads(scan_tree, {"app.py": code}) == [("MOD017", "app.py", 4, "critical")]


def test_a_test_loading_a_hub_test_fixture_is_not_a_download_of_someone_elses_code(scan_tree):
    code = HEAD + (
        "from diffusers import UNet2DModel\n"
        'UNet2DModel.from_pretrained("hf-internal-testing/tiny-stable-diffusion-torch", use_safetensors=False)\n'  # line 7
        'torch.load(hf_hub_download("hf-internal-testing/tiny-random-unet", "w.bin"))\n'
        'UNet2DModel.from_pretrained("acme/unet", use_safetensors=False)\n'  # line 9: someone's repository, unpinned
        'torch.load(hf_hub_download(repo_id="diffusers/test-slices", repo_type="dataset", filename="e.pt"))\n'  # named for tests
    )
    assert loads(scan_tree, {"tests/test_unet.py": code, "src/unet.py": code}) == [
        ("MOD017", "src/unet.py", 7, "critical"),  # outside tests a fixture name is no excuse
        ("MOD017", "src/unet.py", 8, "critical"),
        ("MOD017", "src/unet.py", 9, "critical"),
        ("MOD017", "src/unet.py", 10, "critical"),
        ("MOD017", "tests/test_unet.py", 9, "critical"),
    ]


def test_a_main_given_the_parsed_options_reads_the_command_line(scan_tree):
    """peft's `def main(args): torch.load(args.path)`, called as `main(parse_args())` at module level;
    another function's local named `args` is not the module's."""
    code = HEAD + (
        "from utils import parse_args\n"
        "def main(args):\n"
        "    return torch.load(args.controlnet_path)\n"
        "def other():\n"
        "    args = make_args()\n"
        "def helper(opts):\n"
        "    return torch.load(opts.path)\n"
        "if __name__ == '__main__':\n"
        "    args = parse_args()\n"
        "    main(args)\n"
    )
    assert loads(scan_tree, {"train.py": code}) == [("MOD017", "train.py", 8, "critical"), ("MOD017", "train.py", 12, "high")]
