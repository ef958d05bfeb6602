"""Jinja templates in the files beside a model: chat templates, and any template in a config.

Where they are:
- `*.jinja`, `*.j2`, `*.jinja2`, `*.template` files (`chat_template.jinja` is what
  transformers >= 4.43 writes): the whole file is a template;
- JSON (`tokenizer_config.json`, `chat_template.json`, any `.json`): every string value,
  decoded the way `json` decodes it (escapes such as `\\u005f` and BOM/UTF-16/32 included);
- YAML (`.yaml`, `.yml`): every scalar, composed (never constructed) as a YAML loader reads it.

A string is a *chat template* (judged strictly, see `jinja_templates`) when it is the value
of a key containing `chat_template`, a `template` of the named-template list in a
tokenizer config, or a file named like one; any other string that has `{{`/`{%` and the
characters a reach into internals needs is judged as a plain Jinja template. Cheap first:
a file whose decoded text has no `{{`, `{%` or escaped brace is not parsed at all, and at
most MAX_TEMPLATES strings per file are handed to Jinja's parser.

Offsets are bytes of the file: of the first construct inside the string (escapes counted)
in JSON and in YAML scalars written without escapes or folding, otherwise of the scalar.

    may_hold_templates(name: str) -> bool
    scan(data, where, name) -> list[Finding]
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from mlgate.files import ScanError
from mlgate.findings import Finding
from mlgate.kubernetes import is_schema
from mlgate.models.template_files import FileTemplates
from mlgate.models.where import Where
from mlgate.yamlfile import compose_text, is_mapping, walk

TEMPLATE_SUFFIXES = (".jinja", ".j2", ".jinja2", ".template")
JSON_SUFFIXES = (".json",)
YAML_SUFFIXES = (".yaml", ".yml")
TOKENIZER_FILES = frozenset({"tokenizer_config.json", "chat_template.json"})
MAX_SIZE = 32 << 20  # tokenizer configs with their added tokens stay far below this
_CHAT_KEY = re.compile(r"chat_template", re.IGNORECASE)
# A Jinja tag after decoding: `{{`/`{%` as written, or a brace or percent sign written as an escape.
_JSON_TAG = re.compile(r"\{[{%]|\\u00(?:7[bB]|25)")
_YAML_TAG = re.compile(r"\{[{%]|\\(?:x|u00|U000000)(?:7[bB]|25)|\{\\(?:\r\n|\r|\n)")
# JSON's own string reader (the C one when built): exists at runtime, absent from typeshed.
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


def may_hold_templates(name: str) -> bool:
    return name.rsplit("/", 1)[-1].lower().endswith(TEMPLATE_SUFFIXES + JSON_SUFFIXES + YAML_SUFFIXES)


def scan(data, where: Where, name: str) -> list[Finding]:
    if len(data) > MAX_SIZE:
        return []
    data = bytes(data)
    base = name.rsplit("/", 1)[-1].lower()
    templates = FileTemplates(where)
    try:
        if base.endswith(TEMPLATE_SUFFIXES):
            _template_file(data, base, templates)
        elif base.endswith(JSON_SUFFIXES):
            _json_file(data, base, templates)
        else:
            _yaml_file(data, templates)
    except UnicodeDecodeError:
        return []  # not text any loader reads
    return templates.findings()


def _template_file(data: bytes, base: str, templates: FileTemplates) -> None:
    text = data.decode("utf-8")  # Jinja's loaders read templates as UTF-8
    templates.add(base, text, _ByteOffsets(text, "utf-8", 0).of, chat="chat_template" in base)


def _decode(data: bytes) -> tuple[str, _ByteOffsets]:
    """Text as `json.loads(bytes)` decodes it (UTF-8/16/32, a BOM skipped), and its byte offsets."""
    encoding = json.detect_encoding(data)
    text = data.decode(encoding)
    if encoding == "utf-8-sig":
        return text, _ByteOffsets(text, "utf-8", 3)
    if encoding in ("utf-16", "utf-32"):  # announced by a BOM, which names the byte order
        order = "le" if data.startswith(b"\xff\xfe") else "be"
        return text, _ByteOffsets(text, f"{encoding}-{order}", 2 if encoding == "utf-16" else 4)
    return text, _ByteOffsets(text, encoding, 0)


class _ByteOffsets:
    """Byte offset of a character of `text`; linear over increasing characters."""

    def __init__(self, text: str, encoding: str, start: int):
        self.text, self.encoding = text, encoding
        self.index, self.byte = 0, start
        self.start = start

    def of(self, index: int) -> int:
        if index < self.index:
            self.index, self.byte = 0, self.start
        self.byte += len(self.text[self.index : index].encode(self.encoding, "surrogatepass"))
        self.index = index
        return self.byte


def _json_file(data: bytes, base: str, templates: FileTemplates) -> None:
    text, offsets = _decode(data)
    hits = list(_JSON_TAG.finditer(text))
    if not hits:
        return
    try:
        json.loads(text)  # what the consumer reads: broken JSON is refused
    except (json.JSONDecodeError, RecursionError):
        return
    done = -1
    for hit in hits:
        if hit.start() < done:
            continue  # inside a string already judged
        # In valid JSON a `{{`, `{%` or `\u` only occurs inside a string: find its opening quote.
        opening = _quote_before(text, hit.start())
        value, done = _scanstring(text, opening + 1)
        if text[done:].lstrip().startswith(":"):
            continue  # an object key, not a value
        key = _key_of(text, opening)
        chat = key is not None and (_CHAT_KEY.search(key) is not None or key == "template" and base in TOKENIZER_FILES)

        def locate_in_string(index: int, start: int = opening + 1) -> int:
            return offsets.of(_raw_index(text, start, index))

        templates.add(key or "string value", value, locate_in_string, chat=chat)


def _quote_before(text: str, at: int) -> int:
    """The last unescaped `"` before `at` (a quote preceded by an odd run of backslashes is escaped)."""
    quote = text.rfind('"', 0, at)
    while quote > 0:
        backslashes = 0
        while backslashes < quote and text[quote - 1 - backslashes] == "\\":
            backslashes += 1
        if backslashes % 2 == 0:
            return quote
        quote = text.rfind('"', 0, quote)
    return quote


def _key_of(text: str, opening: int) -> str | None:
    """The object key a string value at `opening` belongs to (None inside an array)."""
    before = text[:opening].rstrip()
    if not before.endswith(":"):
        return None
    closing = len(before[:-1].rstrip()) - 1
    if closing < 0 or text[closing] != '"':
        return None
    try:
        return _scanstring(text, _quote_before(text, closing) + 1)[0]
    except json.JSONDecodeError:
        return None


def _raw_index(text: str, start: int, decoded: int) -> int:
    """Index in `text` of the `decoded`-th character of the JSON string starting at `start`
    (json joins an escaped surrogate pair into one character)."""
    at = start
    for _ in range(decoded):
        if text[at] != "\\":
            at += 1
        elif text[at + 1] != "u":
            at += 2
        elif (
            0xD800 <= int(text[at + 2 : at + 6], 16) <= 0xDBFF
            and text[at + 6 : at + 8] == "\\u"
            and 0xDC00 <= int(text[at + 8 : at + 12], 16) <= 0xDFFF
        ):
            at += 12
        else:
            at += 6
    return at


def _yaml_file(data: bytes, templates: FileTemplates) -> None:
    text, offsets = _decode(data)
    if not _YAML_TAG.search(text):
        return
    try:
        documents = compose_text(text)
    except ScanError:
        return  # not YAML a loader reads
    for document in documents:
        if is_schema(document):
            continue  # a CRD's OpenAPI schema: its `{{ }}` are documentation no template engine renders
        keys: dict[int, str] = {}  # value node -> its key
        key_nodes: set[int] = set()  # a key is not a template
        chat: set[int] = set()
        node: Any  # a ruamel.yaml node: yamlfile keeps its Node type opaque
        for node in walk(document):
            if not is_mapping(node):
                continue
            for key, value in node.value:
                key_nodes.add(id(key))
                if key.id == "scalar":
                    keys[id(value)] = key.value
                    if _CHAT_KEY.search(key.value) and id(value) not in chat:
                        chat.update(id(inside) for inside in walk(value))
        for node in walk(document):
            if (
                node.id == "scalar"
                and id(node) not in key_nodes
                and isinstance(node.value, str)
                and ("{{" in node.value or "{%" in node.value)  # what FileTemplates.add judges: the others cost nothing
            ):
                locate = _scalar_offsets(text, node)

                def locate_in_scalar(index: int, locate: Callable[[int], int] = locate) -> int:
                    return offsets.of(locate(index))

                templates.add(keys.get(id(node)) or "string value", node.value, locate_in_scalar, chat=id(node) in chat)


def _scalar_offsets(text: str, node) -> Callable[[int], int]:
    """Maps a character of a scalar's value to its character in the text: exact when the
    value is written as it is (plain or quoted without escapes, or a `|` block), else the
    scalar's start (its anchor or tag included)."""
    start, end = node.start_mark.index, node.end_mark.index
    value = node.value
    written = text.find(value, start, end) if value else -1  # after any anchor, tag or quote
    if written >= 0:
        return lambda index: written + index
    if node.style == "|":
        lines = text[start : node.end_mark.index].split("\n")[1:]
        indent = min((len(line) - len(line.lstrip(" ")) for line in lines if line.strip()), default=0)
        starts, at = [], text.index("\n", start) + 1
        for line in lines:
            starts.append(at + min(indent, len(line)))
            at += len(line) + 1

        def in_block(index: int) -> int:
            row = value.count("\n", 0, index)
            column = index - (value.rfind("\n", 0, index) + 1)
            return starts[row] + column if row < len(starts) else start

        return in_block
    return lambda index: start
