"""safetensors files: checked the way the safetensors library checks them on load.

An 8-byte little-endian header length, a UTF-8 JSON object of tensors
`{name: {dtype, shape, data_offsets: [begin, end]}}` (plus an optional `__metadata__`
string map), then a data area the tensors tile exactly: no gap, no overlap, nothing
after the last one. Anything else is MOD011: the name promises a format that cannot
run code, so bytes that do not fit it are either corrupt or smuggled (a pickle renamed
`.safetensors`, a payload in an unlisted gap).
"""

from __future__ import annotations

import json
import struct

from mlgate.findings import Finding
from mlgate.models.rules import SAFETENSORS_INVALID
from mlgate.models.where import Where

MAX_HEADER = 100 << 20  # the library refuses larger headers
# bits per element, as the library defines its dtypes
DTYPE_BITS = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "C64": 64,
    "F64": 64,
    "I64": 64,
    "U64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}
_SHOWN = 3


def scan(data, where: Where) -> list[Finding]:
    problems = header_problems(data)
    shown = "; ".join(message for message, _ in problems[:_SHOWN])
    more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
    return [where.finding(SAFETENSORS_INVALID, f"invalid safetensors: {shown}{more}", problems[0][1])] if problems else []


def header_problems(data) -> list[tuple[str, int]]:
    """(what is wrong, offset) for everything the library would refuse or not account for."""
    if len(data) < 8:
        return [("shorter than the 8-byte header length", 0)]
    length = struct.unpack_from("<Q", data)[0]
    if length > MAX_HEADER or 8 + length > len(data):
        return [(f"header length {length} does not fit in the file", 0)]
    raw = bytes(data[8 : 8 + length])
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        return [(f"header is not UTF-8 JSON ({error})", 8)]
    if not isinstance(header, dict):
        return [("header is not a JSON object", 8)]
    problems: list[tuple[str, int]] = []
    spans = []
    for name, info in header.items():
        at = 8 + max(raw.find(json.dumps(name, ensure_ascii=False).encode("utf-8")), 0)
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(value, str) for value in info.values()):
                problems.append(("__metadata__ is not a map of strings", at))
            continue
        problem, span = _tensor(name, info)
        if problem:
            problems.append((problem, at))
        elif span:
            spans.append((*span, name, at))
    problems += _layout(spans, len(data) - 8 - length, 8 + length)
    return sorted(problems, key=lambda problem: problem[1])


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError("duplicate keys")
    return dict(pairs)


def _tensor(name: str, info: object) -> tuple[str | None, tuple[int, int] | None]:
    """(problem, None) or (None, (begin, end)) for one tensor entry."""
    if not isinstance(info, dict):
        return f"tensor {name!r} is not an object", None
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype not in DTYPE_BITS:
        return f"tensor {name!r} has unknown dtype {dtype!r}", None
    if not isinstance(shape, list) or not all(type(size) is int and size >= 0 for size in shape):
        return f"tensor {name!r} has a shape that is not a list of non-negative integers", None
    pair = isinstance(offsets, list) and len(offsets) == 2 and all(type(value) is int and value >= 0 for value in offsets)
    if not pair or not isinstance(offsets, list) or offsets[0] > offsets[1]:  # (isinstance again for mypy)
        return f"tensor {name!r} has data_offsets that are not [begin, end]", None
    count = 1
    for size in shape:
        count *= size
    bits = count * DTYPE_BITS[dtype]
    if bits % 8 or offsets[1] - offsets[0] != bits // 8:
        return f"tensor {name!r} spans {offsets[1] - offsets[0]} bytes where {dtype} x {shape} needs {bits / 8:g}", None
    return None, (offsets[0], offsets[1])


def _layout(spans: list[tuple[int, int, str, int]], area: int, area_start: int) -> list[tuple[str, int]]:
    """Tensors must tile the data area from 0 to its end, in some order."""
    problems = []
    expected = 0
    for begin, end, name, at in sorted(spans):
        if begin < expected:
            problems.append((f"tensor {name!r} overlaps another tensor", at))
        elif begin > expected:
            problems.append(
                (f"{begin - expected} bytes of the data area before tensor {name!r} belong to no tensor", area_start + expected)
            )
        if end > area:
            problems.append((f"tensor {name!r} ends past the end of the file", at))
        expected = max(expected, end)
    if expected < area:
        problems.append((f"{area - expected} bytes after the last tensor belong to no tensor", area_start + expected))
    return problems
