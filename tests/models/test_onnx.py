"""ONNX: external_data locations, wherever a TensorProto can sit, encoded field by field."""

from __future__ import annotations

import pytest
from protowire import field, number, varint
from scanhits import hits

from mlgate.models.onnx import escape_reason


def tensor(name: str, location: str | None = None) -> bytes:
    body = number(1, 4) + number(2, 1) + field(8, name.encode())
    if location is None:
        return body + field(9, b"\0" * 16)  # raw_data inside the model
    entries = field(13, field(1, b"location") + field(2, location.encode())) + field(13, field(1, b"offset") + field(2, b"0"))
    return body + entries + number(14, 1)


def model(graph: bytes, *extra: bytes) -> bytes:
    opset = field(8, field(1, b"") + number(2, 17))
    return number(1, 8) + field(2, b"pytorch") + opset + field(7, graph) + b"".join(extra)


def graph(*parts: bytes) -> bytes:
    return field(2, b"main_graph") + b"".join(parts)


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("../../etc/passwd", "a path that climbs out of the model's folder"),
        ("weights/../../secret.bin", "a path that climbs out of the model's folder"),
        ("..\\..\\secret.bin", "a path that climbs out of the model's folder"),
        ("/etc/passwd", "an absolute path"),
        ("\\\\server\\share\\w.bin", "an absolute path"),
        ("C:\\Windows\\win.ini", "a drive or URL, outside the model's folder"),
        ("https://example.com/w.bin", "a drive or URL, outside the model's folder"),
    ],
)
def test_locations_leaving_the_folder(scan_tree, location, reason):
    data = model(graph(field(5, tensor("fc.weight", location))))
    scan = scan_tree({"model.onnx": data}, select="models")
    assert hits(scan) == [("MOD010", "model.onnx", None, data.index(location.encode()))]
    assert scan.messages("MOD010") == [f"tensor 'fc.weight' reads its data from {location!r}: {reason}"]


def test_relative_locations_and_internal_data_are_fine(scan_tree):
    data = model(graph(field(5, tensor("a", "model.onnx.data")), field(5, tensor("b", "weights/part-0.bin")), field(5, tensor("c"))))
    scan = scan_tree({"model.onnx": data}, select="models")
    assert (scan.findings, scan.errors) == ([], [])
    assert escape_reason("~/w.bin") is None  # onnx does not expand ~: a folder named '~'


def test_tensors_in_subgraphs_constants_sparse_and_training_graphs(scan_tree):
    then_branch = graph(field(5, tensor("sub", "/sub.bin")))
    if_node = field(1, field(4, b"If") + field(5, field(1, b"then_branch") + field(6, then_branch)))
    constant = field(1, field(4, b"Constant") + field(5, field(1, b"value") + field(5, tensor("const", "/const.bin"))))
    sparse = field(15, field(1, tensor("values", "/values.bin")) + field(2, tensor("indices")))
    training = field(20, field(1, graph(field(5, tensor("init", "/init.bin")))))
    data = model(graph(if_node, constant, sparse), training)
    scan = scan_tree({"model.onnx": data}, select="models")
    assert hits(scan) == [
        ("MOD010", "model.onnx", None, data.index(path)) for path in (b"/sub.bin", b"/const.bin", b"/values.bin", b"/init.bin")
    ]


def test_unparseable_onnx_fails_closed(scan_tree):
    body = graph(field(5, tensor("a", "/x.bin")))
    good = model(body)
    graph_payload = good.index(body)
    scan = scan_tree({"text.onnx": "not a model\n", "cut.onnx": good[:-5], "notes.bin": good}, select="models")
    assert hits(scan) == [("MOD004", "cut.onnx", None, graph_payload), ("MOD004", "text.onnx", None, 1)]
    assert scan.messages("MOD004") == [
        f"an ONNX model that cannot be parsed: protobuf field 7 of {len(body)} bytes runs past its message",
        "an ONNX model that cannot be parsed: protobuf wire type 6: not an ONNX model",
    ]


def group(number: int, body: bytes) -> bytes:
    """A group (wire types 3 and 4): proto2's old nested messages, skipped as unknown fields."""
    return varint(number << 3 | 3) + body + varint(number << 3 | 4)


def fixed64(number: int) -> bytes:
    return varint(number << 3 | 1) + b"\0" * 8


def fixed32(number: int) -> bytes:
    return varint(number << 3 | 5) + b"\0" * 4


@pytest.mark.parametrize(
    "unknown",
    [
        number(99, 1 << 60),
        fixed64(98) + fixed32(97),
        field(96, field(13, field(1, b"location") + field(2, b"decoy"))),
        group(95, number(1, 7) + group(94, field(2, b"/not/a/location")) + fixed32(3)),
        varint(7 << 3 | 0) + varint(1),  # a known field number with another wire type is unknown too
    ],
)
def test_external_data_after_unknown_fields(scan_tree, unknown):
    """onnx.load skips unknown fields by wire type (groups up to their end tag): the location
    after them is still read, in the model, the graph and the tensor."""
    body = number(1, 4) + unknown + field(8, b"w") + unknown + field(13, field(1, b"location") + field(2, b"/etc/passwd"))
    data = model(graph(unknown, field(5, body)), unknown)
    scan = scan_tree({"model.onnx": data}, select="models")
    assert hits(scan) == [("MOD010", "model.onnx", None, data.index(b"/etc/passwd"))]


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        (group(95, number(1, 1)), None),
        (varint(95 << 3 | 3) + number(1, 1), "protobuf group 95 without its end"),
        (varint(95 << 3 | 4), "protobuf end of group 95 without its start: not an ONNX model"),
        (group(95, varint(94 << 3 | 4)), "protobuf end of group 94 without its start: not an ONNX model"),
        (varint(90 << 3 | 2) + varint(1 << 40), "runs past its message"),
        (varint(1 << 32), "protobuf field number 536870912: not an ONNX model"),
    ],
)
def test_hostile_unknown_fields_fail_closed(scan_tree, tail, message):
    data = model(graph(field(5, tensor("a", "w.bin")))) + tail
    scan = scan_tree({"model.onnx": data}, select="models")
    if message is None:
        assert (hits(scan), scan.errors) == ([], [])
    else:
        assert [code for code, *_ in hits(scan)] == ["MOD004"]
        assert message in scan.messages("MOD004")[0]


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("subdir/../weights.bin", None),
        ("./a/./b/../../w.bin", None),
        ("a\\..\\w.bin", None),
        ("a/b/../../../w.bin", "a path that climbs out of the model's folder"),
        ("a/../..\\w.bin", "a path that climbs out of the model's folder"),
        ("a/.. /../w.bin", "a path that climbs out of the model's folder"),
        ("w.bin\0.txt", "a path with a NUL byte"),
    ],
)
def test_locations_are_judged_after_normalisation(location, reason):
    assert escape_reason(location) == reason
