"""ONNX models: tensors whose bytes live in an external file named by the model.

`onnx.load` resolves `external_data` locations against the model's folder; a location
that is absolute, climbs out with `..`, names a drive or a URL makes loading read (and
tools that re-save write) files anywhere (CVE-2024-27318, CVE-2024-5187) -> MOD010.

A minimal protobuf wire-format reader walks only the messages that can hold tensors:
ModelProto.graph / training_info / functions -> GraphProto.initializer,
sparse_initializer, node -> NodeProto.attribute -> AttributeProto.t / g / tensors /
graphs / sparse tensors (subgraphs of If and Loop) -> TensorProto.external_data. Tensor
payloads are skipped by length, never read. No onnx package is needed.
"""

from __future__ import annotations

import re

from mlgate.findings import Finding
from mlgate.models.formats import Malformed
from mlgate.models.protobuf import length_fields
from mlgate.models.rules import ONNX_EXTERNAL
from mlgate.models.where import Where

MAX_DEPTH = 64  # nested subgraphs; real models stay under ten

# message -> {field number: message type of that field}
_SCHEMA = {
    "model": {7: "graph", 20: "training", 25: "function"},
    "training": {1: "graph", 2: "graph"},
    "function": {7: "node"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "node": {5: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
    "tensor": {13: "entry"},
}
_TENSOR_NAME = 8
_ENTRY_KEY, _ENTRY_VALUE = 1, 2
_PARENT = re.compile(r"\.\.[. ]*")  # `..`, and what Windows trims to it (`.. `, `...`)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # scheme: (also catches C: drive letters)


def scan(data, where: Where) -> list[Finding]:
    found = []
    for tensor, location, offset in external_locations(data):
        reason = escape_reason(location)
        if reason is not None:
            message = f"tensor {tensor!r} reads its data from {location!r}: {reason}"
            found.append(where.finding(ONNX_EXTERNAL, message, offset))
    return found


def escape_reason(location: str) -> str | None:
    """Why an external data location leaves the model's folder, or None.

    onnx joins the location to the model's folder; what counts is where the normalised path
    ends (`weights/../w.bin` stays inside). Backslashes separate on Windows and `..` with
    trailing dots or spaces is `..` there: both readings are judged.
    """
    if location.startswith(("/", "\\")):
        return "an absolute path"
    if _URL.match(location):
        return "a drive or URL, outside the model's folder"
    if "\0" in location:
        return "a path with a NUL byte"
    depth = 0
    for part in re.split(r"[/\\]", location):
        if _PARENT.fullmatch(part):
            depth -= 1
            if depth < 0:
                return "a path that climbs out of the model's folder"
        elif part not in ("", "."):
            depth += 1
    return None


def external_locations(data) -> list[tuple[str, str, int]]:
    """(tensor name, location, offset of the location string) for every external tensor."""
    found: list[tuple[str, str, int]] = []
    _walk(data, 0, len(data), "model", 0, found)
    return found


def _walk(data, start: int, end: int, message: str, depth: int, found: list) -> None:
    if depth > MAX_DEPTH:
        raise Malformed("ONNX graphs nested too deeply", start)
    children = _SCHEMA[message]
    name = ""
    locations = []
    for number, begin, stop in _fields(data, start, end):
        if message == "tensor" and number == _TENSOR_NAME:
            name = bytes(data[begin:stop]).decode("utf-8", "replace")
        elif message == "tensor" and number in children:
            entry = _entry(data, begin, stop)
            if entry is not None:
                locations.append(entry)
        elif number in children:
            _walk(data, begin, stop, children[number], depth + 1, found)
    found += [(name, location, offset) for location, offset in locations]


def _entry(data, start: int, end: int) -> tuple[str, int] | None:
    """(value, offset of the value) of a StringStringEntryProto whose key is 'location'."""
    key, value = None, None
    for number, begin, stop in _fields(data, start, end):
        if number == _ENTRY_KEY:
            key = bytes(data[begin:stop])
        elif number == _ENTRY_VALUE:
            value = (bytes(data[begin:stop]).decode("utf-8", "replace"), begin)
    return value if key == b"location" and value is not None else None


def _fields(data, start: int, end: int):
    return length_fields(data, start, end, "an ONNX model")
