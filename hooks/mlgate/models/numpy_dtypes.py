"""Whether numpy reads a `.npy` header's `descr` as a dtype holding Python objects.

    dtype_of(descr: object) -> DType      (raises Rejected or Unjudged)

`numpy.load(allow_pickle=True)` unpickles the data after the header whenever
`descr_to_dtype(descr).hasobject`, so every spelling numpy accepts counts: `'O'`, `'|O'`,
`'O8'`, `'O 8'`, `'object'`, `'(2,)O'`, `'1O'`, `'i4,O'`, `('O', (2,))`, structured fields
holding one anywhere, numpy 2's string dtype `'T'` (it holds references too).

This is a model of numpy's own reading, checked against numpy in tests (the oracle in
tests/models/test_numpy_oracle.py): `descr_to_dtype` (numpy/lib/format.py) for lists and
tuples, then numpy's C constructor for strings (byte order, a kind and a size parsed with
`strtol`, names from numpy's type dictionary, datetime units, the comma/repeat grammar of
`numpy._core._internal._commastring`) and for `(base, shape)` / `(base, new)` tuples. What
numpy refuses raises `Rejected` (numpy.load fails: nothing is unpickled); spellings numpy
may accept but this model does not cover raise `Unjudged` (the caller fails closed).
Platform-dependent sizes are those of 64-bit Linux; older numpy names (`object0`) count.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

INT_MAX = (1 << 31) - 1
MAX_DIMS = 64
MAX_DEPTH = 100  # nested dtype descriptions; numpy's own limit is Python's recursion limit


class Rejected(Exception):
    """numpy raises on this description: `numpy.load` fails before reading any data."""


class Unjudged(Exception):
    """numpy's reading of this description is not modelled: the caller fails closed."""


@dataclass(frozen=True)
class DType:
    objects: bool  # numpy's dtype.hasobject
    itemsize: int
    kind: str  # numpy's dtype.kind ('V' for voids, subarrays and structured dtypes)
    void: bool = False  # dtype.type is numpy.void (a plain void, a subarray or a structured dtype)
    fields: tuple[DType, ...] | None = None  # a structured dtype's fields (dtype.names is not None)

    @property
    def unsized(self) -> bool:
        """No size and no fields (S, U, V, a 0-size subarray): a tuple's second item gives it one."""
        return self.itemsize == 0 and self.kind in "SUV" and self.fields is None


def _plain(itemsize: int, kind: str) -> DType:
    return DType(kind in "OT", itemsize, kind, void=kind == "V")


# Single-character type codes numpy knows (numpy 2, 64-bit Linux): itemsize and kind.
_CODES = {
    "?": (1, "b"),
    "b": (1, "i"),
    "B": (1, "u"),
    "h": (2, "i"),
    "H": (2, "u"),
    "i": (4, "i"),
    "I": (4, "u"),
    "l": (8, "i"),
    "L": (8, "u"),
    "q": (8, "i"),
    "Q": (8, "u"),
    "n": (8, "i"),
    "N": (8, "u"),
    "p": (8, "i"),
    "P": (8, "u"),
    "e": (2, "f"),
    "f": (4, "f"),
    "d": (8, "f"),
    "g": (16, "f"),
    "F": (8, "c"),
    "D": (16, "c"),
    "G": (32, "c"),
    "O": (8, "O"),
    "T": (16, "T"),
    "S": (0, "S"),
    "c": (1, "S"),
    "U": (0, "U"),
    "V": (0, "V"),
    "M": (8, "M"),
    "m": (8, "m"),
    # A character below 24 is read as numpy's type number: chr(17) is NPY_OBJECT.
    **{
        chr(number): code
        for number, code in enumerate(
            [
                (1, "b"),
                (1, "i"),
                (1, "u"),
                (2, "i"),
                (2, "u"),
                (4, "i"),
                (4, "u"),
                (8, "i"),
                (8, "u"),
                (8, "i"),
                (8, "u"),
                (4, "f"),
                (8, "f"),
                (16, "f"),
                (8, "c"),
                (16, "c"),
                (32, "c"),
                (8, "O"),
                (0, "S"),
                (0, "U"),
                (0, "V"),
                (8, "M"),
                (8, "m"),
                (2, "f"),
            ]
        )
    },
}
# A kind followed by a size in bytes ('<f8', '|O8', 'b1', 'M 8'); S, a, U and V take any size.
_SIZED_KINDS = {
    "b": (1,),
    "i": (1, 2, 4, 8),
    "u": (1, 2, 4, 8),
    "f": (2, 4, 8, 16),
    "c": (8, 16, 32),
    "O": (4, 8),
    "M": (8,),
    "m": (8,),
}
# Names in numpy's type dictionary, looked up with the byte order character included.
_NAMES = {
    **dict.fromkeys(("object", "object_", "object0", "Object0"), (8, "O")),  # object0: numpy < 2
    **dict.fromkeys(("bool", "bool_"), (1, "b")),
    **dict.fromkeys(("int8", "byte"), (1, "i")),
    **dict.fromkeys(("uint8", "ubyte"), (1, "u")),
    **dict.fromkeys(("int16", "short"), (2, "i")),
    **dict.fromkeys(("uint16", "ushort"), (2, "u")),
    **dict.fromkeys(("int32", "intc"), (4, "i")),
    **dict.fromkeys(("uint32", "uintc"), (4, "u")),
    **dict.fromkeys(("int64", "long", "longlong", "intp", "int_", "int"), (8, "i")),
    **dict.fromkeys(("uint64", "ulong", "ulonglong", "uintp", "uint"), (8, "u")),
    **dict.fromkeys(("float16", "half"), (2, "f")),
    **dict.fromkeys(("float32", "single"), (4, "f")),
    **dict.fromkeys(("float64", "double", "float"), (8, "f")),
    **dict.fromkeys(("float128", "longdouble"), (16, "f")),
    **dict.fromkeys(("complex64", "csingle"), (8, "c")),
    **dict.fromkeys(("complex128", "cdouble", "complex"), (16, "c")),
    **dict.fromkeys(("complex256", "clongdouble"), (32, "c")),
    **dict.fromkeys(("bytes_", "bytes"), (0, "S")),
    **dict.fromkeys(("str_", "str", "unicode"), (0, "U")),
    "void": (0, "V"),
    "datetime64": (8, "M"),
    "timedelta64": (8, "m"),
    "a": (0, "S"),
}
_BYTE_ORDERS = b"<>|="
_C_SPACES = b" \t\n\v\f\r"  # what strtol skips
# [multiplier unit/divisor], the numbers read by strtol (numpy checks more, but never finds objects)
_DATETIME_UNIT = re.compile(r"\[(?:[ \t\n\v\f\r]*\+?\d+)?(?:generic|Y|M|W|D|h|m|s|ms|us|\u03bcs|ns|ps|fs|as)(?:/[ \t\n\v\f\r]*[+-]?\d+)?\]")
# numpy._core._internal's grammar of comma strings: '<(2,3)>f8, i4'
_COMMA_ITEM = re.compile(
    r"(?P<order1>[<>|=]?)(?P<repeats> *[(]?[ ,0-9]*[)]? *)(?P<order2>[<>|=]?)(?P<dtype>[A-Za-z0-9.?]*(?:\[[a-zA-Z0-9,.]+\])?)"
)
_COMMA_SEPARATOR = re.compile(r"\s*,\s*")
_TRAILING_SPACE = re.compile(r"\s+$")
_NATIVE_ORDER = "<"


def literal(text: str) -> object:
    """`ast.literal_eval(text)`, as numpy calls it, without the warnings Python prints about
    scanned text (`invalid escape sequence` with the source line, on stderr: the job log)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.literal_eval(text)


def dtype_of(descr: object, depth: int = 0) -> DType:
    """numpy.lib.format.descr_to_dtype(descr), modelled."""
    if depth > MAX_DEPTH:
        raise Unjudged("dtype description nested too deeply")
    if type(descr) is str:
        return _from_string(descr, depth + 1)
    if type(descr) is tuple:
        if len(descr) < 2:
            raise Rejected("a dtype tuple needs a base and a shape")
        return _with_second(dtype_of(descr[0], depth + 1), descr[1], depth + 1)
    kept: list[tuple[object, DType]] = []
    offset = 0
    for field in _items(descr, "dtype description"):
        parts = _items(field, "field")
        if len(parts) == 2:
            name, field_dtype = parts[0], dtype_of(parts[1], depth + 1)
        elif len(parts) == 3:
            name, field_dtype = parts[0], _with_second(dtype_of(parts[1], depth + 1), parts[2], depth + 1)
        else:
            raise Rejected("a field is (name, dtype) or (name, dtype, shape)")
        offset += field_dtype.itemsize
        if not (type(name) is str and name == "" and field_dtype.void and field_dtype.fields is None):
            kept.append((name, field_dtype))  # nameless plain voids and subarrays are padding
    return _structured(kept, offset)


def _items(value: object, what: str) -> list:
    """What `for x in value` yields in descr_to_dtype."""
    if type(value) in (list, tuple, str):
        return list(cast("Iterable[object]", value))  # mypy does not narrow on `type(x) in (...)`
    if type(value) is bytes:
        return list(value)
    if type(value) is dict:
        return list(value)
    if type(value) in (set, frozenset):
        raise Unjudged(f"a set as a {what}: numpy reads its items in a per-process order")
    raise Rejected(f"a {what} of type {type(value).__name__}")


def _structured(fields: list[tuple[object, DType]], itemsize: int) -> DType:
    """numpy.dtype({'names', 'formats', 'titles', 'offsets', 'itemsize'}) with fields back to back."""
    used: set[str] = set()
    for label, _ in fields:
        title, name = label if type(label) is tuple and len(label) == 2 else (None, label)
        if type(label) is tuple and len(label) != 2:
            raise Rejected("a field title tuple is (title, name)")
        if type(name) is not str:
            raise Rejected("field names must be strings")
        if name in used:
            raise Rejected(f"field name {name!r} used twice")
        used.add(name)
        if type(title) is str:
            if title in used:
                raise Rejected(f"field title {title!r} used twice")
            used.add(title)
    if itemsize > INT_MAX:
        raise Rejected("structured dtype larger than a C int")
    found = tuple(dtype for _, dtype in fields)
    return DType(any(dtype.objects for dtype in found), itemsize, "V", void=True, fields=found)


# -- strings ------------------------------------------------------------------------------


def _from_string(text: str, depth: int) -> DType:
    """numpy's _convert_from_str: what numpy.dtype('...') builds."""
    try:
        raw = text.encode("utf-8")  # numpy parses the UTF-8 bytes with C string functions
    except UnicodeEncodeError:
        raise Rejected("dtype string that is not valid UTF-8") from None
    if not raw:
        raise Rejected("empty dtype string")
    if _is_comma_string(raw):
        return _from_comma_string(text, depth)
    body = raw[1:] if raw[0] in _BYTE_ORDERS else raw
    if not body:
        raise Rejected("a byte order without a type")
    if _is_datetime(body):
        return _datetime(body)
    if len(body) == 1:
        code = _CODES.get(body.decode("latin-1"))
        return _plain(*code) if code is not None else _by_name(text)
    kind = chr(body[0])
    size, complete = _strtol(body[1:])
    if size is not None and not 0 <= size <= INT_MAX:
        raise Rejected("dtype size out of range")
    if not complete or size is None:  # size is None only when incomplete
        return _by_name(text)
    if kind in "Sa":
        return _plain(size, "S")
    if kind == "V":
        return _plain(size, "V")
    if kind == "U":
        if size * 4 > INT_MAX:
            raise Rejected("unicode dtype size out of range")
        return _plain(size * 4, "U")
    if size in _SIZED_KINDS.get(kind, ()):
        return _plain(8 if kind == "O" else size, kind)
    return _by_name(text)


def _strtol(digits: bytes) -> tuple[int | None, bool]:
    """(value, whether the whole rest was that number) as C's strtol(s, &end, 10) reads it;
    value None when no number was read."""
    match = re.match(rb"[ \t\n\v\f\r]*([+-]?)([0-9]+)", digits)
    if match is None:
        return None, False
    value = int(match.group(2)) * (-1 if match.group(1) == b"-" else 1)
    if not -(1 << 63) <= value < (1 << 63):
        return INT_MAX + 1, False  # ERANGE: strtol returns LONG_MAX/LONG_MIN
    rest = digits[match.end() :]
    if rest[:1] == b"\0":
        raise Rejected("NUL byte inside a dtype string")
    return value, not rest


def _by_name(text: str) -> DType:
    """A name in numpy's type dictionary ('float64', 'object'), byte order character included."""
    found = _NAMES.get(text)
    if found is None:
        raise Rejected(f"data type {text[:40]!r} not understood")
    return _plain(*found)


def _is_datetime(body: bytes) -> bool:
    return body[:2] in (b"M8", b"m8") or body.startswith((b"datetime64", b"timedelta64"))


def _datetime(body: bytes) -> DType:
    stem = 2 if body[:2] in (b"M8", b"m8") else len(b"datetime64") if body[:1] == b"d" else len(b"timedelta64")
    unit = body[stem:].decode("utf-8", "replace")
    if unit and _DATETIME_UNIT.fullmatch(unit) is None:
        raise Rejected("invalid datetime unit")
    return _plain(8, "M" if body[:1] in b"Md" else "m")


def _is_comma_string(raw: bytes) -> bool:
    """numpy's _check_for_commastring: a leading repeat count, '()', or a comma outside []."""
    if raw[:1].isdigit() or (len(raw) > 1 and raw[0] in _BYTE_ORDERS and raw[1:2].isdigit()):
        return True
    if raw[:2] == b"()" or (len(raw) > 3 and raw[0] in _BYTE_ORDERS and raw[1:3] == b"()"):
        return True
    brackets = 0
    for byte in raw:
        if byte == 0x2C and brackets == 0:
            return True
        brackets += (byte == 0x5B) - (byte == 0x5D)
    return False


def _from_comma_string(text: str, depth: int) -> DType:
    """'i4, (2,)O' -> a structured dtype of each item; '(2,)O' alone -> that item."""
    items: list[DType] = []
    start, listed = 0, False
    while start < len(text):
        match = _COMMA_ITEM.match(text, start)
        assert match is not None  # every part of the pattern is optional: it always matches
        order1, repeats, order2, name = match.groups()
        start = match.end()
        if start < len(text):
            if _TRAILING_SPACE.match(text, start):
                start = len(text)
            else:
                separator = _COMMA_SEPARATOR.match(text, start)
                if separator is None:
                    raise Rejected("comma dtype string item not recognised")
                start, listed = separator.end(), True
        if order1 and order2 and order1.replace("=", _NATIVE_ORDER) != order2.replace("=", _NATIVE_ORDER):
            raise Rejected("inconsistent byte orders in a comma dtype string")
        order = order2 or order1
        name = ("" if order in ("|", "=", _NATIVE_ORDER) else order) + name
        if repeats == "":
            items.append(_from_string(name, depth + 1))
            continue
        try:
            count = literal(repeats)
        except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
            raise Rejected("repeat count of a comma dtype string is not a literal") from None
        items.append(_with_second(_from_string(name, depth + 1), count, depth + 1))
    if not listed:
        return items[0]
    return _structured([(f"f{index}", item) for index, item in enumerate(items)], sum(item.itemsize for item in items))


# -- (base, second) tuples ----------------------------------------------------------------


def _with_second(base: DType, second: object, depth: int) -> DType:
    """numpy.dtype((base, second)): a subarray, a sized flexible type, or a union ('new' view)."""
    if type(second) is not bool and type(second) is int or _is_int_tuple(second):
        return _sized_or_shaped(base, second)
    try:
        new = _c_dtype(second, depth + 1)
    except Rejected:
        new = None
    if new is not None and "T" not in (base.kind, new.kind):  # numpy 2's string dtype takes no part in unions
        return _union(base, new)
    return _sized_or_shaped(base, second)


def _is_int_tuple(value: object) -> bool:
    return type(value) is tuple and all(type(item) in (int, bool) for item in value)


def _sized_or_shaped(base: DType, second: object) -> DType:
    if base.unsized:
        if type(second) is not int or second < 0:
            raise Rejected("invalid itemsize in a generic type tuple")
        size = second * (4 if base.kind == "U" else 1)
        if size > INT_MAX:
            raise Rejected("itemsize out of range")
        return DType(base.objects, size, base.kind, void=base.void)  # a copy of base, resized (a 0-size subarray too)
    shape = _shape(second)
    if shape == () and type(second) is tuple:
        return base
    count = 1
    for dimension in shape:
        count *= dimension
    if base.itemsize * count > INT_MAX:
        raise Rejected("subarray larger than a C int")
    return DType(base.objects, base.itemsize * count, "V", void=True)


def _shape(value: object) -> tuple[int, ...]:
    """numpy's PyArray_IntpConverter for a subarray shape."""
    items = cast("Iterable[int]", value)  # its items' types are checked below; mypy does not narrow on `type(x) in (...)`
    dimensions = (value,) if type(value) is int else tuple(items) if type(value) in (tuple, list, bytes) else None
    if dimensions is None or not all(type(dimension) is int for dimension in dimensions) or len(dimensions) > MAX_DIMS:
        raise Rejected("invalid shape in a dtype tuple")
    if any(not 0 <= dimension <= INT_MAX for dimension in dimensions):
        raise Rejected("shape dimension out of range in a dtype tuple")
    return dimensions


def _union(base: DType, new: DType) -> DType:
    """(base, new): base's type reading the bytes of `new` (numpy's inherit tuple)."""
    if base.unsized:
        if new.objects and base.kind != "V":
            raise Unjudged("a byte or text dtype over fields holding objects")
        return DType(new.objects if base.kind == "V" else False, new.itemsize, base.kind, void=base.void, fields=new.fields)
    if base.itemsize != new.itemsize:
        raise Rejected("mismatch in size of old and new data-descriptor")
    if base.objects or new.objects:
        one_object_field = new.fields is not None and len(new.fields) == 1 and new.fields[0].kind == "O"
        if base.fields is not None or base.kind != "O" or not one_object_field:
            raise Rejected("(old_dtype, new_dtype) containing the object dtype")
    objects = new.objects if base.kind == "V" else base.objects
    return DType(objects, base.itemsize, base.kind, void=base.void, fields=new.fields if new.fields is not None else base.fields)


def _c_dtype(value: object, depth: int) -> DType:
    """numpy.dtype(value) for what a header literal can be (numpy's C _convert_from_any)."""
    if depth > MAX_DEPTH:
        raise Unjudged("dtype description nested too deeply")
    if value is None:
        return _plain(8, "f")
    if type(value) is bytes:
        try:
            return _from_string(value.decode("utf-8"), depth)
        except UnicodeDecodeError:
            raise Rejected("dtype bytes that are not UTF-8") from None
    if type(value) is str:
        return _from_string(value, depth)
    if type(value) is tuple:
        if len(value) != 2:
            raise Rejected("a dtype tuple has two items")
        return _with_second(_c_dtype(value[0], depth + 1), value[1], depth + 1)
    if type(value) is list:
        return _c_fields(value, depth)
    if type(value) is dict:
        raise Unjudged("a dict as a dtype")
    raise Rejected(f"a {type(value).__name__} is not a dtype")


def _c_fields(fields: list, depth: int) -> DType:
    """numpy.dtype([(name, dtype[, shape]), ...]) by numpy's C reader (no padding dropped)."""
    kept: list[tuple[object, DType]] = []
    for index, field in enumerate(fields):
        if type(field) is not tuple or len(field) not in (2, 3):
            raise Rejected("a field is a (name, dtype[, shape]) tuple")
        dtype = _c_dtype(field[1], depth + 1) if len(field) == 2 else _with_second(_c_dtype(field[1], depth + 1), field[2], depth + 1)
        label = field[0]
        if label == "":
            label = f"f{index}"
        elif type(label) is tuple and len(label) == 2 and label[1] == "":
            label = (label[0], f"f{index}")
        kept.append((label, dtype))
    return _structured(kept, sum(dtype.itemsize for _, dtype in kept))
