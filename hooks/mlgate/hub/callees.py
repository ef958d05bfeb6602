"""Functions of the project that a calling file names: does one only test `trust_remote_code`,
and which of its parameters does it hand to a hub loader?

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

The same lookup says which parameters a function hands, as they are, to a hub loader as the
repository it loads (torchtune's `SFTDataset.__init__(source)` calls `load_dataset(source)`), also
through up to `MAX_WRAPPERS` functions of the project in between (`alpaca_dataset(source=...)` ->
`SFTDataset(source=source)`): the caller's `ns/name` given for it is then a reference.
"""

from __future__ import annotations

import ast
from pathlib import Path

from mlgate import python_ast
from mlgate.files import ScanError, SourceFile
from mlgate.hook import ScanContext
from mlgate.hub.loaders import Loader, loader_for
from mlgate.identity import repository_root

MAX_REEXPORTS = 3
MAX_WRAPPERS = 3  # functions of the project a repository is handed through before a loader gets it
# (parameter -> the loader it is given to, [(parameter, callee's dotted name, import level, keyword)])
HandedOn = tuple[dict[str, Loader], list[tuple[str, str, int, str]]]
_TESTS = (ast.If, ast.While, ast.Assert, ast.IfExp)
_LOGIC = (ast.BoolOp, ast.UnaryOp, ast.Compare)


class _Module:
    """What one module says about its top-level functions (which parameters each only tests, and
    which it hands to a hub loader, worked out when first asked: a module can hold hundreds of
    functions) and the names it imports from elsewhere (a package's `__init__` re-exporting them)."""

    def __init__(self, tree: ast.Module):
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef | None] = {}
        self.imported: dict[str, tuple[str, int]] = {}  # name -> (module, relative level)
        self.modules: dict[str, str] = {}  # `import datasets as ds`: ds -> datasets
        self._judged: dict[str, frozenset[str]] = {}
        self._handed: dict[str, HandedOn] = {}
        for statement in tree.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[statement.name] = statement
            elif isinstance(statement, ast.ClassDef):
                init = next((item for item in statement.body if isinstance(item, ast.FunctionDef) and item.name == "__init__"), None)
                self.functions[statement.name] = init
            elif isinstance(statement, ast.ImportFrom) and statement.module is not None:
                for alias in statement.names:
                    self.imported[alias.asname or alias.name] = (f"{statement.module}.{alias.name}", statement.level)
            elif isinstance(statement, ast.Import):
                for alias in statement.names:
                    self.modules[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]

    def handed_on(self, name: str) -> HandedOn:
        """What function (or class) `name` does with its parameters that matters to a reference:
        those it gives a hub loader, as they are, as the repository to load (torchtune's
        `SFTDataset.__init__(source)` calls `load_dataset(source)`), and those it passes by keyword
        to another function (`(parameter, callee's dotted name, its import level, keyword)`)."""
        if name not in self._handed:
            function = self.functions.get(name)
            self._handed[name] = self._parameters_handed(function) if function is not None else ({}, [])
        return self._handed[name]

    def _parameters_handed(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> HandedOn:
        arguments = function.args
        parameters = {arg.arg for arg in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
        loaded: dict[str, Loader] = {}
        passed: list[tuple[str, str, int, str]] = []
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            qualified, level = self._qualified(node.func)
            loader = loader_for(qualified) if qualified and not level else None
            if loader is None:
                passed += [
                    (keyword.value.id, qualified, level, keyword.arg)
                    for keyword in node.keywords
                    if qualified and keyword.arg is not None and isinstance(keyword.value, ast.Name) and keyword.value.id in parameters
                ]
                continue
            if loader.kind not in ("model", "dataset"):
                continue
            handed = [node.args[loader.position]] if loader.position is not None and len(node.args) > loader.position else []
            handed += [keyword.value for keyword in node.keywords if keyword.arg in loader.keywords]
            for value in handed:
                if isinstance(value, ast.Name) and value.id in parameters:
                    loaded.setdefault(value.id, loader)
        return loaded, passed

    def _qualified(self, node: ast.expr) -> tuple[str, int]:
        """The dotted name of a callee as this module's imports make it (`load_dataset` ->
        `datasets.load_dataset`) and the level of its relative import; "" for what is not a dotted name."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return "", 0
        base, level = self.imported[node.id] if node.id in self.imported else (self.modules.get(node.id, node.id), 0)
        return ".".join([base, *reversed(parts)]), level

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
        self._found: dict[tuple[str, Path, int], tuple[_Module, Path] | None] = {}

    def only_tests(self, qualified: str, parameter: str) -> bool:
        """Whether the function `qualified` names (`utils.security.check`, or `check` defined in the
        calling file) reads `parameter` only in conditions."""
        defined = self.definition(qualified)
        return defined is not None and parameter in defined[0].only_tested(defined[1])

    def loader_of(self, qualified: str, parameter: str) -> Loader | None:
        """The hub loader the project's function `qualified` (as the calling file names it) hands
        its `parameter` to, directly or through the project's functions it calls, if any."""
        defined = self.definition(qualified)
        return self._loader_in(defined, parameter, 0)

    def _loader_in(self, defined: tuple[_Module, str, Path] | None, parameter: str, depth: int) -> Loader | None:
        if defined is None:
            return None
        module, name, folder = defined
        loaded, passed = module.handed_on(name)
        if parameter in loaded:
            return loaded[parameter]
        if depth >= MAX_WRAPPERS:
            return None
        for handed, callee, level, keyword in passed:
            if handed != parameter:
                continue
            if "." not in callee and not level:  # a function of the same module
                inner = (module, callee, folder) if callee in module.functions else None
            else:
                module_name, _, callee_name = callee.rpartition(".")
                inner = self._defined_in(module_name, callee_name, folder, level)
            if (found := self._loader_in(inner, keyword, depth + 1)) is not None:
                return found
        return None

    def definition(self, qualified: str) -> tuple[_Module, str, Path] | None:
        """The module that defines the function (or class) `qualified` names, its name there and
        the module's folder."""
        if "()" in qualified or "_." in qualified or qualified.endswith("_"):
            return None  # a call's result, or an expression mlgate does not name
        module_name, _, name = qualified.rpartition(".")
        level = 0
        if not module_name:  # defined in this file, or imported relatively (`from .security import check`)
            if self.local is None:
                return None
            if name in self.local.functions or name not in self.local.imported:
                return (self.local, name, self.folder) if name in self.local.functions else None
            imported, level = self.local.imported[name]
            module_name, _, name = imported.rpartition(".")
        return self._defined_in(module_name, name, self.folder, level)

    def _defined_in(self, module_name: str, name: str, folder: Path, level: int) -> tuple[_Module, str, Path] | None:
        """Where `name` of module `module_name` (imported from `folder`, `level` dots) is defined,
        following re-exports a few steps."""
        module = self._module(module_name, folder, level)
        for _ in range(MAX_REEXPORTS):
            if module is None:
                return None
            found, where = module
            if name in found.functions:
                return found, name, where.parent
            if name not in found.imported:
                return None
            imported, level = found.imported[name]
            module_name, _, name = imported.rpartition(".")
            module = self._module(module_name, where.parent, level)
        return None

    def _module(self, dotted: str, folder: Path, level: int) -> tuple[_Module, Path] | None:
        """The module `dotted` names, imported from a file in `folder` (`level` dots: relative)."""
        key = (dotted, folder, level)
        if key not in self._found:
            self._found[key] = self._find_module(dotted, folder, level)
        return self._found[key]

    def _find_module(self, dotted: str, folder: Path, level: int) -> tuple[_Module, Path] | None:
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
