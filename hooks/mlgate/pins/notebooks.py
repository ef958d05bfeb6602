"""Jupyter notebooks: the shell inside code cells.

`!cmd` lines, `%pip`/`%conda`/`%mamba`/`%uv` line magics and `%%bash`/`%%sh`/`%%script bash`
cells go to `commands.Script`, one per notebook (cells share a kernel and a disk). Python
lines are blanked, not removed, so offsets into the shell view are offsets into the cell;
findings point at the .ipynb file line and name the cell and the line inside it.
"""

from __future__ import annotations

import re

from mlgate import notebook
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.pins import commands
from mlgate.pins.requirement import Problem

_SHELL_CELL = re.compile(r"[ \t]*%%(?:bash|sh|script[ \t]+(?:\S*/)?(?:ba|z)?sh)\b")
_SHELL_LINE = re.compile(r"[ \t]*(?:!{1,2}|%(?=(?:pip|conda|mamba|micromamba|uv)\b))")
# IPython fills `{expr}` in `!` lines from Python: unknown here, like a shell variable.
_PYTHON_FIELD = re.compile(r"(?<!\$)\{[^{}\n]*\}")


def matches(path: str) -> bool:
    return path.endswith(".ipynb")


def _shell_view(cell: str) -> str | None:
    """The cell with everything that is not shell blanked out (same length), or None."""
    first, newline, rest = cell.partition("\n")
    if _SHELL_CELL.match(first):
        return " " * len(first) + newline + rest
    view, found = [], False
    for line in cell.split("\n"):
        marker = _SHELL_LINE.match(line)
        if marker:
            found = True
            command = _PYTHON_FIELD.sub(lambda field: "$" + "_" * (len(field.group()) - 1), line[marker.end() :])
            view.append(" " * marker.end() + command)
        else:
            view.append(" " * len(line))
    return "\n".join(view) if found else None


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    script = commands.Script(commands.allowed_indexes(context))
    for cell in notebook.code_cells(source):
        view = _shell_view(cell.text)
        if view is None:
            continue

        def place(problem: Problem, cell: notebook.Cell = cell) -> Finding:
            line, column, cell_line = cell.locate(problem.offset)
            return problem.rule.finding(source.path, line, column, f"{problem.message} (cell {cell.number}, line {cell_line})")

        script.add(view, place)
    return script.findings()


SCANNER = Scanner("notebooks", matches=matches, scan=scan)
