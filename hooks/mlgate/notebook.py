"""Code cells of a Jupyter notebook, with positions in the .ipynb file itself.

Findings in a notebook point at the line of the .ipynb file that holds the offending
source line (so a PR annotation lands on it and an inline `mlgate: ignore[...]` works),
and the message names the cell and the line inside the cell.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from mlgate import python_ast
from mlgate.files import InvalidText, ScanError, SourceFile
from mlgate.findings import Finding
from mlgate.notes import Note
from mlgate.problem import Place, Problem

_IPYTHON_LINE = re.compile(r"[ \t]*[!%]")
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "skip", "cache", "memit", "tensorflow_version"})
_SHELL_CELL = re.compile(r"[ \t]*%%(?:bash|sh|script[ \t]+(?:\S*/)?(?:ba|z)?sh)\b")
_SHELL_LINE = re.compile(r"[ \t]*(?:!{1,2}|%(?=(?:pip|conda|mamba|micromamba|uv)\b))")
# IPython fills `{expr}` in `!` lines from Python: unknown here, like a shell variable.
_PYTHON_FIELD = re.compile(r"(?<!\$)\{[^{}\n]*\}")


@dataclass
class Cell:
    number: int  # 1-based, counting every cell as Jupyter shows them
    text: str
    file_lines: list[int]  # file line of each cell line (1-based)

    def locate(self, offset: int) -> tuple[int, int, int]:
        """(file line, column, line inside the cell) for an offset into `text`."""
        cell_line = self.text.count("\n", 0, offset)
        start = self.text.rfind("\n", 0, offset) + 1
        file_line = self.file_lines[min(cell_line, len(self.file_lines) - 1)]
        return file_line, offset - start + 1, cell_line + 1


def code_cells(source: SourceFile) -> list[Cell]:
    """The notebook's code cells, parsed once for every hook; raises ScanError when it is not a notebook."""
    return source.parsed(_code_cells)


def _code_cells(source: SourceFile) -> list[Cell]:
    try:
        document = json.loads(source.text)
    except (ValueError, RecursionError) as exc:
        raise InvalidText(f"invalid notebook JSON: {str(exc).splitlines()[0]}") from None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise InvalidText("not a Jupyter notebook (no 'cells' list)")
    text = source.text
    cursor = 0
    result = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            continue
        parts = cell.get("source", "")
        if isinstance(parts, str):
            # One JSON string holds every line, so they all sit on the file line of that string.
            found, cursor = _find(text, parts, cursor)
            parts = parts.splitlines(keepends=True)
            lines = [source.position(found)[0]] * max(1, len(parts))
        elif isinstance(parts, list) and all(isinstance(p, str) for p in parts):
            lines = []
            for part in parts:
                found, cursor = _find(text, part, cursor)
                lines.append(source.position(found)[0])
        else:
            continue
        if cell.get("cell_type") == "code" and parts:
            result.append(Cell(number=number, text="".join(parts), file_lines=lines))
    return result


@dataclass
class PythonCell:
    """A code cell with Python in it (`python_view` not blank), parsed once for every hook."""

    cell: Cell
    index: int  # among the notebook's cells with Python, from 0 (the unit index of `python_flow`)
    module: python_ast.PythonModule | None  # None: IPython-only syntax, not Python we can read


def python_cells(source: SourceFile) -> list[PythonCell]:
    """The Python of the code cells (IPython lines blanked), each cell parsed once for every
    hook; raises ScanError when the file is not a notebook."""
    return source.parsed(_python_cells)


def _python_cells(source: SourceFile) -> list[PythonCell]:
    cells: list[PythonCell] = []
    for cell in code_cells(source):
        view = python_view(cell.text)
        if view is None or not view.strip():
            continue
        try:
            module: python_ast.PythonModule | None = python_ast.parse_text(view)
        except ScanError:
            module = None
        cells.append(PythonCell(cell, len(cells), module))
    return cells


def _find(text: str, value: str, cursor: int) -> tuple[int, int]:
    """Where the JSON string `value` is written at or after `cursor` (moving forward only).

    Returns (offset of its first character, new cursor); when the writer escaped it
    differently from us, the cursor itself stands in as the best known position.
    """
    for encoded in (json.dumps(value, ensure_ascii=False), json.dumps(value)):
        found = text.find(encoded, cursor)
        if found != -1:
            return found + 1, found + len(encoded)
    return cursor, cursor


def shell_view(cell: str) -> str | None:
    """The cell with everything that is not shell blanked out (same length), or None.

    Shell is `!cmd` lines, `%pip`/`%conda`/`%mamba`/`%uv` line magics and `%%bash`/`%%sh`/
    `%%script bash` cells. Offsets into the view are offsets into the cell.
    """
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


def python_view(cell: str) -> str | None:
    """The cell with IPython-only lines (`!cmd`, `%magic`) blanked (same length, so positions
    hold), or None for a non-Python cell magic."""
    first = cell.split("\n", 1)[0].strip()
    magic, _, target = first[2:].partition(" ")
    if first.startswith("%%") and magic not in _PYTHON_CELL_MAGICS and not (magic == "writefile" and target.strip().endswith(".py")):
        return None  # `%%writefile train.py` is Python that runs later: read it too
    return "\n".join(" " * len(line) if _IPYTHON_LINE.match(line) else line for line in cell.split("\n"))


def cell_placer(source: SourceFile, cell: Cell) -> Place:
    """Place problems found at offsets into a cell's text at the .ipynb file line, naming the cell and its line."""

    def place(problem: Problem) -> Finding | Note:
        line, column, cell_line = cell.locate(problem.offset)
        message = f"{problem.message} (cell {cell.number}, line {cell_line})"
        return problem.rule.finding(source.path, line, column, message, severity=problem.severity)

    return place
