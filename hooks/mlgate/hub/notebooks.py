"""Jupyter notebooks: the Python of every code cell (one namespace for all cells) and its shell.

Python cells go to `python_code` with IPython lines (`!cmd`, `%magic`, `%%cell magic`) blanked,
not removed, so positions hold; a cell that still does not parse (IPython-only syntax) is
skipped, not an error. `!` lines and `%%bash` cells go to `commands.ShellScan`. Findings point
at the .ipynb file line and name the cell and the line inside it.
"""

from __future__ import annotations

from mlgate import notebook
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
    for cell in notebook.code_cells(source):
        place = notebook.cell_placer(source, cell)
        view = notebook.python_view(cell.text)
        if view is not None and view.strip():
            units.append(Unit(view, place, index=len(units)))
        shell_text = notebook.shell_view(cell.text)
        if shell_text is not None:
            script.add(shell_text, place)
    return scan_units(judge, units, source.text) + script.findings()


SCANNER = Scanner("notebooks", matches=matches, scan=scan)
