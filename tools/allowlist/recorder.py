"""Records the globals that real pickles name, without ever unpickling them.

Runs under every interpreter `generate.py` uses (Python 3.7 to 3.13): keep the syntax 3.7-compatible.
"""

from __future__ import annotations

import io
import pickle
import pickletools
import zipfile
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING

_STRING_OPCODES = {
    "SHORT_BINUNICODE",
    "BINUNICODE",
    "BINUNICODE8",
    "UNICODE",
    "STRING",
    "BINSTRING",
    "SHORT_BINSTRING",
}
_GET_OPCODES = {"GET", "BINGET", "LONG_BINGET"}
_PUT_OPCODES = {"PUT", "BINPUT", "LONG_BINPUT"}
PROTOCOLS = tuple(range(pickle.HIGHEST_PROTOCOL + 1))


def resolved(module: str, name: str, protocol: int) -> tuple[str, str]:
    """(module, name) as CPython's unpickler resolves them: Python 2 names are mapped below protocol 3."""
    if protocol < 3:
        if (module, name) in NAME_MAPPING:
            return NAME_MAPPING[(module, name)]
        module = IMPORT_MAPPING.get(module, module)
    return module, name


def globals_in(data: bytes, max_pickles: int = 64) -> set[tuple[str, str]]:
    """(module, name) of every GLOBAL/STACK_GLOBAL/INST in the pickles that follow each other in `data`.

    STACK_GLOBAL takes its two strings from the stack, pushed directly or fetched from the memo,
    so the walk keeps the pushed values (strings, None for anything else) and a memo of them.
    """
    found: set[tuple[str, str]] = set()
    start = 0
    for _ in range(max_pickles):
        if start >= len(data):
            break
        stack: list[object] = []
        memo: dict[int, object] = {}
        protocol = 0
        end = None
        for opcode, argument, position in pickletools.genops(io.BytesIO(data[start:])):
            name = opcode.name
            if name == "PROTO":
                protocol = argument
            elif name in _STRING_OPCODES:
                stack.append(argument)
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1] if stack else None
            elif name in _PUT_OPCODES:
                memo[argument] = stack[-1] if stack else None
            elif name in _GET_OPCODES:
                stack.append(memo.get(argument))
            elif name in ("GLOBAL", "INST"):
                module, _, qualname = argument.partition(" ")
                found.add(resolved(module, qualname, protocol))
                stack.append(None)
            elif name == "STACK_GLOBAL":
                qualname, module = stack.pop(), stack.pop()
                if not (isinstance(module, str) and isinstance(qualname, str)):
                    raise ValueError(f"STACK_GLOBAL without two strings at {start + position}")
                found.add(resolved(module, qualname, protocol))
                stack.append(None)
            elif name == "STOP":
                end = start + position + 1
            elif name not in ("FRAME", "MARK", "POP", "POP_MARK"):
                stack.append(None)
        if end is None:
            break
        start = end
    return found


def pickled_globals(obj: object, protocols: tuple[int, ...] = PROTOCOLS) -> set[tuple[str, str]]:
    """The globals of `obj` pickled with each protocol (protocols that cannot pickle it are skipped)."""
    found: set[tuple[str, str]] = set()
    errors = []
    for protocol in protocols:
        try:
            data = pickle.dumps(obj, protocol=protocol)
        except Exception as error:  # an object may need protocol 2 (__reduce_ex__) or refuse pickling
            errors.append(error)
            continue
        found |= globals_in(data)
    if len(errors) == len(protocols):
        raise errors[-1]
    return found


def zip_pickle_globals(data: bytes) -> set[tuple[str, str]]:
    """Globals of every `*.pkl` member of a torch.save zip archive (data.pkl, and others)."""
    found: set[tuple[str, str]] = set()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.namelist():
            if member.endswith(".pkl"):
                found |= globals_in(archive.read(member))
    return found
