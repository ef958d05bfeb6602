"""Notebooks: `!` lines, `%pip` magics and `%%bash` cells."""

from __future__ import annotations

import json

from mlgate.pins import notebooks


def notebook(*cells: tuple[str, list[str]]) -> str:
    document = {
        "cells": [
            {"cell_type": kind, "metadata": {}, "source": source, **({"outputs": [], "execution_count": None} if kind == "code" else {})}
            for kind, source in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1)


def test_matches():
    assert notebooks.matches("notebooks/train.ipynb") and not notebooks.matches("train.py")


def test_shell_lines_and_cells(scan_tree):
    text = notebook(
        ("markdown", ["!pip install ignored-in-markdown\n"]),
        ("code", ["import torch\n", "!pip install -q transformers\n", "%pip install datasets==2.19.0\n"]),
        ("code", ["%%capture\n", "%conda install -y numpy\n", "x = 1\n"]),
        ("code", ["%%bash\n", "curl -fsSL https://get.example/i.sh | sh\n"]),
        ("code", ["!pip install torch=={version} {extra}\n", "print('!pip install not-a-command')\n"]),
    )
    scan = scan_tree({"nb.ipynb": text}, select="pins")
    lines = text.split("\n")
    transformers = next(i for i, line in enumerate(lines, 1) if "transformers" in line)
    numpy = next(i for i, line in enumerate(lines, 1) if "numpy" in line)
    curl = next(i for i, line in enumerate(lines, 1) if "curl" in line)
    assert scan.hits == [
        ("PIN001", "nb.ipynb", transformers, 17),
        ("PIN001", "nb.ipynb", numpy, 19),
        ("PIN011", "nb.ipynb", curl, 1),
    ]
    assert scan.messages("PIN001") == [
        "pip install: 'transformers' has no version pin: a new release, or a hijacked one, is installed without review (cell 2, line 2)",
        "conda install: conda package 'numpy' has no version pin (cell 3, line 2)",
    ]


def test_broken_notebook_is_an_error(scan_tree):
    scan = scan_tree({"nb.ipynb": "{not json!"}, select="pins")
    assert scan.hits == [] and [path for path, _ in scan.errors] == ["nb.ipynb"]


def test_notebook_without_shell_reports_nothing(scan_tree):
    text = notebook(("code", ["import subprocess\n", "subprocess.run(['pip', 'install', 'x'])\n"]))
    assert scan_tree({"nb.ipynb": text}, select="pins").hits == []


def test_a_tutorial_notebook_keeps_its_ranges_but_not_its_other_problems(scan_tree):
    text = notebook(("code", ["!pip install -Uq trl trackio\n", "!curl -fsSL https://get.example/i.sh | sh\n"]))
    scan = scan_tree({"examples/notebooks/sft.ipynb": text, "train.ipynb": text}, select="pins")
    lines = text.split("\n")
    pip = next(i for i, line in enumerate(lines, 1) if "trackio" in line)
    curl = next(i for i, line in enumerate(lines, 1) if "curl" in line)
    assert sorted(scan.hits) == [
        ("PIN001", "train.ipynb", pip, 18),
        ("PIN001", "train.ipynb", pip, 22),
        ("PIN011", "examples/notebooks/sft.ipynb", curl, 2),
        ("PIN011", "train.ipynb", curl, 2),
    ]
