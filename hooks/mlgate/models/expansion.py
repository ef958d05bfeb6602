"""Expansion bombs ("billion laughs"): a small pickle whose objects unfold into an enormous tree.

    unfolded_size(data, start=0, limit=...) -> int

DUP and memo GETs push references, not copies, so a 200-byte pickle can build nine nested
lists each holding nine references to the one below: 9**9 leaves once anything walks it (a
repr, a deep copy, a JSON dump, a framework iterating a state dict), and tuples used as dict
or set keys are hashed right at load time, element by element. This module rebuilds the
pickle's object graph (containers and call results, with an edge per reference) from the
standard library's own opcode decoder, `pickletools.genops`, and counts the nodes of the tree
the graph unfolds into. A back-reference to an object still being built (a child pointing
to its parent, a list holding itself) is a cycle, counted once, as any walker stops there.

The walk is only asked for when the main walker saw many more DUP/GET pushes than memo
entries (pickles.py): ordinary pickles memoize far more than they repeat.
"""

from __future__ import annotations

import io
import pickletools
from typing import Any

UNFOLD_LIMIT = 10_000_000  # nodes; a bomb is reported past max(this, EXPANSION_RATIO x bytes)
EXPANSION_RATIO = 1000


class _Node:
    __slots__ = ("children",)

    def __init__(self, children: list[_Node]):
        self.children = children


def _nodes(values) -> list[_Node]:
    return [value for value in values if type(value) is _Node]


# Opcodes that add their operands to the object below them instead of making a new object.
_MUTATORS = frozenset({"APPEND", "APPENDS", "SETITEM", "SETITEMS", "ADDITEMS", "BUILD"})


def unfolded_size(data, start: int = 0, limit: int = UNFOLD_LIMIT) -> int:
    """Nodes of the tree the pickle at `start` unfolds into, saturating at `limit` + 1.

    A stream that breaks is read up to the break (the loader has built that much)."""
    created: list[_Node] = []
    stack: list = []
    marks: list[list] = []
    memo: dict = {}
    try:
        for opcode, argument, _ in pickletools.genops(io.BytesIO(bytes(data[start:]))):
            name = opcode.name
            if name == "MARK":
                marks.append(stack)
                stack = []
            elif name == "DUP":
                stack.append(stack[-1])
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo[argument])
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[argument] = stack[-1]
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name == "STOP":
                break
            elif name in _MUTATORS:
                stack = _mutate(name, stack, marks)
            else:
                stack = _make(opcode, stack, marks, created)
    except (ValueError, KeyError, IndexError, UnicodeDecodeError, EOFError):
        pass  # a broken stream: what was built before the break is judged
    return _largest_unfolding(created, limit)


def _mutate(name: str, stack: list, marks: list[list]) -> list:
    if name in ("APPENDS", "SETITEMS", "ADDITEMS"):
        items, stack = stack, marks.pop()
    else:
        count = 2 if name == "SETITEM" else 1
        if len(stack) <= count:
            raise IndexError("stack underflow")
        items = stack[-count:]
        del stack[-count:]
    target = stack[-1]
    if type(target) is _Node:
        target.children.extend(_nodes(items))
    return stack


# What an opcode makes: a container, or an object built from what it consumed (a call).
_CONTAINERS = frozenset({"list", "tuple", "dict", "set", "frozenset"})


def _make(opcode: pickletools.OpcodeInfo, stack: list, marks: list[list], created: list[_Node]) -> list:
    """Any other opcode: pop what it consumes, push a new object holding it (or a scalar)."""
    before = opcode.stack_before
    consumed: list = []
    if pickletools.markobject in before[:2]:  # OBJ keeps its class just above the mark
        consumed, stack = stack, marks.pop()
    elif before:
        if len(stack) < len(before):
            raise IndexError("stack underflow")
        consumed = stack[-len(before) :]
        del stack[-len(before) :]
    for made in opcode.stack_after:
        if made.name in _CONTAINERS or consumed:
            node = _Node(_nodes(consumed))
            created.append(node)
            stack.append(node)
        else:
            stack.append(None)
    return stack


def _largest_unfolding(nodes: list[_Node], limit: int) -> int:
    """The largest tree any node unfolds into (iterative DFS, sizes memoized, cycles cut)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    largest = 0
    for root in nodes:
        if id(root) in sizes:
            continue
        path: list[list[Any]] = [[root, iter(root.children), 1]]  # [node, children left, size so far]
        on_path.add(id(root))
        while path:
            step = path[-1]
            child = next(step[1], None)
            if child is None:
                path.pop()
                on_path.discard(id(step[0]))
                sizes[id(step[0])] = step[2]
                largest = max(largest, step[2])
                if largest > limit:
                    return limit + 1
                if path:
                    path[-1][2] = min(path[-1][2] + step[2], limit + 1)
            elif id(child) in on_path:
                step[2] += 1  # a cycle: counted once
            elif id(child) in sizes:
                step[2] = min(step[2] + sizes[id(child)], limit + 1)
            else:
                on_path.add(id(child))
                path.append([child, iter(child.children), 1])
    return largest
