"""One parse per file: every hook that reads a file shares one parse of it, and one error."""

from __future__ import annotations

import ast
import collections
import os

import pytest

from mlgate import python_ast, yamlfile
from mlgate.files import ScanError, SourceFile

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
