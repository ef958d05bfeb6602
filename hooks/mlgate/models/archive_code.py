"""Python source shipped inside a model archive: a TorchServe `.mar` handler (a zip with
`MAR-INF/MANIFEST.json`) is imported and run by the server that loads the model.

A handler is code by design (it pre- and post-processes requests), so its presence is not
reported; what is reported (MOD015) is a handler module that starts processes, evaluates
strings or installs packages - what a model server has no reason to do and what backdoored
archives do. The source is parsed with `ast` (never run); calls are resolved through the
module's imports (`import subprocess as sp; sp.run(...)`, `from os import system`), each
distinct callable reported once at the byte offset of its first call.

    is_torchserve_archive(names) -> bool
    is_python_member(name) -> bool
    scan(data: bytes, where) -> list[Finding]
"""

from __future__ import annotations

import ast
import re

from mlgate.findings import Finding
from mlgate.models.rules import ARCHIVE_CODE
from mlgate.models.where import Where

MAR_MANIFEST = "MAR-INF/MANIFEST.json"
MAX_SOURCE = 4 << 20

_PROCESS = "starts a process"
_EVAL = "evaluates a string as code"
_PACKAGES = "installs packages"
# Calls that run commands or code given as data; file and network I/O is what handlers do
# (reading a label map, loading the weights with torch.load) and is left out.
_EXACT = {
    **dict.fromkeys(("os.system", "os.popen", "os.fork", "os.forkpty", "os.posix_spawn", "os.posix_spawnp", "pty.spawn",
                     "platform.popen"), _PROCESS),
    **dict.fromkeys(("builtins.eval", "builtins.exec", "builtins.compile", "builtins.__import__", "importlib.import_module",
                     "runpy.run_path", "runpy.run_module", "code.interact"), _EVAL),
    **dict.fromkeys(("pip.main", "pip._internal.main", "pip._internal.cli.main.main", "ensurepip.bootstrap"), _PACKAGES),
}
_PREFIXES = {"subprocess.": _PROCESS, "commands.": _PROCESS, "popen2.": _PROCESS, "asyncio.create_subprocess_": _PROCESS}
_OS_FAMILIES = re.compile(r"os\.(?:exec|spawn)\w*")
_BUILTINS = frozenset({"eval", "exec", "compile", "__import__"})


def is_torchserve_archive(names: list[str]) -> bool:
    return MAR_MANIFEST in names


def is_python_member(name: str) -> bool:
    return name.endswith(".py")


def call_reason(name: str) -> str | None:
    if name in _EXACT:
        return _EXACT[name]
    if _OS_FAMILIES.fullmatch(name):
        return _PROCESS
    return next((reason for prefix, reason in _PREFIXES.items() if name.startswith(prefix)), None)


def scan(data: bytes, where: Where) -> list[Finding]:
    if len(data) > MAX_SOURCE:
        return []
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError):
        return []  # the server cannot import it either
    aliases = _imports(tree)
    line_starts = [0]
    while (newline := data.find(b"\n", line_starts[-1])) >= 0:
        line_starts.append(newline + 1)
    first: dict[str, tuple[int, str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _resolve(node.func, aliases)
        reason = call_reason(name) if name else None
        if reason is None:
            continue
        offset = line_starts[node.lineno - 1] + node.col_offset  # ast's column is a UTF-8 byte offset
        if name not in first or offset < first[name][0]:
            first[name] = (offset, reason)
    return [
        where.finding(ARCHIVE_CODE, f"handler code calls {name}: it {reason} when the model server loads the archive", offset)
        for name, (offset, reason) in sorted(first.items(), key=lambda item: item[1][0])
    ]


def _imports(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted name it stands for, from every import in the module."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _resolve(func: ast.expr, aliases: dict[str, str]) -> str | None:
    """`sp.run` -> 'subprocess.run' through the imports; a bare eval/exec -> 'builtins.eval'."""
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    base = aliases.get(func.id)
    if base is None:
        if parts or func.id not in _BUILTINS:
            return None
        base = f"builtins.{func.id}"
    return ".".join([base, *reversed(parts)])
