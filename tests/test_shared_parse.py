"""One parse per file: every hook that reads a file shares one parse of it, and one error."""

from __future__ import annotations

import ast
import collections
import json
import os
import sys

import pytest

from mlgate import python_ast, python_flow, python_newer_syntax, yamlfile
from mlgate.files import ScanError, SourceFile
from workcount import count_calls

# Read by hub (a loader call), services (ray.init on all interfaces) and pins (not a manifest).
PYTHON = (
    'import ray\nfrom transformers import AutoModel\nray.init(dashboard_host="0.0.0.0")\nAutoModel.from_pretrained("acme-labs/model")\n'
)
# Read by pins (an image by tag), services (a published port) and hub (an image of a model).
COMPOSE = 'services:\n  web:\n    image: "ghcr.io/org/app:latest"\n    ports: ["8265:8265"]\n    command: ray start --head --dashboard-host=0.0.0.0\n'


@pytest.fixture
def parses(monkeypatch):
    """Parser calls by kind during the test."""
    counts: collections.Counter[str] = collections.Counter()
    real_parse, real_compose = ast.parse, yamlfile.compose_text

    def counted_parse(*args, **kwargs):
        counts["python"] += 1
        return real_parse(*args, **kwargs)

    def counted_compose(text):
        counts["yaml"] += 1
        return real_compose(text)

    monkeypatch.setattr(ast, "parse", counted_parse)
    monkeypatch.setattr(yamlfile, "compose_text", counted_compose)
    return counts


def test_a_python_file_read_by_two_hooks_is_parsed_once(scan_tree, parses):
    scan = scan_tree({"train.py": PYTHON})
    assert {hit[0][:3] for hit in scan.hits} == {"HUB", "SVC"}  # both hooks read it
    assert parses["python"] == 1


def test_a_compose_file_read_by_three_hooks_is_composed_once(scan_tree, parses):
    scan = scan_tree({"compose.yaml": COMPOSE})
    assert {"PIN", "SVC"} <= {hit[0][:3] for hit in scan.hits}
    assert parses["yaml"] == 1


def test_a_file_read_as_text_and_as_bytes_is_read_once(scan_tree, monkeypatch):
    """The models hook reads every file's bytes, the others its text: one read of the file for all."""
    opened: collections.Counter[str] = collections.Counter()
    real_open = os.open

    def counted_open(path, *args, **kwargs):
        opened[os.path.basename(path)] += 1
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", counted_open)
    scan = scan_tree({"compose.yaml": COMPOSE, "big.yaml": "# " + "x" * (3 << 19) + "\n"})  # 1.5 MB: mapped, not read, as bytes
    assert {"PIN", "SVC"} <= {hit[0][:3] for hit in scan.hits}
    assert opened["compose.yaml"] == 1
    assert opened["big.yaml"] == 1  # as text; the models hook maps it instead
    assert scan.errors == []


def test_a_file_that_does_not_parse_is_one_error_for_every_hook(scan_tree, parses):
    scan = scan_tree({"broken.py": 'ray.init(dashboard_host="0.0.0.0"\nAutoModel.from_pretrained("acme-labs/model"\n'})
    assert scan.hits == []
    assert scan.errors == [("broken.py", "not valid Python (line 2: '(' was never closed); not scanned")]
    assert parses["python"] == 1


def test_the_parse_is_cached_with_its_error_and_can_be_dropped(parses):
    source = SourceFile.from_text("x.py", "a = (\n")
    for _ in range(2):
        with pytest.raises(ScanError, match="never closed"):
            python_ast.module(source)
    assert parses["python"] == 1
    source.forget_parses()
    with pytest.raises(ScanError):
        python_ast.module(source)
    assert parses["python"] == 2


def test_all_nodes_is_ast_walk_in_the_same_order_without_expression_contexts():
    tree = ast.parse(PYTHON + "def f(x, *a, k=1, **kw):\n    del x\n    return [y async for y in x if y] or {**kw}\n")
    walked = list(ast.walk(tree))
    assert any(isinstance(node, ast.expr_context) for node in walked)
    assert python_ast.all_nodes(tree) == [node for node in walked if not isinstance(node, ast.expr_context)]


# Every kind of field `all_nodes` reads by its declared type: optional ones left empty, lists that hold
# None (`{**d}`, a keyword-only parameter without a default) or names (`global`), match patterns.
EVERY_FIELD = """
import a.b as c
from .m import n as k
from m import *
@decorator(x=1)
class C(Base, metaclass=M):
    x: int
    y: "str" = f"{a!r:>{width}}"
    def m(self, p, /, q, *args, r, s=2, **kw) -> None:
        global g
        def inner():
            nonlocal p
        return {**kw, "z": p}, {p for p in q}, (lambda t=1: t), q[1:2, ::3], not p, -q, p < q <= r
async def f():
    async with a as (b, [c, *d]), e:
        async for i in j:
            await i
            yield
    try:
        pass
    except (E, F) as err:
        raise X from err
    else:
        assert p, "m"
    finally:
        del p[0], q.r
    while (w := 1):
        break
    match point:
        case {"x": 0, **rest} | [1, *_] if guard:
            pass
        case Point(x=0, y=Other(z)) as named:
            pass
        case None | True | -1 | 1 + 2j | "s":
            pass
"""


def test_all_nodes_reads_every_kind_of_field_as_ast_walk_finds_it():
    for text in (EVERY_FIELD, ast.__spec__.loader.get_source("ast")):  # and a whole module of the standard library
        tree = ast.parse(text)
        assert python_ast.all_nodes(tree) == [node for node in ast.walk(tree) if not isinstance(node, ast.expr_context)]


# Read by hub (an unpinned loader) and models (torch.load of a path from the command line).
LOADS = (
    "import sys\nimport torch\nfrom transformers import AutoModel\n"
    'AutoModel.from_pretrained("acme-labs/model")\nstate = torch.load(sys.argv[1])\n'
)


@pytest.fixture
def collections_of_names(monkeypatch):
    """How many times the names of scanned Python were collected (`NameFlow.collect`, once per unit)."""
    counts = {"collect": 0}
    real_collect = python_flow.NameFlow.collect

    def counted_collect(self, module, index, owner):
        counts["collect"] += 1
        return real_collect(self, module, index, owner)

    monkeypatch.setattr(python_flow.NameFlow, "collect", counted_collect)
    return counts


def test_the_names_of_a_python_file_read_by_two_hooks_are_collected_once(scan_tree, parses, collections_of_names):
    scan = scan_tree({"train.py": LOADS})
    assert {hit[:3] for hit in scan.hits} == {("HUB001", "train.py", 4), ("MOD017", "train.py", 5)}  # both hooks followed names
    assert parses["python"] == 1
    assert collections_of_names["collect"] == 1


def test_the_cells_of_a_notebook_read_by_two_hooks_are_parsed_and_collected_once(scan_tree, parses, collections_of_names):
    """hub and models share each cell's parse and one flow over the cells (a cell that is not Python is
    parsed once too, and skipped by both)."""
    cells = [LOADS, "%%time\nx = 1\n", "!pip list\n", "not python (\n"]
    notebook = json.dumps({"cells": [{"cell_type": "code", "source": cell} for cell in cells], "nbformat": 4, "metadata": {}})
    scan = scan_tree({"train.ipynb": notebook})
    assert {hit[0] for hit in scan.hits} == {"HUB001", "MOD017"}
    assert parses["python"] == 3  # the three cells with Python in them (the `!pip` cell is blank as Python)
    assert collections_of_names["collect"] == 2  # the two that parse, in one flow


def test_a_shared_flow_owns_its_bindings_by_module():
    source = SourceFile.from_text("m.py", "x = 'acme/m'\nfor y in z:\n    pass\n")
    flow = python_flow.file_flow(source)
    assert flow is python_flow.file_flow(source)  # kept with the parse
    assert {name: [binding.owner for binding in bindings] for name, bindings in flow.bindings.items()} == {
        "x": [python_ast.module(source)],
        "y": [python_ast.module(source)],
    }


def test_character_positions_of_nodes_after_wide_characters():
    module = python_ast.parse_text('s = "é€😀"; t = "x"\n')
    target = [node for node in module.nodes if isinstance(node, ast.Constant) and node.value == "x"][0]
    assert module.position(target) == (1, 16)
    assert module.line(1)[module.offset(target) :] == '"x"'
    assert module.end_offset(target) == module.offset(target) + 3


def test_python_with_a_coding_line_is_read_in_that_encoding(scan_tree):
    """PEP 263: a latin-1 file is valid Python, and the interpreter reads it; other text must be UTF-8."""
    latin = '# -*- coding: latin-1 -*-\nauthor = "Jos\xe9"\nray.init(dashboard_host="0.0.0.0")\n'.encode("latin-1")
    undeclared = 'author = "Jos\xe9"\n'.encode("latin-1")
    scan = scan_tree({"serve.py": latin, "plain.py": undeclared, "requirements.txt": b"torch==2.1\n# Jos\xe9\n"})
    assert [hit[:3] for hit in scan.hits] == [("SVC001", "serve.py", 3)]
    assert scan.errors == [
        ("plain.py", "not valid UTF-8 (byte 13); not scanned"),
        ("requirements.txt", "not valid UTF-8 (byte 16); not scanned"),
    ]


PEP_695 = (
    "import ray, torch\n"
    "from transformers import AutoModel\n"
    "type Checkpoint = dict[str, object]\n"
    "type Pair[T] = tuple[T, T]\n"
    "def restore[T: (str, bytes)](path: T) -> Checkpoint:\n"
    "    return torch.load(path, weights_only=False)\n"
    "class Server[T = int]:  # PEP 696 default\n"
    "    def start(self) -> None:\n"
    '        ray.init(dashboard_host="0.0.0.0")\n'
    "def fetch[\n"
    "    T: str,  # a comment in the brackets\n"
    "](name: T):\n"
    '    return AutoModel.from_pretrained("acme-labs/model")\n'
)


def test_python_3_12_type_parameters_are_read_on_every_interpreter(scan_tree):
    """PEP 695 files (a project requiring Python 3.12) are valid Python: read on 3.10/3.11 too, every line where it is."""
    scan = scan_tree({"serve.py": PEP_695.encode(), "broken.py": b"import torch\ntype Alias = \ntorch.load(path)\n"})
    assert sorted(hit[:3] for hit in scan.hits) == [("HUB001", "serve.py", 13), ("MOD017", "serve.py", 6), ("SVC001", "serve.py", 9)]
    assert [error[0] for error in scan.errors] == ["broken.py"]  # a real syntax error stays one


PEP_701 = (
    "import torch\n"
    "from transformers import AutoModel\n"
    "lines = ['a', 'b']\n"
    "doc = f\"```{{toctree}}\\n{'\\n'.join(lines)}\\n```\"\n"  # a backslash inside the braces: 3.12 only
    "model = AutoModel.from_pretrained('acme-labs/llm')\n"
    "state = torch.load(path)\n"
)


def test_python_3_12_f_strings_are_read_on_every_interpreter(scan_tree):
    """llama-stack's `f"{'\\n'.join(toctree)}"` (PEP 701): the file is read, the f-string as a plain string."""
    scan = scan_tree({"gen.py": PEP_701, "broken.py": "x = f'{a}'\nimport torch\ntorch.load(p)\ndef (:\n"})
    assert sorted(hit[:3] for hit in scan.hits) == [("HUB001", "gen.py", 5), ("MOD017", "gen.py", 6)]
    assert [error[0] for error in scan.errors] == ["broken.py"]


def test_f_string_rewrite_keeps_lines_and_columns():
    text = 'a = f"{x!r}"\nb = rf"\\d{y}"\nc = "plain"\nd = Fr"""\n{z}\n"""\n'
    assert python_newer_syntax.without_fstring_expressions(text) == 'a =  "{x!r}"\nb =  r"\\d{y}"\nc = "plain"\nd =  r"""\n{z}\n"""\n'
    assert python_newer_syntax.without_fstring_expressions('x = "no f-string"\n') is None


def test_type_parameter_rewrite_keeps_lines_columns_and_byte_offsets():
    text = 'type Alias = int\ndef f[T](a="\xe9"): return g()\nclass C[\n  T,\r\n]: pass\n'
    rewritten = python_newer_syntax.without_type_parameters(text)
    assert rewritten == 'Alias      = int\ndef f   (a="\xe9"): return g()\nclass C\\\n   \\\r\n : pass\n'
    assert python_newer_syntax.without_type_parameters("x = type(a)\ntype = 3\n") is None
    assert python_newer_syntax.without_type_parameters("def f[\n\n  T](a): pass\n") is None  # no character to carry the break
    data = text.encode()
    if sys.version_info < (3, 12):
        tree = python_ast.parse(data)
        call = [node for node in ast.walk(tree) if isinstance(node, ast.Call)][0]
        assert (call.lineno, call.col_offset) == (2, 25)  # a byte offset: the UTF-8 é counts two


def test_utf16_and_utf32_text_with_a_byte_order_mark_is_read_as_pip_reads_it(scan_tree):
    """`pip freeze > requirements.txt` in Windows PowerShell writes UTF-16 LE with a BOM; pip, json
    and YAML read it. Python does not run UTF-16 source: a .py so written stays unreadable."""
    requirements = "torch==2.1\r\nnumpy\r\n"
    scan = scan_tree(
        {
            "requirements.txt": requirements.encode("utf-16"),
            "big/requirements.txt": requirements.encode("utf-16-be").join([b"\xfe\xff", b""]),
            "wide/requirements.txt": requirements.encode("utf-32"),
            "serve.py": 'ray.init(dashboard_host="0.0.0.0")\n'.encode("utf-16"),
        }
    )
    assert sorted(hit[:3] for hit in scan.hits) == [
        ("PIN001", "big/requirements.txt", 2),
        ("PIN001", "requirements.txt", 2),
        ("PIN001", "wide/requirements.txt", 2),
    ]
    assert [error[0] for error in scan.errors] == ["serve.py"]


def test_name_lookups_cost_the_same_whatever_the_number_of_functions():
    """A name bound in every one of thousands of functions: each use finds its own by bisection
    (the scan was quadratic: every lookup passed over every binding of the name)."""

    def lookups(functions: int) -> int:
        text = "".join(f"def f{i}(a):\n    x = 'org/m{i}'\n    return load(x, a)\n" for i in range(functions))
        module = python_ast.parse_text(text)
        flow = python_flow.NameFlow()
        flow.collect(module, 0, module)

        def every_use() -> None:
            for i in range(functions):
                assert flow.binding("x", (0, 3 * i + 3, 11)).key == (0, 3 * i + 2, 4)
                assert flow.binding("a", (0, 3 * i + 3, 11)) is None  # the parameter: the caller's value

        return count_calls(every_use)[1]

    small, large = lookups(200), lookups(1600)
    assert large <= 10 * small  # 8x the functions: linear, with room for bisection's logarithm
