"""docker-compose files: which files they are and which documents are compose documents.

Shared by every hook that reads compose files (the images they pull, the ports they
publish).
"""

from __future__ import annotations

import re

from mlgate import yamlfile

_NAME = re.compile(r"(?:docker-)?compose(?:[.-][^/]*)?\.ya?ml")


def matches(path: str) -> bool:
    """`compose.yaml`, `docker-compose.yml`, `docker-compose.prod.yaml`, `compose-gpu.yml` …"""
    return _NAME.fullmatch(path.rsplit("/", 1)[-1].lower()) is not None


def is_compose(document: yamlfile.Node) -> bool:
    """A compose (or swarm stack) document under another name: `services:` of containers."""
    return any(
        yamlfile.get(node, "image") is not None or yamlfile.get(node, "build") is not None
        for _, _, node in yamlfile.items(yamlfile.get(document, "services"))
    )
