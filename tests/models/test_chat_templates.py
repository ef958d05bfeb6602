"""Chat templates beside Hugging Face models: tokenizer_config.json, chat_template.json/.jinja."""

from __future__ import annotations

import json

from scanhits import hits
from targen import tar_archive
from test_gguf import CHATML, LLAMA31_TOOLS, MISTRAL
from zipgen import Entry, build

SSTI = "{{ ().__class__.__base__.__subclasses__() }}"


def config(template) -> bytes:
    return json.dumps({"bos_token": "<s>", "chat_template": template, "model_max_length": 4096}, indent=2).encode()


def test_injection_in_tokenizer_config_is_found_at_its_byte(scan_tree):
    data = config("{% for m in messages %}\n" + SSTI + "{% endfor %}")
    # json.dumps escapes the newline as two characters: the offset is in the file's bytes
    at = data.index(b"__class__")
    scan = scan_tree({"model/tokenizer_config.json": data}, select="models")
    assert hits(scan) == [("MOD009", "model/tokenizer_config.json", None, at)]
    assert scan.messages("MOD009") == ["chat_template uses Jinja constructs that reach Python internals: __class__, __base__, __subclasses__"]


def test_named_templates_of_a_list_are_each_checked(scan_tree):
    data = config([{"name": "default", "template": CHATML}, {"name": "tool_use", "template": "é " + SSTI}])
    scan = scan_tree({"tokenizer_config.json": data}, select="models")
    assert hits(scan) == [("MOD009", "tokenizer_config.json", None, data.index(b"__class__"))]


def test_jinja_and_json_template_files(scan_tree):
    jinja = ("{# a comment #}\n" + SSTI).encode()
    as_json = json.dumps({"chat_template": SSTI}).encode()
    scan = scan_tree({"chat_template.jinja": jinja, "chat_template.json": as_json}, select="models")
    assert hits(scan) == [
        ("MOD009", "chat_template.jinja", None, jinja.index(b"__class__")),
        ("MOD009", "chat_template.json", None, as_json.index(b"__class__")),
    ]


def test_templates_inside_archives(scan_tree):
    """A zipped snapshot, a NeMo-style tar: the member is named, the offset is inside it."""
    data = config(SSTI)
    archive = build([Entry("snapshot/tokenizer_config.json", data)]).data
    scan = scan_tree({"snapshot.zip": archive, "model.nemo": tar_archive({"./tokenizer_config.json": data})}, select="models")
    assert hits(scan) == [
        ("MOD009", "model.nemo", "./tokenizer_config.json", data.index(b"__class__")),
        ("MOD009", "snapshot.zip", "snapshot/tokenizer_config.json", data.index(b"__class__")),
    ]


def test_real_templates_and_other_json_files_are_quiet(scan_tree):
    files = {
        "a/tokenizer_config.json": config(MISTRAL),
        "b/tokenizer_config.json": config([{"name": "default", "template": CHATML}, {"name": "tool_use", "template": LLAMA31_TOOLS}]),
        "c/chat_template.jinja": CHATML,
        "d/config.json": json.dumps({"chat_template": SSTI}),  # not a file transformers reads templates from
        "e/tokenizer_config.json": b'{"chat_template": "' + SSTI.encode(),  # broken JSON: refused by transformers
    }
    scan = scan_tree(files, select="models")
    assert (hits(scan), scan.errors) == ([], [])
