"""Jupyter notebooks: the Python of every code cell (one namespace for all cells) and its shell.

Python cells go to `python_code` with IPython lines (`!cmd`, `%magic`, `%%cell magic`) blanked,
not removed, so positions hold; a cell that still does not parse (IPython-only syntax) is
skipped, not an error. `!` lines and `%%bash` cells go to `commands.ShellScan`. Findings point
at the .ipynb file line and name the cell and the line inside it.
"""

from __future__ import annotations

from mlgate import notebook, python_flow
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.hub.commands import ShellScan
from mlgate.hub.python_code import Unit, scan_units
from mlgate.hub.python_files import worth_parsing
from mlgate.hub.references import Judge
from mlgate.notes import Note


def matches(path: str) -> bool:
    return path.endswith(".ipynb")


def scan(source: SourceFile, context: ScanContext) -> list[Finding | Note]:
    if not worth_parsing(source.text):
        return []
    judge = Judge(context, str(source.abspath.parent), source.path)
    script = ShellScan(judge, source.text)
    units: list[Unit] = []
    python = {id(cell.cell): cell for cell in notebook.python_cells(source)}  # parsed once, shared with models
    for cell in notebook.code_cells(source):
        place = notebook.cell_placer(source, cell)
        parsed = python.get(id(cell))
        if parsed is not None and parsed.module is not None:  # a cell that does not parse is skipped
            units.append(Unit(parsed.module.text, place, index=parsed.index, module=parsed.module))
        shell_text = notebook.shell_view(cell.text)
        if shell_text is not None:
            script.add(shell_text, place)
    flow = python_flow.notebook_flow(source) if units else None
    return scan_units(judge, units, source.text, flow) + script.findings()


SCANNER = Scanner("notebooks", matches=matches, scan=scan)
