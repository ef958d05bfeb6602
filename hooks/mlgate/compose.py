"""docker-compose files: which files they are, which documents are compose documents, and
what each service is once `extends` is applied.

Shared by every hook that reads compose files (the images they pull, the ports they
publish).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mlgate import yamlfile
from mlgate.files import ScanError

if TYPE_CHECKING:
    from mlgate.files import SourceFile
    from mlgate.hook import ScanContext

MAX_EXTENDS = 10  # a chain of `extends` longer than this is not followed further
# How compose-go merges a service over the one it extends (override/merge.go): these are
# replaced, not merged; mappings merge key by key, sequences (ports, volumes, ...) add up.
_REPLACED = frozenset({"command", "entrypoint", "healthcheck"})

_NAME = re.compile(r"(?:docker-)?compose(?:[.-][^/]*)?\.ya?ml")


def matches(path: str) -> bool:
    """`compose.yaml`, `docker-compose.yml`, `docker-compose.prod.yaml`, `compose-gpu.yml` …"""
    name = path.rsplit("/", 1)[-1].lower()
    return "compose" in name and _NAME.fullmatch(name) is not None  # `in` first: asked of every file


def is_compose(document: yamlfile.Node) -> bool:
    """A compose (or swarm stack) document under another name: `services:` of containers."""
    return any(
        yamlfile.get(node, "image") is not None or yamlfile.get(node, "build") is not None
        for _, _, node in yamlfile.items(yamlfile.get(document, "services"))
    )


def services(source: SourceFile, document: yamlfile.Node, context: ScanContext | None = None) -> Iterator[tuple[str, yamlfile.Node]]:
    """(name, service node) of each service of a compose document, `extends` applied as
    compose-go applies it: the base service (of this file, or of `file:` read through
    `context`) with this service merged over it. What comes from another file is placed at
    this service's `extends:` value."""
    services_node = yamlfile.get(document, "services")
    for name, _, node in yamlfile.items(services_node):
        yield name, _extended(source, services_node, node, context, 0)


def _extended(
    source: SourceFile, services_node: yamlfile.Node | None, node: yamlfile.Node, context: ScanContext | None, depth: int
) -> yamlfile.Node:
    extends = yamlfile.get(node, "extends")
    if extends is None or not yamlfile.is_mapping(node) or depth >= MAX_EXTENDS:
        return node
    base_name = yamlfile.text_of(extends) or yamlfile.text_of(yamlfile.get(extends, "service"))
    other_file = yamlfile.text_of(yamlfile.get(extends, "file"))
    base_source, base_services = source, services_node
    if other_file:
        if context is None:
            return node
        try:
            base_source = context.source(other_file, relative_to=source)
            documents = yamlfile.load_documents(base_source)
        except ScanError:
            return node  # compose refuses to start without it: nothing of it runs
        base_services = yamlfile.get(documents[0], "services") if documents else None
    base = yamlfile.get(base_services, base_name) if base_name else None
    if base is None or not yamlfile.is_mapping(base) or base is node:
        return node
    base = _extended(base_source, base_services, base, context, depth + 1)
    if base_source is not source:
        base = yamlfile.relocated(base, extends)
    return _merged(base, node, "")


def _merged(base: yamlfile.Node, own: yamlfile.Node, key: str) -> yamlfile.Node:
    if key in _REPLACED:
        return own
    if yamlfile.is_mapping(base) and yamlfile.is_mapping(own):
        mine = {name: (key_node, value) for name, key_node, value in yamlfile.items(own) if name != "extends"}
        entries = [
            (mine[name][0], _merged(value, mine[name][1], name)) if name in mine else (key_node, value)
            for name, key_node, value in yamlfile.items(base)
            if name != "extends"
        ]
        theirs = {name for name, _, _ in yamlfile.items(base)}
        entries += [entry for name, entry in mine.items() if name not in theirs]
        return yamlfile.mapping_like(own, entries)
    if yamlfile.is_sequence(base) and yamlfile.is_sequence(own):
        return yamlfile.sequence_like(own, [*base.value, *own.value])
    if key == "environment" and not yamlfile.is_scalar(base) and not yamlfile.is_scalar(own):
        return yamlfile.sequence_like(own, [base, own])  # a mapping and a list: both, the service's own last
    return own
