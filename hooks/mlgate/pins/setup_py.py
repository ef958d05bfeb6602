"""`setup.py`: the requirement keywords of `setup(...)`, read with `ast` and never run.

Values may be list or tuple literals, module-level names bound to them (also through
`a + b`, `*a` and `+=`), and for `extras_require` a dict of such lists. Anything computed
(reading a requirements file, a comprehension) is out of reach and left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from mlgate import python_ast
from mlgate.files import ScanError, SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.pins.pinned import note_pin
from mlgate.pins.requirement import check_requirement, place, ranges_accepted, without_ranges

if TYPE_CHECKING:
    import ast

LIST_KEYWORDS = {"install_requires", "setup_requires", "tests_require"}
STRING_PREFIX = "rRbBuUfF"


def matches(path: str) -> bool:
    return path.rsplit("/", 1)[-1] == "setup.py"


class Bindings:
    """What module-level names are bound to, so `install_requires=REQUIRED` can be followed."""

    def __init__(self, module: ast.Module):
        import ast

        self.values: dict[str, list[ast.expr]] = {}
        pending = list(module.body)
        while pending:
            node = pending.pop()
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.values.setdefault(target.id, []).append(node.value)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name) and node.value:
                self.values.setdefault(node.target.id, []).append(node.value)
            elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For)):  # still module level
                for block in ("body", "orelse", "finalbody", "handlers"):
                    pending.extend(getattr(node, block, []))
            elif isinstance(node, ast.ExceptHandler):
                pending.extend(node.body)

    def strings(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> Iterator[ast.Constant]:
        """The string literals a list-valued expression is made of."""
        import ast

        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            for element in node.elts:
                yield from self.strings(element.value if isinstance(element, ast.Starred) else element, seen)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            yield from self.strings(node.left, seen)
            yield from self.strings(node.right, seen)
        elif isinstance(node, ast.Name) and node.id not in seen:
            for value in self.values.get(node.id, []):
                yield from self.strings(value, seen | {node.id})

    def dict_values(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> Iterator[ast.expr]:
        import ast

        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                yield from (self.dict_values(value, seen) if key is None else [value])  # `**other`
        elif isinstance(node, ast.Name) and node.id not in seen:
            for value in self.values.get(node.id, []):
                yield from self.dict_values(value, seen | {node.id})


def setup_calls(module: ast.Module) -> Iterator[ast.Call]:
    import ast

    for node in python_ast.all_nodes(module):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name == "setup":
                yield node


def requirement_strings(module: ast.Module) -> Iterator[ast.Constant]:
    bindings = Bindings(module)
    for call in setup_calls(module):
        for keyword in call.keywords:
            if keyword.arg in LIST_KEYWORDS:
                yield from bindings.strings(keyword.value)
            elif keyword.arg == "extras_require":
                for value in bindings.dict_values(keyword.value):
                    yield from bindings.strings(value)


def string_start(source: SourceFile, node: ast.Constant) -> tuple[int, int]:
    """(line, column) of the first character inside the quotes (ast counts UTF-8 bytes)."""
    line = source.line_text(node.lineno)
    column = python_ast.char_column(line, node.col_offset)
    while column < len(line) and line[column] in STRING_PREFIX:
        column += 1
    quote = line[column : column + 3]
    column += 3 if quote in ('"""', "'''") else 1
    return node.lineno, column + 1


def scan(source: SourceFile, context: ScanContext) -> Iterator[Finding]:
    accepted = ranges_accepted(source, context, library=True)  # it builds a distribution (mlgate.pins.project)
    try:
        nodes = list(requirement_strings(python_ast.module(source).tree))
    except RecursionError:
        raise ScanError("expressions nested too deeply to follow; not scanned") from None
    for node in nodes:
        text = node.value
        if not isinstance(text, str) or "\n" in text:  # (`strings` yields only str constants)
            continue  # a multi-line string is not one requirement
        for problem in without_ranges(check_requirement(text), accepted):
            yield place(problem, source.path, *string_start(source, node))
        if context.online:  # looked up in OSV after the scan
            note_pin(context, text, source.path, *string_start(source, node))


SCANNER = Scanner("setup_py", matches=matches, scan=scan)
