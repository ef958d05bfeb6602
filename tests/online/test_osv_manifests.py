"""PIN030/PIN031 beyond requirements files: exact pins in every manifest and in `pip install`
commands are looked up in OSV (a fake API on 127.0.0.1); ranges, variables and conda specs are not."""

from __future__ import annotations

import json

from osvdata import TORCH

from httpfake import online_env, server  # noqa: F401  (fixtures)

TORCH_QUERY = {"queries": [{"package": {"name": "torch", "ecosystem": "PyPI"}, "version": "2.5.1"}]}
ADVISORY = (
    "torch 2.5.1 has advisories that let a model file run code when it is loaded: GHSA-53q9-r3pm-6pq6 (CVE-2025-32434), "
    "critical, fixed in 2.6.0: PyTorch: `torch.load` with `weights_only=True` leads to remote code execution"
)

MANIFESTS = {
    "pyproject.toml": (
        '[build-system]\nrequires = ["setuptools>=61"]\n\n'
        '[project]\nname = "demo"\ndependencies = ["torch==2.5.1", "numpy>=1"]\n\n'
        "[dependency-groups]\ndev = [\"Torch == 2.5.1 ; python_version >= '3.10'\"]\n\n"
        '[tool.poetry.dependencies]\npython = "^3.10"\ntorch = "2.5.1"\nnumpy = "^1.26"\n'
        'transformers = { version = "4.40.0", git = "https://github.com/huggingface/transformers" }\n\n'
        '[tool.poetry.group.gpu.dependencies]\ntorch = { version = "==2.5.1", source = "pytorch" }\n'
    ),
    "setup.py": 'from setuptools import setup\nsetup(name="demo", install_requires=["numpy", "torch==2.5.1"])\n',
    "setup.cfg": "[options]\ninstall_requires =\n    numpy\n    torch==2.5.1\n",
    "Pipfile": '[packages]\ntorch = "==2.5.1"\nnumpy = "*"\n\n[dev-packages]\ntorch = {version = "==2.5.1", index = "pypi"}\n',
    "Pipfile.lock": json.dumps(
        {
            "_meta": {"sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}]},
            "default": {"torch": {"version": "==2.5.1", "hashes": ["sha256:" + "a" * 64]}},
            "develop": {"tool": {"git": "https://github.com/o/tool", "ref": "b" * 40}},
        },
        indent=1,
    )
    + "\n",
}
COMMANDS = {
    "Dockerfile": 'FROM python:3.11\nRUN pip install "numpy>=1" torch==$TORCH_VERSION torch==2.5.1 && conda install numpy==1.26.4\n',
    ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          python -m pip install -U torch==2.5.1\n",
    "scripts/setup.sh": "#!/bin/sh\nuv pip install 'torch==2.5.1'\n",
    "explore.ipynb": json.dumps({"cells": [{"cell_type": "code", "source": ["!pip install torch==2.5.1\n"]}]}),
}


def osv_api(server) -> None:
    server.reply("POST", "/v1/querybatch", body={"results": [{"vulns": [{"id": "GHSA-53q9-r3pm-6pq6"}]}]})
    server.reply("GET", "/v1/vulns/GHSA-53q9-r3pm-6pq6", body=TORCH)


def test_exact_pins_of_every_manifest_are_looked_up(scan_tree, server, online_env):
    osv_api(server)
    scan = scan_tree(MANIFESTS, select="PIN031", online=True)
    assert scan.errors == []
    assert scan.hits == [
        ("PIN031", "Pipfile", 2, 1),
        ("PIN031", "Pipfile", 6, 1),
        ("PIN031", "Pipfile.lock", 12, 4),
        ("PIN031", "pyproject.toml", 6, 18),
        ("PIN031", "pyproject.toml", 9, 9),
        ("PIN031", "pyproject.toml", 13, 1),
        ("PIN031", "pyproject.toml", 18, 1),
        ("PIN031", "setup.cfg", 4, 5),
        ("PIN031", "setup.py", 2, 48),
    ]
    assert scan.messages("PIN031") == [ADVISORY] * 4 + [ADVISORY.replace("torch", "Torch", 1)] + [ADVISORY] * 4  # the name as written
    assert [request.json() for request in server.requests if request.method == "POST"] == [TORCH_QUERY]


def test_exact_pins_of_install_commands_are_looked_up(scan_tree, server, online_env):
    osv_api(server)
    scan = scan_tree(COMMANDS, select="PIN031", online=True)
    assert scan.errors == []
    assert scan.hits == [
        ("PIN031", ".github/workflows/ci.yml", 7, 36),
        ("PIN031", "Dockerfile", 2, 50),
        ("PIN031", "explore.ipynb", 1, 14),
        ("PIN031", "scripts/setup.sh", 2, 17),
    ]
    assert scan.messages("PIN031") == [ADVISORY, ADVISORY, f"{ADVISORY} (cell 1, line 1)", ADVISORY]
    assert [request.json() for request in server.requests if request.method == "POST"] == [TORCH_QUERY]


def test_offline_the_same_files_send_nothing(scan_tree, server, online_env):
    osv_api(server)
    scan = scan_tree({**MANIFESTS, **COMMANDS}, select="PIN031")
    assert (scan.hits, server.requests) == ([], [])
