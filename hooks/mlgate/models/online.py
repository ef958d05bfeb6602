"""The `models` hook's `--fix`: add `weights_only=True` to a `torch.load` that has no `weights_only`.

Only that one case is fixed: the flag is absent (not `weights_only=False`, which someone chose, nor
hidden in `**kwargs`), and the call is in a `.py` file. It changes behaviour (a checkpoint that
pickles objects other than tensors and plain containers then fails to load), so each fix is
announced on the session's progress stream, and every MOD017 message says so before the fix.
There is nothing to look up: the online check returns the findings as they are.
"""

from __future__ import annotations

import ast

from mlgate import python_ast
from mlgate.files import ScanError, SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext
from mlgate.models.rules import UNSAFE_LOAD_CALL
from mlgate.models.unsafe_loads import TORCH_LOAD, unsafe_load_for
from mlgate.online import Edit, Fixer, OnlineSession
from mlgate.python_flow import NameFlow


def check(session: OnlineSession, context: ScanContext, findings: list[Finding]) -> list[Finding]:
    return findings


def _torch_load_at(module: python_ast.PythonModule, line: int, column: int) -> ast.Call | None:
    """The `torch.load` call (aliases resolved) that starts at 1-based (line, character column)."""
    flow = NameFlow()
    flow.collect(module, 0, None)
    for node in module.nodes:
        if (
            isinstance(node, ast.Call)
            and module.position(node) == (line, column)
            and unsafe_load_for(flow.qualified(node.func) or "") is TORCH_LOAD
        ):
            return node
    return None


def add_weights_only(session: OnlineSession, finding: Finding, source: SourceFile) -> list[Edit]:
    if finding.line is None or finding.column is None or not source.path.endswith((".py", ".pyw")):
        return []
    try:
        module = python_ast.module(source)
    except ScanError:
        return []
    call = _torch_load_at(module, finding.line, finding.column)
    if call is None or any(keyword.arg in (None, "weights_only") for keyword in call.keywords) or call.end_lineno is None:
        return []  # `weights_only=False` was chosen; `**kwargs` may hold it: not ours to change
    text = module.line(call.end_lineno)
    paren = python_ast.char_column(text, call.end_col_offset or 0) - 1  # the call's closing parenthesis
    if paren < 0 or text[paren] != ")":
        return []
    if not text[:paren].strip():  # `)` alone on its line: the keyword goes on a line of its own, indented as the argument above
        above = module.line(call.end_lineno - 1)
        indent = above[: len(above) - len(above.lstrip())]
        old, new, column = text[: paren + 1], f"{indent}weights_only=True,\n{text[:paren]})", 1
        if not above.rstrip().endswith(","):
            return []  # `f(\n    p\n)`: the comma would go on the line above, another edit
    else:
        inside = module.text[: module.end_offset(call) - 1].rstrip()
        old, new, column = ")", " weights_only=True)" if inside.endswith(",") else ", weights_only=True)", paren + 1
    if session.progress is not None:
        print(
            f"mlgate: note: {finding.path}:{finding.line}: torch.load now passes weights_only=True: a checkpoint that pickles "
            "objects other than tensors and plain containers will fail to load; run the code to check",
            file=session.progress,
        )
    return [Edit(finding.path, call.end_lineno, column, old, new)]


FIXES: dict[str, Fixer] = {UNSAFE_LOAD_CALL.code: add_weights_only}
