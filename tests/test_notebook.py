"""Notebook cells map back to lines of the .ipynb file."""

import json

import pytest

from mlgate.files import ScanError, SourceFile
from mlgate.notebook import code_cells

NOTEBOOK = json.dumps(
    {
        "cells": [
            {"cell_type": "markdown", "source": ["# title\n"]},
            {"cell_type": "code", "source": ["import os\n", "!pip install torch\n"]},
            {"cell_type": "code", "source": "x = 1\ny = 'é'"},
        ],
        "nbformat": 4,
    },
    indent=1,
    ensure_ascii=False,
)


def test_cells_and_positions():
    source = SourceFile.from_text("n.ipynb", NOTEBOOK)
    first, second = code_cells(source)
    assert (first.number, second.number) == (2, 3)
    line, column, cell_line = first.locate(first.text.index("torch"))
    assert source.lines[line - 1].strip() == '"!pip install torch\\n"'
    assert (column, cell_line) == (14, 2)
    line, _, cell_line = second.locate(second.text.index("y ="))
    assert source.lines[line - 1].strip() == '"source": "x = 1\\ny = \'é\'"'
    assert cell_line == 2


@pytest.mark.parametrize(
    ("text", "message"), [("{", "invalid notebook JSON"), ("[]", "not a Jupyter notebook"), ('{"cells": 3}', "not a Jupyter notebook")]
)
def test_not_a_notebook(text, message):
    with pytest.raises(ScanError, match=message):
        code_cells(SourceFile.from_text("n.ipynb", text))


def test_deeply_nested_json_is_an_error():
    with pytest.raises(ScanError):
        code_cells(SourceFile.from_text("n.ipynb", "[" * 100000 + "]" * 100000))
