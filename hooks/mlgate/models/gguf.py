"""GGUF files: the chat template in their metadata is a Jinja program.

llama-cpp-python rendered `tokenizer.chat_template` in an unsandboxed Jinja environment
(CVE-2024-34359): a template that walks from any object to `__class__.__mro__`,
`__subclasses__()` or a function's `__globals__` runs code when the model is loaded.
Every `tokenizer.chat_template*` value is judged as a chat template, any other string
value with Jinja tags as a template (`jinja_templates`), and reported as MOD009. GGUF
strings are UTF-8 without escapes: the value's bytes are the template.

The header is parsed (versions 1-3, either byte order) with every count and length
checked against the file; metadata is read up to the end of the key/value pairs, tensor
data never.
"""

from __future__ import annotations

import re
import struct

from mlgate.findings import Finding
from mlgate.models.formats import Malformed, gguf_byte_order
from mlgate.models.template_files import FileTemplates
from mlgate.models.where import Where

_STRING, _ARRAY = 8, 9
_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_MAX_ARRAY_DEPTH = 4
MAX_PAIRS = 1 << 16  # real files have a few dozen metadata pairs
_TEMPLATE_KEY = re.compile(r"tokenizer\.chat_template(?:\..+)?")
_TAGS = (b"{{", b"{%")


def scan(data, where: Where) -> list[Finding]:
    templates = FileTemplates(where)
    for key, template, offset, chat in template_strings(data):

        def byte_offset(index: int, offset: int = offset, template: str = template) -> int:
            return offset + len(template[:index].encode("utf-8", "surrogateescape"))

        templates.add(key, template, byte_offset, chat=chat)
    return templates.findings()


def template_strings(data) -> list[tuple[str, str, int, bool]]:
    """(key, text, offset of its first byte, whether it is a chat template) of every string
    value that is a chat template or holds Jinja tags (arrays, the vocabulary, are not read)."""
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
        if kind == _STRING and (_TEMPLATE_KEY.fullmatch(key) or reader.tagged_string()):
            start = reader.at + reader.length_size
            text = reader.string().decode("utf-8", "surrogateescape")  # undecodable bytes keep their offsets
            templates.append((key, text, start, _TEMPLATE_KEY.fullmatch(key) is not None))
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

    def tagged_string(self) -> bool:
        """Whether the string value at the reader holds `{{` or `{%` (searched in place, not copied)."""
        if self.at + self.length_size > len(self.data):
            return False
        length = struct.unpack_from(self.order + self.length_format, self.data, self.at)[0]
        start = self.at + self.length_size
        end = min(start + length, len(self.data))
        return any(self.data.find(tag, start, end) >= 0 for tag in _TAGS)

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
