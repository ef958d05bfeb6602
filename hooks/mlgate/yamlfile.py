"""Safe YAML for scanners: node trees with positions, never Python objects.

We only *compose* (build nodes), never *construct*, so no tag can create an object;
aliases stay shared nodes, so an alias bomb costs nothing unless a walker expands it
(`walk` visits each node once). The C composer crashes the process on very deep
nesting, so depth is checked on the raw text first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from mlgate.files import ScanError, SourceFile

MAX_DEPTH = 500

Node = object  # ruamel.yaml.nodes.Node; kept opaque so hooks use the helpers below
Locate = Callable[[int], tuple[int, int]]


def _yaml():
    from ruamel.yaml import YAML  # imported lazily: it is the slowest import we have
    from ruamel.yaml.resolver import Resolver

    class CoreSchemaResolver(Resolver):
        """YAML 1.2 core-schema tags without the per-scalar version lookup of ruamel's default
        VersionedResolver (a third of composing time on workflow files). Scanners read node
        text, and tags only for null/bool/int, which a `%YAML 1.1` directive rarely changes."""

        def __init__(self, version=None, loader=None, loadumper=None) -> None:
            super().__init__(loadumper=loadumper if loadumper is not None else loader)

    try:
        yaml = YAML(typ="safe", pure=False)
    except Exception:  # pragma: no cover - only without ruamel.yaml.clib
        yaml = YAML(typ="safe", pure=True)
    yaml.Resolver = CoreSchemaResolver
    return yaml


_DEEP_INDENT = re.compile(r"^[ -]{%d}" % (MAX_DEPTH * 2 + 1), re.M)


def _check_depth(text: str) -> None:
    # Cheap bounds first: nesting cannot be deeper than the number of brackets, and the
    # character loop below is the slowest part of reading an ordinary workflow file.
    if text.count("[") + text.count("{") > MAX_DEPTH:
        depth = deepest = 0
        for char in text:
            if char in "[{":
                depth += 1
                deepest = max(deepest, depth)
            elif char in "]}":
                depth = max(0, depth - 1)
        if deepest > MAX_DEPTH:
            raise ScanError(f"YAML nested more than {MAX_DEPTH} levels deep; not scanned")
    if _DEEP_INDENT.search(text):
        raise ScanError(f"YAML nested more than {MAX_DEPTH} levels deep; not scanned")


def load_documents(source: SourceFile) -> list[Node]:
    """All documents of a YAML file as node trees. Raises ScanError on bad YAML."""
    text = source.text
    _check_depth(text)
    try:
        return [doc for doc in _yaml().compose_all(text) if doc is not None]
    except RecursionError:
        raise ScanError("YAML nested too deeply; not scanned") from None
    except Exception as exc:  # ruamel raises many error types, all of them "bad YAML"
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        raise ScanError(f"invalid YAML{where}: {problem}") from None


def is_mapping(node: Node | None) -> bool:
    return node is not None and node.id == "mapping"


def is_sequence(node: Node | None) -> bool:
    return node is not None and node.id == "sequence"


def is_scalar(node: Node | None) -> bool:
    return node is not None and node.id == "scalar"


def text_of(node: Node | None) -> str | None:
    """The string value of a scalar node (None for anything else or a null)."""
    if not is_scalar(node) or node.tag.endswith(":null"):
        return None
    return node.value


def items(node: Node | None) -> Iterator[tuple[str, Node, Node]]:
    """(key, key_node, value_node) of a mapping; non-scalar keys are skipped."""
    if not is_mapping(node):
        return
    for key_node, value_node in node.value:
        if is_scalar(key_node):
            yield key_node.value, key_node, value_node


def get(node: Node | None, key: str) -> Node | None:
    for name, _key_node, value in items(node):
        if name == key:
            return value
    return None


def elements(node: Node | None) -> list[Node]:
    return list(node.value) if is_sequence(node) else []


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


def scalar_text(source: SourceFile, node: Node) -> tuple[str, Locate]:
    """A scalar's text and a function from an offset in it to its (line, column) in the file.

    Block scalars (`|`, `>`) are returned as their raw lines without indentation so a
    shell script in a workflow `run:` maps back to the exact line it was written on.
    """
    line, column = position(node)
    style = getattr(node, "style", None)
    if style in ("|", ">"):
        raw_lines = source.lines[line : node.end_mark.line + 1]
        indents = [len(l) - len(l.lstrip(" ")) for l in raw_lines if l.strip()]
        indent = min(indents) if indents else 0
        body = [l[indent:] for l in raw_lines]
        text = "\n".join(body)
        starts = [0]
        for l in body:
            starts.append(starts[-1] + len(l) + 1)

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
