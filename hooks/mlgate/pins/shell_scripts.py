"""Shell scripts: `*.sh`, `*.bash`, `*.zsh`, and extensionless scripts in `scripts/` or `bin/`.

The whole file goes to `commands.Script` (installs, `curl | sh`, clones). Which files are
scripts is decided by the core `mlgate.shell` (an extensionless file needs a shebang).
"""

from __future__ import annotations

from mlgate import shell
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.pins import commands
from mlgate.shell import is_script_path as matches


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    if not shell.is_shell_script(source):
        return []
    script = commands.Script(context)
    script.add(source.text, commands.placer(source.path, source.position))
    return script.findings()


SCANNER = Scanner("shell_scripts", matches=matches, scan=scan)
