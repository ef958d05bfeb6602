"""Scanned Python, parsed once per file into what every hook needs (never run, never imported).

`ast.parse` warns about what it reads (`invalid escape sequence`, a SyntaxWarning on Python
3.12 and later, a DeprecationWarning before), and the default warning handler prints the
warning with the offending source line to stderr. In the GitHub Action, stderr is the job log,
which the runner reads for workflow commands: scanned code must never reach it. So every parse
of scanned code goes through here, with warnings silenced for its duration.

`module(source)` is the one parse of a file, shared by the hooks (cached on the `SourceFile`);
`parse_text` parses other Python text (a notebook cell, an archive member) the same way. Both
raise `ScanError` with one message per kind of failure.
"""

from __future__ import annotations

import ast
import bisect
import functools
import gc
import itertools
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from mlgate.files import InvalidText, SourceFile
from mlgate.python_newer_syntax import without_fstring_expressions, without_type_parameters


def parse(source: str | bytes, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse(source)` without any warning; raises what ast.parse raises.

    The garbage collector is paused meanwhile: a syntax tree has no cycles to collect, and
    collections triggered by its many new objects cost about a sixth of the parse."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return ast.parse(source, filename=filename)
            except SyntaxError:
                if sys.version_info >= (3, 12):
                    raise
                for rewrite in (without_type_parameters, without_fstring_expressions):
                    rewritten = _older_grammar(source, rewrite)
                    if rewritten is None:
                        continue
                    try:
                        return ast.parse(rewritten, filename=filename)
                    except SyntaxError:
                        source = rewritten  # the next rewrite works on this one (both kinds of syntax in a file)
                raise  # the file's own error, not a rewrite's
    finally:
        if collecting:
            gc.enable()


def _older_grammar(source: str | bytes, rewrite: Callable[[str], str | None]) -> str | bytes | None:
    """The source with Python 3.12's syntax rewritten for this interpreter's grammar
    (python_newer_syntax). Bytes are read as Latin-1, one character a byte, so that the byte
    offsets the caller reports stay those of the file (only ASCII syntax is rewritten)."""
    if isinstance(source, str):
        return rewrite(source)
    rewritten = rewrite(source.decode("latin-1"))
    return None if rewritten is None else rewritten.encode("latin-1")


@dataclass
class PythonModule:
    """A parsed Python text: its tree, every node once, and character positions of nodes."""

    text: str
    tree: ast.Module
    nodes: list[ast.AST] = field(repr=False)  # every node, in ast.walk's order
    # type -> (its nodes, their places in `nodes`), made in the same walk as `nodes`
    by_type: dict[type, tuple[list[ast.AST], list[int]]] = field(default_factory=dict, repr=False)

    @functools.cached_property
    def line_starts(self) -> list[int]:
        """The character offset of each line's start; made when a position is first asked for
        (most modules have no finding, and a long module has a hundred thousand lines)."""
        lengths = map((1).__add__, map(len, self.text.split("\n")))  # each line with its newline
        return list(itertools.accumulate(lengths, initial=0))[:-1]

    def of_type(self, *kinds: type[ast.AST]) -> list[ast.AST]:
        """The nodes of these types, in `nodes` order (shared lists: read, never change them). Every
        reader asks for the few node types it reads (calls, imports, assignments...) instead of
        walking every node itself, once per reader of each hook."""
        found = [entry for kind in kinds if (entry := self.by_type.get(kind)) is not None]
        if len(found) <= 1:
            return found[0][0] if found else []
        # the runs are each in order: the sort merges them in C (heapq.merge calls a key per node)
        places = [place for _, places_of in found for place in places_of]
        nodes = [node for nodes_of, _ in found for node in nodes_of]
        order = sorted(range(len(places)), key=places.__getitem__)
        return [nodes[index] for index in order]

    def offset(self, node: ast.AST) -> int:
        """Character offset of where `node` starts (ast columns count UTF-8 bytes)."""
        return self._offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end_offset(self, node: ast.AST) -> int:
        """Character offset of where `node` ends (its start when the end is unknown)."""
        end_line, end_column = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
        if end_line is None or end_column is None:
            return self.offset(node)
        return self._offset(end_line, end_column)

    def position(self, node: ast.AST) -> tuple[int, int]:
        """1-based (line, character column) of where `node` starts."""
        line = node.lineno  # type: ignore[attr-defined]
        return line, self.offset(node) - self.line_starts[min(line, len(self.line_starts)) - 1] + 1

    def line(self, number: int) -> str:
        """Text of 1-based line `number` (without its newline), '' when out of range."""
        if not 0 < number <= len(self.line_starts):
            return ""
        start = self.line_starts[number - 1]
        end = self.line_starts[number] - 1 if number < len(self.line_starts) else len(self.text)
        return self.text[start:end]

    def line_of(self, offset: int) -> int:
        """1-based line of a character offset."""
        return bisect.bisect_right(self.line_starts, offset)

    def _offset(self, line: int, byte_column: int) -> int:
        if line - 1 >= len(self.line_starts):
            return len(self.text)
        start = self.line_starts[line - 1]
        return start + char_column(self.line(line), byte_column)


def char_column(line: str, byte_column: int) -> int:
    """Characters of `line` before the UTF-8 byte offset `byte_column` (ast's col_offset)."""
    if line.isascii():
        return byte_column
    return len(line.encode("utf-8")[:byte_column].decode("utf-8", "ignore"))


# How `all_nodes` reads each field of a node type: a node (or None), a list of nodes, a list
# that may hold None or a non-node (read with a test per item), or a value that is never a node.
_NODE, _NODES, _MIXED = 0, 1, 2
_PRIMITIVES = frozenset({"identifier", "string", "int", "constant"})  # ASDL's built-in types: never a node
_LISTS_WITH_NONE = frozenset({("Dict", "keys"), ("arguments", "kw_defaults")})  # `{**d}`, a keyword-only parameter without a default
_FIELD_DECLARATION = re.compile(r"(\w+)([*?]?) (\w+)")
_CHILD_FIELDS: dict[type[ast.AST], tuple[tuple[str, int], ...]] = {}


def _child_fields(node_class: type[ast.AST]) -> tuple[tuple[str, int], ...]:
    """A node type's fields that can hold nodes, each with how to read it, from the node type's
    ASDL signature (its docstring, `Call(expr func, expr* args, keyword* keywords)`); a field the
    signature does not declare is read with a test per value. `ctx` is left out: Load/Store/Del are
    shared markers, a third of all nodes `ast.walk` yields, read from their parent (`node.ctx`)."""
    fields = _CHILD_FIELDS.get(node_class)
    if fields is None:
        declared = {name: (kind, many) for kind, many, name in _FIELD_DECLARATION.findall((node_class.__doc__ or "").split("\n")[0])}
        read = []
        for name in node_class._fields:
            kind, many = declared.get(name, ("", "?"))
            if name == "ctx" or kind in _PRIMITIVES:
                continue
            if not kind or (node_class.__name__, name) in _LISTS_WITH_NONE:
                read.append((name, _MIXED))
            else:
                read.append((name, _NODES if many == "*" else _NODE))
        fields = _CHILD_FIELDS[node_class] = tuple(read)
    return fields


def all_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of `tree` but the expression contexts (see `_child_fields`), in `ast.walk`'s
    breadth-first order."""
    return _walk(tree)[0]


def _walk(tree: ast.AST) -> tuple[list[ast.AST], dict[type, tuple[list[ast.AST], list[int]]]]:
    """`all_nodes`, and the same nodes by type with their places in it (`PythonModule.of_type`),
    several times as fast as `ast.walk`: each field is read as its type declares it (twice as fast
    as a type test on every value), and each node costs one lookup of its type."""
    nodes = [tree]
    append, extend = nodes.append, nodes.extend
    node_type = ast.AST
    known = _CHILD_FIELDS
    # type -> (its nodes, their places, the bound appends of both, its fields to read)
    seen: dict[type, tuple[list[ast.AST], list[int], Callable[[ast.AST], None], Callable[[int], None], tuple[tuple[str, int], ...]]] = {}
    for place, node in enumerate(nodes):  # the list grows while it is read: a queue without a deque
        node_class = type(node)  # `ast.parse` makes no subclasses
        entry = seen.get(node_class)
        if entry is None:
            of_class: list[ast.AST] = []
            places: list[int] = []
            fields = known.get(node_class) or _child_fields(node_class)
            entry = seen[node_class] = (of_class, places, of_class.append, places.append, fields)
        entry[2](node)
        entry[3](place)
        for name, how in entry[4]:
            value = getattr(node, name, None)
            if how == _NODES:
                extend(value)  # type: ignore[arg-type]  # a list: `ast.parse` makes one for every `*` field
            elif how == _NODE:
                if value is not None:
                    append(value)
            elif isinstance(value, list):
                extend(item for item in value if isinstance(item, node_type))
            elif isinstance(value, node_type):
                append(value)
    return nodes, {node_class: (entry[0], entry[1]) for node_class, entry in seen.items()}


def parse_text(text: str) -> PythonModule:
    """Parse Python text; raises ScanError (with the line of a syntax error) when it is not Python."""
    try:
        tree = parse(text)
        nodes, by_type = _walk(tree)
    except SyntaxError as exc:
        raise InvalidText(f"not valid Python (line {exc.lineno}: {exc.msg}); not scanned") from None
    except (ValueError, RecursionError, MemoryError):
        raise InvalidText("Python nested too deeply (or with a null byte) to parse; not scanned") from None
    return PythonModule(text, tree, nodes, by_type)


def _module_of(source: SourceFile) -> PythonModule:
    return parse_text(source.text)


def module(source: SourceFile) -> PythonModule:
    """The file's one parse, shared by every hook that reads it; raises ScanError."""
    return source.parsed(_module_of)


def imported_names(node: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, str | None]]:
    """(local name, what it names) for each name an import statement binds.

    `import a.b` binds `a` to `a`; `import a.b as c` binds `c` to `a.b`; `from m import n as k`
    binds `k` to `m.n`. A relative import binds names to None (this project's own code), and a
    star import yields ("*", module).
    """
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                yield alias.asname, alias.name
            else:
                top = alias.name.split(".", 1)[0]
                yield top, top
        return
    for alias in node.names:
        if node.level or not node.module:
            yield alias.asname or alias.name, None
        elif alias.name == "*":
            yield "*", node.module
        else:
            yield alias.asname or alias.name, f"{node.module}.{alias.name}"


@dataclass
class LiteralDefaults:
    """String and bool constants a name may stand for, read from a module's text: module-level
    `HOST = "0.0.0.0"`, argparse `add_argument("--host", default="0.0.0.0")` (as `args.host`)
    and class field defaults `host: str = "0.0.0.0"` / `= field(default="0.0.0.0")` (as
    `config.host`, dataclasses and settings classes). A name given two different values is
    not read (which one applies depends on the run)."""

    constants: dict[str, list[ast.Constant]] = field(default_factory=dict)  # module-level names
    arguments: dict[str, list[ast.Constant]] = field(default_factory=dict)  # argparse dests
    fields: dict[str, dict[str, ast.Constant]] = field(default_factory=dict)  # class name -> its field defaults

    def of(self, node: ast.expr) -> ast.Constant | None:
        """The one literal `node` (`HOST`, `args.host`, `Config().host`, `self.config.host`) stands
        for, or None: `Class(...).name` is that class's field; another attribute an argparse
        default, else a field of any class."""
        if isinstance(node, ast.Name):
            found = self.constants.get(node.id, [])
        elif isinstance(node, ast.Attribute):
            owner = node.value.func if isinstance(node.value, ast.Call) else None
            if isinstance(owner, ast.Name) and owner.id in self.fields:
                found = [constant] if (constant := self.fields[owner.id].get(node.attr)) is not None else []
            else:
                found = self.arguments.get(node.attr) or [defaults[node.attr] for defaults in self.fields.values() if node.attr in defaults]
        else:
            return None
        return found[0] if found and all(constant.value == found[0].value for constant in found) else None


def _literal(node: ast.expr | None) -> ast.Constant | None:
    return node if isinstance(node, ast.Constant) and isinstance(node.value, (str, bool)) else None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def literal_defaults(parsed: PythonModule) -> LiteralDefaults:
    defaults = LiteralDefaults()
    value: ast.expr | None
    for statement in parsed.tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            target, value = statement.targets[0].id, statement.value
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            target, value = statement.target.id, statement.value
        else:
            continue
        if (constant := _literal(value)) is not None:
            defaults.constants.setdefault(target, []).append(constant)
    for node in parsed.nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            constant = _literal(_keyword(node, "default"))
            dest = _keyword(node, "dest")
            names = [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
            long_names = [name for name in names if name.startswith("--")] or names
            if isinstance(dest, ast.Constant) and isinstance(dest.value, str):
                attribute = dest.value
            elif long_names:
                attribute = long_names[0].lstrip("-").replace("-", "_")
            else:
                continue
            if constant is not None:
                defaults.arguments.setdefault(attribute, []).append(constant)
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
                    continue
                value = statement.value
                if isinstance(value, ast.Call) and isinstance(value.func, (ast.Name, ast.Attribute)):  # field(default=...)
                    value = _keyword(value, "default")
                if (constant := _literal(value)) is not None:
                    defaults.fields.setdefault(node.name, {})[statement.target.id] = constant
    return defaults
