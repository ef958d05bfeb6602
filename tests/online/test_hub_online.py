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
url = "https://huggingface.co/acme-labs/model/resolve/main/model.safetensors"
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
url = "https://huggingface.co/acme-labs/model/resolve/{SHA[2]}/model.safetensors"
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
        ("models/bert-base-uncased/revision/main", SHA[0]),
        ("models/google/flan-t5-base/revision/main", SHA[1]),
        ("models/acme-labs/model/revision/main", SHA[2]),
        ("models/acme/model/revision/dev", SHA[3]),
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


def test_fix_pins_legacy_urls_without_a_namespace(monkeypatch, tmp_path, server, online_env):
    hub(server)
    text = 'VOCAB = "https://huggingface.co/bert-base-uncased/resolve/main/vocab.txt"\n'
    assert run(monkeypatch, tmp_path, {"tok.py": text}, "fix", "--select", "HUB001", ".") == 1
    assert (tmp_path / "tok.py").read_text() == text.replace("/resolve/main/", f"/resolve/{SHA[0]}/")


def test_online_messages_say_what_a_revision_is_today(monkeypatch, tmp_path, server, online_env, capsys):
    hub(server)
    assert run(monkeypatch, tmp_path, {"train.py": TRAIN}, "check", "--online", "--select", "HUB001,HUB003", "--format", "json", ".") == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["rule"], f["line"], f["column"]) for f in findings] == [
        ("HUB001", 3, 35),
        ("HUB001", 4, 37),
        ("HUB001", 5, 8),
        ("HUB001", 7, 5),
        ("HUB001", 11, 5),
        ("HUB003", 13, 22),
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
        (
            3,
            31,
            "critical",
            "hub model 'deleted-org/model': the namespace 'deleted-org' no longer exists on the hub, so anyone can register it and publish their own repository under this name (namespace reuse)",
        ),
        (
            4,
            31,
            "high",
            "hub model 'acme/removed' does not exist on the hub (deleted, renamed or private): a repository re-created under this name would be loaded without review",
        ),
        (
            5,
            18,
            "high",
            "hub dataset 'acme/data' has no revision 'v2': loading it fails today, and whoever creates that branch or tag decides what loads",
        ),
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


# --- references pinned to a commit: does the hub still have it? -------------------------------

GOOD, LOST, GONE_SHA = "1" * 40, "2" * 40, "3" * 40
PINNED_FILES = {
    "train.py": f"""\
from transformers import AutoModel
from datasets import load_dataset
a = AutoModel.from_pretrained("acme/kept", revision="{GOOD}")
b = AutoModel.from_pretrained("acme/rewritten", revision="{LOST}")
c = load_dataset("acme/data", revision="{LOST}")
url = "https://huggingface.co/deleted-org/model/resolve/{GONE_SHA}/model.safetensors"
""",
    "config.yaml": f"model_name_or_path: acme/rewritten\nrevision: {LOST}\n",
    "fetch.sh": f"#!/bin/sh\nhuggingface-cli download acme/rewritten --revision {LOST}\n",
    "explore.ipynb": json.dumps(
        {"cells": [{"cell_type": "code", "source": [f'm = AutoModel.from_pretrained("acme/rewritten", revision="{LOST}")\n']}]}
    ),
}


def pinned_hub(server) -> None:
    server.reply("GET", f"/api/models/acme/kept/revision/{GOOD}", body={"sha": GOOD})
    server.reply("GET", "/api/models/acme/rewritten")  # the repository is there, the commit is not
    server.reply("GET", "/api/datasets/acme/data")
    server.reply("GET", "/api/users/acme/overview")


def test_pinned_commits_the_hub_does_not_have_are_reported(monkeypatch, tmp_path, server, online_env, capsys):
    pinned_hub(server)
    # HUB010 only: what the revisions that exist hold (HUB011..HUB014) is tests/online/test_hub_verdicts.py's
    assert run(monkeypatch, tmp_path, PINNED_FILES, "check", "--online", "--select", "HUB010", "--format", "json", ".") == 1
    report = json.loads(capsys.readouterr().out)
    rewritten = f"hub model 'acme/rewritten' has no commit '{LOST}': its history was rewritten (force-push, squash) or the commit never was in it, so loading it fails today; review the repository again before pinning a new commit"
    assert report["errors"] == []
    assert [(f["rule"], f["path"], f["line"], f["column"], f["severity"], f["message"]) for f in report["findings"]] == [
        ("HUB010", "config.yaml", 1, 21, "high", rewritten),
        ("HUB010", "explore.ipynb", 1, 31, "high", f"{rewritten} (cell 1, line 1)"),
        ("HUB010", "fetch.sh", 2, 26, "high", rewritten),
        ("HUB010", "train.py", 4, 31, "high", rewritten),
        ("HUB010", "train.py", 5, 18, "high", rewritten.replace("model 'acme/rewritten'", "dataset 'acme/data'")),
        (
            "HUB010",
            "train.py",
            6,
            8,
            "critical",
            "hub model 'deleted-org/model': the namespace 'deleted-org' no longer exists on the hub, so anyone can register it and publish their own repository under this name (namespace reuse)",
        ),
    ]
    asked = sorted({path for method, path in server.seen()})
    assert asked == sorted(
        {
            f"/api/models/acme/kept/revision/{GOOD}",
            f"/api/models/acme/rewritten/revision/{LOST}",
            "/api/models/acme/rewritten",
            f"/api/datasets/acme/data/revision/{LOST}",
            "/api/datasets/acme/data",
            f"/api/models/deleted-org/model/revision/{GONE_SHA}",
            "/api/models/deleted-org/model",
            "/api/users/deleted-org/overview",
            "/api/organizations/deleted-org/overview",
        }
    )


def test_pinned_references_cost_no_request_offline_and_nothing_when_their_commit_exists(monkeypatch, tmp_path, server, online_env, capsys):
    files = {"train.py": PINNED_FILES["train.py"].splitlines(keepends=True)[2]}  # only acme/kept, whose commit exists
    pinned_hub(server)
    assert run(monkeypatch, tmp_path, files, "check", "--select", "hub", "--format", "json", ".") == 0
    assert (json.loads(capsys.readouterr().out)["findings"], server.requests) == ([], [])
    assert main(["check", "--online", "--select", "HUB010", "--format", "json", "."]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["findings"], report["errors"]) == ([], [])
    assert server.seen() == [("GET", f"/api/models/acme/kept/revision/{GOOD}")]


def test_pinned_commits_are_not_looked_up_when_hub010_is_not_selected(monkeypatch, tmp_path, server, online_env):
    assert run(monkeypatch, tmp_path, PINNED_FILES, "check", "--online", "--select", "HUB001", ".") == 0
    assert server.requests == []


# --- configs: the revision setting beside the model is pinned; none is added -------------------

CONFIG = """\
model_name_or_path: acme/model
model_revision: main
tokenizer:
  tokenizer_name: acme/tok
  revision: "v1"  # the release we tested
dataset: acme/data
url: https://huggingface.co/acme/model/resolve/main/config.json
"""
CONFIG_FIXED = f"""\
model_name_or_path: acme/model
model_revision: {SHA[0]}  # main
tokenizer:
  tokenizer_name: acme/tok
  revision: "{SHA[1]}"  # the release we tested
dataset: acme/data
url: https://huggingface.co/acme/model/resolve/{SHA[0]}/config.json
"""


def test_fix_pins_the_revision_setting_of_a_yaml_config(monkeypatch, tmp_path, server, online_env):
    server.reply("GET", "/api/models/acme/model/revision/main", body={"sha": SHA[0]})
    server.reply("GET", "/api/models/acme/tok/revision/v1", body={"sha": SHA[1]})
    server.reply("GET", "/api/datasets/acme/data/revision/main", body={"sha": SHA[2]})
    json_config = '{"model_name_or_path": "acme/model", "revision": "main"}\n'
    files = {"config.yaml": CONFIG, "config.json": json_config}
    assert run(monkeypatch, tmp_path, files, "fix", "--select", "HUB001", ".") == 1
    assert (tmp_path / "config.yaml").read_text() == CONFIG_FIXED  # `dataset:` has no revision setting: left alone
    assert (tmp_path / "config.json").read_text() == json_config
    count = len(server.requests)
    assert main(["fix", "--select", "HUB001", "--format", "json", "--output", "left.json", "."]) == 1  # what cannot be fixed stays reported
    assert (tmp_path / "config.yaml").read_text() == CONFIG_FIXED
    left = json.loads((tmp_path / "left.json").read_text())["findings"]
    assert [(f["path"], f["line"], f["column"]) for f in left] == [("config.json", 1, 25), ("config.yaml", 6, 10)]
    assert len(server.requests) == count


def test_a_failed_commit_lookup_is_an_error_not_a_finding(monkeypatch, tmp_path, server, online_env, capsys):
    server.reply("GET", f"/api/models/acme/kept/revision/{GOOD}", 503)
    files = {"train.py": PINNED_FILES["train.py"].splitlines(keepends=True)[2]}
    assert run(monkeypatch, tmp_path, files, "check", "--online", "--select", "hub", "--format", "json", ".") == 1
    report = json.loads(capsys.readouterr().out)
    url = f"{server.url}/api/models/acme/kept/revision/{GOOD}"
    assert (report["findings"], report["errors"]) == (
        [],
        [{"path": "train.py", "message": f"line 1: GET {url}: HTTP 503 (after 4 attempts)"}],
    )


def test_fix_of_revision_none_names_the_default_branch(monkeypatch, tmp_path, server, online_env):
    """`revision=None` is the default branch: the pin's comment says `main`, not `None`."""
    hub(server)
    text = 'from transformers import AutoModel\nmodel = AutoModel.from_pretrained("bert-base-uncased", revision=None)\n'
    assert run(monkeypatch, tmp_path, {"train.py": text}, "fix", "--select", "HUB001", ".") == 1
    assert (tmp_path / "train.py").read_text() == text.replace("revision=None)", f'revision="{SHA[0]}")  # main')
