"""Protocol Buffers wire format, written field by field (ONNX and TensorFlow graphs in tests
and in benchmarks/model_specimens.py): no protobuf library needed, nothing is parsed."""

from __future__ import annotations


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2): a message, string or bytes."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def number(field_number: int, value: int) -> bytes:
    """A varint field (wire type 0)."""
    return varint(field_number << 3) + varint(value)
