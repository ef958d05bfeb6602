"""TensorFlow SavedModels, written field by field: file and Python operations in the graph,
Keras Lambda layers in keras_metadata.pb."""

from __future__ import annotations

import json

from protowire import field, number
from scanhits import hits
from zipgen import Entry, build


def node(name: str, op: str) -> bytes:
    """NodeDef{name, op, input, device}."""
    return field(1, name.encode()) + field(2, op.encode()) + field(3, b"x") + field(4, b"/device:CPU:0")


def function(name: str, *nodes: bytes) -> bytes:
    """FunctionDef{signature: OpDef{name}, node_def...}."""
    return field(1, field(1, name.encode())) + b"".join(field(3, n) for n in nodes)


def saved_model(graph_nodes: list[bytes], functions: list[bytes] = ()) -> bytes:
    """SavedModel{schema version 1, meta_graphs: MetaGraphDef{meta_info_def, graph_def}}."""
    library = field(2, b"".join(field(1, f) for f in functions)) if functions else b""
    graph = b"".join(field(1, n) for n in graph_nodes) + library + field(4, number(1, 1087))
    meta_graph = field(1, field(4, b"serve")) + field(2, graph)
    return number(1, 1) + field(2, meta_graph)


BENIGN = [node("x", "Placeholder"), node("w", "VarHandleOp"), node("y", "MatMul"), node("saver", "SaveV2"), node("restore", "RestoreV2")]


def test_file_and_python_operations_are_reported_once_each_at_their_first_op(scan_tree):
    data = saved_model(
        [*BENIGN, node("steal", "ReadFile"), node("again", "ReadFile")],
        [function("__inference_serve_12", node("drop", "WriteFile"), node("call", "EagerPyFunc"))],
    )
    scan = scan_tree({"export/1/saved_model.pb": data}, select="models")
    assert hits(scan) == [
        ("MOD013", "export/1/saved_model.pb", None, data.index(b"ReadFile")),
        ("MOD013", "export/1/saved_model.pb", None, data.index(b"WriteFile")),
        ("MOD013", "export/1/saved_model.pb", None, data.index(b"EagerPyFunc")),
    ]
    assert scan.messages("MOD013") == [
        "graph runs the ReadFile operation: it reads any file the serving process can read",
        "graph runs the WriteFile operation: it writes (or overwrites) any file the serving process can write",
        "graph runs the EagerPyFunc operation: it calls a Python function of the loading process (tf.py_function)",
    ]


def test_a_saved_model_inside_an_archive(scan_tree):
    data = saved_model([node("call", "PyFunc")])
    archive = build([Entry("model/saved_model.pb", data), Entry("model/variables/variables.index", b"\0" * 8)]).data
    scan = scan_tree({"model.zip": archive}, select="models")
    assert hits(scan) == [("MOD013", "model.zip", "model/saved_model.pb", data.index(b"PyFunc"))]


def test_ordinary_graphs_and_other_pb_files_are_quiet(scan_tree):
    files = {
        "saved_model.pb": saved_model(
            BENIGN, [function("__inference__traced_save_40", node("save", "SaveV2"), node("merge", "MergeV2Checkpoints"))]
        ),
        # the op name as a string constant elsewhere (a node's name) is not an operation
        "other/saved_model.pb": saved_model([node("ReadFile", "Identity")]),
        "frozen_graph.pb": field(1, node("x", "ReadFile")),  # not a SavedModel: only saved_model.pb is parsed
    }
    scan = scan_tree(files, select="models")
    assert (hits(scan), scan.errors) == ([], [])


def test_a_broken_saved_model_fails_closed(scan_tree):
    data = saved_model(BENIGN)
    meta_graph_at = 5  # schema version (2 bytes), then field 2's key and 2-byte length
    scan = scan_tree({"saved_model.pb": data[:-3]}, select="models")
    assert hits(scan) == [("MOD004", "saved_model.pb", None, meta_graph_at)]
    assert scan.messages("MOD004") == [
        f"a TensorFlow SavedModel that cannot be parsed: protobuf field 2 of {len(data) - meta_graph_at} bytes runs past its message"
    ]


KERAS_LAMBDA = {
    "class_name": "Lambda",
    "config": {"name": "lambda", "function": ["4wEAAAAAAAAA", None, None], "function_type": "lambda", "module": "__main__"},
}


def keras_metadata(model_config: dict) -> bytes:
    """SavedMetadata{nodes: SavedObject{node_id, node_path, identifier, metadata (JSON)}}."""
    metadata = json.dumps({"name": "sequential", "trainable": True, "class_name": "Sequential", "config": model_config})
    root = number(2, 0) + field(3, b"root") + field(4, b"_tf_keras_sequential") + field(5, metadata.encode())
    layer = (
        number(2, 1) + field(3, b"root.layer-0") + field(4, b"_tf_keras_layer") + field(5, b'{"name": "lambda", "class_name": "Lambda"}')
    )
    return field(1, root) + field(1, layer)


def test_keras_lambda_in_the_metadata_of_a_keras_saved_model(scan_tree):
    """keras.models.load_model rebuilds the layers of a SavedModel folder from keras_metadata.pb."""
    bad = keras_metadata({"name": "sequential", "layers": [{"class_name": "Dense", "config": {"units": 2}}, KERAS_LAMBDA]})
    good = keras_metadata({"name": "sequential", "layers": [{"class_name": "Dense", "config": {"units": 2}}]})
    archive = build([Entry("export/keras_metadata.pb", bad), Entry("export/saved_model.pb", saved_model(BENIGN))]).data
    scan = scan_tree({"bad/keras_metadata.pb": bad, "good/keras_metadata.pb": good, "export.zip": archive}, select="models")
    at = bad.index(b'{"class_name": "Lambda"')
    assert hits(scan) == [("MOD007", "bad/keras_metadata.pb", None, at), ("MOD007", "export.zip", "export/keras_metadata.pb", at)]


PBTXT = b"""# exported by tf.saved_model.save, as text
saved_model_schema_version: 1
meta_graphs {
  meta_info_def { tags: "serve" stripped_default_attrs: true any_info { [type.googleapis.com/x.Y] { a: 1 } } }
  graph_def {
    node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
    node < name: "steal", op: 'Read' "File"; input: ["a", "b"] >
    node: { name: "ReadFile" op: "Identity" device: "/device:CPU:0" }
    library {
      function {
        signature { name: "__inference_serve_12" }
        node_def { name: "call" op: "\\105ager\\x50y\\u0046unc" attr { key: "f" value { f: -1.5e+10 } } }
      }
    }
    versions { producer: 1087 }
  }
}
"""


def test_text_saved_models_are_judged_like_binary_ones(scan_tree):
    """`saved_model.pbtxt` as text_format reads it: message syntaxes, lists, comments,
    extensions, joined string literals and C escapes; a node named ReadFile is not the op."""
    archive = build([Entry("export/saved_model.pbtxt", PBTXT)]).data
    scan = scan_tree({"export/1/saved_model.pbtxt": PBTXT, "m.zip": archive}, select="models")
    read_at, py_at = PBTXT.index(b"'Read'"), PBTXT.index(b'"\\105ager')
    assert hits(scan) == [
        ("MOD013", "export/1/saved_model.pbtxt", None, read_at),
        ("MOD013", "export/1/saved_model.pbtxt", None, py_at),
        ("MOD013", "m.zip", "export/saved_model.pbtxt", read_at),
        ("MOD013", "m.zip", "export/saved_model.pbtxt", py_at),
    ]
    assert scan.messages("MOD013")[:2] == [
        "graph runs the ReadFile operation: it reads any file the serving process can read",
        "graph runs the EagerPyFunc operation: it calls a Python function of the loading process (tf.py_function)",
    ]


def test_benign_and_broken_text_saved_models(scan_tree):
    benign = PBTXT.replace(b"'Read' \"File\"", b'"MatMul"').replace(b'"\\105ager\\x50y\\u0046unc"', b'"Identity"')
    broken = b'meta_graphs {\n  graph_def { node { op: "ReadFile" }\n'
    scan = scan_tree({"a/saved_model.pbtxt": benign, "b/saved_model.pbtxt": broken}, select="models")
    assert hits(scan) == [("MOD004", "b/saved_model.pbtxt", None, len(broken))]
    assert scan.messages("MOD004") == [
        "a TensorFlow SavedModel that cannot be parsed: protobuf text expected } before the end: not a TensorFlow SavedModel"
    ]
