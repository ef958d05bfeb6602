"""The real-world corpus committed under tests/corpus/real (see its MANIFEST.md).

It is a copy of ../shared/corpus/real: dependency files from 14 well-known ML repositories,
kept in the repository so tests on real files run on every clean clone, never skip.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus" / "real"


def corpus_text(relative: str) -> str:
    """The text of one corpus file, by its path under the corpus root."""
    return (CORPUS / relative).read_text(encoding="utf-8")
