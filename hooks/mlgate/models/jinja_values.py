"""What a Jinja expression can evaluate to, known without rendering: the constant folding
behind MOD009 (`jinja_templates` walks the template, this module computes values).

A value is the set of everything an expression may produce. Its atoms are concrete
constants (strings, numbers, lists, dicts, ranges, `Undefined`) or one of two markers:

- DATA: comes from the render context (messages, tools, `loop.index`): the template's
  author does not choose it;
- OPAQUE: something the author computed in a way not folded here; used as an attribute
  name it is a *computed* name, which is what MOD009 reports.

Operations on constants are carried out on copies of those constants with Python's own
operators and Jinja's own filter functions (so `'%c'|format(95)`, `|reverse`, `|join`,
slicing, `replace`, `dict(__class__=1)|first` fold exactly as Jinja computes them), each
guarded so no result grows past `MAX_STRING`/`MAX_ITEMS` and nothing but plain data is
ever touched: no attribute lookup on a real object, no template rendering. Special atoms
(`Special`) stand for Jinja objects the analysis tracks by identity: globals, namespaces,
macros, bound methods of constants.
"""

from __future__ import annotations

import operator
import re
import string
from collections.abc import Callable, ItemsView, Iterable, Iterator, KeysView, ValuesView
from dataclasses import dataclass
from enum import Enum
from itertools import product
from typing import Any, cast

from jinja2 import Environment, Undefined
from markupsafe import Markup

MAX_ATOMS = 32  # possible values of one expression; more is a computed value
MAX_STRING = 16384
MAX_ITEMS = 256
MAX_INT = 1 << 53
MAX_ARGUMENT = 4096  # widths, counts and repetitions handed to folded operations
_MAX_NESTING = 8


class Marker(Enum):
    DATA = "data"
    OPAQUE = "opaque"


DATA, OPAQUE = Marker.DATA, Marker.OPAQUE


@dataclass(frozen=True)
class Special:
    """A Jinja object tracked by identity: kind is 'global' (payload: its name), 'namespace',
    'macro', 'cycler', 'joiner' (payload: the node that made it), 'loop', 'caller', or
    'method' (payload: (receiver atom, method name))."""

    kind: str
    payload: Any = None  # its type follows `kind`


@dataclass(frozen=True)
class Scalar:
    """A bool or float, kept apart from the ints they would equal in a set (True == 1)."""

    value: bool | float


@dataclass(frozen=True)
class Safe:
    """Markup (`|safe`, `|e`): a string whose `+` escapes the other operand."""

    text: str


class _Tagged(tuple):
    """A tuple that equals only its own kind: a list, a dict and a tuple with the same
    items print differently, so they are different values."""

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and tuple.__eq__(self, other)

    def __ne__(self, other) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(self)))


class FrozenList(_Tagged):
    """A Jinja list (a plain tuple stands for a Jinja tuple)."""


class FrozenDict(_Tagged):
    """A Jinja dict as its (key, value) pairs, in order."""


UNDEFINED = Special("undefined")
Value = frozenset
NOTHING: Value = frozenset()


class TooComplex(Exception):
    """The template needs more folding work than one template is allowed."""


class _Unfoldable(Exception):
    """An operand holds a marker or a special atom: the result is not a constant."""


class _TooLarge(Exception):
    """A folded result or argument would pass the size caps."""


class Budget:
    """Work allowed for one template: each folded combination costs one unit, large
    strings a little more, so a template cannot make the folding grow faster than itself."""

    def __init__(self, units: int):
        self.left = units

    def spend(self, units: int = 1) -> None:
        self.left -= units
        if self.left < 0:
            raise TooComplex


def of(*atoms) -> Value:
    return frozenset(atoms)


def union(*values: Value) -> Value:
    merged = frozenset().union(*values)
    return merged if len(merged) <= MAX_ATOMS else of(OPAQUE)


def constant(python_value) -> Value:
    try:
        return of(atomize(python_value))
    except _TooLarge:
        return of(OPAQUE)


def atomize(python_value, depth: int = 0):
    """A Python result of a folded operation as an atom (raises _TooLarge past the caps)."""
    if depth > _MAX_NESTING:
        raise _TooLarge
    if isinstance(python_value, Undefined):
        return UNDEFINED
    if isinstance(python_value, bool | float):
        return Scalar(python_value)
    if isinstance(python_value, int):
        return python_value if -MAX_INT <= python_value <= MAX_INT else DATA
    if isinstance(python_value, str):
        if len(python_value) > MAX_STRING:
            raise _TooLarge
        return Safe(str(python_value)) if isinstance(python_value, Markup) else python_value
    if python_value is None or isinstance(python_value, range):
        return python_value
    if isinstance(python_value, list | tuple | dict):
        if len(python_value) > MAX_ITEMS:
            raise _TooLarge
        if isinstance(python_value, dict):
            return FrozenDict((atomize(key, depth + 1), atomize(item, depth + 1)) for key, item in python_value.items())
        items = (atomize(item, depth + 1) for item in python_value)
        return FrozenList(items) if isinstance(python_value, list) else tuple(items)
    if isinstance(python_value, _FoldedIterator):
        return python_value.atom
    if isinstance(python_value, Iterator | KeysView | ValuesView | ItemsView):  # |reverse, |items, |batch, dict.items()
        return Special("iterator", atomize(list(_take(python_value)), depth + 1))
    raise _Unfoldable


def _take(items: Iterable) -> Iterable:
    for count, item in enumerate(items):
        if count >= MAX_ITEMS:
            raise _TooLarge
        yield item


class _FoldedIterator:
    """An iterator a filter returned: it iterates its items, but its text (an object's
    address) is nothing a template can know in advance."""

    def __init__(self, atom: Special):
        self.atom = atom
        self._items = iter([concrete(item) for item in cast("Iterable[object]", atom.payload)])  # an iterator's payload: its items

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._items)

    def __str__(self):
        raise _Unfoldable

    __repr__ = __str__

    def __format__(self, spec: str) -> str:  # format(x, spec): a computed value, like str(x)
        raise _Unfoldable


def concrete(atom):
    """The Python value an atom stands for (a fresh copy: folding may mutate it)."""
    if isinstance(atom, Scalar):
        return atom.value
    if isinstance(atom, Safe):
        return Markup(atom.text)
    if atom is UNDEFINED:
        return Undefined()
    if isinstance(atom, Special) and atom.kind == "iterator":
        return _FoldedIterator(atom)
    if isinstance(atom, Marker | Special):
        raise _Unfoldable
    if isinstance(atom, FrozenDict):
        return {concrete(key): concrete(item) for key, item in atom}
    if isinstance(atom, FrozenList):
        return [concrete(item) for item in atom]
    if isinstance(atom, tuple):
        return tuple(concrete(item) for item in atom)
    return atom


def text_of(atom) -> str | None:
    """The string an atom is, Markup included."""
    if isinstance(atom, str):
        return atom
    return atom.text if isinstance(atom, Safe) else None


def strings_in(atom) -> Iterable[str]:
    text = text_of(atom)
    if text is not None:
        yield text
    elif isinstance(atom, Special) and atom.kind == "iterator":
        yield from strings_in(atom.payload)
    elif isinstance(atom, tuple):  # FrozenList and FrozenDict are tuples too
        for item in atom:
            yield from strings_in(item)


def unknown_kind(atoms: Iterable, *, repeats: bool = False) -> Marker:
    """The marker for a result computed from `atoms` when some are not constants.

    Anything built from a special object (`lipsum|string`) or an opaque value is opaque, and
    so is a string the author supplied repeated a context-dependent number of times
    (`'_' * n`), a piece with a double underscore (`'__' ~ role`) or a character made from a
    number (`'%c' % n`); otherwise the context's data decides the result."""
    atoms = list(atoms)
    flat = [leaf for atom in atoms for leaf in _leaves(atom)]
    if any(atom is OPAQUE or isinstance(atom, Special) and atom.kind not in ("undefined", "iterator") for atom in flat):
        return OPAQUE
    texts = [text for atom in atoms for text in strings_in(atom)]
    if repeats and texts or any("__" in text or _CHARACTER_FORMAT.search(text) for text in texts):
        return OPAQUE
    return DATA


def numeric_kind(atoms: Iterable) -> Marker:
    """A result that is always a number or a boolean (a length, a difference): whatever
    its operands, it cannot spell a name."""
    return DATA


def is_numeric(atom) -> bool:
    return type(atom) is int or isinstance(atom, Scalar) or atom is None or atom is UNDEFINED or atom is DATA


_CHARACTER_FORMAT = re.compile(r"%[^a-zA-Z%]*c|\{[^{}]*:[^{}]*c\}")


def _leaves(atom) -> Iterable:
    if isinstance(atom, Special) and atom.kind == "iterator":
        atom = atom.payload
    if isinstance(atom, tuple):
        for item in atom:
            yield from _leaves(item)
    else:
        yield atom


def apply(function: Callable, operands: list[Value], budget: Budget, *, unknown: Callable[[tuple], Marker] = unknown_kind) -> Value:
    """`function` over every combination of the operands' atoms; its exceptions are the
    template failing at render time (no value), its results are atomized. A combination
    that is not all constants gives `unknown(atoms)`."""
    count = 1
    for operand in operands:
        count *= len(operand)
    if count > MAX_ATOMS:
        return of(OPAQUE)
    results = set()
    for atoms in product(*operands):
        budget.spend()
        try:
            arguments = [concrete(atom) for atom in atoms]
        except _Unfoldable:
            results.add(unknown(atoms))
            continue
        try:
            result = function(*arguments)
            if isinstance(result, str):
                budget.spend(len(result) >> 10)
            results.add(atomize(result))
        except (_TooLarge, _Unfoldable):
            results.add(OPAQUE)
        except TooComplex:
            raise
        except Exception:  # the operation fails when rendered: no value flows on
            continue
    return union(frozenset(results))


# -- operators --------------------------------------------------------------------------------


def _checked_repeat(left, right):
    if isinstance(left, int) and isinstance(right, str | list | tuple):
        left, right = right, left
    if isinstance(left, str | list | tuple) and isinstance(right, int) and len(left) * max(right, 0) > MAX_STRING:
        raise _TooLarge
    return left * right


def _checked_power(left, right):
    if isinstance(right, int) and abs(right) > 64 or isinstance(left, int) and abs(left) > MAX_INT:
        raise _TooLarge
    return left**right


_SPECIFIER = re.compile(r"%(?:\([^)]*\))?([^a-zA-Z%]*)")
_WIDE = re.compile(r"\d{5,}")


def _check_percent(text) -> None:
    """A %-format whose field width or precision could make the result huge."""
    if isinstance(text, str) and any("*" in flags or _WIDE.search(flags) for flags in _SPECIFIER.findall(text)):
        raise _TooLarge


def checked_percent(text, arguments):
    """Python's `text % arguments` (Jinja's `%`), within the size caps."""
    _check_percent(text)
    return text % arguments


BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": _checked_repeat,
    "div": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": checked_percent,
    "pow": _checked_power,
}


def sum_kind(atoms: tuple) -> Marker:
    """`a + b` with a number on one side is arithmetic; otherwise it may join strings."""
    return DATA if any(type(atom) is int or isinstance(atom, Scalar) for atom in atoms) else unknown_kind(atoms)


def repeat_kind(atoms: tuple) -> Marker:
    return unknown_kind(atoms, repeats=True)


# What an unfoldable combination of each operator gives.
UNKNOWN_RESULT = {
    "add": sum_kind,
    "sub": numeric_kind,
    "mul": repeat_kind,
    "div": numeric_kind,
    "floordiv": numeric_kind,
    "mod": unknown_kind,
    "pow": numeric_kind,
}
NUMERIC_FILTERS = frozenset({"length", "count", "int", "float", "abs", "round", "wordcount", "sum"})
NUMERIC_METHODS = frozenset(
    {
        "count",
        "find",
        "rfind",
        "index",
        "rindex",
        "startswith",
        "endswith",
        "isalnum",
        "isalpha",
        "isdigit",
        "islower",
        "isspace",
        "istitle",
        "isupper",
    }
)


def concatenate(*parts) -> str:
    """Jinja's `~`: every operand as a string (Undefined as '')."""
    return "".join(str(part) for part in parts)


# -- filters, tests and methods of constants --------------------------------------------------

# Jinja's own filter functions, called on plain constants only; filters that look up
# attributes (attr, map, selectattr, sort/groupby/sum/unique/min/max/join with an attribute)
# are judged by the walker and folded here only without an attribute argument.
PURE_FILTERS = frozenset(
    {
        "abs",
        "batch",
        "capitalize",
        "center",
        "count",
        "d",
        "default",
        "dictsort",
        "e",
        "escape",
        "filesizeformat",
        "first",
        "float",
        "forceescape",
        "format",
        "indent",
        "int",
        "items",
        "join",
        "last",
        "length",
        "list",
        "lower",
        "max",
        "min",
        "pprint",
        "replace",
        "reverse",
        "round",
        "safe",
        "slice",
        "sort",
        "string",
        "striptags",
        "sum",
        "title",
        "tojson",
        "trim",
        "truncate",
        "unique",
        "upper",
        "urlencode",
        "wordcount",
        "wordwrap",
        "xmlattr",
    }
)
STRING_METHODS = frozenset(
    {
        "capitalize",
        "casefold",
        "center",
        "count",
        "endswith",
        "find",
        "format",
        "format_map",
        "index",
        "isalnum",
        "isalpha",
        "isdigit",
        "islower",
        "isspace",
        "istitle",
        "isupper",
        "join",
        "ljust",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "replace",
        "rfind",
        "rindex",
        "rjust",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
        "zfill",
    }
)
LIST_METHODS = frozenset({"count", "index", "copy", "pop"})
DICT_METHODS = frozenset({"get", "items", "keys", "values", "copy", "pop"})
# Calls that change a container in place: the container then holds what the call added.
MUTATING_METHODS = frozenset(
    {"append", "extend", "insert", "update", "setdefault", "add", "remove", "clear", "pop", "popitem", "sort", "reverse"}
)


def methods_of(python_value) -> frozenset[str]:
    if isinstance(python_value, str):
        return STRING_METHODS
    if isinstance(python_value, list):
        return LIST_METHODS
    if isinstance(python_value, dict):
        return DICT_METHODS
    return frozenset()


def _check_arguments(arguments: Iterable) -> None:
    for argument in arguments:
        if isinstance(argument, int) and not isinstance(argument, bool) and abs(argument) > MAX_ARGUMENT:
            raise _TooLarge


def _check_replace(text, old, new, count=-1) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
        occurrences = len(text) + 1 if old == "" else text.count(old)
        if count is not None and isinstance(count, int) and count >= 0:
            occurrences = min(occurrences, count)
        if len(text) + occurrences * (len(new) - len(old)) > MAX_STRING:
            raise _TooLarge


def format_fields(text: str, depth: int = 0) -> list[tuple[bool, object]]:
    """(is_attribute, name) of every attribute and index a `str.format` string looks up
    (`'{0.__class__}'`, `'{x[key]}'`, nested in format specs). Raises ValueError like format()."""
    import _string  # type: ignore[import-not-found]  # CPython's private C module: typeshed has no stub

    found: list[tuple[bool, object]] = []
    for _, field, spec, _ in string.Formatter().parse(text):
        if field is None:
            continue
        _, rest = _string.formatter_field_name_split(field)
        found.extend(rest)
        if spec and depth < 2:
            found.extend(format_fields(spec, depth + 1))
    return found


def call_method(receiver, name: str, arguments: list, keywords: dict):
    """`receiver.name(*arguments, **keywords)` for a constant receiver and an allowed method."""
    if name not in methods_of(receiver):
        raise _Unfoldable
    _check_arguments([*arguments, *keywords.values()])
    if name == "replace":
        _check_replace(receiver, *arguments[:3])
    if name in ("format", "format_map"):
        if any(format_fields(receiver)):
            raise _Unfoldable  # the walker judges the looked-up names; nothing is looked up here
        if any(_WIDE.search(spec or "") for _, _, spec, _ in string.Formatter().parse(receiver)):
            raise _TooLarge
    return getattr(receiver, name)(*arguments, **keywords)


def call_filter(environment: Environment, name: str, value, arguments: list, keywords: dict):
    """Jinja's filter `name` on constants (the caller checked it is in PURE_FILTERS)."""
    _check_arguments([*arguments, *keywords.values()])
    if name == "replace":
        _check_replace(value, *arguments[:3])
    if name == "format":
        _check_percent(value)
    if name in ("first", "last", "list", "reverse") and isinstance(value, range) and len(value) > MAX_ITEMS:
        raise _TooLarge
    return environment.call_filter(name, value, arguments, keywords)


def call_test(environment: Environment, name: str, value, arguments: list) -> bool:
    _check_arguments(arguments)
    return bool(environment.call_test(name, value, arguments))


def elements(value: Value, budget: Budget) -> Value:
    """What a `for` loop over the value iterates: items, dict keys, characters."""
    found: set = set()
    for atom in value:
        budget.spend()
        if isinstance(atom, Special) and atom.kind == "iterator":
            atom = atom.payload
        if atom is DATA or atom is OPAQUE:
            found.add(atom)
        elif isinstance(atom, Special) and atom is not UNDEFINED:
            found.add(OPAQUE)
        elif isinstance(atom, FrozenDict):
            found.update(key for key, _ in atom)
        elif isinstance(atom, tuple):
            found.update(atom)
        elif (text := text_of(atom)) is not None:
            found.update(text)
        elif isinstance(atom, range):
            found.update(atom if len(atom) <= MAX_ITEMS else [DATA])
    return union(frozenset(found))
