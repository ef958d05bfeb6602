"""Text that the GitHub Actions runner reads as no workflow command, wherever it is printed.

The runner reads every line a step prints (split at `\n`, `\r` or `\r\n`, as .NET's
ReadLine does) as a command in two syntaxes (actions/runner, src/Runner.Common/ActionCommand.cs):
`::name props::data` when the line starts with `::` after leading white space, and the legacy
`##[name props]data` wherever `##[` appears in the line. mlgate's output reaches that log in
the Action and through any CI step that runs it (pre-commit prints the text report there), so
every report writes scanned text (file names, messages, members) through these functions:
values escaped as actions/toolkit's command.ts escapes them, both syntaxes neutralised, and
control characters (ANSI escapes that recolour or hide text), bidirectional overrides (a name
that displays as another) and undecodable bytes of a file name shown percent-encoded, like the
line breaks. So a file name or message crafted by a pull request cannot end a command early or
start another one (`::add-mask::`, `::stop-commands::`, `##[set-output]`, a fake `::error`).
"""

from __future__ import annotations

import re

# .NET's char.IsWhiteSpace: what the runner's TrimStart() skips before looking for `::`.
_DOTNET_WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Shown percent-encoded (UTF-8 bytes, or the original byte of an undecodable file name):
# C0/C1 controls but tab, line and paragraph separators, bidirectional marks and overrides,
# surrogates.
_HIDDEN = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
LEGACY_PREFIX = "##["  # actions/runner ActionCommand.Prefix
_SURROGATE = re.compile("[\ud800-\udfff]")


def _percent(match: re.Match[str]) -> str:
    char = match.group()
    raw = char.encode("utf-8", "surrogateescape" if "\udc80" <= char <= "\udcff" else "surrogatepass")
    return "".join(f"%{byte:02X}" for byte in raw)


def visible(text: str) -> str:
    """`text` with the characters that would hide or disguise it percent-encoded."""
    return _HIDDEN.sub(_percent, text)


def escape_data(text: str) -> str:
    """Text as a command's data: `%`, line breaks and hidden characters percent-encoded."""
    return visible(text.replace("%", "%25"))


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def without_legacy_commands(line: str) -> str:
    # `#%23[` reads as what it stands for, and no `##[` can form again: the replacement
    # starts with one `#` and ends after the `[`.
    return line.replace(LEGACY_PREFIX, "#%23[")


def neutralised(text: str) -> str:
    """`text` as one line that the runner reads as no command at all, wherever it is printed
    (the text report too: pre-commit prints it into the job log of a CI run): hidden
    characters and line breaks percent-encoded, no `##[`, no `::` at its start."""
    return without_commands(visible(text))


def without_commands(line: str) -> str:
    """A line whose parts are already `visible` read as no command: no `##[`, no `::` at its
    start. For a line that adds its own colour codes around visible parts (the escape codes
    must stay escape codes, so `neutralised` cannot be applied to the whole)."""
    line = without_legacy_commands(line)
    indent = len(line) - len(line.lstrip(_DOTNET_WHITESPACE))
    if line.startswith("::", indent):
        line = f"{line[:indent]}%3A{line[indent + 1 :]}"
    return line


def log_line(text: str) -> str:
    """`text` as a plain line of the Action's log, escaped like the data of its commands."""
    return neutralised(text.replace("%", "%25"))


def printable_json(document: str) -> str:
    """A JSON text safe to print into a CI log and to write as UTF-8: `##[` cannot appear
    (outside strings JSON has no `#`; inside one, `[` is written `\\u005b`), and the bytes of an
    undecodable file name, kept as lone surrogates, are written as `\\udcXX` escapes. Every JSON
    reader reads back the same strings."""
    document = document.replace(LEGACY_PREFIX, "##\\u005b")
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", document)
