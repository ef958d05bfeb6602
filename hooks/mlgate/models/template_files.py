"""The Jinja templates of one file, judged within per-file limits.

Kept apart from `jinja_templates` (which subclasses Jinja's parser and environment) so that Jinja
is imported only when a file holds a string that looks like a template: most runs never load it.
"""

from __future__ import annotations

from collections.abc import Callable

from mlgate.findings import Finding
from mlgate.models.rules import CHAT_TEMPLATE, UNPARSEABLE
from mlgate.models.where import Where

MAX_TEMPLATES = 4096  # templates parsed per file
MAX_CHARACTERS = 1 << 20  # template characters parsed per file (Jinja parses ~0.5 MB a second)
TEMPLATE_WORK = 400_000  # folding Budget units per template; real chat templates need a few thousand
FILE_WORK = 1_000_000  # and per file
_SHOWN = 5


def looks_templated(text: str) -> bool:
    return "{{" in text or "{%" in text


def _shown(label: str) -> str:
    return label if label.isascii() and label.isprintable() else ascii(label)


class FileTemplates:
    """The templates of one file, judged within the per-file limits (MAX_TEMPLATES,
    MAX_CHARACTERS, FILE_WORK); strings past them are one MOD004 finding, never silently passed."""

    def __init__(self, where: Where):
        self.where = where
        self.work = FILE_WORK
        self.parsed = 0
        self.characters = 0
        self.skipped: list[int] = []
        self.found: list[Finding] = []

    def add(self, key: str, template: str, byte_offset: Callable[[int], int], *, chat: bool) -> None:
        """`byte_offset` maps a character of the template to its byte in the scanned content.
        A string outside a chat-template place is only judged when it has the tags and the
        characters (`_ ( [ |`) any reach into internals needs."""
        if not looks_templated(template) or not chat and not any(char in template for char in "_([|"):
            return
        if self.parsed >= MAX_TEMPLATES or self.characters + len(template) > MAX_CHARACTERS or self.work <= 0:
            self.skipped.append(byte_offset(0))
            return
        # imported here: Jinja is loaded only for a file that holds a template
        from mlgate.models.jinja_templates import judged_within

        self.parsed += 1
        self.characters += len(template)
        units = min(TEMPLATE_WORK, self.work)
        verdict, spent = judged_within(template, chat, units)
        self.work -= spent
        if verdict is None:
            return
        names = ", ".join(list(dict.fromkeys(_shown(construct.label) for construct in verdict.constructs))[:_SHOWN])
        severity = max(construct.severity for construct in verdict.constructs)
        message = f"{key} {verdict.summary}: {names}"
        self.found.append(
            self.where.finding(
                CHAT_TEMPLATE, message, byte_offset(verdict.constructs[0].offset), severity=severity, context=f"{key}|{names}"
            )
        )

    def findings(self) -> list[Finding]:
        if not self.skipped:
            return self.found
        message = (
            f"{len(self.skipped)} more strings look like Jinja templates, past the {MAX_TEMPLATES} templates, "
            f"{MAX_CHARACTERS >> 20} MiB or folding work judged per file: they cannot be checked"
        )
        return self.found + [self.where.finding(UNPARSEABLE, message, self.skipped[0])]
