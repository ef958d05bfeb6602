"""A minimal Protocol Buffers wire-format reader for the model formats built on it (ONNX,
TensorFlow SavedModel): it walks the length-delimited fields of one message over the
caller's buffer, without a schema and without copying payloads.

    length_fields(data, start, end, what) -> iterator of (field number, start, end)
"""

from __future__ import annotations

from collections.abc import Iterator

from mlgate.models.formats import Malformed


def length_fields(data, start: int, end: int, what: str) -> Iterator[tuple[int, int, int]]:
    """(field number, start, end) of the length-delimited fields of one message; other wire
    types are stepped over. Raises Malformed (naming `what` the content should be, e.g. 'an
    ONNX model') when the bytes are not protobuf."""
    at = start
    while at < end:
        key, at = _varint(data, at, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise Malformed(f"protobuf field number 0: not {what}", at)
        if wire == 0:
            _, at = _varint(data, at, end)
        elif wire == 1:
            at += 8
        elif wire == 5:
            at += 4
        elif wire == 2:
            length, at = _varint(data, at, end)
            if at + length > end:
                raise Malformed(f"protobuf field {number} of {length} bytes runs past its message", at)
            yield number, at, at + length
            at += length
        else:
            raise Malformed(f"protobuf wire type {wire}: not {what}", at)
        if at > end:
            raise Malformed("protobuf message truncated", end)


def _varint(data, at: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while at < end and shift < 64:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
    raise Malformed("protobuf varint truncated or too long", at)
