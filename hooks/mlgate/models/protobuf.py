"""A minimal Protocol Buffers reader for the model formats built on it (ONNX, TensorFlow
SavedModel): the wire format, walking the length-delimited fields of one message over the
caller's buffer without a schema and without copying payloads, and the text format
(`saved_model.pbtxt`), reading the string fields of the messages the caller names.

    length_fields(data, start, end, what) -> iterator of (field number, start, end)
    text_strings(data, enter, root, what) -> iterator of (message type, field name, value, offset)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from mlgate.models.formats import Malformed

MAX_GROUP_DEPTH = 100  # protobuf's own recursion limit


def length_fields(data, start: int, end: int, what: str) -> Iterator[tuple[int, int, int]]:
    """(field number, start, end) of the length-delimited fields of one message; other wire
    types are stepped over as protobuf parsers skip unknown fields (groups up to their end
    tag, nested ones included). Raises Malformed (naming `what` the content should be, e.g.
    'an ONNX model') when the bytes are not protobuf."""
    at = start
    groups: list[int] = []  # field numbers of the groups being skipped
    while at < end:
        key, at = _varint(data, at, end)
        number, wire = key >> 3, key & 7
        if number == 0 or number >= 1 << 29:
            raise Malformed(f"protobuf field number {number}: not {what}", at)
        if wire == 0:
            _, at = _varint(data, at, end)
        elif wire == 1:
            at += 8
        elif wire == 5:
            at += 4
        elif wire == 2:
            length, at = _varint(data, at, end)
            if length > 0x7FFFFFFF or at + length > end:
                raise Malformed(f"protobuf field {number} of {length} bytes runs past its message", at)
            if not groups:
                yield number, at, at + length
            at += length
        elif wire == 3:
            if len(groups) >= MAX_GROUP_DEPTH:
                raise Malformed("protobuf groups nested too deeply", at)
            groups.append(number)
        elif wire == 4:
            if not groups or groups.pop() != number:
                raise Malformed(f"protobuf end of group {number} without its start: not {what}", at)
        else:
            raise Malformed(f"protobuf wire type {wire}: not {what}", at)
        if at > end:
            raise Malformed("protobuf message truncated", end)
    if groups:
        raise Malformed(f"protobuf group {groups[-1]} without its end", end)


def _varint(data, at: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while at < end and shift < 64:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
    raise Malformed("protobuf varint truncated or too long", at)


# -- text format ------------------------------------------------------------------------
# What `google.protobuf.text_format.Parse` reads: `name: value`, `name { ... }` or `name < ... >`
# (the colon optional before a message), `[...]` lists, `[extension.name]` fields, `#`
# comments, adjacent string literals joined, C escapes (octal, \x, \u, \U) in strings.

_TEXT_TOKEN = re.compile(
    rb"""(?P<skip>(?:\s+|\#[^\n]*)+)
    |(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    |(?P<word>[-+]?(?:[\w.]*[eE][-+]\d+|[\w.]+))
    |(?P<mark>[{}<>\[\]:,;/])""",
    re.VERBOSE,
)
_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {
    b"n": b"\n",
    b"t": b"\t",
    b"r": b"\r",
    b"a": b"\a",
    b"b": b"\b",
    b"f": b"\f",
    b"v": b"\v",
    b"\\": b"\\",
    b"'": b"'",
    b'"': b'"',
    b"?": b"?",
}
_CLOSING = {b"{": b"}", b"<": b">"}


def text_strings(data, enter: Callable[[str, str], str | None], root: str, what: str) -> Iterator[tuple[str, str, bytes, int]]:
    """(message type, field name, string value, offset) of the string fields of a text-format
    message. `enter(message type, field name)` names the type of a message field, or None for
    fields whose content is only checked for syntax. Raises Malformed on what text_format
    refuses (naming `what` the content should be)."""
    reader = _TextReader(bytes(data), what)
    yield from reader.message(root, None, enter, 0)


class _TextReader:
    def __init__(self, data: bytes, what: str):
        self.data = data
        self.what = what
        self.at = 0
        self.token: tuple[str, bytes, int] | None = None
        self.advance()

    def advance(self) -> None:
        while self.at < len(self.data):
            match = _TEXT_TOKEN.match(self.data, self.at)
            if match is None:
                raise Malformed(f"unexpected character in protobuf text: not {self.what}", self.at)
            self.at = match.end()
            kind = match.lastgroup
            assert kind is not None  # every alternative of the pattern is a named group
            if kind != "skip":
                self.token = (kind, match.group(), match.start())
                return
        self.token = None

    def fail(self, expected: str) -> Malformed:
        offset = self.token[2] if self.token else len(self.data)
        return Malformed(f"protobuf text expected {expected}: not {self.what}", offset)

    def take(self, text: bytes) -> bool:
        if self.token is not None and self.token[0] == "mark" and self.token[1] == text:
            self.advance()
            return True
        return False

    def message(self, kind: str | None, closing: bytes | None, enter, depth: int) -> Iterator[tuple[str, str, bytes, int]]:
        if depth > MAX_GROUP_DEPTH:
            raise Malformed("protobuf text nested too deeply", self.token[2] if self.token else len(self.data))
        while True:
            if self.token is None:
                if closing is not None:
                    raise self.fail(f"{closing.decode()} before the end")
                return
            if closing is not None and self.take(closing):
                return
            name = self.field_name()
            child = enter(kind, name) if kind is not None else None
            colon = self.take(b":")
            if self.take(b"["):
                while not self.take(b"]"):
                    yield from self.value(kind, name, child, enter, depth)
                    if not self.take(b","):
                        if not self.take(b"]"):
                            raise self.fail("',' or ']'")
                        break
            else:
                if not colon and not (self.token and self.token[1] in _CLOSING):
                    raise self.fail("':' after a field name")
                yield from self.value(kind, name, child, enter, depth)
            self.take(b",") or self.take(b";")

    def field_name(self) -> str:
        if self.take(b"["):  # an extension or an Any's type URL
            parts = []
            while not self.take(b"]"):
                if self.token is None:
                    raise self.fail("']'")
                parts.append(self.token[1])
                self.advance()
            return "[" + b"".join(parts).decode("utf-8", "replace") + "]"
        if self.token is None or self.token[0] != "word":
            raise self.fail("a field name")
        name = self.token[1].decode("ascii", "replace")
        self.advance()
        return name

    def value(self, kind, name: str, child, enter, depth: int) -> Iterator[tuple[str, str, bytes, int]]:
        token = self.token
        if token is None:
            raise self.fail("a value")
        if token[0] == "mark" and token[1] in _CLOSING:
            self.advance()
            yield from self.message(child, _CLOSING[token[1]], enter, depth + 1)
        elif token[0] == "string":
            parts = []
            while self.token is not None and self.token[0] == "string":
                parts.append(_unescape(self.token[1][1:-1]))
                self.advance()
            if kind is not None:
                yield kind, name, b"".join(parts), token[2]
        elif token[0] == "word":
            self.advance()
        else:
            raise self.fail("a value")


def _unescape(body: bytes) -> bytes:
    def replace(match: re.Match) -> bytes:
        octal, hexa, short, long, other = match.groups()
        if octal:
            return bytes([int(octal, 8) & 0xFF])
        if hexa:
            return bytes([int(hexa, 16)])
        if short or long:
            point = int(short or long, 16)
            return chr(point).encode("utf-8", "surrogatepass") if point <= 0x10FFFF else b""
        return _SIMPLE_ESCAPES.get(other, b"\\" + other)

    return _ESCAPE.sub(replace, body)
