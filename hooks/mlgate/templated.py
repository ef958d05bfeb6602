"""YAML that may be a Helm/Go template: read what can be read, say what could not.

The file is parsed as YAML first: valid YAML (a rendered release manifest, a values file, a
template whose actions all sit inside scalars) is read exactly as written. Only when that
fails are the template actions blanked, keeping every line and column where it was:

- `{{ ... }}` actions, Jinja's `{% ... %}` and `{# ... #}` (Ansible roles), multi-line ones too;
- an action alone on its lines (`{{- if .Values.x }}`, `{{- include "labels" . | nindent 4 }}`,
  an `if` whose condition spans lines) and every comment (`{{/* ... */}}`, `{# ... #}`) become
  spaces;
- an action inside a line (`port: {{ .Values.port }}`, `resources: {{ toYaml .x | nindent 8 }}`)
  becomes `x`s on its first line, spaces on the lines it continues on.

When the whole file still does not parse, each `---` document is read on its own, as written
and then blanked: documents that parse are scanned, the others are named in one error.
Everything here is linear in the size of the file.
"""

from __future__ import annotations

import re

from mlgate import yamlfile
from mlgate.files import ScanError, SourceFile

_OPENER = re.compile(r"\{[{%#]")
_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_COMMENT = re.compile(r"\{\{-?\s*/\*")
_COMMENT_END = re.compile(r"\*/\s*-?\}\}")
_SEPARATOR = re.compile(r"^---", re.MULTILINE)


def has_actions(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def untemplated(text: str) -> str:
    """`text` with its template actions blanked (see the module docstring); same length, same lines."""
    if not has_actions(text):
        return text
    out: list[str] = []
    done = 0  # text[:done] is in `out`
    position = 0
    exhausted: set[str] = set()  # openers with no closer after them: none further on has one either
    while True:
        match = _OPENER.search(text, position)
        if match is None:
            break
        opener = match.group()
        start = match.start()
        if opener in exhausted:
            position = start + 1
            continue
        comment = _COMMENT.match(text, start) if opener == "{{" else None
        if comment is not None:  # `{{/* ... */}}`: ends at `*/}}`, whatever it says
            closed = _COMMENT_END.search(text, comment.end())
            end = closed.end() - 2 if closed is not None else -1
        else:
            end = _action_end(text, start, _CLOSERS[opener])
        if end == -1:
            exhausted.add(opener)
            if len(exhausted) == len(_CLOSERS):
                break
            position = start + 1
            continue
        end += 2
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line_end = len(text) if line_end == -1 else line_end
        alone = not text[line_start:start].strip() and not text[end:line_end].strip()
        action = text[start:end]
        out.append(text[done:start])
        if alone or opener == "{#" or comment is not None:
            out.append(re.sub(r"[^\n]", " ", action))
        else:
            first, newline, rest = action.partition("\n")
            out.append("x" * len(first) + newline + re.sub(r"[^\n]", " ", rest))
        done = position = end
    out.append(text[done:])
    return "".join(out)


# Inside `{{ ... }}` and `{% ... %}` a quoted string is one token for Go's and Jinja's lexers: a
# closer in it (`"https://host/{{ .TagName }}/x"`) does not end the action.
_QUOTE = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`[^`]*`|["\'`]')


def _action_end(text: str, start: int, closer: str) -> int:
    """Where the action opened at `start` closes (the index of `closer`), or -1. A closer inside a
    quoted string is skipped; an unterminated string ends nowhere, so the first closer counts.
    Every character is looked at a bounded number of times."""
    position = start + 2
    while True:
        end = text.find(closer, position)
        if end == -1:
            return -1
        lone = next((match for match in _QUOTE.finditer(text, position, end) if len(match.group()) == 1), None)
        if lone is None:
            return end
        string = _QUOTE.match(text, lone.start())
        if string is None or len(string.group()) == 1:
            return end
        position = string.end()


def _load(source: SourceFile) -> tuple[SourceFile, list[yamlfile.Node], str | None]:
    try:
        return source, yamlfile.load_documents(source), None
    except ScanError as error:
        whole: ScanError = error
    text = source.text
    blanked = untemplated(text)
    if blanked != text:
        try:
            return SourceFile.from_text(source.path, blanked), yamlfile.compose_text(blanked), None
        except ScanError as error:
            whole = error
    starts = [0] + [match.start() for match in _SEPARATOR.finditer(text) if match.start() > 0] + [len(text)]
    if len(starts) <= 2:
        raise whole
    documents: list[yamlfile.Node] = []
    failed: list[str] = []
    pieces: list[str] = []  # the text each document was read from: as written, or blanked
    line = 0
    for start, end in zip(starts, starts[1:], strict=False):
        read = None
        for piece in dict.fromkeys((text[start:end], blanked[start:end])):
            try:
                documents += yamlfile.compose_text_at(piece, line)
                read = piece
                break
            except ScanError as error:
                problem = error.args[0] if error.args else str(error)
        if read is None:
            failed.append(f"document at line {line + 1} ({problem})")
            read = text[start:end]
        pieces.append(read)
        line += text.count("\n", start, end)
    if not documents:
        raise whole from None
    parsed = SourceFile.from_text(source.path, "".join(pieces))
    return parsed, documents, "not scanned: " + "; ".join(failed) if failed else None


def load(source: SourceFile) -> tuple[SourceFile, list[yamlfile.Node], str | None]:
    """(the file as parsed, its documents, an error message for the documents that could not be
    read). Raises InvalidText when no document can be read (a ScanError when the file cannot be
    read at all). Computed once per file for every hook that reads it."""
    return source.parsed(_load)
