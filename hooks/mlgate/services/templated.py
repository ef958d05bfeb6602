"""YAML that may be a Helm/Go template: read what can be read, say what could not.

`{{ ... }}` actions (and Jinja's `{% ... %}` and `{# ... #}`, as in Ansible roles) are blanked
to spaces (a whole-line action such as `{{- if .Values.x }}`) or to `x`s (an inline value such as
`port: {{ .Values.port }}`), keeping every line and column where it was. When the whole file still does not parse, each `---` document is
parsed on its own (the others blanked, so positions hold): documents that parse are
scanned, the others are named in one error.
"""

from __future__ import annotations

import re

from mlgate import yamlfile
from mlgate.files import ScanError, SourceFile

_ACTION = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_WHOLE_LINE_ACTION = re.compile(r"^[ \t]*(?:\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})[ \t]*$", re.MULTILINE)
_SEPARATOR = re.compile(r"^---", re.MULTILINE)


def _blank(match: re.Match) -> str:
    return re.sub(r"[^\n]", " ", match.group())


def _fill(match: re.Match) -> str:
    return re.sub(r"[^\n]", "x", match.group())


def untemplated(text: str) -> str:
    if "{{" not in text and "{%" not in text and "{#" not in text:
        return text
    return _ACTION.sub(_fill, _WHOLE_LINE_ACTION.sub(_blank, text))


def load(source: SourceFile) -> tuple[SourceFile, list[yamlfile.Node], str | None]:
    """(the file as parsed, its documents, an error message for the parts that failed)."""
    text = untemplated(source.text)
    parsed = source if text == source.text else SourceFile.from_text(source.path, text)
    try:
        return parsed, yamlfile.load_documents(parsed), None
    except ScanError as whole:
        starts = [0] + [match.start() for match in _SEPARATOR.finditer(text) if match.start() > 0] + [len(text)]
        if len(starts) <= 2:
            raise
        documents: list[yamlfile.Node] = []
        failed: list[str] = []
        blank = _SEPARATOR.sub("#--", text)  # `#--`: a comment of the same length
        for start, end in zip(starts, starts[1:], strict=False):
            alone = re.sub(r"[^\n]", " ", blank[:start]) + text[start:end] + re.sub(r"[^\n]", " ", blank[end:])
            try:
                documents += yamlfile.load_documents(SourceFile.from_text(source.path, alone))
            except ScanError as error:
                failed.append(f"document at line {text.count(chr(10), 0, start) + 1} ({error})")
        if not documents:
            raise whole from None
        return parsed, documents, "not scanned: " + "; ".join(failed) if failed else None
