"""GGUF files: the chat template in their metadata is a Jinja program.

llama-cpp-python rendered `tokenizer.chat_template` in an unsandboxed Jinja environment
(CVE-2024-34359): a template that walks from any object to `__class__.__mro__`,
`__subclasses__()` or a function's `__globals__` runs code when the model is loaded.
Real chat templates only loop over messages and print strings, so any construct that
reaches Python internals is reported (MOD009).

The header is parsed (versions 1-3, either byte order) with every count and length
checked against the file; metadata is read up to the end of the key/value pairs, tensor
data never.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable

from mlgate.findings import Finding
from mlgate.models.formats import Malformed, gguf_byte_order
from mlgate.models.rules import CHAT_TEMPLATE
from mlgate.models.where import Where

_STRING, _ARRAY = 8, 9
_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_MAX_ARRAY_DEPTH = 4
MAX_PAIRS = 1 << 16  # real files have a few dozen metadata pairs
_TEMPLATE_KEY = re.compile(r"tokenizer\.chat_template(?:\..+)?")
_SHOWN = 5

# Inside Jinja tags: what reaches Python internals, and how the names get disguised.
_DUNDER = re.compile(r"__[A-Za-z]\w*")
_ATTR_FILTER = re.compile(r"\battr\s*\(")
_ESCAPED_UNDERSCORE = re.compile(r"\\(?:x5[fF]|u005[fF]|U0000005[fF]|137|N\{LOW LINE\})")
_JOINED_LITERALS = re.compile(r"""(['"])\s*(?:[~+]\s*)?(['"])""")
_UNDERSCORE_PIECES = re.compile(r"""(['"])_+\1\s*[*~+]|[~+]\s*(['"])_+\2""")
_CHAR_FROM_NUMBER = re.compile(r"%c")
_GLOBAL_REACH = re.compile(r"\b(lipsum|cycler|joiner|namespace|self|request|config|url_for|get_flashed_messages)\s*(?:\.|\[|\|\s*attr)")
_PYTHON_CALLS = re.compile(r"\b(popen|subprocess|system|eval|exec|import_module|getattr|globals|builtins|mro|subclasses)\s*\(")
_STRING_LITERAL = re.compile(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"")


def scan(data, where: Where) -> list[Finding]:
    found = []
    for key, template, offset in chat_templates(data):
        finding = injection_finding(key, template, lambda index, offset=offset, template=template: offset + len(template[:index].encode("utf-8")), where)
        if finding is not None:
            found.append(finding)
    return found


def injection_finding(key: str, template: str, byte_offset: Callable[[int], int], where: Where) -> Finding | None:
    """MOD009 for a chat template that reaches Python internals, at the byte offset
    (`byte_offset` maps a character index of the template into the file) of the first construct."""
    constructs = template_injection(template)
    if not constructs:
        return None
    first, _ = constructs[0]
    names = ", ".join(dict.fromkeys(name for _, name in constructs[:_SHOWN]))
    message = f"{key} uses Jinja constructs that reach Python internals: {names}"
    return where.finding(CHAT_TEMPLATE, message, byte_offset(first), context=f"{key}|{names}")


def chat_templates(data) -> list[tuple[str, str, int]]:
    """(key, template text, offset of its first byte) of every chat template."""
    reader = _Reader(data)
    version = reader.u32()
    if version == 1:
        reader.count_format, reader.length_format = "I", "I"
    reader.count()  # tensors: not needed, their data is not read
    pairs = reader.count()
    if pairs > min(MAX_PAIRS, (len(data) - reader.at) // (reader.length_size + 5)):  # key length, type, 1-byte value
        raise Malformed(f"GGUF header claims {pairs} metadata pairs: more than a model has or the file can hold", reader.at)
    templates = []
    for _ in range(pairs):
        key = reader.string().decode("utf-8", "replace")
        kind = reader.u32()
        if kind == _STRING and _TEMPLATE_KEY.fullmatch(key):
            start = reader.at + reader.length_size
            templates.append((key, reader.string().decode("utf-8", "replace"), start))
        else:
            reader.skip_value(kind, 0)
    return templates


class _Reader:
    def __init__(self, data):
        self.data = data
        self.order = gguf_byte_order(bytes(data[:8])) or "<"
        self.at = 4
        self.count_format = self.length_format = "Q"

    @property
    def length_size(self) -> int:
        return struct.calcsize(self.length_format)

    def _unpack(self, fmt: str) -> int:
        size = struct.calcsize(fmt)
        if self.at + size > len(self.data):
            raise Malformed("GGUF metadata truncated", self.at)
        value = struct.unpack_from(self.order + fmt, self.data, self.at)[0]
        self.at += size
        return value

    def u32(self) -> int:
        return self._unpack("I")

    def count(self) -> int:
        return self._unpack(self.count_format)

    def string(self) -> bytes:
        length = self._unpack(self.length_format)
        if self.at + length > len(self.data):
            raise Malformed(f"GGUF string of {length} bytes runs past the end of the file", self.at)
        value = bytes(self.data[self.at : self.at + length])
        self.at += length
        return value

    def skip_value(self, kind: int, depth: int) -> None:
        if kind in _SCALAR_SIZES:
            self._skip(_SCALAR_SIZES[kind])
        elif kind == _STRING:
            self._skip(self._unpack(self.length_format))
        elif kind == _ARRAY and depth < _MAX_ARRAY_DEPTH:
            item = self.u32()
            length = self.count()
            if item in _SCALAR_SIZES:
                self._skip(length * _SCALAR_SIZES[item])
                return
            if length > len(self.data) - self.at:
                raise Malformed(f"GGUF array of {length} items runs past the end of the file", self.at)
            if item == _STRING:
                self._skip_strings(length)
                return
            for _ in range(length):
                self.skip_value(item, depth + 1)
        else:
            raise Malformed(f"GGUF metadata value of unknown type {kind}", self.at - 4)

    def _skip_strings(self, count: int) -> None:
        """Tokenizer vocabularies are arrays of 100k+ strings: a tight loop over lengths."""
        length = struct.Struct(self.order + self.length_format)
        data, at, end = self.data, self.at, len(self.data) - length.size
        for _ in range(count):
            if at > end:
                raise Malformed("GGUF string array truncated", at)
            at += length.size + length.unpack_from(data, at)[0]
        self.at = at
        self._skip(0)

    def _skip(self, size: int) -> None:
        if self.at + size > len(self.data):
            raise Malformed("GGUF metadata truncated", self.at)
        self.at += size


def template_injection(template: str) -> list[tuple[int, str]]:
    """(offset, construct) of what reaches Python internals inside Jinja tags, in order."""
    hits = []
    for start, end in jinja_tags(template):
        code = template[start:end]
        # Names are only code outside string literals ('system' is a role, not a call);
        # dunders and escapes count inside them too (attr('__class__'), '{0.__class__}').
        names = _STRING_LITERAL.sub(lambda match: match.group(0)[0] * len(match.group(0)), code)
        for text, pattern, label in (
            (code, _DUNDER, None), (names, _ATTR_FILTER, "attr() filter"), (code, _ESCAPED_UNDERSCORE, "escaped underscore"),
            (code, _UNDERSCORE_PIECES, "dunder built from '_' pieces"), (names, _GLOBAL_REACH, None), (names, _PYTHON_CALLS, None),
        ):
            hits += [(start + match.start(), label or match.group(match.lastindex or 0)) for match in pattern.finditer(text)]
        if _CHAR_FROM_NUMBER.search(code) and "format" in code:
            hits.append((start + code.index("%c"), "character built with format('%c')"))
        joined = _JOINED_LITERALS.sub("", code)
        if not _DUNDER.search(code) and (dunder := _DUNDER.search(joined)):
            hits.append((start, f"dunder built by joining strings ({dunder.group(0)})"))
    return sorted(hits)


def jinja_tags(template: str) -> list[tuple[int, int]]:
    """(start, end) of the code inside every `{{ }}` and `{% %}`, quotes respected so a
    `'}}'` inside a string does not end the tag early; `{# #}` comments are skipped."""
    tags = []
    at = 0
    length = len(template)
    while True:
        at = template.find("{", at)
        if at < 0 or at + 1 >= length:
            return tags
        opener = template[at + 1]
        if opener == "#":
            close = template.find("#}", at + 2)
            at = length if close < 0 else close + 2
            continue
        if opener not in "{%":
            at += 1
            continue
        closer = "}}" if opener == "{" else "%}"
        end, quote = at + 2, ""
        while end < length and (quote or not template.startswith(closer, end)):
            char = template[end]
            if quote and char == "\\":
                end += 1
            elif char == quote:
                quote = ""
            elif not quote and char in "'\"":
                quote = char
            end += 1
        tags.append((at + 2, end))
        at = end + 2
