"""Safe YAML: positions, no object construction, alias bombs and deep nesting survive."""

import pytest

from mlgate import yamlfile
from mlgate.files import ScanError, SourceFile
from workcount import count_calls


def load(text: str):
    return yamlfile.load_documents(SourceFile.from_text("x.yml", text))


def test_positions_and_multi_documents():
    first, second = load("a: 1\nrun: |\n  echo hi\n  pip install x\n---\nb: [1, 2]\n")
    run = yamlfile.get(first, "run")
    assert yamlfile.position(run) == (2, 6)
    assert [yamlfile.text_of(n) for n in yamlfile.elements(yamlfile.get(second, "b"))] == ["1", "2"]


def test_block_scalar_offsets_map_to_file_lines():
    source = SourceFile.from_text("w.yml", "steps:\n  - run: |\n      echo hi\n\n      pip install torch\n")
    [doc] = yamlfile.load_documents(source)
    node = yamlfile.get(yamlfile.elements(yamlfile.get(doc, "steps"))[0], "run")
    text, locate = yamlfile.scalar_text(source, node)
    assert text.startswith("echo hi\n\npip install torch")
    assert locate(text.index("torch")) == (5, 19)


def test_inline_scalar_offsets():
    source = SourceFile.from_text("w.yml", 'a: "pip install x"\nb: pip install y\n')
    [doc] = yamlfile.load_documents(source)
    for key, expected in (("a", (1, 17)), ("b", (2, 16))):
        text, locate = yamlfile.scalar_text(source, yamlfile.get(doc, key))
        assert locate(len(text) - 1) == expected


def test_tags_never_construct_objects():
    [doc] = load("a: !!python/object/apply:os.system ['touch /tmp/pwned-mlgate']\n")
    node = yamlfile.get(doc, "a")
    assert node.tag == "tag:yaml.org,2002:python/object/apply:os.system"
    assert yamlfile.is_sequence(node)


def test_alias_bomb_is_walked_once_per_node():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghij":
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    text = "\n".join(lines) + "\n"
    load("warm: up\n")  # the parser's first use does one-time set-up work

    def load_and_walk() -> int:
        [doc] = load(text)
        return sum(1 for _ in yamlfile.walk(doc))

    count, calls = count_calls(load_and_walk)
    assert count < 200
    # Loading and walking cost work in proportion to the text (about 2 calls a character), not
    # to the 9**9 strings the aliases stand for.
    assert calls <= 10 * len(text), calls


@pytest.mark.parametrize("text", ["[" * 100000 + "]" * 100000, "- " * 50000 + "x\n", "{a: " * 5000 + "1" + "}" * 5000])
def test_deep_nesting_is_an_error_not_a_crash(text):
    with pytest.raises(ScanError, match="nested more than 500 levels"):
        load(text)


@pytest.mark.parametrize("text", ["a: [\n", "a: b: c\n", "\tx: 1\n", "a: 'unterminated\n"])
def test_invalid_yaml_is_a_scan_error_with_a_line(text):
    with pytest.raises(ScanError, match="invalid YAML"):
        load(text)


# ---- read as the loaders of the files we scan read them ------------------------------------

MERGES = """\
a: &a {x: from-a, y: from-a}
b: &b {y: from-b, z: from-b, <<: *a}
m:
  x: own
  <<: [*b, *a]
chain: {<<: {<<: {<<: *a}}}
"""


def test_merge_keys_are_applied_with_the_yaml_precedence():
    [document] = load(MERGES)
    m = yamlfile.get(document, "m")
    assert [(key, yamlfile.text_of(value)) for key, _, value in yamlfile.items(m)] == [("x", "own"), ("y", "from-b"), ("z", "from-b")]
    assert yamlfile.text_of(yamlfile.get(m, "z")) == "from-b"
    assert [yamlfile.text_of(value) for value in yamlfile.readings(m, "y")] == ["from-b", "from-a"]  # b's, then a's through b
    assert [yamlfile.text_of(value) for value in yamlfile.readings(m, "x")] == ["own", "from-a"]
    assert [key for key, _, _ in yamlfile.items(yamlfile.get(document, "chain"))] == ["x", "y"]


def test_a_quoted_merge_key_is_an_ordinary_key():
    [document] = load('m: {"<<": {x: 1}, y: 2}\n')
    assert [key for key, _, _ in yamlfile.items(yamlfile.get(document, "m"))] == ["<<", "y"]


def test_merges_of_merges_are_expanded_once_each():
    lines = ["l0: &l0 {k0: v}"] + [f"l{n}: &l{n} {{k{n}: v, <<: [{', '.join([f'*l{n - 1}'] * 9)}]}}" for n in range(1, 12)]
    [document] = load("\n".join(lines) + "\n")
    assert len(list(yamlfile.items(yamlfile.get(document, "l11")))) == 12


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", True),
        ("Y", True),
        ("on", True),
        ("TRUE", True),
        ("no", False),
        ("Off", False),
        ("n", False),
        ('"yes"', None),
        ("'false'", None),
        ("1", None),
        ("yes please", None),
    ],
)
def test_yaml_1_1_booleans(text, expected):
    [document] = load(f"v: {text}\n")
    assert yamlfile.boolean(yamlfile.get(document, "v")) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8080", 8080),
        ('"8080"', 8080),
        ("0x1F90", 8080),
        ("0o17", 15),
        ("017", 15),
        ('"017"', 17),
        ("8_080", 8080),
        ("0b11", 3),
        ('"0x10"', None),
        ("http", None),
        ("1.5", None),
        ("8080:80", None),
    ],
)
def test_integers_as_go_yaml_v2_reads_them(text, expected):
    [document] = load(f"v: {text}\n")
    assert yamlfile.number(yamlfile.get(document, "v")) == expected


def test_an_anchor_defined_twice_names_its_latest_definition_and_prints_nothing(capsys):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        [document] = load("a: &x 1  # ::error::quoted\nb: &x 2\nc: *x\n")
    assert [yamlfile.text_of(value) for _, _, value in yamlfile.items(document)] == ["1", "2", "2"]
    assert capsys.readouterr() == ("", "")


def test_block_scalars_end_at_their_own_last_line_and_folded_ones_fold():
    text = "steps:\n  - run: >-\n      pip install\n      torch\n    name: a\n  - run: |\n      echo 1\n      echo 2\n  - uses: x\n"
    source = SourceFile.from_text("ci.yml", text)
    folded, literal = [node for node in yamlfile.walk(yamlfile.load_documents(source)[0]) if getattr(node, "style", None) in ("|", ">")]
    text_of_folded, locate = yamlfile.scalar_text(source, folded)
    assert text_of_folded == "pip install torch"  # one character for one: `torch` stays on line 4
    assert locate(text_of_folded.index("torch")) == (4, 7)
    assert yamlfile.scalar_text(source, literal)[0] == "echo 1\necho 2"


def test_yaml_the_c_parser_refuses_but_loaders_read_is_read():
    """libyaml refuses a colon inside a plain flow scalar; PyYAML and go-yaml read `[os, 1:3]`."""
    documents = yamlfile.compose_text("args: [os, 1:3]\nimage: python:3.11\n")
    assert yamlfile.text_of(yamlfile.get(documents[0], "image")) == "python:3.11"
    with pytest.raises(ScanError, match="invalid YAML at line 1"):
        yamlfile.compose_text("args: [os, 1:3\n")


# Plain scalars of every implicit type, explicit tags, anchors, a merge key, flow and block styles.
_EVERY_KIND = """\
%TAG !e! tag:example.com,2000:
---
base: &base {a: 1, b: ~, c: null, d: true, e: False, f: 0x1F, g: 0o17, h: 1.5e3, i: .inf, j: -.NaN, k: ''}
child:
  <<: *base
  explicit: !!str 12
  custom: !e!thing value
  verbatim: !<tag:yaml.org,2002:merge> x
  "quoted": 'single'
  block: |
    line
  folded: >-
    more
list: [1, -2, +3, 2001-12-14, =, <<]
---
--- !!map
? complex
: value
"""


def _shape(node, seen=None):
    seen = set() if seen is None else seen
    if id(node) in seen:
        return "alias"
    seen.add(id(node))
    marks = (node.start_mark.index, node.start_mark.line, node.start_mark.column, node.end_mark.index)
    head = (type(node).__name__, node.tag, marks, getattr(node, "style", None), node.anchor)
    if yamlfile.is_scalar(node):
        return (*head, node.value)
    if yamlfile.is_mapping(node):
        return (*head, [(_shape(key, seen), _shape(value, seen)) for key, value in node.value])
    return (*head, [_shape(element, seen) for element in node.value])


def test_composing_makes_the_nodes_and_errors_of_ruamels_compose_all():
    """The composer made once (and the resolver's table) give what `YAML.compose_all` gives."""
    from ruamel.yaml import YAML
    from ruamel.yaml.resolver import Resolver

    class CoreSchema(Resolver):  # ruamel's YAML 1.2 resolver with its own resolve(), as mlgate used it
        def __init__(self, version=None, loadumper=None) -> None:
            super().__init__(loadumper=loadumper)

    reference = YAML(typ="safe", pure=False)
    reference.Resolver = CoreSchema
    expected = [document for document in reference.compose_all(_EVERY_KIND) if document is not None]
    assert [_shape(document) for document in yamlfile.compose_text(_EVERY_KIND)] == [_shape(document) for document in expected]
    assert yamlfile.text_of(yamlfile.get(yamlfile.compose_text(_EVERY_KIND)[0], "base").value[1][1]) is None  # `b: ~` is a null
    with pytest.raises(ScanError) as raised:
        yamlfile.compose_text("a: [1, 2\nb: 3\n")
    with pytest.raises(Exception) as from_ruamel:
        list(reference.compose_all("a: [1, 2\nb: 3\n"))
    assert str(raised.value) == f"invalid YAML at line {from_ruamel.value.problem_mark.line + 1}: {from_ruamel.value.problem}"


def test_json_with_comments_is_read_as_the_editors_read_it(scan_tree):
    """`.vscode/*.json`, devcontainer.json, tsconfig.json: `//` and `/* */` comments are skipped, positions kept."""
    commented = '{\n  // which model\n  "model_name_or_path": "acme-labs/model", /* a\n  block */ "url": "http://x//y"\n}\n'
    scan = scan_tree({".vscode/settings.json": commented, "notes.yaml": commented, "plain.json": '{"model_name_or_path": "a/b" // x\n'})
    assert [hit[:3] for hit in scan.hits] == [("HUB001", ".vscode/settings.json", 3)]
    # the same text is not YAML (comments are `#` there), and a JSON file broken otherwise stays an error
    assert [error[0] for error in scan.errors] == ["notes.yaml", "plain.json"]


def test_json_comment_blanking_leaves_strings_alone():
    text = '{"a": "x\\"//y", "b": "/* no */"} // end'
    assert yamlfile._without_json_comments(text) == '{"a": "x\\"//y", "b": "/* no */"}       '
    assert yamlfile._without_json_comments('{"a": 1} /* open') == '{"a": 1}        '
    assert yamlfile._without_json_comments('{"a": "//"}') is None
