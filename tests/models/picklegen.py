"""Writes pickle byte streams opcode by opcode, for malicious fixtures (never loaded).

stream = Pickle(protocol=4)
stream.add(stack_global("os", "system"), short_unicode("id"), TUPLE1)
call_at = stream.add(REDUCE)   # add() returns the offset of its first chunk
stream.add(STOP)
data = stream.bytes()
"""

from __future__ import annotations

import struct

MARK = b"("
STOP = b"."
POP = b"0"
POP_MARK = b"1"
DUP = b"2"
NONE = b"N"
NEWTRUE = b"\x88"
NEWFALSE = b"\x89"
REDUCE = b"R"
BUILD = b"b"
NEWOBJ = b"\x81"
NEWOBJ_EX = b"\x92"
OBJ = b"o"
STACK_GLOBAL = b"\x93"
MEMOIZE = b"\x94"
TUPLE = b"t"
TUPLE1 = b"\x85"
TUPLE2 = b"\x86"
TUPLE3 = b"\x87"
EMPTY_TUPLE = b")"
EMPTY_LIST = b"]"
EMPTY_DICT = b"}"
EMPTY_SET = b"\x8f"
APPEND = b"a"
APPENDS = b"e"
SETITEM = b"s"
SETITEMS = b"u"
ADDITEMS = b"\x90"
LIST = b"l"
DICT = b"d"
BINPERSID = b"Q"
NEXT_BUFFER = b"\x97"
READONLY_BUFFER = b"\x98"


def proto(version: int) -> bytes:
    return b"\x80" + bytes([version])


def frame(length: int) -> bytes:
    return b"\x95" + struct.pack("<Q", length)


def global_(module: str, name: str) -> bytes:
    """Protocol 0 GLOBAL: `c<module>\\n<name>\\n`."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def inst(module: str, name: str) -> bytes:
    return b"i" + module.encode() + b"\n" + name.encode() + b"\n"


def short_unicode(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def binunicode(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def unicode_line(text: str) -> bytes:
    """Protocol 0 UNICODE: raw-unicode-escape text up to a newline."""
    return b"V" + text.encode("raw-unicode-escape") + b"\n"


def string(text: str) -> bytes:
    """Protocol 0 STRING: a quoted repr."""
    return b"S'" + text.encode() + b"'\n"


def short_binstring(text: str) -> bytes:
    return b"U" + bytes([len(text)]) + text.encode("latin-1")


def binbytes(payload: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(payload)) + payload


def binbytes8_header(length: int) -> bytes:
    return b"\x8e" + struct.pack("<Q", length)


def bytearray8(payload: bytes) -> bytes:
    return b"\x96" + struct.pack("<Q", len(payload)) + payload


def binint1(value: int) -> bytes:
    return b"K" + bytes([value])


def binint(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def integer(value: int) -> bytes:
    """Protocol 0 INT."""
    return b"I" + str(value).encode() + b"\n"


def binput(index: int) -> bytes:
    return b"q" + bytes([index])


def long_binput(index: int) -> bytes:
    return b"r" + struct.pack("<I", index)


def put(index: int) -> bytes:
    return b"p" + str(index).encode() + b"\n"


def binget(index: int) -> bytes:
    return b"h" + bytes([index])


def long_binget(index: int) -> bytes:
    return b"j" + struct.pack("<I", index)


def get(index: int) -> bytes:
    return b"g" + str(index).encode() + b"\n"


def ext1(code: int) -> bytes:
    return b"\x82" + bytes([code])


def ext2(code: int) -> bytes:
    return b"\x83" + struct.pack("<H", code)


def ext4(code: int) -> bytes:
    return b"\x84" + struct.pack("<i", code)


def stack_global(module: str, name: str) -> bytes:
    return short_unicode(module) + short_unicode(name) + STACK_GLOBAL


class Pickle:
    """A byte stream built chunk by chunk; `add` returns where its first chunk starts."""

    def __init__(self, protocol: int | None = None, prefix: bytes = b""):
        self.data = bytearray(prefix)
        if protocol is not None:
            self.data += proto(protocol)

    def add(self, *chunks: bytes) -> int:
        offset = len(self.data)
        for chunk in chunks:
            self.data += chunk
        return offset

    def bytes(self) -> bytes:
        return bytes(self.data)


def system_call(command: str = "id", protocol: int = 2) -> tuple[bytes, int]:
    """The classic payload: os.system(command). Returns (pickle, offset of REDUCE)."""
    stream = Pickle(protocol)
    stream.add(global_("os", "system"), short_unicode(command), TUPLE1)
    at = stream.add(REDUCE)
    stream.add(STOP)
    return stream.bytes(), at
