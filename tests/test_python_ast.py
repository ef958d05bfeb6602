"""Scanned Python never reaches stderr: parsing it must not print the parser's warnings.

`ast.parse` warns about invalid escape sequences (a SyntaxWarning from Python 3.12, a
DeprecationWarning before) and the default handler prints the warning with the source line:
in the GitHub Action that line lands in the job log, where the runner reads workflow commands.
The tests force every warning on (`-W always`, as PYTHONWARNINGS could) so they fail on any
Python version if a parse of scanned code is not silenced, and also with `-W error`, which
would otherwise turn the warning into a SyntaxError: a file mlgate could not read.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings

import pytest

from conftest import write_tree
from mlgate import python_ast

ESCAPES = 'PATTERN = "\\d+"  # ::error::injected ##[add-mask]secret\n'

TREE = {
    "setup.py": ESCAPES + 'setup(install_requires=["torch>=2"])\n',
    "train.py": ESCAPES + 'from transformers import AutoModel\nmodel = AutoModel.from_pretrained("acme-labs/model")\n',
    "serve.py": ESCAPES + 'import subprocess\nsubprocess.run(["jupyter", "notebook", "--ip", "0.0.0.0", "--NotebookApp.token="])\n',
    "jupyter_notebook_config.py": ESCAPES + "c.NotebookApp.token = ''\nc.NotebookApp.ip = '0.0.0.0'\n",
    # a setup.py is a library, whose ranges are fine by default: ask for exact pins so it is read and reported
    ".mlgate.yaml": "pins:\n  ranges: never\n",
}
EXPECTED = [
    "jupyter_notebook_config.py:2:24: SVC002",
    "serve.py:3:80: SVC002",
    "setup.py:2:26: PIN001",
    "train.py:3:35: HUB001",
]


def test_the_fixture_makes_ast_parse_warn():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ast.parse(ESCAPES)
    assert [str(warning.message) for warning in caught] == ["invalid escape sequence '\\d'"]


@pytest.mark.parametrize("action", ["always", "error"])
def test_parse_neither_warns_nor_fails(action, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter(action)
        tree = python_ast.parse(ESCAPES, filename="setup.py")
    assert isinstance(tree.body[0], ast.Assign)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("action", ["always", "error"])
def test_a_scan_prints_nothing_of_the_scanned_code_to_stderr(tmp_path, action):
    write_tree(tmp_path, TREE)
    done = subprocess.run(
        [sys.executable, "-W", action, "-m", "mlgate", "check", "--select", "pins,hub,services", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stderr == ""
    # the report's entries, most severe first; the last such line is the summary
    assert sorted([line.split(" [")[0] for line in done.stdout.splitlines() if ": " in line and not line.startswith(" ")][:-1]) == EXPECTED
    assert done.returncode == 1


def test_name_flow_resolves_aliases_assignments_and_opened_files():
    from mlgate.python_flow import UNKNOWN, NameFlow

    source = (
        "from torch import load as tload\nimport numpy as np\nNAME = 'm' + '.pt'\n"
        "def f(path):\n    x = path\n    with open(NAME, 'rb') as fh:\n        tload(fh)\n"
    )
    module = python_ast.parse_text(source)
    flow = NameFlow()
    flow.collect(module, 0, None)
    call = next(node for node in module.nodes if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tload")
    assert flow.qualified(call.func) == "torch.load"
    assert flow.qualified(ast.parse("np.load").body[0].value) == "numpy.load"
    at = (0, call.lineno, call.col_offset)
    assert flow.literal(ast.Name("NAME"), at) == "m.pt"
    handle = flow.binding("fh", at)
    assert handle is not None and handle.value is None and flow.literal(handle.opened.args[0], at) == "m.pt"
    assert flow.binding("x", at, within=(0, 1, 3)) is None and flow.binding("x", at, within=(0, 4, 7)) is not None
    assert flow.literal(ast.Name("x"), at) is UNKNOWN  # a parameter: not a literal


def test_of_type_is_the_walk_order_of_those_types():
    module = python_ast.parse_text("import os\nx = f(1)\nfrom a import b\ndef g():\n    import sys\n    y = h()\n")
    walked = [node for node in module.nodes if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert module.of_type(ast.Import, ast.ImportFrom) == walked  # merged in `nodes` order, not type by type
    assert [type(node) for node in walked] == [ast.Import, ast.ImportFrom, ast.Import]
    assert module.of_type(ast.Call) == [node for node in module.nodes if isinstance(node, ast.Call)]
    assert module.of_type(ast.ClassDef) == [] and module.of_type(ast.ClassDef, ast.Lambda) == []
