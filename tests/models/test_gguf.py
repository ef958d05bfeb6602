"""GGUF: the header walk and the Jinja template-injection check (CVE-2024-34359)."""

from __future__ import annotations

import struct

import pytest
from scanhits import hits

from mlgate.models.gguf import jinja_tags, template_injection

STRING, ARRAY, UINT32 = 8, 9, 4

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
MISTRAL = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)
LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
LLAMA31_TOOLS = (
    '{{- bos_token }}{%- if not date_string is defined %}{%- set date_string = strftime_now("%d %b %Y") %}{%- endif %}'
    '{%- for message in messages %}{%- if message.role == "system" %}{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}'
    '{%- elif "tool_calls" in message %}{%- set tool_call = message.tool_calls[0].function %}'
    '{{- \'{"name": "\' + tool_call.name + \'", "parameters": \' }}{{- tool_call.arguments | tojson }}{{- "}" }}'
    "{%- endif %}{%- endfor %}"
)
GEMMA = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for message in messages %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}"
    "{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
)
QWEN_TOOLS = (
    "{%- if tools %}{{- '<|im_start|>system\\n' }}{%- for tool in tools %}{{- \"\\n\" }}{{- tool | tojson }}{%- endfor %}{%- endif %}"
    "{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}"
    "{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}"
    "{%- if ns.multi_step_tool and message.role == \"user\" %}{%- set ns.multi_step_tool = false %}"
    "{%- set ns.last_query_index = index %}{%- endif %}{%- endfor %}"
    "{# a comment that mentions __class__ #}plain text about __init__ {{- message.content }}"
)
CVE_PAYLOAD = (
    "{% for x in ().__class__.__base__.__subclasses__() %}{% if \"warning\" in x.__name__ %}"
    "{{x()._module.__builtins__['__import__']('os').popen(\"touch /tmp/retr0reg\")}}{%endif%}{% endfor %}"
)


@pytest.mark.parametrize("template", [CHATML, MISTRAL, LLAMA3, LLAMA31_TOOLS, GEMMA, QWEN_TOOLS])
def test_real_chat_templates_are_clean(template):
    assert template_injection(template) == []


@pytest.mark.parametrize(
    ("template", "first"),
    [
        (CVE_PAYLOAD, (CVE_PAYLOAD.index("__class__"), "__class__")),
        ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", (3, "cycler")),
        ("{{ lipsum['__globals__']['os'] }}", (3, "lipsum")),
        ("{{ joiner.x }}{{ namespace.y }}", (3, "joiner")),
        ("{{ self._TemplateReference__context }}", (3, "self")),
        ("{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}", (6, "attr() filter")),
        ("{{ ()['__cla'+'ss__'] }}", (7, "__cla")),
        ("{{ ()['_' ~ '_class_' ~ '_'] }}", (2, "dunder built by joining strings (__class__)")),  # at the tag
        ("{{ ()['_''_class__'] }}", (2, "dunder built by joining strings (__class__)")),
        ("{{ '}}' ~ ().__class__ }}", (13, "__class__")),
        ("{{ request.application }}", (3, "request")),
        ("{% for k in config.items() %}{% endfor %}", (12, "config")),
        ("{{ ('%c'|format(95)) * 2 }}", (5, "character built with format('%c')")),
        ("{{ x.popen('id') }}", (5, "popen")),
    ],
)
def test_injection_constructs(template, first):
    assert template_injection(template)[0] == first


def test_underscore_pieces_and_escapes_are_named():
    found = template_injection("{{ ('_' * 2) ~ 'class' }}{{ x['\\u005f\\u005fdict\\u005f\\u005f'] }}")
    assert [name for _, name in found] == ["dunder built from '_' pieces", "escaped underscore", "escaped underscore", "escaped underscore", "escaped underscore"]


def test_tags_respect_quotes_and_skip_comments():
    template = "a{{ '}}' }}b{# {{ x }} #}{% if x %}c"
    assert [template[start:end] for start, end in jinja_tags(template)] == [" '}}' ", " if x "]


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
    writer.add("tokenizer.ggml.tokens", ARRAY, struct.pack(writer.order + "I", STRING) + struct.pack(writer.order + writer.length, len(tokens)) + b"".join(tokens))
    writer.add("tokenizer.ggml.token_type", ARRAY, struct.pack(writer.order + "I", UINT32) + struct.pack(writer.order + writer.length, 2) + struct.pack(writer.order + "2I", 1, 3))
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
        "tokenizer.chat_template.tool_use uses Jinja constructs that reach Python internals: __class__, __base__, __subclasses__, __name__, __builtins__"
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
