"""GGUF: the header walk and the chat templates in its metadata (CVE-2024-34359)."""

from __future__ import annotations

import struct

import pytest
from scanhits import hits

from mlgate.findings import Severity
from mlgate.models import jinja_templates

STRING, ARRAY, UINT32 = 8, 9, 4

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
CVE_PAYLOAD = (
    '{% for x in ().__class__.__base__.__subclasses__() %}{% if "warning" in x.__name__ %}'
    "{{x()._module.__builtins__['__import__']('os').popen(\"touch /tmp/retr0reg\")}}{%endif%}{% endfor %}"
)


class Writer:
    """A GGUF file: header, then key/value pairs; records where each string value starts."""

    def __init__(self, version: int = 3, order: str = "<"):
        self.order, self.version = order, version
        self.length = "I" if version == 1 else "Q"
        self.pairs: list[tuple[str, bytes]] = []

    def string(self, text: str) -> bytes:
        raw = text.encode()
        return struct.pack(self.order + self.length, len(raw)) + raw

    def add(self, key: str, kind: int, value: bytes) -> None:
        self.pairs.append((key, struct.pack(self.order + "I", kind) + value))

    def add_string(self, key: str, text: str) -> None:
        self.add(key, STRING, self.string(text))

    def bytes(self, pair_count: int | None = None) -> tuple[bytes, dict[str, int]]:
        count = len(self.pairs) if pair_count is None else pair_count
        data = b"GGUF" + struct.pack(self.order + "I", self.version) + struct.pack(self.order + self.length * 2, 0, count)
        starts = {}
        for key, value in self.pairs:
            data += self.string(key)
            starts[key] = len(data) + 4 + struct.calcsize(self.length)
            data += value
        return data, starts


def typical(writer: Writer) -> Writer:
    writer.add_string("general.architecture", "llama")
    writer.add_string("general.description", "mentions __class__ outside any template")
    tokens = [writer.string(token) for token in ("<s>", "</s>", "hello", "__init__")]
    writer.add(
        "tokenizer.ggml.tokens",
        ARRAY,
        struct.pack(writer.order + "I", STRING) + struct.pack(writer.order + writer.length, len(tokens)) + b"".join(tokens),
    )
    writer.add(
        "tokenizer.ggml.token_type",
        ARRAY,
        struct.pack(writer.order + "I", UINT32) + struct.pack(writer.order + writer.length, 2) + struct.pack(writer.order + "2I", 1, 3),
    )
    writer.add("general.file_type", UINT32, struct.pack(writer.order + "I", 15))
    return writer


def test_malicious_template_in_a_gguf_file(scan_tree):
    writer = typical(Writer())
    writer.add_string("tokenizer.chat_template", CHATML)
    writer.add_string("tokenizer.chat_template.tool_use", "é" + CVE_PAYLOAD)
    data, starts = writer.bytes()
    scan = scan_tree({"model.gguf": data + b"\0" * 64, "clean.gguf": typical(Writer()).bytes()[0]}, select="models")
    at = starts["tokenizer.chat_template.tool_use"] + len("é".encode()) + CVE_PAYLOAD.index("__class__")
    assert hits(scan) == [("MOD009", "model.gguf", None, at)]
    assert scan.messages("MOD009") == [
        "tokenizer.chat_template.tool_use uses Jinja constructs that reach Python internals: __class__, __base__, __subclasses__, __name__, _module"
    ]


@pytest.mark.parametrize(("version", "order"), [(1, "<"), (2, "<"), (3, ">")])
def test_versions_and_byte_orders(scan_tree, version, order):
    writer = typical(Writer(version, order))
    writer.add_string("tokenizer.chat_template", "{{ lipsum.__globals__ }}")
    data, starts = writer.bytes()
    scan = scan_tree({"m.gguf": data}, select="models")
    assert hits(scan) == [("MOD009", "m.gguf", None, starts["tokenizer.chat_template"] + 3)]


def test_truncated_and_absurd_headers_fail_closed(scan_tree):
    writer = typical(Writer())
    writer.add_string("tokenizer.chat_template", CHATML)
    data, starts = writer.bytes()
    absurd, _ = writer.bytes(pair_count=1 << 40)
    scan = scan_tree({"cut.gguf": data[: starts["tokenizer.chat_template"] + 10], "absurd": absurd}, select="models")
    assert hits(scan) == [("MOD004", "absurd", None, 24), ("MOD004", "cut.gguf", None, starts["tokenizer.chat_template"])]
    assert scan.messages("MOD004") == [
        "a GGUF file that cannot be parsed: GGUF header claims 1099511627776 metadata pairs: more than a model has or the file can hold",
        f"a GGUF file that cannot be parsed: GGUF string of {len(CHATML)} bytes runs past the end of the file",
    ]


def test_text_starting_with_gguf_is_not_a_gguf_file(scan_tree):
    scan = scan_tree({"NOTES.md": "GGUF models are quantised...\n"}, select="models")
    assert (scan.findings, scan.errors) == ([], [])


def test_other_string_values_with_tags_are_templates_too(scan_tree):
    """Any metadata string that is a dangerous template counts; `request` is a chat-template-only judgement."""
    writer = typical(Writer())
    writer.add_string("tokenizer.chat_template", "{{ request.environ }}")
    writer.add_string("general.description", "{{ request.environ }}")  # a web global, not a chat template
    writer.add_string("custom.prompt", "é{{ lipsum.__globals__ }}")
    data, starts = writer.bytes()
    scan = scan_tree({"m.gguf": data}, select="models")
    assert hits(scan) == [
        ("MOD009", "m.gguf", None, starts["tokenizer.chat_template"] + 3),
        ("MOD009", "m.gguf", None, starts["custom.prompt"] + len("é{{ ".encode())),
    ]
    assert scan.messages("MOD009") == [
        "tokenizer.chat_template uses Jinja constructs that reach Python internals: attribute of request",
        "custom.prompt uses Jinja constructs that reach Python internals: attribute of lipsum, __globals__",
    ]


def test_offsets_survive_bytes_that_are_not_utf8(scan_tree):
    writer = typical(Writer())
    value = b"\xff\xfe{{ ().__class__ }}\xc3"
    writer.add("tokenizer.chat_template", STRING, struct.pack("<Q", len(value)) + value)
    data, starts = writer.bytes()
    scan = scan_tree({"m.gguf": data}, select="models")
    assert hits(scan) == [("MOD009", "m.gguf", None, starts["tokenizer.chat_template"] + 2 + len("{{ ()."))]


def test_vocabulary_strings_are_not_parsed(scan_tree, monkeypatch):
    """Tokens such as `{{` sit in arrays of 100k strings: never handed to Jinja."""
    parsed = []
    monkeypatch.setattr(jinja_templates, "parse", lambda template: parsed.append(template))
    writer = Writer()
    tokens = [writer.string(token) for token in ("{{", "{%", "{{ x.__class__ }}") * 1000]
    writer.add("tokenizer.ggml.tokens", ARRAY, struct.pack("<I", STRING) + struct.pack("<Q", len(tokens)) + b"".join(tokens))
    writer.add_string("general.name", "plain")
    scan = scan_tree({"m.gguf": writer.bytes()[0]}, select="models")
    assert (hits(scan), parsed) == ([], [])


def test_a_broken_chat_template_with_a_payload_is_high(scan_tree):
    writer = typical(Writer())
    writer.add_string("tokenizer.chat_template", "{% if x %}{{ ().__class__ }}")
    data, starts = writer.bytes()
    scan = scan_tree({"m.gguf": data}, select="models")
    assert hits(scan) == [("MOD009", "m.gguf", None, starts["tokenizer.chat_template"] + len("{% if x %}{{ ()."))]
    assert scan.findings[0].severity is Severity.HIGH
