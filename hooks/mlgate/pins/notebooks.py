"""Jupyter notebooks: the shell inside code cells.

`!cmd` lines, `%pip`/`%conda`/`%mamba`/`%uv` line magics and `%%bash`/`%%sh`/`%%script bash`
cells go to `commands.Script`, one per notebook (cells share a kernel and a disk). Python
lines are blanked, not removed, so offsets into the shell view are offsets into the cell;
findings point at the .ipynb file line and name the cell and the line inside it.
"""

from __future__ import annotations

from mlgate import notebook
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.pins import commands
from mlgate.pins.requirement import Problem, finding_of


def matches(path: str) -> bool:
    return path.endswith(".ipynb")


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    script = commands.Script(context)
    for cell in notebook.code_cells(source):
        view = notebook.shell_view(cell.text)
        if view is None:
            continue

        def place(problem: Problem, cell: notebook.Cell = cell) -> Finding:
            line, column, cell_line = cell.locate(problem.offset)
            return finding_of(problem.rule.finding(source.path, line, column, f"{problem.message} (cell {cell.number}, line {cell_line})"))

        script.add(view, place)
    return script.findings()


SCANNER = Scanner("notebooks", matches=matches, scan=scan)
