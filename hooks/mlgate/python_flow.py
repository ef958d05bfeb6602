"""Names in scanned Python followed statically: imports, assignments and constants (never run).

Shared by the hooks that read Python with `ast` (`hub` for where a hub reference flows,
`models` for where a loaded file comes from). A `NameFlow` covers one file, or every code
cell of a notebook (cells share a namespace), and knows:

- import aliases: `import transformers as tf`, `from torch import load as tload`, so a call is
  matched on its fully qualified name (`qualified`);
- the assignments of each name, in order (`binding`): the latest one before a use, else the
  first one after it (a function body reading a constant defined below it), looked for in the
  innermost function around the use first, then in the functions around it, then at module
  level: a function's parameter hides any assignment outside it (its value is the caller's), and
  a local of one function is never another function's value; tuple unpacking,
  loop targets and `+=` are bindings whose value is not followed; `with open(p) as f` keeps
  what was opened;
- the string (and bool) constant an expression statically is (`literal`): constants, `+`
  concatenations, f-strings of constants, `os.getenv("X", "default")`.

A file's flow is collected once and shared by every hook that reads it (`file_flow`,
`notebook_flow`, kept with the file's one parse); a binding's `owner` is then the
`PythonModule` (file or cell) it is in. A shared flow is read, never changed (but for the
names `qualified` keeps, the same for every reader).
"""

from __future__ import annotations

import ast
import bisect
import sys
from dataclasses import dataclass
from typing import Any

from mlgate import notebook, python_ast
from mlgate.files import SourceFile

UNKNOWN = object()  # a value that cannot be read statically
MAX_RESOLVE_DEPTH = 8
ENV_GETTERS = frozenset({"os.getenv", "os.environ.get"})
# Methods that change the object they are called on: a dict changed so is not followed as written.
MUTATORS = frozenset({"update", "setdefault", "pop", "__setitem__", "clear"})
_IMPORTS = (ast.Import, ast.ImportFrom)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_BINDERS = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.comprehension, ast.With, ast.AsyncWith)
Key = tuple[int, int, int]  # (unit index, line, column): where in a file (or a notebook's cells) a node is


@dataclass
class Scope:
    """A function (or lambda) of a unit: where it starts and ends, its parameters' names, and the
    innermost function around it (functions nest: a use's functions are found along these links)."""

    start: tuple[int, int]  # (line, column)
    end: tuple[int, int]
    parameters: frozenset[str]
    parent: Scope | None = None
    text_defaults: tuple[tuple[str, str], ...] = ()  # (parameter, its default) where the default is a string

    def holds(self, key: Key) -> bool:
        return self.start <= key[1:] <= self.end


def _nested(scopes: list[Scope]) -> list[Scope]:
    """`scopes` by where they start, each linked to the innermost one around it."""
    scopes.sort(key=lambda scope: scope.start)
    open_scopes: list[Scope] = []
    for scope in scopes:
        while open_scopes and not open_scopes[-1].end >= scope.end:
            open_scopes.pop()
        scope.parent = open_scopes[-1] if open_scopes else None
        open_scopes.append(scope)
    return scopes


def _scope(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> Scope:
    arguments = node.args
    names = [arg.arg for arg in arguments.posonlyargs + arguments.args + arguments.kwonlyargs]
    names += [arg.arg for arg in (arguments.vararg, arguments.kwarg) if arg is not None]
    end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
    texts = tuple(
        (arg.arg, default.value)
        for arg, default in parameter_defaults(arguments)
        if isinstance(default, ast.Constant) and isinstance(default.value, str)
    )
    return Scope((node.lineno, node.col_offset), end, frozenset(names), text_defaults=texts)


def parameter_defaults(arguments: ast.arguments) -> list[tuple[ast.arg, ast.expr]]:
    """(parameter, its default) of every parameter that has one: ast gives the defaults of the last
    positional parameters, and one (None when there is none) per keyword-only parameter."""
    positional = arguments.posonlyargs + arguments.args
    pairs = list(zip(positional[len(positional) - len(arguments.defaults) :], arguments.defaults, strict=True))
    return pairs + [(arg, default) for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True) if default is not None]


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
        self.mutated: set[str] = set()  # names of dicts (and other objects) written through `x[k] = ...` or `x.update(...)`
        # attribute -> what `self.<attribute> = value` assigns it, anywhere in the file (`self._model = model`)
        self.attributes: dict[str, list[Binding]] = {}
        self.scopes: dict[int, list[Scope]] = {}  # unit index -> its functions, by where they start
        # name -> its bindings ordered by place (and their keys), and those outside every function: made once per name
        self._ordered: dict[str, tuple[list[Key], list[Binding], list[Key], list[Binding]]] = {}
        # `qualified` by node, once every import is collected: asked of each call by both hooks, several times
        self.qualified_names: dict[int, str | None] = {}

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

    def collect(self, module: python_ast.PythonModule, index: int, owner: Any) -> None:
        """Every import, binding and mutating call of a parsed unit (a file, a cell), in
        `python_ast.all_nodes` order, from the parse's index by type."""
        for call in module.of_type(ast.Call):
            func = call.func  # type: ignore[attr-defined]
            if type(func) is ast.Attribute and func.attr in MUTATORS and type(func.value) is ast.Name:
                self.mutated.add(func.value.id)
        self.scopes[index] = _nested([_scope(node) for node in module.of_type(*_FUNCTIONS)])  # type: ignore[arg-type]
        for node in module.of_type(*_BINDERS):
            self.add_binding(node, index, owner)
        for node in module.of_type(*_IMPORTS):
            self.add_import(node)  # type: ignore[arg-type]

    def bind(
        self, target: ast.expr, value: ast.expr | None, where: ast.stmt | ast.expr, index: int, owner: Any, opened: ast.expr | None = None
    ) -> None:
        if isinstance(target, ast.Name):
            key = (index, where.lineno, where.col_offset)
            self.bindings.setdefault(target.id, []).append(Binding(key, value, owner, opened))
            self._ordered.pop(target.id, None)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.bind(element, None, where, index, owner)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, None, where, index, owner)
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            self.mutated.add(target.value.id)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
            self.attributes.setdefault(target.attr, []).append(Binding((index, where.lineno, where.col_offset), value, owner))

    def binding(self, name: str, at: Key, within: tuple[int, int, int] | None = None) -> Binding | None:
        """The assignment of `name` that holds at `at`: the latest before it, else the first after it,
        among those the use can see (below). `within` (unit index, first line, last line) keeps
        only assignments in that range (a function) instead. Found by bisection: a name bound in
        thousands of functions costs a few steps per use, not a pass over all its bindings."""
        keys, ordered, module_keys, module = self._ordered_bindings(name)
        if not ordered:
            return None
        if within is not None:
            index, first, last = within
            return _latest(
                keys, ordered, bisect.bisect_left(keys, (index, first)), bisect.bisect_right(keys, (index, last, sys.maxsize)), at
            )
        if not self.scopes.get(at[0]):
            return _latest(keys, ordered, 0, len(keys), at)  # no function in this unit: every binding is at module level
        # the innermost function around the use that binds the name; none when a function around it
        # has the name as a parameter first (the caller's value); else the module's own bindings
        for scope in self.enclosing(at):
            low = bisect.bisect_left(keys, (at[0], *scope.start))
            high = bisect.bisect_right(keys, (at[0], *scope.end))
            if low < high:
                return _latest(keys, ordered, low, high, at)
            if name in scope.parameters:
                return None
        return _latest(module_keys, module, 0, len(module_keys), at)

    def parameter_of(self, name: str, at: Key) -> Scope | None:
        """The innermost function around `at` that has `name` as a parameter, or None: where `binding`
        finds no assignment, the name's value there is that function's caller's."""
        return next((scope for scope in self.enclosing(at) if name in scope.parameters), None)

    def _ordered_bindings(self, name: str) -> tuple[list[Key], list[Binding], list[Key], list[Binding]]:
        found = self._ordered.get(name)
        if found is None:
            ordered = sorted(self.bindings.get(name, ()), key=lambda binding: binding.key)
            module = [binding for binding in ordered if not self.enclosing(binding.key)]
            found = self._ordered[name] = ([binding.key for binding in ordered], ordered, [binding.key for binding in module], module)
        return found

    def enclosing(self, key: Key) -> list[Scope]:
        """The functions around `key`, innermost first: from the last function to start before it,
        up its links (as deep as the nesting, whatever the number of functions)."""
        scopes = self.scopes.get(key[0], [])
        position = bisect.bisect_right(scopes, key[1:], key=lambda scope: scope.start)
        scope = scopes[position - 1] if position else None
        while scope is not None and not scope.holds(key):
            scope = scope.parent
        found = []
        while scope is not None:
            found.append(scope)
            scope = scope.parent
        return found

    def qualified(self, node: ast.expr) -> str | None:
        """The dotted name of an expression with import aliases resolved (`tf.AutoModel` ->
        `transformers.AutoModel`); a call in the chain is `name()` and anything else `_`. Kept by
        node (nodes of the flow's parses, which outlive it): ask only once the imports are collected."""
        key = id(node)
        if key not in self.qualified_names:
            self.qualified_names[key] = self._qualified(node)
        return self.qualified_names[key]

    def _qualified(self, node: ast.expr) -> str | None:
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


def _latest(keys: list[Key], bindings: list[Binding], low: int, high: int, at: Key) -> Binding | None:
    """Of `bindings[low:high]` (ordered by place), the latest at or before `at`, else the first."""
    if low >= high:
        return None
    position = bisect.bisect_right(keys, at, low, high)
    return bindings[position - 1] if position > low else bindings[low]


def _file_flow(source: SourceFile) -> NameFlow:
    parsed = python_ast.module(source)
    flow = NameFlow()
    flow.collect(parsed, 0, parsed)
    return flow


def file_flow(source: SourceFile) -> NameFlow:
    """The flow of a Python file (unit 0, owner its `python_ast.module`), collected once with its
    one parse for every hook that reads it; raises ScanError as `python_ast.module` does."""
    return source.parsed(_file_flow)


def _notebook_flow(source: SourceFile) -> NameFlow:
    flow = NameFlow()
    for cell in notebook.python_cells(source):
        if cell.module is not None:
            flow.collect(cell.module, cell.index, cell.module)
    return flow


def notebook_flow(source: SourceFile) -> NameFlow:
    """The flow of a notebook's Python cells (one namespace; unit `index` of each
    `notebook.python_cells` entry, owner its module), collected once for every hook."""
    return source.parsed(_notebook_flow)
