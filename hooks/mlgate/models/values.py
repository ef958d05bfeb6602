"""What a Python expression can evaluate to, found without running anything.

For code shipped inside model archives (archive_code.py): every expression is resolved to a
small set of alternatives, each a constant (str, bytes, int, tuple, Mapping), a reference to
a module or an object in one (`Ref("os.system")`), a module namespace (`globals()`,
`vars(os)`, `os.__dict__`, `sys.modules`) or `Computed` (unknown; `shown` says how a module's
attribute is reached by a name that cannot be folded, e.g. `getattr(os, <computed name>)`).

Names are bound flow-insensitively (every assignment, augmented assignment, for-loop over a
constant, import, `from m import *` anywhere in the module is an alternative: the worst
reading). Constant folding covers what obfuscated handlers use to build names: `+`, `*`, `%`
and `.format` without widths, f-strings, `join`, slicing and indexing, `chr`/`map(chr, ...)`
and comprehensions over constants, `str`/`bytes`/`bytearray`/`bytes.fromhex`, `.decode`/
`.encode`, base64/base32/base16/base85, binascii hex, `codecs.decode` (rot13, hex, base64),
bounded `zlib.decompress`, `reversed`, `[::-1]`, and the usual str methods. Work is bounded:
at most MAX_ALTERNATIVES per expression, MAX_STRING characters per value, MAX_STEPS folding
steps per module (past it values are Computed: more is reported, never less).
"""

from __future__ import annotations

import ast
import base64
import binascii
import builtins
import codecs
import itertools
import re
import string
import zlib
from collections.abc import Callable
from typing import Any, NamedTuple

from mlgate import python_ast

MAX_ALTERNATIVES = 8
MAX_STRING = 10_000
MAX_ITEMS = 4096
MAX_STEPS = 200_000


class Ref(NamedTuple):
    """A module or an object reached from one, by dotted name."""

    name: str


class Computed(NamedTuple):
    """A value mlgate cannot know. `shown` when it is an attribute chosen at run time (how it
    is reached), with the module or object it is taken from (`module`; None for namespaces
    of any module, such as `globals()` or `import_module(name)`)."""

    shown: str | None = None
    module: str | None = None


class Namespace(NamedTuple):
    """A dict of names: a module's (`vars(os)`, `os.__dict__`), this module's (`globals()`,
    module None), or every loaded module (`sys.modules`, modules=True)."""

    module: str | None
    modules: bool = False


class Mapping(NamedTuple):
    pairs: tuple


class _Method(NamedTuple):
    """`value.name` of a constant, waiting for its call."""

    value: object
    name: str


class _Local(NamedTuple):
    """A function or class defined in the module, or a parameter: not a module's object."""


UNKNOWN = Computed()
_BUILTIN_NAMES = frozenset(dir(builtins))
_PLAIN_FORMAT = re.compile(r"%[sdr%]")  # %-formats without widths: nothing grows unbounded
_DECODERS: dict[str, Callable[[Any], bytes]] = {
    "base64.b64decode": base64.b64decode,
    "base64.standard_b64decode": base64.standard_b64decode,
    "base64.urlsafe_b64decode": base64.urlsafe_b64decode,
    "base64.b32decode": base64.b32decode,
    "base64.b16decode": base64.b16decode,
    "base64.b85decode": base64.b85decode,
    "base64.a85decode": base64.a85decode,
    "base64.decodebytes": base64.decodebytes,
    "binascii.unhexlify": binascii.unhexlify,
    "binascii.a2b_hex": binascii.a2b_hex,
    "binascii.a2b_base64": binascii.a2b_base64,
    "builtins.bytes.fromhex": bytes.fromhex,
    "builtins.bytearray.fromhex": bytes.fromhex,
}
_CODECS = frozenset({"rot13", "rot_13", "hex", "hex_codec", "base64", "base64_codec", "utf-8", "utf8", "ascii", "latin-1", "latin1"})
_STR_METHODS = frozenset(
    {
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "title",
        "capitalize",
        "swapcase",
        "casefold",
        "replace",
        "removeprefix",
        "removesuffix",
        "split",
        "rsplit",
    }
)
_IMPORTERS = frozenset({"builtins.__import__", "importlib.import_module", "importlib.__import__"})


class Evaluator:
    def __init__(self, tree: ast.Module):
        # name -> (how, node); the node's type follows `how` (a Constant for "ref", an AugAssign for "augment").
        self.bindings: dict[str, list[tuple[str, Any]]] = {}
        self.attributes: dict[str, list[ast.expr]] = {}  # `<anything>.name = value`
        self.stars: list[str] = []
        self.steps = 0
        self._names: dict[str, list] = {}
        self._resolving: set[str] = set()
        self._memo: dict[int, list] = {}
        self._collect(tree)

    # -- bindings -------------------------------------------------------------------------
    def _bind(self, name: str, how: str, node: Any) -> None:
        self.bindings.setdefault(name, []).append((how, node))

    def _collect(self, tree: ast.Module) -> None:
        def position(node: ast.AST) -> tuple[int, int]:
            where = node.iter if isinstance(node, ast.comprehension) else node
            return getattr(where, "lineno", 0), getattr(where, "col_offset", 0)

        nodes = sorted(ast.walk(tree), key=position)
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self._collect_import(node)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    self._assign(target, node.value)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                self._bind(node.target.id, "augment", node)
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and isinstance(node.target, ast.Name):
                self._bind(node.target.id, "each", node.iter)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self._bind(node.name, "local", None)
            elif isinstance(node, ast.arg):
                self._bind(node.arg, "local", None)
            elif isinstance(node, (ast.withitem, ast.ExceptHandler)):
                held = node.optional_vars if isinstance(node, ast.withitem) else node.name
                if isinstance(held, ast.Name):
                    self._bind(held.id, "local", None)
                elif isinstance(held, str):
                    self._bind(held, "local", None)

    def _collect_import(self, node: ast.Import | ast.ImportFrom) -> None:
        for name, imported in python_ast.imported_names(node):
            if name == "*" and imported is not None:
                self.stars.append(imported)
            elif imported is None:
                self._bind(name, "local", None)
            else:
                self._bind(name, "ref", ast.Constant(imported))

    def _assign(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self._bind(target.id, "value", value)
        elif isinstance(target, ast.Attribute):
            self.attributes.setdefault(target.attr, []).append(value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                for part, part_value in zip(target.elts, value.elts, strict=True):  # lengths checked above
                    self._assign(part, part_value)
            else:
                for part in target.elts:
                    if isinstance(part, ast.Name):
                        self._bind(part.id, "local", None)

    def name(self, identifier: str) -> list:
        cached = self._names.get(identifier)
        if cached is not None:
            return cached
        if identifier in self._resolving:
            return [UNKNOWN]
        self._resolving.add(identifier)
        try:
            result = self._name(identifier)
        finally:
            self._resolving.discard(identifier)
        self._names[identifier] = result
        return result

    def _name(self, identifier: str) -> list:
        bound = self.bindings.get(identifier)
        if not bound:
            if identifier == "__builtins__":
                return [Ref("builtins")]
            if identifier in _BUILTIN_NAMES:
                return [Ref(f"builtins.{identifier}")]
            return [Ref(f"{module}.{identifier}") for module in self.stars][:MAX_ALTERNATIVES] or [UNKNOWN]
        found: list = []
        for how, node in bound:
            if how == "ref":
                found.append(Ref(node.value))
            elif how == "local":
                found.append(_Local())
            elif how == "value":
                found += self.values(node)
            elif how == "each":
                found += [item for value in self.values(node) for item in _items(value)][:MAX_ITEMS]
            elif how == "augment":
                found += [self._binary(node.op, left, right) for left, right in _product(list(found) or [UNKNOWN], self.values(node.value))]
        return _unique(found)

    # -- expressions ----------------------------------------------------------------------
    def values(self, node: ast.AST, local: dict[str, list] | None = None) -> list:
        """The alternatives `node` can evaluate to (never empty)."""
        if local is None and id(node) in self._memo:
            return self._memo[id(node)]
        try:
            result = _unique(self._values(node, local or {})) or [UNKNOWN]
        except RecursionError:
            result = [UNKNOWN]
        if local is None:
            self._memo[id(node)] = result
        return result

    def _values(self, node: ast.AST, local: dict[str, list]) -> list:  # noqa: C901 -- one flat dispatch over expression node types
        if isinstance(node, ast.Name):
            return local[node.id] if node.id in local else self.name(node.id)
        if isinstance(node, ast.Attribute):
            return [found for value in self.values(node.value, local or None) for found in self._attribute(value, node.attr)]
        self.steps += 1
        if self.steps > MAX_STEPS:
            return [UNKNOWN]
        if isinstance(node, ast.Constant):
            return [node.value] if isinstance(node.value, (str, bytes, int)) else [UNKNOWN]
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            parts = [self.values(element, local or None) for element in node.elts[:MAX_ITEMS]]
            return [tuple(choice) for choice in itertools.islice(itertools.product(*parts), MAX_ALTERNATIVES)]
        if isinstance(node, ast.Dict):
            keys = [self.values(key, local or None)[0] if key is not None else UNKNOWN for key in node.keys[:MAX_ITEMS]]
            entries = zip(
                keys, (self.values(value, local or None) for value in node.values[:MAX_ITEMS]), strict=True
            )  # a Dict has a value per key
            return [Mapping(tuple(entries))]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Invert)):
            operation = {ast.USub: int.__neg__, ast.UAdd: int.__pos__, ast.Invert: int.__invert__}[type(node.op)]
            return [operation(value) if type(value) is int else UNKNOWN for value in self.values(node.operand, local or None)]
        if isinstance(node, ast.BinOp):
            pairs = _product(self.values(node.left, local or None), self.values(node.right, local or None))
            return [self._binary(node.op, left, right) for left, right in pairs]
        if isinstance(node, ast.JoinedStr):
            return self._fstring(node, local)
        if isinstance(node, (ast.IfExp, ast.BoolOp)):
            branches = [node.body, node.orelse] if isinstance(node, ast.IfExp) else node.values
            return [value for branch in branches for value in self.values(branch, local or None)]
        if isinstance(node, ast.NamedExpr):
            return self.values(node.value, local or None)
        if isinstance(node, ast.Subscript):
            keys = self.values(node.slice, local or None) if not isinstance(node.slice, ast.Slice) else [self._slice(node.slice, local)]
            found = []
            for value, key in _product(self.values(node.value, local or None), keys):
                if value == Namespace(None) and isinstance(key, str):
                    found += self.name(key)  # globals()["os"] is this module's `os`
                else:
                    found.append(_subscript(value, key))
            return found
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            return [self._comprehension(node, local)]
        if isinstance(node, ast.Call):
            return self._call(node, local)
        return [UNKNOWN]

    def _attribute(self, value, attr: str) -> list:
        if isinstance(value, Ref):
            if attr == "__dict__":
                return [Namespace(value.name)]
            if value.name == "sys" and attr == "modules":
                return [Namespace(None, modules=True)]
            return [Ref(f"{value.name}.{attr}")]
        if isinstance(value, (str, bytes, tuple, Mapping)):
            return [_Method(value, attr)]
        # `self.run = os.system` ... `self.run(...)`: every value assigned to the attribute
        return [found for bound in self.attributes.get(attr, [])[:MAX_ALTERNATIVES] for found in self.values(bound)] or [UNKNOWN]

    def _slice(self, node: ast.Slice, local: dict[str, list]):
        parts = []
        for part in (node.lower, node.upper, node.step):
            value = self.values(part, local or None)[0] if part is not None else None
            if value is not None and not isinstance(value, int):
                return UNKNOWN
            parts.append(value)
        return slice(*parts) if parts[2] != 0 else UNKNOWN

    def _fstring(self, node: ast.JoinedStr, local: dict[str, list]) -> list:
        texts: list = [""]  # strings, or UNKNOWN
        for part in node.values:
            if isinstance(part, ast.Constant):
                pieces = [part.value]
            elif isinstance(part, ast.FormattedValue) and part.format_spec is None:
                pieces = [_text(value, part.conversion) for value in self.values(part.value, local or None)]
            else:
                return [UNKNOWN]
            texts = [
                _bounded(left + right) if isinstance(left, str) and isinstance(right, str) else UNKNOWN
                for left, right in _product(texts, pieces)
            ]
        return texts

    def _comprehension(self, node, local: dict[str, list]):
        if len(node.generators) != 1 or node.generators[0].ifs or not isinstance(node.generators[0].target, ast.Name):
            return UNKNOWN
        generator = node.generators[0]
        items = _items(self.values(generator.iter, local or None)[0])
        if not items or items[0] is UNKNOWN or len(items) > MAX_ITEMS:
            return UNKNOWN
        found = []
        for item in items:
            self.steps += 1
            if self.steps > MAX_STEPS:
                return UNKNOWN
            found.append(self.values(node.elt, {**local, generator.target.id: [item]})[0])
        return tuple(found)

    def _call(self, node: ast.Call, local: dict[str, list]) -> list:
        arguments: list[list] | None
        arguments = [self.values(argument, local or None) for argument in node.args if not isinstance(argument, ast.Starred)]
        if len(arguments) != len(node.args) or node.keywords and not all(keyword.arg for keyword in node.keywords):
            arguments = None
        found = []
        for function in self.values(node.func, local or None):
            if arguments is None:  # `getattr(*names)`: nothing can be folded
                found.append(self._apply(function, [UNKNOWN, UNKNOWN], node))
                continue
            for choice in itertools.islice(itertools.product(*arguments), MAX_ALTERNATIVES):
                found.append(self._apply(function, list(choice), node))
        return found

    def _apply(self, function, arguments: list, node: ast.Call):
        first = arguments[0] if arguments else None
        if isinstance(function, Ref):
            name = function.name
            if name == "builtins.getattr" and len(arguments) >= 2:
                return _getattr(first, arguments[1])
            if name.endswith((".__getattribute__", ".__getattr__")) and len(arguments) == 1:
                return _getattr(Ref(name.rsplit(".", 1)[0]), first)
            if name in _IMPORTERS and arguments:
                if not isinstance(first, str):
                    return Computed(f"{name.rsplit('.', 1)[1]}(<computed name>)")
                whole = name != "builtins.__import__" or len(arguments) >= 4 and arguments[3] not in ((), UNKNOWN)
                return Ref(first if whole else first.split(".", 1)[0])
            if name in ("builtins.globals", "builtins.locals") or name == "builtins.vars" and not arguments:
                return Namespace(None)
            if name == "builtins.vars" and isinstance(first, Ref):
                return Namespace(first.name)
            return _convert(name, arguments)
        if isinstance(function, _Method):
            return _method(function.value, function.name, arguments)
        return UNKNOWN

    def _binary(self, op: ast.operator, left, right):
        if isinstance(op, ast.Add) and type(left) is type(right) and isinstance(left, (str, bytes, tuple)):
            return _bounded(left + right)
        if isinstance(op, ast.Mult):
            if isinstance(right, (str, bytes, tuple)):
                left, right = right, left
            if isinstance(left, (str, bytes, tuple)) and isinstance(right, int) and len(left) * max(right, 0) <= MAX_STRING:
                return left * right
        if (
            isinstance(op, ast.Mod)
            and isinstance(left, str)
            and set(_PLAIN_FORMAT.findall(left)) <= {"%s", "%d", "%r", "%%"}
            and "%" not in _PLAIN_FORMAT.sub("", left)
        ):
            values = right if isinstance(right, tuple) else (right,)
            if all(isinstance(value, (str, int)) for value in values):
                try:
                    return _bounded(left % values)
                except (TypeError, ValueError):
                    return UNKNOWN
        if isinstance(left, int) and isinstance(right, int) and abs(left) < 1 << 32 and abs(right) < 1 << 32:
            operations = {
                ast.Add: int.__add__,
                ast.Sub: int.__sub__,
                ast.Mult: int.__mul__,
                ast.BitXor: int.__xor__,
                ast.BitOr: int.__or__,
                ast.BitAnd: int.__and__,
            }
            operation = operations.get(type(op))
            if operation is not None:
                return operation(left, right)
        return UNKNOWN


def _getattr(obj, name):
    if not isinstance(obj, Ref):
        return UNKNOWN
    if isinstance(name, str):
        return Ref(f"{obj.name}.{name}")
    return Computed(f"getattr({obj.name}, <computed name>)", obj.name)


def _subscript(value, key):
    if isinstance(value, Namespace):
        if not isinstance(key, str):
            where = "sys.modules" if value.modules else f"vars({value.module})" if value.module else "globals()"
            return Computed(f"{where}[<computed name>]", value.module)
        if value.modules:
            return Ref(key)
        return Ref(f"{value.module}.{key}") if value.module else Ref(f"builtins.{key}") if key in _BUILTIN_NAMES else UNKNOWN
    if isinstance(value, Ref) and value.name == "builtins":  # `__builtins__` is a dict outside __main__
        return Ref(f"builtins.{key}") if isinstance(key, str) else Computed("__builtins__[<computed name>]")
    if isinstance(value, Mapping):
        return next((item for pair_key, items in value.pairs if pair_key == key for item in items[:1]), UNKNOWN)
    if isinstance(value, (str, bytes, tuple)) and isinstance(key, (int, slice)):
        try:
            return value[key]
        except (IndexError, ValueError):
            return UNKNOWN
    return UNKNOWN


def _convert(name: str, arguments: list):
    """Builtins and decoders applied to constants."""
    first = arguments[0] if arguments else None
    if name == "builtins.chr" and isinstance(first, int) and 0 <= first <= 0x10FFFF:
        return chr(first)
    if name == "builtins.str" and isinstance(first, str):
        return first
    if name == "builtins.str" and isinstance(first, bytes) and len(arguments) >= 2 and isinstance(arguments[1], str):
        return _decode(first, arguments[1])
    if (
        name in ("builtins.bytes", "builtins.bytearray")
        and isinstance(first, tuple)
        and all(isinstance(item, int) and 0 <= item < 256 for item in first)
    ):
        return bytes(first)
    if name in ("builtins.bytes", "builtins.bytearray") and isinstance(first, (str, bytes)):
        return first if isinstance(first, bytes) else _encode(first, arguments[1] if len(arguments) > 1 else "utf-8")
    if name in ("builtins.list", "builtins.tuple") and isinstance(first, (str, tuple)):
        return tuple(first)
    if name == "builtins.reversed" and isinstance(first, (str, tuple, bytes)):
        return tuple(first[::-1])
    if name == "builtins.map" and len(arguments) == 2 and isinstance(arguments[0], Ref) and isinstance(arguments[1], (tuple, str)):
        return tuple(_convert(arguments[0].name, [item]) for item in arguments[1][:MAX_ITEMS])
    if name in _DECODERS and isinstance(first, (str, bytes)):
        try:
            return _DECODERS[name](first)
        except (ValueError, binascii.Error, TypeError):
            return UNKNOWN
    if name == "codecs.decode" and isinstance(first, (str, bytes)):
        return _decode(first, arguments[1] if len(arguments) > 1 else "utf-8")
    if name == "codecs.encode" and isinstance(first, str) and len(arguments) > 1 and arguments[1] in ("rot13", "rot_13"):
        return codecs.encode(first, "rot13")
    if name == "zlib.decompress" and isinstance(first, bytes):
        try:
            return zlib.decompressobj().decompress(first, MAX_STRING)
        except zlib.error:
            return UNKNOWN
    return UNKNOWN


def _method(value, name: str, arguments: list):
    first = arguments[0] if arguments else None
    if name == "join" and isinstance(value, (str, bytes)) and isinstance(first, (tuple, str, bytes)):
        items = tuple(first) if not isinstance(first, bytes) else UNKNOWN
        if items is not UNKNOWN and all(type(item) is type(value) for item in items):
            return _bounded(value.join(items))
        return UNKNOWN
    if name == "decode" and isinstance(value, bytes):
        return _decode(value, first if isinstance(first, str) else "utf-8")
    if name == "encode" and isinstance(value, str):
        return _encode(value, first if isinstance(first, str) else "utf-8")
    if name == "format" and isinstance(value, str):
        return _format(value, arguments)
    if name == "get" and isinstance(value, Mapping):
        return _subscript(value, first)
    if name in _STR_METHODS and isinstance(value, str) and all(isinstance(argument, (str, int)) for argument in arguments):
        if name == "replace" and len(arguments) >= 2 and isinstance(first, str) and isinstance(arguments[1], str):
            growth = (value.count(first) if first else len(value) + 1) * len(arguments[1])
            if len(value) + growth > MAX_STRING:
                return UNKNOWN
        try:
            result = getattr(value, name)(*arguments)
        except (TypeError, ValueError):
            return UNKNOWN
        return tuple(result) if isinstance(result, list) else result
    return UNKNOWN


def _format(template: str, arguments: list):
    """`str.format` with positional fields and no specs (a width could be a bomb)."""
    out = []
    position = 0
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return UNKNOWN
    for literal, field, spec, conversion in fields:
        out.append(literal)
        if field is None:
            continue
        if spec or conversion not in (None, "s") or not (field == "" or field.isdigit()):
            return UNKNOWN
        index = position if field == "" else int(field)
        position += 1
        if index >= len(arguments) or not isinstance(arguments[index], (str, int)):
            return UNKNOWN
        out.append(str(arguments[index]))
    return _bounded("".join(out))


def _decode(data, encoding):
    if not isinstance(encoding, str) or encoding.lower() not in _CODECS:
        return UNKNOWN
    try:
        if isinstance(data, str):
            return codecs.decode(data, encoding) if encoding.lower() in ("rot13", "rot_13") else UNKNOWN
        result = codecs.decode(data, encoding)
    except (ValueError, TypeError, binascii.Error, LookupError):
        return UNKNOWN
    return _bounded(result)


def _encode(text: str, encoding):
    if not isinstance(encoding, str) or encoding.lower() not in _CODECS:
        return UNKNOWN
    try:
        return codecs.encode(text, encoding)
    except (ValueError, TypeError, LookupError):
        return UNKNOWN


def _text(value, conversion: int):
    if isinstance(value, (str, int)):
        return repr(value) if conversion == ord("r") else str(value)
    return UNKNOWN


def _items(value) -> list:
    if isinstance(value, (tuple, str)):
        return list(value[:MAX_ITEMS])
    if isinstance(value, bytes):
        return list(value[:MAX_ITEMS])
    return [UNKNOWN]


def _bounded(value):
    return value if len(value) <= MAX_STRING else UNKNOWN


def _product(left: list, right: list) -> list:
    return list(itertools.islice(itertools.product(left, right), MAX_ALTERNATIVES))


def _unique(values: list) -> list:
    """At most MAX_ALTERNATIVES values; past that the rest is UNKNOWN (more is reported, never less)."""
    found: list = []
    for value in values:
        if value in found:
            continue
        if len(found) == MAX_ALTERNATIVES - 1:
            found.append(UNKNOWN)
            break
        found.append(value)
    return found
