"""The hub hook online: revisions resolved on a fake hub API (HF_ENDPOINT on 127.0.0.1),
missing repositories and namespaces reported (HUB010), and `--fix` pinning Python loaders,
hub URLs and torch.hub references."""

from __future__ import annotations

import json

from conftest import write_tree
from httpfake import online_env, server  # noqa: F401  (fixtures)
from mlgate.cli import main

SHA = ["%040x" % (0xA0 + number) for number in range(6)]

TRAIN = """\
import torch
from transformers import AutoModel, AutoTokenizer
model = AutoModel.from_pretrained("bert-base-uncased")
tok = AutoTokenizer.from_pretrained('google/flan-t5-base', revision="main")
url = "https://huggingface.co/org/model/resolve/main/model.safetensors"
m = AutoModel.from_pretrained(
    "acme/model",
    revision="dev",
)
n = AutoModel.from_pretrained(
    "acme/other",
)
hub = torch.hub.load("pytorch/vision:v0.10.0", "resnet18")
"""
TRAIN_FIXED = f"""\
import torch
from transformers import AutoModel, AutoTokenizer
model = AutoModel.from_pretrained("bert-base-uncased", revision="{SHA[0]}")  # main
tok = AutoTokenizer.from_pretrained('google/flan-t5-base', revision="{SHA[1]}")  # main
url = "https://huggingface.co/org/model/resolve/{SHA[2]}/model.safetensors"
m = AutoModel.from_pretrained(
    "acme/model",
    revision="{SHA[3]}",  # dev
)
n = AutoModel.from_pretrained(
    "acme/other", revision="{SHA[4]}",  # main
)
hub = torch.hub.load("pytorch/vision:{SHA[5]}", "resnet18")
"""


def hub(server) -> None:
    for path, sha in (
        ("models/bert-base-uncased/revision/main", SHA[0]), ("models/google/flan-t5-base/revision/main", SHA[1]),
        ("models/org/model/revision/main", SHA[2]), ("models/acme/model/revision/dev", SHA[3]),
        ("models/acme/other/revision/main", SHA[4]),
    ):
        server.reply("GET", f"/api/{path}", body={"sha": sha})
    server.reply("GET", "/repos/pytorch/vision/commits/v0.10.0", body={"sha": SHA[5]})


def run(monkeypatch, tmp_path, files, *args) -> int:
    write_tree(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    return main([*args])


def test_fix_pins_loaders_urls_and_torch_hub(monkeypatch, tmp_path, server, online_env):
    hub(server)
    assert run(monkeypatch, tmp_path, {"train.py": TRAIN}, "fix", "--select", "HUB001,HUB003", ".") == 1
    assert (tmp_path / "train.py").read_text() == TRAIN_FIXED
    count = len(server.requests)
    assert main(["fix", "--select", "HUB001,HUB003", "."]) == 0
    assert (tmp_path / "train.py").read_text() == TRAIN_FIXED
    assert len(server.requests) == count


def test_online_messages_say_what_a_revision_is_today(monkeypatch, tmp_path, server, online_env, capsys):
    hub(server)
    assert run(monkeypatch, tmp_path, {"train.py": TRAIN}, "check", "--online", "--select", "HUB001,HUB003", "--format", "json", ".") == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["rule"], f["line"], f["column"]) for f in findings] == [
        ("HUB001", 3, 35), ("HUB001", 4, 37), ("HUB001", 5, 8), ("HUB001", 7, 5), ("HUB001", 11, 5), ("HUB003", 13, 22),
    ]
    assert findings[0]["message"].endswith(f"; 'main' is commit {SHA[0]} today")
    assert findings[5]["message"].endswith(f"; 'v0.10.0' is commit {SHA[5]} today")
    assert (tmp_path / "train.py").read_text() == TRAIN


GONE = """\
from transformers import AutoModel
from datasets import load_dataset
a = AutoModel.from_pretrained("deleted-org/model")
b = AutoModel.from_pretrained("acme/removed")
c = load_dataset("acme/data", revision="v2")
"""


def test_missing_namespace_repository_and_revision_are_reported(monkeypatch, tmp_path, server, online_env, capsys):
    server.reply("GET", "/api/users/acme/overview")
    server.reply("GET", "/api/datasets/acme/data")  # the dataset exists; its tag v2 does not
    assert run(monkeypatch, tmp_path, {"train.py": GONE}, "check", "--online", "--select", "hub", "--format", "json", ".") == 1
    findings = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["rule"] == "HUB010"]
    assert [(f["line"], f["column"], f["severity"], f["message"]) for f in findings] == [
        (3, 31, "critical", "hub model 'deleted-org/model': the namespace 'deleted-org' no longer exists on the hub, so anyone can register it and publish their own repository under this name (namespace reuse)"),
        (4, 31, "high", "hub model 'acme/removed' does not exist on the hub (deleted, renamed or private): a repository re-created under this name would be loaded without review"),
        (5, 18, "high", "hub dataset 'acme/data' has no revision 'v2': loading it fails today, and whoever creates that branch or tag decides what loads"),
    ]


def test_a_missing_repository_is_not_fixed_and_nothing_is_written(monkeypatch, tmp_path, server, online_env):
    server.reply("GET", "/api/models/bert-base-uncased/revision/main", 503)
    assert run(monkeypatch, tmp_path, {"train.py": TRAIN}, "fix", "--select", "HUB001", ".") == 1
    assert (tmp_path / "train.py").read_text() == TRAIN


def test_hub_token_is_sent_to_the_hub(monkeypatch, tmp_path, server, online_env):
    hub(server)
    monkeypatch.setenv("HF_TOKEN", "hf-secret")
    run(monkeypatch, tmp_path, {"train.py": TRAIN}, "check", "--online", "--select", "HUB001", ".")
    assert [r.headers.get("authorization") for r in server.requests] == ["Bearer hf-secret"] * 5
