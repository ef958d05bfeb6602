"""TensorFlow SavedModel graphs (`saved_model.pb`, or `saved_model.pbtxt` in protobuf's text
format, which TensorFlow's loader reads too): operations that reach outside the graph.

A SavedModel is data, a graph of operations that TensorFlow runs when the model is served
or called, but some operations touch the machine: `ReadFile`, `WriteFile` and
`MatchingFiles` read, overwrite and list any path the process can reach (a model that
overwrites `~/.bashrc` or returns `/etc/passwd` in its output), and `PyFunc`,
`PyFuncStateless` and `EagerPyFunc` call Python functions of the loading process
(`tf.py_function`, `tf.numpy_function`). Each is reported once per operation type (MOD013),
at the offset of its first `op` string. The checkpoint operations every SavedModel holds
(`SaveV2`, `RestoreV2`, `MergeV2Checkpoints`) only touch the model's own variables folder
and are not reported.

Walked: SavedModel.meta_graphs -> MetaGraphDef.graph_def -> GraphDef.node and
GraphDef.library.function -> FunctionDef.node_def -> NodeDef.op. Tensor constants are
skipped by length, never read. The text format is read as `text_format.Parse` reads it
(field names, escapes and joined string literals in `op: "Read" "File"`). No TensorFlow needed.

    is_saved_model(name: str) -> bool
    scan(data, where) -> list[Finding]
"""

from __future__ import annotations

from mlgate.findings import Finding
from mlgate.models.formats import HEAD_SIZE, Malformed, is_text
from mlgate.models.protobuf import length_fields, text_strings
from mlgate.models.rules import TENSORFLOW_OP
from mlgate.models.where import Where

SAVED_MODEL_NAMES = ("saved_model.pb", "saved_model.pbtxt")

UNSAFE_OPS = {
    "ReadFile": "reads any file the serving process can read",
    "WriteFile": "writes (or overwrites) any file the serving process can write",
    "MatchingFiles": "lists files anywhere on the machine",
    "PyFunc": "calls a Python function of the loading process (tf.numpy_function)",
    "PyFuncStateless": "calls a Python function of the loading process (tf.numpy_function)",
    "EagerPyFunc": "calls a Python function of the loading process (tf.py_function)",
}

# message -> {field number: (field name, message type of that field)}; "op" is NodeDef.op itself.
_SCHEMA = {
    "saved_model": {2: ("meta_graphs", "meta_graph")},
    "meta_graph": {2: ("graph_def", "graph")},
    "graph": {1: ("node", "node"), 2: ("library", "library")},
    "library": {1: ("function", "function")},
    "function": {3: ("node_def", "node")},
    "node": {2: ("op", "op")},
}
_BY_NAME = {message: dict(fields.values()) for message, fields in _SCHEMA.items()}
_WHAT = "a TensorFlow SavedModel"


def is_saved_model(name: str) -> bool:
    return name.rsplit("/", 1)[-1] in SAVED_MODEL_NAMES


def scan(data, where: Where) -> list[Finding]:
    """Both readings TensorFlow has, binary (`.pb`) and text (`.pbtxt`): content that is text
    is read as text, and as binary too when it happens to parse that way (the worst counts);
    it fails closed only when no reading parses."""
    first: dict[str, int] = {}
    if not is_text(bytes(data[:HEAD_SIZE])):
        _walk(data, 0, len(data), "saved_model", first)
    else:
        try:
            for message, field, value, offset in text_strings(data, _enter, "saved_model", _WHAT):
                if _enter(message, field) == "op":
                    _note(value, offset, first)
            text_error = None
        except Malformed as error:
            text_error = error
        try:
            _walk(data, 0, len(data), "saved_model", first)
        except Malformed:
            if text_error is not None:
                raise text_error from None
    return [
        where.finding(TENSORFLOW_OP, f"graph runs the {op} operation: it {UNSAFE_OPS[op]}", offset)
        for op, offset in sorted(first.items(), key=lambda item: item[1])
    ]


def _enter(message: str, field: str) -> str | None:
    return _BY_NAME.get(message, {}).get(field)


def _note(value: bytes, offset: int, first: dict[str, int]) -> None:
    op = value.decode("utf-8", "replace")
    if op in UNSAFE_OPS and op not in first:
        first[op] = offset


def _walk(data, start: int, end: int, message: str, first: dict[str, int]) -> None:
    children = _SCHEMA[message]
    for number, begin, stop in length_fields(data, start, end, _WHAT):
        child = children.get(number, (None, None))[1]
        if child == "op":
            _note(bytes(data[begin:stop]), begin, first)
        elif child is not None:
            _walk(data, begin, stop, child, first)
