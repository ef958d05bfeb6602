"""Safe YAML: positions, no object construction, alias bombs and deep nesting survive."""

import time

import pytest

from mlgate import yamlfile
from mlgate.files import ScanError, SourceFile


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
    start = time.perf_counter()
    [doc] = load("\n".join(lines) + "\n")
    count = sum(1 for _ in yamlfile.walk(doc))
    assert count < 200
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize("text", ["[" * 100000 + "]" * 100000, "- " * 50000 + "x\n", "{a: " * 5000 + "1" + "}" * 5000])
def test_deep_nesting_is_an_error_not_a_crash(text):
    with pytest.raises(ScanError, match="nested more than 500 levels"):
        load(text)


@pytest.mark.parametrize("text", ["a: [\n", "a: b: c\n", "\tx: 1\n", "a: 'unterminated\n"])
def test_invalid_yaml_is_a_scan_error_with_a_line(text):
    with pytest.raises(ScanError, match="invalid YAML"):
        load(text)
