"""Jupyter notebooks: the shell inside code cells.

`!cmd` lines, `%pip`/`%conda`/`%mamba`/`%uv` line magics and `%%bash`/`%%sh`/`%%script bash`
cells go to `commands.Script`, one per notebook (cells share a kernel and a disk). Python
lines are blanked, not removed, so offsets into the shell view are offsets into the cell;
findings point at the .ipynb file line and name the cell and the line inside it. A notebook in a
documentation or example folder is a tutorial: its unpinned installs (PIN001) are not reported,
everything else is (see PIN001, "Samples are not reported").
"""

from __future__ import annotations

from mlgate import notebook
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.identity import in_example_folder
from mlgate.pins import commands
from mlgate.pins.requirement import Problem, finding_of
from mlgate.pins.rules import UNPINNED


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
    if in_example_folder(source):  # a tutorial tracks current releases on purpose: ranges are not reported there (PIN001)
        return [finding for finding in script.findings() if finding.rule is not UNPINNED]
    return script.findings()


SCANNER = Scanner("notebooks", matches=matches, scan=scan)
