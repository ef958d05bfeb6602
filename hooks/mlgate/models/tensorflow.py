"""TensorFlow SavedModel graphs (`saved_model.pb`): operations that reach outside the graph.

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
skipped by length, never read. No TensorFlow needed.

    is_saved_model(name: str) -> bool
    scan(data, where) -> list[Finding]
"""

from __future__ import annotations

from mlgate.findings import Finding
from mlgate.models.protobuf import length_fields
from mlgate.models.rules import TENSORFLOW_OP
from mlgate.models.where import Where

SAVED_MODEL_NAME = "saved_model.pb"

UNSAFE_OPS = {
    "ReadFile": "reads any file the serving process can read",
    "WriteFile": "writes (or overwrites) any file the serving process can write",
    "MatchingFiles": "lists files anywhere on the machine",
    "PyFunc": "calls a Python function of the loading process (tf.numpy_function)",
    "PyFuncStateless": "calls a Python function of the loading process (tf.numpy_function)",
    "EagerPyFunc": "calls a Python function of the loading process (tf.py_function)",
}

# message -> {field number: message type of that field}; "op" is NodeDef.op itself.
_SCHEMA = {
    "saved_model": {2: "meta_graph"},
    "meta_graph": {2: "graph"},
    "graph": {1: "node", 2: "library"},
    "library": {1: "function"},
    "function": {3: "node"},
    "node": {2: "op"},
}
_WHAT = "a TensorFlow SavedModel"


def is_saved_model(name: str) -> bool:
    return name.rsplit("/", 1)[-1] == SAVED_MODEL_NAME


def scan(data, where: Where) -> list[Finding]:
    first: dict[str, int] = {}
    _walk(data, 0, len(data), "saved_model", first)
    return [
        where.finding(TENSORFLOW_OP, f"graph runs the {op} operation: it {UNSAFE_OPS[op]}", offset)
        for op, offset in sorted(first.items(), key=lambda item: item[1])
    ]


def _walk(data, start: int, end: int, message: str, first: dict[str, int]) -> None:
    children = _SCHEMA[message]
    for number, begin, stop in length_fields(data, start, end, _WHAT):
        child = children.get(number)
        if child == "op":
            op = bytes(data[begin:stop]).decode("utf-8", "replace")
            if op in UNSAFE_OPS and op not in first:
                first[op] = begin
        elif child is not None:
            _walk(data, begin, stop, child, first)
