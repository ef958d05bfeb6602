"""safetensors: the header checks the library makes, and content that is not safetensors."""

from __future__ import annotations

import json
import struct

import pytest
from scanhits import EVIL_CALL, evil, hits
from zipgen import Entry, build


def safetensors(header: dict | str, data: bytes) -> bytes:
    raw = (header if isinstance(header, str) else json.dumps(header)).encode()
    raw += b" " * (-len(raw) % 8)  # writers pad the header to 8 bytes
    return struct.pack("<Q", len(raw)) + raw + data


VALID = {
    "__metadata__": {"format": "pt"},
    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
    "b": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [8, 16]},
    "c": {"dtype": "F4", "shape": [4], "data_offsets": [16, 18]},
}


def at_key(data: bytes, name: str) -> int:
    return data.index(json.dumps(name).encode(), 8)


def test_valid_file(scan_tree):
    scan = scan_tree({"model.safetensors": safetensors(VALID, b"\0" * 18), "empty.safetensors": safetensors({}, b"")}, select="models")
    assert (scan.findings, scan.errors) == ([], [])


def with_tensor(**changes) -> dict:
    header = json.loads(json.dumps(VALID))
    header["b"].update(changes)
    return header


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (with_tensor(dtype="F128"), "tensor 'b' has unknown dtype 'F128'"),
        (with_tensor(shape=[2, -2]), "tensor 'b' has a shape that is not a list of non-negative integers"),
        (with_tensor(shape="2x2"), "tensor 'b' has a shape that is not a list of non-negative integers"),
        (with_tensor(data_offsets=[16, 8]), "tensor 'b' has data_offsets that are not [begin, end]"),
        (with_tensor(data_offsets=[8, 14]), "tensor 'b' spans 6 bytes where BF16 x [2, 2] needs 8"),
        ({**VALID, "b": "not an object"}, "tensor 'b' is not an object"),
        ({**VALID, "__metadata__": {"format": 1}}, "__metadata__ is not a map of strings"),
    ],
)
def test_invalid_tensor_entries(scan_tree, header, problem):
    data = safetensors(header, b"\0" * 18)
    key = "__metadata__" if "metadata" in problem else "b"
    scan = scan_tree({"model.safetensors": data}, select="models")
    assert hits(scan) == [("MOD011", "model.safetensors", None, at_key(data, key))]
    assert scan.messages("MOD011")[0].startswith(f"invalid safetensors: {problem}")


def test_layout_gaps_overlaps_and_trailing_bytes(scan_tree):
    overlap = with_tensor(data_offsets=[4, 12])
    gap = {"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "b": {"dtype": "U8", "shape": [4], "data_offsets": [10, 14]}}
    files = {
        "overlap.safetensors": safetensors(overlap, b"\0" * 18),
        "gap.safetensors": safetensors(gap, b"\0" * 14),
        "trailing.safetensors": safetensors(VALID, b"\0" * 18 + evil()),
        "short.safetensors": safetensors(VALID, b"\0" * 10),
    }
    scan = scan_tree(files, select="models")
    header_end = {
        name: len(data) - len(payload)
        for (name, data), payload in zip(files.items(), (b"\0" * 18, b"\0" * 14, b"\0" * 18 + evil(), b"\0" * 10), strict=True)
    }
    assert hits(scan) == [
        ("MOD011", "gap.safetensors", None, header_end["gap.safetensors"] + 4),
        ("MOD011", "overlap.safetensors", None, at_key(files["overlap.safetensors"], "b")),
        ("MOD011", "short.safetensors", None, at_key(files["short.safetensors"], "b")),
        ("MOD011", "trailing.safetensors", None, header_end["trailing.safetensors"] + 18),
    ]
    assert scan.messages("MOD011") == [
        "invalid safetensors: 6 bytes of the data area before tensor 'b' belong to no tensor",
        "invalid safetensors: tensor 'b' overlaps another tensor; 4 bytes of the data area before tensor 'c' belong to no tensor",
        "invalid safetensors: tensor 'b' ends past the end of the file; tensor 'c' ends past the end of the file",
        f"invalid safetensors: {len(evil())} bytes after the last tensor belong to no tensor",
    ]


def test_headers_that_are_not_json(scan_tree):
    files = {
        "broken.safetensors": safetensors('{"a": {"dtype": ', b""),
        "dup.safetensors": safetensors(
            '{"a": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}, "a": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}}', b""
        ),
        "huge.safetensors": struct.pack("<Q", 1 << 40) + b"{}",
    }
    scan = scan_tree(files, select="models")
    assert hits(scan) == [
        ("MOD011", "broken.safetensors", None, 8),
        ("MOD011", "dup.safetensors", None, 8),
        ("MOD011", "huge.safetensors", None, 0),
    ]
    assert scan.messages("MOD011")[1:] == [
        "invalid safetensors: header is not UTF-8 JSON (duplicate keys)",
        "named .safetensors but the content is not a format mlgate knows",
    ]


def test_a_pickle_or_zip_renamed_safetensors_is_reported_and_scanned(scan_tree):
    files = {"model.safetensors": evil(), "other.safetensors": build([Entry("archive/data.pkl", evil())]).data}
    scan = scan_tree(files, select="models")
    assert hits(scan) == [
        ("MOD011", "model.safetensors", None, 0),
        ("MOD001", "model.safetensors", None, EVIL_CALL),
        ("MOD011", "other.safetensors", None, 0),
        ("MOD001", "other.safetensors", "archive/data.pkl", EVIL_CALL),
    ]
    assert scan.messages("MOD011") == [
        "named .safetensors but the content is a pickle",
        "named .safetensors but the content is a zip archive",
    ]


def test_safetensors_content_under_another_name_is_checked_too(scan_tree):
    scan = scan_tree(
        {"weights.bin": safetensors(with_tensor(dtype="X"), b"\0" * 18), "ok.bin": safetensors(VALID, b"\0" * 18)}, select="models"
    )
    assert [(rule, path) for rule, path, _, _ in hits(scan)] == [("MOD011", "weights.bin")]
