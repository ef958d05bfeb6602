"""Where templates are found and how their text is decoded: JSON (json's decoding: escapes,
BOM, UTF-16/32), YAML (composed), template files, archives; and the per-file bounds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scanhits import hits
from targen import tar_archive
from zipgen import Entry, build

from mlgate.findings import Severity
from mlgate.models import jinja_templates, template_files

SSTI = "{{ ().__class__.__base__.__subclasses__() }}"
REAL = Path(__file__).resolve().parents[1] / "fixtures" / "chat_templates"
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def config(template) -> bytes:
    return json.dumps({"bos_token": "<s>", "chat_template": template, "model_max_length": 4096}, indent=2).encode()


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """Every template handed to Jinja's parser."""
    calls: list[str] = []
    real = jinja_templates.parse

    def counted(template: str):
        calls.append(template)
        return real(template)

    monkeypatch.setattr(jinja_templates, "parse", counted)
    return calls


def test_injection_in_tokenizer_config_is_found_at_its_byte(scan_tree):
    data = config("{% for m in messages %}\n" + SSTI + "{% endfor %}")
    # json.dumps escapes the newline as two characters: the offset is in the file's bytes
    scan = scan_tree({"model/tokenizer_config.json": data}, select="models")
    assert hits(scan) == [("MOD009", "model/tokenizer_config.json", None, data.index(b"__class__"))]
    assert scan.messages("MOD009") == [
        "chat_template uses Jinja constructs that reach Python internals: __class__, __base__, __subclasses__"
    ]


def test_named_templates_of_a_list_are_each_checked(scan_tree):
    data = config([{"name": "default", "template": CHATML}, {"name": "tool_use", "template": "é " + SSTI}])
    scan = scan_tree({"tokenizer_config.json": data}, select="models")
    assert hits(scan) == [("MOD009", "tokenizer_config.json", None, data.index(b"__class__"))]
    assert scan.messages("MOD009")[0].startswith("template uses")


@pytest.mark.parametrize(
    ("raw_template", "marker"),
    [
        (r"{{ ()[\"\u005f\u005fclass\u005f\u005f\"] }}", rb"\"\u005f"),  # the key's string token starts at its escaped quote
        (r"\u007b\u007b ().__class__ }}", b"__class__"),
        (r"\u007B% set x = ().__class__ %}", b"__class__"),
        (r"{\u0025 set x = ()\u002e__class__ %}", b"__class__"),
        (r"\ud83d\ude00\u00e9 {{ ().__class__ }}", b"__class__"),  # a surrogate pair is one character
        (r"{{ ()['\\x5f\\x5fclass\\x5f\\x5f'] }}", rb"'\\x5f"),  # JSON escape of a Jinja escape
    ],
)
def test_json_is_judged_after_decoding(scan_tree, raw_template, marker):
    data = b'{"chat_template": "' + raw_template.encode() + b'"}'
    scan = scan_tree({"tokenizer_config.json": data}, select="models")
    assert hits(scan) == [("MOD009", "tokenizer_config.json", None, data.index(marker))]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be"])
def test_json_encodings_json_loads_reads(scan_tree, encoding):
    text = '{"chat_template": "é{{ ().__class__ }}"}'
    data = text.encode(encoding)
    bom = {"utf-8-sig": 3, "utf-16": 2, "utf-32": 4}.get(encoding, 0)
    unit = {"utf-16": "utf-16-le", "utf-32": "utf-32-le"}.get(encoding, encoding.removesuffix("-sig"))
    scan = scan_tree({"tokenizer_config.json": data}, select="models")
    assert hits(scan) == [("MOD009", "tokenizer_config.json", None, bom + len(text[: text.index("__class__")].encode(unit)))]


def test_chat_template_keys_anywhere_and_escaped_are_chat_templates(scan_tree):
    """`request` is a chat-template-only judgement: it tells which strings count as chat templates."""
    flask = "{{ request.environ }}"
    files = {
        "a/config.json": json.dumps({"model": {"default_chat_template": flask}}),
        "b/settings.json": '{"chat\\u005ftemplate": "' + flask + '"}',
        "c/other.json": json.dumps({"prompt": flask, "items": [flask]}),  # plain templates: request is a web global
    }
    scan = scan_tree(files, select="models")
    assert hits(scan) == [
        ("MOD009", "a/config.json", None, files["a/config.json"].index("request")),
        ("MOD009", "b/settings.json", None, files["b/settings.json"].index("request")),
    ]
    assert scan.messages("MOD009") == [
        "default_chat_template uses Jinja constructs that reach Python internals: attribute of request",
        "chat_template uses Jinja constructs that reach Python internals: attribute of request",
    ]


def test_any_json_string_that_is_a_dangerous_template_counts(scan_tree):
    data = json.dumps({"prompts": [{"text": "{{ x }}"}, {"text": "{{ cycler.__init__ }}"}], "system": [SSTI]}).encode()
    scan = scan_tree({"prompts.json": data}, select="models")
    assert hits(scan) == [
        ("MOD009", "prompts.json", None, data.index(b"cycler")),
        ("MOD009", "prompts.json", None, data.index(b"__class__")),
    ]
    assert scan.messages("MOD009") == [
        "text uses Jinja constructs that reach Python internals: attribute of cycler, __init__",
        "string value uses Jinja constructs that reach Python internals: __class__, __base__, __subclasses__",  # in an array
    ]


def test_duplicate_keys_are_all_judged(scan_tree):
    """json keeps the last value, another reader the first: both are read."""
    data = b'{"chat_template": "' + SSTI.encode() + b'", "chat_template": "{{ x }}"}'
    scan = scan_tree({"tokenizer_config.json": data}, select="models")
    assert hits(scan) == [("MOD009", "tokenizer_config.json", None, data.index(b"__class__"))]


def test_template_files(scan_tree):
    files = {name: ("{# a comment #}\n" + SSTI).encode() for name in ("chat_template.jinja", "x.j2", "y.jinja2", "z.template", "w.JINJA")}
    scan = scan_tree(files, select="models")
    at = files["x.j2"].index(b"__class__")
    assert hits(scan) == [("MOD009", name, None, at) for name in sorted(files)]


def test_yaml_values_keys_and_offsets(scan_tree):
    text = (
        "model:\n"
        "  name: é\n"
        "  chat_template: |\n"
        "    {% for m in messages %}\n"
        "    {{ m.__class__ }}{% endfor %}\n"
        "prompt: 'say {{ cycler.__init__ }}'\n"
        'escaped: "{{ ()[\\"\\x5f\\x5fclass\\x5f\\x5f\\"] }}"\n'
        'joined: "{\\\n  { ().__class__ }}"\n'
        'web: "{{ request.environ }}"\n'
    )
    data = text.encode()
    scan = scan_tree({"conf.yaml": data}, select="models")
    assert hits(scan) == [
        ("MOD009", "conf.yaml", None, data.index(b"__class__")),  # a | block maps line by line
        ("MOD009", "conf.yaml", None, data.index(b"cycler")),  # written as it reads
        ("MOD009", "conf.yaml", None, data.index(b'"{{ ()[')),  # escapes: the scalar's start
        ("MOD009", "conf.yaml", None, data.index(b'"{\\')),  # an escaped line break joins `{` and `{`
    ]


def test_yaml_aliases_are_judged_once_and_tags_do_not_hide(scan_tree):
    data = b"a: &t !!str '" + SSTI.encode() + b"'\nb: *t\nc: [*t, *t]\n"
    scan = scan_tree({"x.yml": data}, select="models")
    assert hits(scan) == [("MOD009", "x.yml", None, data.index(b"__class__"))]


def test_templates_inside_archives(scan_tree):
    """A zipped snapshot, a NeMo-style tar: the member is named, the offset is inside it."""
    data = config(SSTI)
    yaml = b"chat_template: '" + SSTI.encode() + b"'\n"
    archive = build([Entry("snapshot/tokenizer_config.json", data), Entry("snapshot/serve.yaml", yaml)]).data
    scan = scan_tree(
        {"snapshot.zip": archive, "model.nemo": tar_archive({"./tokenizer_config.json": data, "./t.jinja": SSTI.encode()})}, select="models"
    )
    assert hits(scan) == [
        ("MOD009", "model.nemo", "./t.jinja", SSTI.index("__class__")),
        ("MOD009", "model.nemo", "./tokenizer_config.json", data.index(b"__class__")),
        ("MOD009", "snapshot.zip", "snapshot/serve.yaml", yaml.index(b"__class__")),
        ("MOD009", "snapshot.zip", "snapshot/tokenizer_config.json", data.index(b"__class__")),
    ]


def test_real_templates_and_other_files_are_quiet(scan_tree):
    llama = (REAL / "meta-llama-Llama-3.1-8B-Instruct.jinja").read_text(encoding="utf-8")
    tools = (REAL / "NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja").read_text(encoding="utf-8")
    files = {
        "a/tokenizer_config.json": config(llama),
        "b/tokenizer_config.json": config([{"name": "default", "template": CHATML}, {"name": "tool_use", "template": tools}]),
        "c/chat_template.jinja": (REAL / "Qwen-Qwen3-0.6B.jinja").read_bytes(),
        "d/tokenizer_config.json": b'{"chat_template": "' + SSTI.encode(),  # broken JSON: refused by transformers
        ".github/workflows/ci.yml": "jobs:\n  t:\n    runs-on: ${{ matrix.os }}\n    steps:\n      - run: echo ${{ format('{0}', github.event.pull_request.title) }}\n",
        "templates/page.j2": "{% extends 'base.html' %}{{ url_for('index') }}{{ request.args.get('q') }}",
        "site.yaml": "ip: \"{{ hostvars[inventory_hostname]['ansible_' ~ iface]['ipv4']['address'] }}\"\n",
    }
    scan = scan_tree(files, select="models")
    assert (hits(scan), scan.errors) == ([], [])


def test_strings_without_tags_are_never_parsed(scan_tree, parses):
    vocab = {f"tok{index}": index for index in range(5000)} | {"{{": 5000, "{%": 5001}  # keys, not values
    files = {
        "tokenizer.json": json.dumps({"model": {"vocab": vocab, "merges": ["a b"] * 2000}}),
        "labels.json": json.dumps([f"label {index} with __dunder__ words" for index in range(2000)]),
        "plain.json": json.dumps({"t": "{{ name }} says hi"}),  # no character a reach into internals needs
        "c.yaml": "a: '{{ x.y }}'\nb: 'c'\n",
    }
    scan = scan_tree(files, select="models")
    assert (hits(scan), parses) == ([], [])


def test_parsing_per_file_is_bounded(scan_tree, parses, monkeypatch):
    monkeypatch.setattr(template_files, "MAX_TEMPLATES", 10)
    data = json.dumps([f"{{{{ x[{index}] }}}}" for index in range(25)] + [SSTI]).encode()
    scan = scan_tree({"many.json": data}, select="models")
    assert len(parses) == 10
    assert hits(scan) == [("MOD004", "many.json", None, data.index(b"{{ x[10]"))]
    assert scan.messages("MOD004") == [
        "16 more strings look like Jinja templates, past the 10 templates, 1 MiB or folding work judged per file: they cannot be checked"
    ]
    assert scan.findings[0].severity is Severity.HIGH


def test_characters_parsed_per_file_are_bounded(scan_tree, parses, monkeypatch):
    monkeypatch.setattr(template_files, "MAX_CHARACTERS", 100)
    template = "{{ x[0] }}" + " " * 60
    data = json.dumps({"a": template, "b": template, "c": SSTI}).encode()
    scan = scan_tree({"two.json": data}, select="models")
    assert parses == [template]
    assert hits(scan) == [("MOD004", "two.json", None, data.index(b"{{ x[0] }}", data.index(b'"b"')))]


def test_jinja_is_imported_only_for_a_file_that_holds_a_template(tmp_path):
    """Start-up: Jinja (20-40 ms to import) is loaded when a template is judged, not for every run."""
    import subprocess
    import sys

    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "config.yaml").write_text("model: ./local\n")
    (tmp_path / "plain" / "data.json").write_text('{"a": 1}\n')
    (tmp_path / "chat").mkdir()
    (tmp_path / "chat" / "tokenizer_config.json").write_text('{"chat_template": "{{ messages[0].__class__ }}"}\n')
    probe = "import sys; from mlgate.cli import main\ntry: main(['check', '--select', 'models', sys.argv[1]])\nexcept SystemExit: pass\nprint('jinja2' in sys.modules)"
    loaded = [
        subprocess.run([sys.executable, "-c", probe, str(tmp_path / name)], capture_output=True, text=True, check=True).stdout.split()[-1]
        for name in ("plain", "chat")
    ]
    assert loaded == ["False", "True"]
