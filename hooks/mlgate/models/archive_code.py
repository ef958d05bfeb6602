"""Python source shipped inside a model archive: a TorchServe `.mar` handler (a zip with
`MAR-INF/MANIFEST.json`) is imported and run by the server that loads the model.

A handler is code by design (it pre- and post-processes requests), so its presence is not
reported; what is reported (MOD015) is a handler module that starts processes, evaluates
strings or installs packages - what a model server has no reason to do and what backdoored
archives do. The source is parsed with `ast` (never run, warnings silenced so no scanned
line reaches a log) and every expression is resolved statically (`values.py`): names
through the module's imports and assignments (`import subprocess as sp`, `run = os.system`),
strings by constant folding (concatenation, join, format, f-strings, slicing, `chr`, bytes
decoding, base64/hex/rot13/zlib), and the ways to reach a function by name: `getattr(os,
"sys" + "tem")`, `__import__("o" + "s")`, `importlib.import_module(x)`, `globals()[...]`,
`vars(os)[...]`, `os.__dict__[...]`, `sys.modules[...]`. A dangerous function is reported
wherever it is reached, called or passed on (`map(os.system, cmds)`); a module reached by a
name that cannot be folded (`getattr(os, request_field)`, `import_module(user_input)`) is
reported too, since it can be any function. Each distinct reach is reported once, at the
byte offset of its first occurrence.

    is_torchserve_archive(names) -> bool
    is_python_member(name) -> bool
    scan(data: bytes, where) -> list[Finding]
"""

from __future__ import annotations

import ast
import re

from mlgate import python_ast
from mlgate.findings import Finding
from mlgate.models.callables import dangerous_reason
from mlgate.models.rules import ARCHIVE_CODE, UNPARSEABLE
from mlgate.models.values import Computed, Evaluator, Ref
from mlgate.models.where import Where

MAR_MANIFEST = "MAR-INF/MANIFEST.json"
MAX_SOURCE = 4 << 20

_PROCESS = "starts a process"
_EVAL = "evaluates a string as code"
_PACKAGES = "installs packages"
# Calls that run commands or code given as data; file and network I/O is what handlers do
# (reading a label map, loading the weights with torch.load) and is left out. Importing a
# module by a constant name is an import statement; by a computed one, see below.
_EXACT = {
    **dict.fromkeys(
        (
            "os.system",
            "os.popen",
            "os.fork",
            "os.forkpty",
            "os.posix_spawn",
            "os.posix_spawnp",
            "pty.spawn",
            "platform.popen",
            "asyncio.create_subprocess_exec",
            "asyncio.create_subprocess_shell",
            "commands.getoutput",
            "commands.getstatusoutput",
        ),
        _PROCESS,
    ),
    **dict.fromkeys(("builtins.eval", "builtins.exec", "builtins.compile", "runpy.run_path", "runpy.run_module", "code.interact"), _EVAL),
    **dict.fromkeys(("pip.main", "pip._internal.main", "pip._internal.cli.main.main", "ensurepip.bootstrap"), _PACKAGES),
}
_FAMILIES = {
    re.compile(r"(?:os|posix|nt)\.(?:system|popen|exec\w*|spawn\w*|fork\w*|posix_spawnp?)"): _PROCESS,
    re.compile(r"subprocess\.(?:Popen|run|call|check_call|check_output|getoutput|getstatusoutput)"): _PROCESS,
    re.compile(r"popen2\.\w+"): _PROCESS,
}
_FAMILY_MODULES = frozenset({"os", "posix", "nt", "subprocess", "popen2"})
_COMPUTED = "reaches a function whose name is computed at run time, which can be any of them"


def is_torchserve_archive(names: list[str]) -> bool:
    return MAR_MANIFEST in names


def is_python_member(name: str) -> bool:
    return name.endswith(".py")


def call_reason(name: str) -> str | None:
    if name in _EXACT:
        return _EXACT[name]
    return next((reason for pattern, reason in _FAMILIES.items() if pattern.fullmatch(name)), None)


def scan(data: bytes, where: Where) -> list[Finding]:
    if len(data) > MAX_SOURCE:  # padding a handler past the cap must not hide it
        return [
            where.finding(
                UNPARSEABLE, f"handler source of {len(data)} bytes is over the {MAX_SOURCE >> 20} MiB mlgate parses: not checked", 0
            )
        ]
    try:
        tree = python_ast.parse(data)  # byte offsets are what this scan reports
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # the server cannot import it either
    line_starts = [0]
    while (newline := data.find(b"\n", line_starts[-1])) >= 0:
        line_starts.append(newline + 1)
    first: dict[str, tuple[int, str]] = {}
    for node, shown, reason in _reaches(tree):
        offset = line_starts[node.lineno - 1] + node.col_offset  # ast's column is a UTF-8 byte offset
        if shown not in first or offset < first[shown][0]:
            first[shown] = (offset, reason)
    return [
        where.finding(ARCHIVE_CODE, f"handler code reaches {shown}: it {reason} when the model server loads the archive", offset)
        for shown, (offset, reason) in sorted(first.items(), key=lambda item: item[1][0])
    ]


def _holds_dangerous(module: str) -> bool:
    """Whether a computed attribute of `module` can be a dangerous function (`getattr(os, x)`,
    `getattr(builtins, x)`; not `getattr(torch, dtype_name)`)."""
    prefix = module + "."
    return module in _FAMILY_MODULES or dangerous_reason(module) is not None or any(name.startswith(prefix) for name in _EXACT)


def _reaches(tree: ast.Module):
    """(node, what it reaches, why that is dangerous) for every outermost expression that
    resolves to a dangerous function or to a module attribute named at run time."""
    evaluator = Evaluator(tree)
    inner: set[int] = set()  # parts of an expression already reported through the whole
    for node in ast.walk(tree):
        if id(node) in inner or not isinstance(node, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)):
            continue
        if not isinstance(getattr(node, "ctx", ast.Load()), ast.Load):
            continue  # an assignment's target: its value is judged where it is used
        for value in evaluator.values(node):
            if isinstance(value, Ref) and (reason := call_reason(value.name)) is not None:
                shown = value.name
            elif isinstance(value, Computed) and value.shown is not None and (value.module is None or _holds_dangerous(value.module)):
                shown, reason = value.shown, _COMPUTED
            else:
                continue
            inner.update(id(child) for child in ast.walk(node) if child is not node)
            yield node, shown, reason
