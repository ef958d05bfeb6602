"""Names in scanned Python followed statically: imports, assignments and constants (never run).

Shared by the hooks that read Python with `ast` (`hub` for where a hub reference flows,
`models` for where a loaded file comes from). A `NameFlow` covers one file, or every code
cell of a notebook (cells share a namespace), and knows:

- import aliases: `import transformers as tf`, `from torch import load as tload`, so a call is
  matched on its fully qualified name (`qualified`);
- the assignments of each name, in order (`binding`): the latest one before a use, else the
  first one after it (a function body reading a constant defined below it); tuple unpacking,
  loop targets and `+=` are bindings whose value is not followed; `with open(p) as f` keeps
  what was opened;
- the string (and bool) constant an expression statically is (`literal`): constants, `+`
  concatenations, f-strings of constants, `os.getenv("X", "default")`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from mlgate import python_ast

UNKNOWN = object()  # a value that cannot be read statically
MAX_RESOLVE_DEPTH = 8
ENV_GETTERS = frozenset({"os.getenv", "os.environ.get"})
Key = tuple[int, int, int]  # (unit index, line, column): where in a file (or a notebook's cells) a node is


@dataclass
class Binding:
    key: Key  # where the assignment is
    value: ast.expr | None  # None: not a value we can follow (loop target, tuple unpacking, +=, `with ... as`)
    owner: Any  # the unit of text the assignment is in (a file, a notebook cell)
    opened: ast.expr | None = None  # `with open(p) as f`: the expression `f` was opened from


class NameFlow:
    """Aliases and bindings of one file (or notebook), and the static values they give names."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self.bindings: dict[str, list[Binding]] = {}
        self.mutated: set[str] = set()  # names of dicts (and other objects) written through `x[k] = ...`

    def add_import(self, node: ast.Import | ast.ImportFrom) -> None:
        """The aliases an import binds (`import transformers as tf`)."""
        for name, imported in python_ast.imported_names(node):
            if imported is not None and name != "*":
                self.aliases[name] = imported

    def add_binding(self, node: ast.AST, index: int, owner: Any) -> None:
        """The names a statement (or comprehension) assigns, with the value when it is one expression."""
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self.bind(target, node.value, node, index, owner)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            self.bind(node.target, node.value if isinstance(node, ast.AnnAssign) else None, node, index, owner)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            self.bind(node.target, None, node if not isinstance(node, ast.comprehension) else node.target, index, owner)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, None, node, index, owner, opened=item.context_expr)

    def collect(self, nodes: list[ast.AST], index: int, owner: Any) -> None:
        """Every import and binding among `nodes` (a unit's nodes, in `python_ast.all_nodes` order)."""
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self.add_import(node)
            else:
                self.add_binding(node, index, owner)

    def bind(
        self, target: ast.expr, value: ast.expr | None, where: ast.stmt | ast.expr, index: int, owner: Any, opened: ast.expr | None = None
    ) -> None:
        if isinstance(target, ast.Name):
            key = (index, where.lineno, where.col_offset)
            self.bindings.setdefault(target.id, []).append(Binding(key, value, owner, opened))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.bind(element, None, where, index, owner)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, None, where, index, owner)
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            self.mutated.add(target.value.id)

    def binding(self, name: str, at: Key, within: tuple[int, int, int] | None = None) -> Binding | None:
        """The assignment of `name` that holds at `at`: the latest before it, else the first after it.
        `within` (unit index, first line, last line) keeps only assignments in that range (a function)."""
        bindings = self.bindings.get(name)
        if not bindings:
            return None
        if within is not None:
            index, first, last = within
            bindings = [binding for binding in bindings if binding.key[0] == index and first <= binding.key[1] <= last]
            if not bindings:
                return None
        ordered = sorted(bindings, key=lambda binding: binding.key)
        before = [binding for binding in ordered if binding.key <= at]
        return before[-1] if before else ordered[0]

    def qualified(self, node: ast.expr) -> str | None:
        """The dotted name of an expression with import aliases resolved (`tf.AutoModel` ->
        `transformers.AutoModel`); a call in the chain is `name()` and anything else `_`."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            base = self.aliases.get(node.id, node.id)
        elif isinstance(node, ast.Call):
            base = (self.qualified(node.func) or "_") + "()"
        else:
            base = "_"
        return ".".join([base, *reversed(parts)])

    def literal(self, node: ast.expr | None, at: Key, depth: int = 0) -> object:
        """The str/bool/None a node statically is, or UNKNOWN; follows constants."""
        if node is None or depth > MAX_RESOLVE_DEPTH:
            return UNKNOWN
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, (str, bool)) or node.value is None else UNKNOWN
        if isinstance(node, ast.Name):
            binding = self.binding(node.id, at)
            if binding is None or binding.value is None:
                return UNKNOWN
            return self.literal(binding.value, binding.key, depth + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.literal(node.left, at, depth + 1), self.literal(node.right, at, depth + 1)
            return left + right if isinstance(left, str) and isinstance(right, str) else UNKNOWN
        if isinstance(node, ast.JoinedStr):  # f"{ORG}/{NAME}" with both constants
            parts = [
                self.literal(
                    part.value if isinstance(part, ast.FormattedValue) and part.format_spec is None and part.conversion == -1 else part,
                    at,
                    depth + 1,
                )
                for part in node.values
            ]
            strings = [part for part in parts if isinstance(part, str)]
            return "".join(strings) if len(strings) == len(parts) else UNKNOWN
        # `os.getenv("X", "ns/m")`, `kwargs.get("model_id", "ns/m")`: the default when nothing is set
        if (
            isinstance(node, ast.Call)
            and len(node.args) == 2
            and not node.keywords
            and (self.qualified(node.func) in ENV_GETTERS or (isinstance(node.func, ast.Attribute) and node.func.attr == "get"))
        ):
            return self.literal(node.args[1], at, depth + 1)
        return UNKNOWN

    def source_node(self, node: ast.expr | None, at: Key) -> ast.expr | None:
        """The expression a Name was last assigned (followed through names), else the node itself."""
        for _ in range(MAX_RESOLVE_DEPTH):
            if not isinstance(node, ast.Name):
                return node
            binding = self.binding(node.id, at)
            if binding is None or binding.value is None:
                return node
            node, at = binding.value, binding.key
        return node
