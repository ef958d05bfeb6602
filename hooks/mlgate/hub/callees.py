"""Whether a function of the project, called with `trust_remote_code=True`, only tests the flag.

`trust_remote_code=True` given to a function mlgate does not know is reported (HUB002): most such
functions are the project's loaders, which pass the flag on to `from_pretrained`. Some are not:
unsloth's `evaluate_remote_code_consent_for_targets(targets, trust_remote_code=True)` decides
whether a load may go ahead, and only reads the flag in `if not trust_remote_code:`. Such a call
loads nothing. The function is looked up the way Python finds it, without importing anything: in
the calling module, or in the module its import names (`from utils.security import f`), found from
the folders above the calling file up to the repository root (`utils/security.py`,
`utils/security/__init__.py`), following re-exports (`from .consent import f`) a few steps. A
function (or a class's `__init__`) "only tests" a parameter when every read of it is inside the
condition of an `if`, `while`, `assert` or conditional expression, through `not`, `and`, `or` and
comparisons only: it is never passed on, stored, returned or put in a dict. Anything not found,
not parsed or not that simple counts as a load, as before.
"""

from __future__ import annotations

import ast
from pathlib import Path

from mlgate import python_ast
from mlgate.files import ScanError, SourceFile
from mlgate.hook import ScanContext
from mlgate.identity import repository_root

MAX_REEXPORTS = 3
_TESTS = (ast.If, ast.While, ast.Assert, ast.IfExp)
_LOGIC = (ast.BoolOp, ast.UnaryOp, ast.Compare)


class _Module:
    """What one module says about its top-level functions (which parameters each only tests, worked
    out when first asked: a module can hold hundreds of functions) and the names it imports from
    elsewhere (a package's `__init__` re-exporting them)."""

    def __init__(self, tree: ast.Module):
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef | None] = {}
        self.imported: dict[str, tuple[str, int]] = {}  # name -> (module, relative level)
        self._judged: dict[str, frozenset[str]] = {}
        for statement in tree.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[statement.name] = statement
            elif isinstance(statement, ast.ClassDef):
                init = next((item for item in statement.body if isinstance(item, ast.FunctionDef) and item.name == "__init__"), None)
                self.functions[statement.name] = init
            elif isinstance(statement, ast.ImportFrom) and statement.module is not None:
                for alias in statement.names:
                    self.imported[alias.asname or alias.name] = (f"{statement.module}.{alias.name}", statement.level)

    def only_tested(self, name: str) -> frozenset[str]:
        """The parameters function (or class) `name` reads only in conditions."""
        if name not in self._judged:
            function = self.functions.get(name)
            self._judged[name] = _parameters_only_tested(function) if function is not None else frozenset()
        return self._judged[name]


def _parameters_only_tested(function: ast.FunctionDef | ast.AsyncFunctionDef) -> frozenset[str]:
    arguments = function.args
    parameters = {arg.arg for arg in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
    tested: set[int] = set()
    for node in ast.walk(function):
        if isinstance(node, _TESTS):
            stack: list[ast.expr] = [node.test]
            while stack:
                part = stack.pop()
                if isinstance(part, ast.Name):
                    tested.add(id(part))
                elif isinstance(part, ast.BoolOp):
                    stack.extend(part.values)
                elif isinstance(part, ast.UnaryOp):
                    stack.append(part.operand)
                elif isinstance(part, ast.Compare):
                    stack.extend([part.left, *part.comparators])
    reads: dict[str, list[int]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id in parameters:
            reads.setdefault(node.id, []).append(id(node))
    return frozenset(name for name in parameters if all(read in tested for read in reads.get(name, [])))


def _parsed(source: SourceFile) -> _Module:
    return _Module(python_ast.module(source).tree)


class Callees:
    """Functions of the project that a calling file names, read once per run (`ScanContext.once`)."""

    def __init__(self, context: ScanContext, folder: str, local: ast.Module | None):
        self.context = context
        self.folder = Path(folder)
        self.root = repository_root(self.folder) or Path.cwd()
        self.local = _Module(local) if local is not None else None

    def only_tests(self, qualified: str, parameter: str) -> bool:
        """Whether the function `qualified` names (`utils.security.check`, or `check` defined in the
        calling file) reads `parameter` only in conditions."""
        if "()" in qualified or "_." in qualified or qualified.endswith("_"):
            return False  # a call's result, or an expression mlgate does not name
        module_name, _, name = qualified.rpartition(".")
        level = 0
        if not module_name:  # defined in this file, or imported relatively (`from .security import check`)
            if self.local is None:
                return False
            if name in self.local.functions or name not in self.local.imported:
                return parameter in self.local.only_tested(name)
            imported, level = self.local.imported[name]
            module_name, _, name = imported.rpartition(".")
        module = self._module(module_name, self.folder, level)
        for _ in range(MAX_REEXPORTS):
            if module is None:
                return False
            found, where = module
            if name in found.functions:
                return parameter in found.only_tested(name)
            if name not in found.imported:
                return False
            imported, level = found.imported[name]
            module_name, _, name = imported.rpartition(".")
            module = self._module(module_name, where.parent, level)
        return False

    def _module(self, dotted: str, folder: Path, level: int) -> tuple[_Module, Path] | None:
        """The module `dotted` names, imported from a file in `folder` (`level` dots: relative)."""
        parts = dotted.split(".")
        if level:
            bases = [folder.parents[level - 2] if level > 1 else folder] if level - 1 <= len(folder.parents) else []
        else:
            bases = [folder, *folder.parents]
        for base in bases:
            if not base.is_relative_to(self.root):
                break  # the project's own modules only: never a file above the repository
            for candidate in (base.joinpath(*parts).with_suffix(".py"), base.joinpath(*parts, "__init__.py")):
                if candidate.is_file():
                    try:
                        source = self.context.source(candidate)
                        return self.context.once("hub-callees", source, _parsed), candidate
                    except ScanError:
                        return None
            if base == self.root:
                break
        return None
