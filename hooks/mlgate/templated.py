"""YAML that may be a Helm/Go template: read what can be read, say what could not.

The file is parsed as YAML first: valid YAML (a rendered release manifest, a values file, a
template whose actions all sit inside scalars) is read exactly as written. Only when that
fails are the template actions blanked, keeping every line where it was, and every column of
the lines that keep something:

- `{{ ... }}` actions, Jinja's `{% ... %}` and `{# ... #}` (Ansible roles), multi-line ones too;
- a line that holds only actions and comments (`{{- if .Values.x }}`, `{{- include "labels" . |
  nindent 4 }}`, `{{- if .a }}{{- end }}`, the lines of an `if` whose condition spans lines) is
  left empty: spaces there would set the indentation of a block scalar it sits in;
- an action inside a line (`port: {{ .Values.port }}`, `resources: {{ toYaml .x | nindent 8 }}`)
  becomes `x`s on its first line; a comment, or an action that writes nothing (`if`, `else`, `end`,
  `range`, `with`, `$x := ...`, Jinja's statements), inside a line becomes spaces;
- a sequence item that an action wholly writes (`- {{ toYaml . | nindent 4 | trim }}`) followed by
  more keys of the same item becomes a key (`- xxx: x`): the action writes the item's first keys.

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


def has_actions(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def untemplated(text: str) -> str:
    """`text` with its template actions blanked (see the module docstring): the same lines, and
    on every line that keeps something the same columns."""
    if not has_actions(text):
        return text
    spans = _action_spans(text)
    if not spans:
        return text
    # Every action as spaces first: a line holding nothing else (`{{- if .x }}{{- end }}` too) is
    # a template line, not YAML; the others show a value where an inline action stood.
    pieces: list[str] = []
    done = 0
    for start, end, _ in spans:
        pieces += [text[done:start], _NOT_NEWLINE.sub(" ", text[start:end])]
        done = end
    pieces.append(text[done:])
    spaced = "".join(pieces)
    pieces, done = [], 0
    holds_value: dict[int, bool] = {}  # line start -> whether the line keeps anything but actions
    for start, end, value in spans:
        line_start = spaced.rfind("\n", 0, start) + 1
        if line_start not in holds_value:
            line_end = spaced.find("\n", start)
            holds_value[line_start] = bool(spaced[line_start : line_end if line_end != -1 else len(spaced)].strip())
        if value and holds_value[line_start]:
            first_line_end = text.find("\n", start, end)
            first_line_end = end if first_line_end == -1 else first_line_end
            pieces += [spaced[done:start], "x" * (first_line_end - start)]
            done = first_line_end
    pieces.append(spaced[done:])
    blanked = "".join(pieces)
    # A line that only held actions is left empty, not as spaces: in a block scalar, a blank line
    # with more spaces than the content would set the scalar's indentation (libyaml, go-yaml).
    original = text.split("\n")
    lines = ["" if not line.strip() and before.strip() else line for line, before in zip(blanked.split("\n"), original, strict=True)]
    return "\n".join(_items_opened_by_a_value(lines))


# `- xxxx` (a sequence item whose whole content an action wrote) and the line after it
_ITEM_OF_A_VALUE = re.compile(r"( *)- (x{4,}) *$")
_KEY_LINE = re.compile(r"( *)[\w.\-\"']+ *:(?: |$)")


def _items_opened_by_a_value(lines: list[str]) -> list[str]:
    """`- {{ toYaml . | nindent 4 | trim }}` followed by more keys of the same item (`  sectionName:
    http`): the action writes the item's first keys, so its `x`s become a key (`xxx: x`), which
    keeps the item one mapping; anything else is left as it is. Only lines YAML would refuse change."""
    following = ""  # the next line that is not blank, found walking up from the end: linear
    next_text: list[str] = [""] * len(lines)
    for number in range(len(lines) - 1, -1, -1):
        next_text[number] = following
        if lines[number].strip():
            following = lines[number]
    for number, line in enumerate(lines):
        item = _ITEM_OF_A_VALUE.match(line)
        if item is None:
            continue
        key = _KEY_LINE.match(next_text[number])
        if key is not None and len(key.group(1)) == len(item.group(1)) + 2:
            width = len(item.group(2))
            lines[number] = f"{item.group(1)}- {'x' * (width - 3)}: x" + line[item.end(2) :]
    return lines


_NOT_NEWLINE = re.compile(r"[^\n]")
_LINE = re.compile(r"[^\n]*\n|[^\n]+$")  # lines as YAML's `\n` counts them (splitlines knows more breaks)


def _action_spans(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, shows a value) of every template action in `text`; comments show none."""
    spans: list[tuple[int, int, bool]] = []
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
        spans.append((start, end, opener != "{#" and comment is None and _CONTROL.match(text, start, end) is None))
        position = end
    return spans


# Actions that write nothing: Go's control structures and variable assignments, Jinja's statements
# but `include` and `call` (`- {{- if .Values.host }}` opens an item whose mapping follows)
_CONTROL = re.compile(
    r"\{\{-?\s*(?:(?:if|else|end|range|with|define|block|break|continue)\b|\$[\w.]*\s*:?=)"
    r"|\{%-?\s*(?!include\b|call\b)"
)


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
    lines, blanked_lines = _LINE.findall(text), _LINE.findall(blanked)
    starts = [0] + [number for number, line in enumerate(lines) if number > 0 and line.startswith("---")] + [len(lines)]
    if len(starts) <= 2:
        raise whole
    documents: list[yamlfile.Node] = []
    failed: list[str] = []
    pieces: list[str] = []  # the text each document was read from: as written, or blanked
    line = 0
    for start, end in zip(starts, starts[1:], strict=False):
        read = None
        written = "".join(lines[start:end])
        for piece in dict.fromkeys((written, "".join(blanked_lines[start:end]))):
            try:
                documents += yamlfile.compose_text_at(piece, line)
                read = piece
                break
            except ScanError as error:
                problem = error.args[0] if error.args else str(error)
        if read is None:
            failed.append(f"document at line {line + 1} ({problem})")
            read = written
        pieces.append(read)
        line += end - start
    if not documents:
        raise whole from None
    parsed = SourceFile.from_text(source.path, "".join(pieces))
    return parsed, documents, "not scanned: " + "; ".join(failed) if failed else None


def load(source: SourceFile) -> tuple[SourceFile, list[yamlfile.Node], str | None]:
    """(the file as parsed, its documents, an error message for the documents that could not be
    read). Raises InvalidText when no document can be read (a ScanError when the file cannot be
    read at all). Computed once per file for every hook that reads it."""
    return source.parsed(_load)
