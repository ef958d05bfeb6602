"""Shell scripts: `*.sh`, `*.bash`, `*.zsh`, and extensionless scripts in `scripts/` or `bin/`.

The whole file goes to `commands.Script` (installs, `curl | sh`, clones). An extensionless
file is only read when its first bytes are a sh/bash/zsh shebang, so binaries that live in
`bin/` are never decoded.
"""

from __future__ import annotations

import re

from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.pins import commands

_SUFFIXES = (".sh", ".bash", ".zsh")
_SCRIPT_FOLDERS = {"scripts", "bin"}
_SHEBANG = re.compile(rb"#![ \t]*(?:\S*/)?(?:env[ \t]+(?:-\S+[ \t]+)*)?(?:ba|z|da|k)?sh(?:[ \t\r\n]|$)")


def matches(path: str) -> bool:
    folders, _, name = path.rpartition("/")
    if name.endswith(_SUFFIXES):
        return True
    return "." not in name and not _SCRIPT_FOLDERS.isdisjoint(folders.split("/"))


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    if not source.name.endswith(_SUFFIXES):
        try:
            if not _SHEBANG.match(source.read_bytes(128)):
                return []
        except OSError:
            return []  # unreadable: no shebang to go by, and the file is not ours to report
    script = commands.Script(commands.allowed_indexes(context))
    script.add(source.text, commands.placer(source.path, source.position))
    return script.findings()


SCANNER = Scanner("shell_scripts", matches=matches, scan=scan)
