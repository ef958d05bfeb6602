"""`setup.cfg`: `[options]` install/setup/tests requirements and `[options.extras_require]`.

Read line by line rather than with configparser so every requirement keeps its line and
column. Version ranges follow the `ranges` option, as for all package metadata.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mlgate.files import ScanError, SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.pins.pinned import note_pin
from mlgate.pins.requirement import check_requirement, place, ranges_accepted, without_ranges

OPTION_KEYS = {"install_requires", "setup_requires", "tests_require"}
SECTION = re.compile(r"\[([^\]]+)\]")
KEY = re.compile(r"([^=:\s][^=:]*?)\s*[=:]\s*")
# setuptools drops comment lines; an inline ` # ...` is not part of the requirement either.
INLINE_COMMENT = re.compile(r"\s+#.*$")


def matches(path: str) -> bool:
    return path.rsplit("/", 1)[-1] == "setup.cfg"


def requirement_values(source: SourceFile) -> Iterator[tuple[int, int, str]]:
    """(line, column, text) of every requirement in the sections setuptools reads them from.

    Lines configparser would refuse (a broken section header, a line that is neither a key
    nor a continuation, a key before any section) make the file an error entry, as they
    make setuptools fail.
    """
    section, wanted = None, False
    for number, raw in enumerate(source.lines, 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if raw[0] in " \t" and section is not None:  # a continuation line of the current key's value
            if wanted:
                yield number, len(raw) - len(raw.lstrip()) + 1, stripped
            continue
        if raw.startswith("["):
            header = SECTION.match(raw)
            if header is None:
                raise ScanError(f"line {number}: broken section header {stripped!r}; not scanned")
            section, wanted = header.group(1).strip().lower(), False
            continue
        key = KEY.match(raw)
        if key is None or section is None:
            raise ScanError(
                f"line {number}: {'not a key = value line' if section is not None else 'a key before any [section]'}; not scanned"
            )
        name = key.group(1).strip().lower()
        wanted = section == "options.extras_require" or (section == "options" and name in OPTION_KEYS)
        value = raw[key.end() :].rstrip()
        if wanted and value:
            yield number, key.end() + 1, value


def scan(source: SourceFile, context: ScanContext) -> Iterator[Finding]:
    accepted = ranges_accepted(source, context, library=True)  # it builds a distribution (mlgate.pins.project)
    for line, column, value in requirement_values(source):
        text = INLINE_COMMENT.sub("", value)
        if text.startswith("file:"):  # requirements read from a file, which is scanned itself
            continue
        for problem in without_ranges(check_requirement(text), accepted):
            yield place(problem, source.path, line, column)
        note_pin(context, text, source.path, line, column)  # looked up in OSV after an online scan


SCANNER = Scanner("setup_cfg", matches=matches, scan=scan)
