"""Safe YAML for scanners: node trees with positions, never Python objects.

We only *compose* (build nodes), never *construct*, so no tag can create an object;
aliases stay shared nodes, so an alias bomb costs nothing unless a walker expands it
(`walk` visits each node once). The C composer crashes the process on very deep
nesting, so depth is checked on the raw text first.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mlgate.files import InvalidText, ScanError, SourceFile
from mlgate.problem import Locate

if TYPE_CHECKING:
    from ruamel.yaml.nodes import Node
else:
    Node = object  # ruamel.yaml.nodes.Node, imported lazily (see `_yaml`); hooks use the helpers below

MAX_DEPTH = 500
MAX_PURE_SIZE = 256 << 10  # YAML the C parser refuses is re-read by the pure-Python one up to this size


def _unwrapped(pattern):
    """A compiled pattern of ruamel's resolver, without the lazy wrapper (`LazyEval`) it keeps it in."""
    lazy = getattr(pattern, "lazy_self", None)
    return pattern if lazy is None else lazy()


@functools.lru_cache(maxsize=2)
def _yaml(pure: bool = False):
    """One YAML object per parser kind, reused: making one looks for ruamel plug-ins on disk (a
    glob), which cost more than composing a small file. compose_all builds a fresh loader per call."""
    from ruamel.yaml import YAML  # imported lazily: it is the slowest import we have
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.resolver import Resolver
    from ruamel.yaml.tag import Tag

    # Resolver.yaml_implicit_resolvers, by a scalar's first character, with the patterns compiled
    # (ruamel keeps each behind a lazy wrapper that every match goes through) and the resolvers
    # for any first character (key None) appended, as `BaseResolver.resolve` appends them. Each
    # tag is one shared Tag, as ruamel shares its default ones: its text is decoded once.
    implicit = Resolver.yaml_implicit_resolvers
    tags = {tag: Tag(suffix=tag) for resolvers in implicit.values() for tag, _ in resolvers}
    anywhere = [(tags[tag], _unwrapped(pattern)) for tag, pattern in implicit.get(None, [])]
    by_first = {first: [(tags[tag], _unwrapped(pattern)) for tag, pattern in resolvers] + anywhere for first, resolvers in implicit.items()}

    class CoreSchemaResolver(Resolver):
        """YAML 1.2 core-schema tags without the per-scalar version lookup of ruamel's default
        VersionedResolver (a third of composing time on workflow files). Scanners read node
        text, and tags only for null/bool/int, which a `%YAML 1.1` directive rarely changes."""

        processing_version = (1, 2)  # what the pure parser asks; the C parser does not

        def __init__(self, version=None, loader=None, loadumper=None) -> None:
            super().__init__(loadumper=loadumper if loadumper is not None else loader)

        def resolve(self, kind, value, implicit):
            """`BaseResolver.resolve` for a plain scalar, with the table above: it is called for
            every scalar composed."""
            if kind is not ScalarNode or not implicit[0] or self.yaml_path_resolvers:
                return super().resolve(kind, value, implicit)
            for tag, pattern in by_first.get(value[:1], anywhere):
                if pattern.match(value):
                    return tag
            return self.DEFAULT_SCALAR_TAG

    try:
        yaml = YAML(typ="safe", pure=pure)
    except Exception:  # pragma: no cover - only without ruamel.yaml.clib
        yaml = YAML(typ="safe", pure=True)
    yaml.Resolver = CoreSchemaResolver
    return yaml


@functools.lru_cache(maxsize=1)
def _composer() -> type | None:
    """libyaml's composer (ruamel.yaml.clib) with the resolver of `_yaml`, as one class made once;
    None without the C extension. ruamel's `compose_all` makes a new loader class on every call and
    sets up a constructor that composing never uses: most of the time of composing a small file."""
    from ruamel.yaml.main import CParser  # None without ruamel.yaml.clib

    if CParser is None or _yaml().Parser is not CParser:  # pragma: no cover - only without ruamel.yaml.clib
        return None
    resolver = _yaml().Resolver

    class Composer(CParser, resolver):  # type: ignore[misc,valid-type]
        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            resolver.__init__(self, loadumper=self)

    return Composer


def _compose_all(text: str) -> list[Node]:
    """The documents of `text` as ruamel's C `compose_all` makes them (the same nodes, marks and
    errors), empty documents left out."""
    composer_class = _composer()
    if composer_class is None:  # pragma: no cover - only without ruamel.yaml.clib
        return [doc for doc in _yaml().compose_all(text) if doc is not None]
    composer = composer_class(text)
    try:
        documents = []
        while composer.check_node():
            document = composer.get_node()
            if document is not None:
                documents.append(document)
        return documents
    finally:
        composer.dispose()


_DEEP_INDENT = re.compile(rf"^[ -]{{{MAX_DEPTH * 2 + 1}}}", re.M)


_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def _check_depth(text: str) -> None:
    # Cheap bounds first: nesting cannot be deeper than the number of brackets, and the
    # character loop below is the slowest part of reading an ordinary workflow file.
    if text.count("[") + text.count("{") > MAX_DEPTH:
        depth = deepest = 0
        for char in _NOT_BRACKETS.sub("", text):  # the loop runs over the brackets only
            if char in "[{":
                depth += 1
                deepest = max(deepest, depth)
            elif char in "]}":
                depth = max(0, depth - 1)
        if deepest > MAX_DEPTH:
            raise InvalidText(f"YAML nested more than {MAX_DEPTH} levels deep; not scanned")
    if _DEEP_INDENT.search(text):
        raise InvalidText(f"YAML nested more than {MAX_DEPTH} levels deep; not scanned")


def load_documents(source: SourceFile) -> list[Node]:
    """All documents of a YAML file as node trees, composed once for every hook (callers must not
    change them: `relocated` and `mapping_like` make new nodes). Raises InvalidText (a ScanError) on bad YAML."""
    return source.parsed(_documents)


def _documents(source: SourceFile) -> list[Node]:
    try:
        return compose_text(source.text)
    except InvalidText:
        # JSON with comments (`.vscode/launch.json`, `devcontainer.json`, `tsconfig.json`): the
        # editors and tools that read these files skip `//` and `/* */` comments, so we do too
        if not source.name.endswith(_JSON_SUFFIXES) or (uncommented := _without_json_comments(source.text)) is None:
            raise
        try:
            return _compose(uncommented)
        except ScanError:
            pass
        raise


_JSON_SUFFIXES = (".json", ".jsonc", ".json5")
# a string (skipped whole, escapes included), a line comment, or a block comment (to the end if unclosed)
_JSON_STRING_OR_COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"?|//[^\n]*|/\*(?:.*?\*/|.*)', re.DOTALL)


def _without_json_comments(text: str) -> str | None:
    """`text` with its JSON comments (outside strings) turned into spaces, line breaks kept so
    that every position stays; None when it has none."""
    pieces, last, changed = [], 0, False
    for match in _JSON_STRING_OR_COMMENT.finditer(text):
        if match.group().startswith('"'):
            continue
        pieces.append(text[last : match.start()])
        pieces.append(re.sub(r"[^\r\n]", " ", match.group()))
        last, changed = match.end(), True
    return "".join([*pieces, text[last:]]) if changed else None


def compose_text(text: str) -> list[Node]:
    """All documents of YAML text (a file, an archive member) as node trees. Raises InvalidText (a ScanError) on bad YAML.

    The last two texts composed are kept, and so is their error: the models hook reads a file's
    bytes (as it reads archive members) and decodes them itself, so a YAML file other hooks
    composed, or found not to be YAML (a Helm template, refused by both composers), is shared by
    its text. The trees are shared: callers must not change them."""
    outcome = _composed(text)
    if isinstance(outcome, ScanError):
        raise outcome.with_traceback(None)
    return outcome


def compose_text_at(text: str, first_line: int) -> list[Node]:
    """The documents of `text`, a slice of a file starting at 0-based line `first_line`, with their
    lines and columns in the file (the slice is composed after as many empty lines, which YAML
    ignores). Never shared (not cached). Raises InvalidText on bad YAML."""
    return _compose("\n" * first_line + text)


@functools.lru_cache(maxsize=8)
def _composed(text: str) -> list[Node] | ScanError:
    try:
        return _compose(text)
    except ScanError as error:
        return error


# a line that starts with a template action or comment: `{{- if .Values.x }}`, `{% for %}`
_TEMPLATE_LINE = re.compile(r"^[ \t-]*\{[{%#]", re.M)


def _compose(text: str) -> list[Node]:
    _check_depth(text)
    try:
        return _compose_all(text)
    except RecursionError:
        raise InvalidText("YAML nested too deeply; not scanned") from None
    except Exception as exc:  # ruamel raises many error types, all of them "bad YAML" to this parser
        refused = exc
        if "duplicate anchor" not in str(getattr(exc, "context", "")) and (len(text) > MAX_PURE_SIZE or _TEMPLATE_LINE.search(text)):
            # a template (Helm, Jinja) fails the pure composer where it fails libyaml: its reader
            # blanks the actions and composes again (`templated`), which gets the second reading then
            raise _invalid(refused) from None
    # ruamel's C composer (libyaml's scanner) refuses some YAML that the loaders of the files we
    # read accept (go-yaml, PyYAML, OmegaConf): an anchor defined twice (an alias names the latest),
    # a plain scalar holding a colon inside a flow collection (`[os, 1:3]`). The pure composer reads
    # them as they do; it is ten times slower, so only up to MAX_PURE_SIZE (a duplicate anchor at
    # any size). Its warnings, which quote the file, are silenced.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [doc for doc in _yaml(pure=True).compose_all(text) if doc is not None]
    except RecursionError:
        raise InvalidText("YAML nested too deeply; not scanned") from None
    except Exception:
        raise _invalid(refused) from None  # as the C parser said it: its messages are libyaml's


def _invalid(exc: Exception) -> InvalidText:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
    return InvalidText(f"invalid YAML{where}: {problem}")


def is_mapping(node: Node | None) -> bool:
    return node is not None and node.id == "mapping"  # type: ignore[attr-defined]  # set by every composed node's class


def is_sequence(node: Node | None) -> bool:
    return node is not None and node.id == "sequence"  # type: ignore[attr-defined]  # set by every composed node's class


def is_scalar(node: Node | None) -> bool:
    return node is not None and node.id == "scalar"  # type: ignore[attr-defined]  # set by every composed node's class


def _tag(node: Node) -> str | None:
    """`node.tag`, read without ruamel's property, which formats the node's Tag object again at every
    read: tags are read for every key and scalar of every walk."""
    tag = node.ctag  # ruamel's Tag object behind `tag`
    return None if tag is None else tag.trval  # what str(tag) is made of


def text_of(node: Node | None) -> str | None:
    """The string value of a scalar node (None for anything else or a null)."""
    if node is None or not is_scalar(node):
        return None
    tag = node.ctag  # `_tag`, inlined: read for every scalar of every walk
    if tag is not None and (tag.trval or "").endswith(":null"):  # composed nodes always have a tag
        return None
    value: str = node.value
    return value


MERGE_TAG = "tag:yaml.org,2002:merge"  # a plain `<<` key (YAML 1.1 merge; every loader our consumers use applies it)


def _every_item(node: Node, expanded: set[int]) -> Iterator[tuple[str, Node, Node]]:
    """Every (key, key_node, value_node) a mapping holds, merged ones included, in order of
    precedence: its own keys, then each `<<` value's in turn (a mapping, or each mapping of a
    sequence, earlier ones first). A mapping merged twice is expanded once."""
    expanded.add(id(node))
    merged: list[Node] = []
    for key_node, value_node in node.value:
        if not is_scalar(key_node):
            continue
        if _tag(key_node) == MERGE_TAG:
            merged.extend(value_node.value if is_sequence(value_node) else [value_node])
        else:
            yield key_node.value, key_node, value_node
    for source in merged:
        if is_mapping(source) and id(source) not in expanded:
            yield from _every_item(source, expanded)


def items(node: Node | None) -> Iterator[tuple[str, Node, Node]]:
    """(key, key_node, value_node) of a mapping, merge keys applied as YAML loaders apply them
    (`<<: *base`, `<<: [*a, *b]`): a key the mapping sets itself wins over a merged one, an
    earlier merged mapping over a later one. Non-scalar keys are skipped."""
    if node is None or not is_mapping(node):
        return
    if not any(_tag(key) == MERGE_TAG for key, _ in node.value):
        for key_node, value_node in node.value:  # the common case: no merge key
            if is_scalar(key_node):
                yield key_node.value, key_node, value_node
        return
    given: set[str] = set()
    for key, key_node, value_node in _every_item(node, set()):
        if key not in given:
            given.add(key)
            yield key, key_node, value_node


def get(node: Node | None, key: str) -> Node | None:
    for name, _key_node, value in items(node):
        if name == key:
            return value
    return None


def readings(node: Node | None, key: str) -> list[Node]:
    """Every value a key may have under a merge: the one `get` returns first, then those it
    hides. go-yaml v2 (sigs.k8s.io/yaml, which kubectl and Helm use) applies a `<<` in document
    order, so a merged value can win over the mapping's own key written before it: a check of
    a dangerous setting looks at every reading."""
    if node is None or not is_mapping(node):
        return []
    return [value for name, _key_node, value in _every_item(node, set()) if name == key]


# YAML 1.1 booleans, as go-yaml v2 (sigs.k8s.io/yaml: kubectl, Helm) and compose-go's
# boolean fields read them; YAML 1.2 readers take the same words for strings.
_TRUE = frozenset({"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
_FALSE = frozenset({"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})


def boolean(node: Node | None) -> bool | None:
    """True or False for a plain scalar that YAML 1.1 or 1.2 reads as a boolean, else None
    (a quoted "true" is a string to every loader)."""
    if node is None or not is_scalar(node) or getattr(node, "style", None):
        return None
    return True if node.value in _TRUE else False if node.value in _FALSE else None


_OCTAL = re.compile(r"[-+]?0[0-7_]+")


def number(node: Node | None) -> int | None:
    """The integer a scalar is read as: decimal digits (also quoted: the worst reading of a
    string where a number is expected), and for a plain scalar the YAML 1.1 forms go-yaml v2
    accepts (`0x1F90`, `0o17`, `017` in octal, `0b1`, `8_080`)."""
    text = text_of(node)
    if text is None:
        return None
    text, plain = text.strip(), not getattr(node, "style", None)
    if text.isdigit() and not (plain and _OCTAL.fullmatch(text)):
        return int(text)
    if not plain:
        return None
    digits = text.replace("_", "")
    try:
        return int(digits, 8) if _OCTAL.fullmatch(text) else int(digits, 0)
    except ValueError:
        return None


def mapping_like(node: Node, entries: list[tuple[Node, Node]]) -> Node:
    """A new mapping node with `entries` (key node, value node), placed where `node` is: for
    configurations that one file composes from several (compose `extends`)."""
    return type(node)(node.tag, entries, node.start_mark, node.end_mark)


def sequence_like(node: Node, values: list[Node]) -> Node:
    """A new sequence node of `values`, placed where `node` is."""
    from ruamel.yaml.nodes import SequenceNode

    return SequenceNode("tag:yaml.org,2002:seq", values, node.start_mark, node.end_mark)


def relocated(node: Node, at: Node) -> Node:
    """A copy of `node` whose every part is placed at `at`: a value read from another file is
    reported where this file brings it in. Block scalars become plain (their text is kept),
    so nothing reads this file's lines for them; shared (aliased) nodes stay shared."""
    from ruamel.yaml.nodes import ScalarNode

    copies: dict[int, Node] = {}

    def copy(original: Node) -> Node:
        if id(original) not in copies:
            if isinstance(original, ScalarNode):  # is_scalar, as the type checker reads it
                style = original.style if original.style in ('"', "'") else None
                copies[id(original)] = type(original)(original.tag, original.value, at.start_mark, at.start_mark, style=style)
            else:
                copies[id(original)] = type(original)(original.tag, [], at.start_mark, at.start_mark)
                if is_mapping(original):
                    copies[id(original)].value = [(copy(key), copy(value)) for key, value in original.value]
                else:
                    copies[id(original)].value = [copy(value) for value in original.value]
        return copies[id(original)]

    return copy(node)


def elements(node: Node | None) -> list[Node]:
    return list(node.value) if node is not None and is_sequence(node) else []


def position(node: Node) -> tuple[int, int]:
    """1-based (line, column) where a node starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def walk(root: Node) -> Iterator[Node]:
    """Every node once, parents before children, without expanding aliases twice."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if is_mapping(node):
            for key, value in reversed(node.value):
                stack.extend((value, key))
        elif is_sequence(node):
            stack.extend(reversed(node.value))


_FOLDED_BREAK = re.compile(r"(?<=\S)\n(?=\S)")  # between two lines of a folded block's own indentation


def scalar_text(source: SourceFile, node: Node) -> tuple[str, Locate]:
    """A scalar's text and a function from an offset in it to its (line, column) in the file.

    Block scalars (`|`, `>`) are returned as their raw lines without indentation so a
    shell script in a workflow `run:` maps back to the exact line it was written on; a folded
    one (`>`, `>-`) has the line breaks between its lines turned into spaces, one character for
    one, as a YAML loader folds them.
    """
    line, column = position(node)
    style = getattr(node, "style", None)
    if style in ("|", ">"):
        # the composer ends a block scalar at column 0 of the next key's line: that line is not its own
        end = node.end_mark.line + (1 if node.end_mark.column else 0)
        raw_lines = source.lines[line:end]
        indents = [len(raw) - len(raw.lstrip(" ")) for raw in raw_lines if raw.strip()]
        indent = min(indents) if indents else 0
        body = [raw[indent:] for raw in raw_lines]
        text = "\n".join(body)
        if style == ">":
            text = _FOLDED_BREAK.sub(" ", text)
        starts = [0]
        for text_line in body:
            starts.append(starts[-1] + len(text_line) + 1)

        def locate_block(offset: int) -> tuple[int, int]:
            import bisect

            index = max(0, bisect.bisect_right(starts, offset) - 1)
            return line + 1 + index, indent + offset - starts[index] + 1

        return text, locate_block
    shift = 1 if style in ('"', "'") else 0
    value = node.value

    def locate_inline(offset: int) -> tuple[int, int]:
        before = value[:offset]
        newlines = before.count("\n")
        if newlines == 0 and node.end_mark.line == node.start_mark.line:
            return line, column + shift + offset
        return line, column

    return value, locate_inline
