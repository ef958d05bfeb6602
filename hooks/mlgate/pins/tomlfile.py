"""TOML for the pins scanners: data, and where each key and value starts.

tomllib gives data without positions. `Positions` walks the raw text once more and
records the offset of every key and value by its path (`('project', 'dependencies', 3)`),
so a finding lands on the exact token. Lock files can be megabytes, so they use this walk
alone (`parse`), which also builds the data: one pass instead of two, with fast paths for
the one-line tables lock generators write (about 8 MB/s against tomllib's 4).
"""

from __future__ import annotations

import re
import sys
from typing import Any

from mlgate.files import InvalidText, ScanError, SourceFile

Path = tuple[str | int, ...]

_SPACE = re.compile(r"[ \t]*")
_GAP = re.compile(r"(?:[ \t\n]+|#[^\n]*)*")  # blanks, newlines and comments between items
_LINE_END = re.compile(r"[ \t]*(?:#[^\n]*)?(?:\n|$)")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_BASIC = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_LITERAL = re.compile(r"'([^'\n]*)'")
_ML_BASIC = re.compile(r'"""((?:[^"\\]|\\[\s\S]|"(?!""))*)"""("{0,2})')
_ML_LITERAL = re.compile(r"'''([\s\S]*?)'''('{0,2})")
_SCALAR = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:[0-9:.]+(?:[Zz]|[+-]\d\d:\d\d)?|[^\s,\]}#]+")
# Fast paths for what generated lock files are made of: `key = ` and one-line inline tables
# of plain strings and scalars. Anything else takes the general path.
_SIMPLE_KEY = re.compile(r"([A-Za-z0-9_-]+)[ \t]*=[ \t]*")
_PLAIN_STRING = re.compile(r'"([^"\\\n]*)"')
# (A bare value excludes '=' and the separator is unambiguous, so a non-match fails fast.)
_FLAT_TABLE = re.compile(r'\{[ \t]*(?:[A-Za-z0-9_-]+[ \t]*=[ \t]*(?:"[^"\\\n]*"|[^\s,{}\[\]"\'#=]+)[ \t]*(?:,[ \t]*)?)*\}')
_FLAT_PAIR = re.compile(r'([A-Za-z0-9_-]+)[ \t]*=[ \t]*(?:"([^"\\\n]*)"|([^\s,{}\[\]"\'#=]+))')
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|x([0-9a-fA-F]{2})|\n[ \t\n]*|(.))", re.S)
_SIMPLE_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}
MAX_NESTING = 100


def _skip(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Where `pattern` stops matching at `pos`; for patterns that match the empty string, so never fail."""
    match = pattern.match(text, pos)
    assert match is not None, "pattern matches the empty string"
    return match.end()


def load(source: SourceFile) -> dict[str, Any]:
    """The document as tomllib reads it (strict); ScanError when it is not valid TOML."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidText(f"invalid TOML: {exc}") from None
    except RecursionError:
        raise ScanError("TOML nested too deeply; not scanned") from None


def parse(source: SourceFile) -> tuple[dict[str, Any], Positions]:
    """Data and positions in one fast pass (lock files). ScanError on broken structure."""
    parser = _Parser(source.text)
    parser.document()
    return parser.root, Positions(source, parser)


class Positions:
    """(line, column) of keys and values by path; computed on first use."""

    def __init__(self, source: SourceFile, parser: _Parser | None = None):
        self._source = source
        self._parser = parser

    def _walk(self) -> _Parser:
        if self._parser is None:
            self._parser = _Parser(self._source.text)
            try:
                self._parser.document()
            except ScanError:
                pass  # tomllib accepted it: keep what was found, the rest falls back to parents
        return self._parser

    def value(self, path: Path) -> tuple[int, int]:
        """Where the value at `path` starts (the first character inside a string's quotes)."""
        return self._find(path, prefer_value=True)

    def key(self, path: Path) -> tuple[int, int]:
        """Where the last key of `path` starts (inside its quotes when it is quoted)."""
        return self._find(path, prefer_value=False)

    def _find(self, path: Path, prefer_value: bool) -> tuple[int, int]:
        parser = self._walk()
        first, second = (parser.values, parser.keys) if prefer_value else (parser.keys, parser.values)
        while path:
            for offsets in (first, second):
                if path in offsets:
                    return self._source.position(offsets[path])
            path = path[:-1]
        return 1, 1


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2) or match.group(3)
        if code:
            return chr(int(code, 16)) if int(code, 16) <= sys.maxunicode else ""
        simple = match.group(4)
        return "" if simple is None else _SIMPLE_ESCAPES.get(simple, simple)

    return _ESCAPE.sub(replace, text)


class _Parser:
    """Recursive descent over TOML, lenient where tomllib is strict, recording offsets."""

    def __init__(self, text: str):
        self.text = text
        self.root: dict[str, Any] = {}
        self.values: dict[Path, int] = {}
        self.keys: dict[Path, int] = {}

    def fail(self, pos: int, what: str) -> ScanError:
        line = self.text.count("\n", 0, pos) + 1
        return InvalidText(f"invalid TOML at line {line}: {what}")

    def document(self) -> None:
        text, end = self.text, len(self.text)
        table_path: Path
        table, table_path = self.root, ()
        pos = 0
        while True:
            pos = _skip(_GAP, text, pos)
            if pos >= end:
                return
            if text[pos] == "[":
                table, table_path, pos = self.header(pos)
            else:
                pos = self.key_value(pos, table, table_path)
            line_end = _LINE_END.match(text, pos)
            if line_end is None:
                raise self.fail(pos, "expected the end of the line")
            pos = line_end.end()

    def header(self, pos: int) -> tuple[dict[str, Any], Path, int]:
        many = self.text.startswith("[[", pos)
        keys, pos = self.key(pos + (2 if many else 1))
        close = "]]" if many else "]"
        path: Path
        pos = _skip(_SPACE, self.text, pos)
        if not self.text.startswith(close, pos):
            raise self.fail(pos, f"expected '{close}'")
        table, path = self.root, ()
        for name, _offset in keys[:-1]:
            table, path = self.descend(table, path, name, pos)
        name, offset = keys[-1]
        if many:
            array = table.setdefault(name, [])
            if not isinstance(array, list):
                raise self.fail(pos, f"'{name}' is not an array of tables")
            array.append({})
            table, path = array[-1], (*path, name, len(array) - 1)
        else:
            table, path = self.descend(table, path, name, pos)
        self.keys[path] = offset
        return table, path, pos + len(close)

    def descend(self, table: dict[str, Any], path: Path, name: str, pos: int) -> tuple[dict[str, Any], Path]:
        child = table.setdefault(name, {})
        if isinstance(child, list) and child and isinstance(child[-1], dict):
            return child[-1], (*path, name, len(child) - 1)
        if not isinstance(child, dict):
            raise self.fail(pos, f"'{name}' is not a table")
        return child, (*path, name)

    def key(self, pos: int) -> tuple[list[tuple[str, int]], int]:
        """A dotted key as (name, offset of its first character) parts."""
        text = self.text
        parts: list[tuple[str, int]] = []
        while True:
            pos = _skip(_SPACE, text, pos)
            for pattern in (_BARE_KEY, _BASIC, _LITERAL):
                match = pattern.match(text, pos)
                if match:
                    break
            else:
                raise self.fail(pos, "expected a key")
            if pattern is _BARE_KEY:
                parts.append((match.group(), pos))
            else:  # quoted: the name starts after the quote
                name = _unescape(match.group(1)) if pattern is _BASIC else match.group(1)
                parts.append((name, pos + 1))
            pos = _skip(_SPACE, text, match.end())
            if not text.startswith(".", pos):
                return parts, pos
            pos += 1

    def key_value(self, pos: int, table: dict[str, Any], table_path: Path) -> int:
        simple = _SIMPLE_KEY.match(self.text, pos)
        if simple:
            name = simple.group(1)
            path = (*table_path, name)
            self.keys[path] = pos
            table[name], pos = self.value(simple.end(), path, 0)
            return pos
        keys, pos = self.key(pos)
        if not self.text.startswith("=", pos):
            raise self.fail(pos, "expected '='")
        for name, _offset in keys[:-1]:
            table, table_path = self.descend(table, table_path, name, pos)
        name, offset = keys[-1]
        path = (*table_path, name)
        self.keys[path] = offset
        table[name], pos = self.value(_skip(_SPACE, self.text, pos + 1), path, 0)
        return pos

    def value(self, pos: int, path: Path, depth: int) -> tuple[Any, int]:
        text = self.text
        char = text[pos : pos + 1]
        if char == '"' or char == "'":
            return self.string(pos, path)
        if char == "[" or char == "{":
            if depth > MAX_NESTING:
                raise self.fail(pos, f"nested more than {MAX_NESTING} levels deep")
            return (self.array if char == "[" else self.inline_table)(pos + 1, path, depth + 1)
        match = _SCALAR.match(text, pos)
        if match is None:
            raise self.fail(pos, "expected a value")
        self.values[path] = pos
        return self.scalar(match.group()), match.end()

    @staticmethod
    def scalar(raw: str) -> bool | int | str:
        """Booleans and plain integers typed; dates, floats and the rest kept as written."""
        if raw in ("true", "false"):
            return raw == "true"
        return int(raw) if raw.isdigit() else raw

    def string(self, pos: int, path: Path) -> tuple[str, int]:
        text = self.text
        if text.startswith('"""', pos) or text.startswith("'''", pos):
            pattern, start = (_ML_BASIC if text[pos] == '"' else _ML_LITERAL), pos + 3
            if text.startswith("\n", start):  # a newline right after the opening quotes is not content
                start += 1
        else:
            plain = _PLAIN_STRING.match(text, pos)
            if plain:
                self.values[path] = pos + 1
                return plain.group(1), plain.end()
            pattern, start = (_BASIC if text[pos] == '"' else _LITERAL), pos + 1
        match = pattern.match(text, pos)
        if match is None:
            raise self.fail(pos, "unterminated string")
        self.values[path] = start
        content = match.group(1)
        if pattern.groups > 1:  # multi-line: up to two quotes before the closing ones are content
            content = (content + match.group(2)).removeprefix("\n")
        return (_unescape(content) if pattern is _BASIC or pattern is _ML_BASIC else content), match.end()

    def array(self, pos: int, path: Path, depth: int) -> tuple[list[Any], int]:
        text = self.text
        items: list[Any] = []
        self.values[path] = pos - 1
        while True:
            pos = _skip(_GAP, text, pos)
            if text.startswith("]", pos):
                return items, pos + 1
            item, pos = self.value(pos, (*path, len(items)), depth)
            items.append(item)
            pos = _skip(_GAP, text, pos)
            if text.startswith(",", pos):
                pos += 1
            elif not text.startswith("]", pos):
                raise self.fail(pos, "expected ',' or ']' in an array")

    def inline_table(self, pos: int, path: Path, depth: int) -> tuple[dict[str, Any], int]:
        text = self.text
        table: dict[str, Any] = {}
        self.values[path] = pos - 1
        flat = _FLAT_TABLE.match(text, pos - 1)
        if flat:
            for pair in _FLAT_PAIR.finditer(text, pos, flat.end()):
                name, string = pair.group(1), pair.group(2)
                pair_path = (*path, name)
                self.keys[pair_path] = pair.start()
                if string is None:
                    table[name] = self.scalar(pair.group(3))
                    self.values[pair_path] = pair.start(3)
                else:
                    table[name] = string
                    self.values[pair_path] = pair.start(2)
            return table, flat.end()
        while True:
            pos = _skip(_GAP, text, pos)
            if text.startswith("}", pos):
                return table, pos + 1
            keys, pos = self.key(pos)
            if not text.startswith("=", pos):
                raise self.fail(pos, "expected '='")
            inner, inner_path = table, path
            for name, _offset in keys[:-1]:
                inner, inner_path = self.descend(inner, inner_path, name, pos)
            name, offset = keys[-1]
            value_path = (*inner_path, name)
            self.keys[value_path] = offset
            inner[name], pos = self.value(_skip(_SPACE, text, pos + 1), value_path, depth)
            pos = _skip(_GAP, text, pos)
            if text.startswith(",", pos):
                pos += 1
            elif not text.startswith("}", pos):
                raise self.fail(pos, "expected ',' or '}' in an inline table")
