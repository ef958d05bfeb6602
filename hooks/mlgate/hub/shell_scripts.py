"""Shell scripts (`*.sh`, `*.bash`, `*.zsh`, extensionless scripts in `scripts/`/`bin/` with a shebang)."""

from __future__ import annotations

from mlgate import shell
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.hub.commands import PREFILTER, ShellScan
from mlgate.hub.references import Judge
from mlgate.notes import Note
from mlgate.problem import placer


def scan(source: SourceFile, context: ScanContext) -> list[Finding | Note]:
    if not shell.is_shell_script(source) or not PREFILTER.search(source.text):
        return []
    script = ShellScan(Judge(context, str(source.abspath.parent), source.path), source.text)
    script.add(source.text, placer(source.path, source.position))
    return script.findings()


SCANNER = Scanner("shell_scripts", matches=shell.is_script_path, scan=scan)
