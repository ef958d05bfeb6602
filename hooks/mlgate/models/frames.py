"""How CPython's C unpickler reads FRAMEs from a file object that cannot peek (io.BytesIO).

    buffered_reading(data) -> BufferedReading | None

Read straight, a FRAME only announces how many bytes follow: its opcodes are ordinary, and
that is how `pickle.loads(bytes)`, a real file (which has peek()) and the pure-Python unpickler
read it. But `torch.load` hands each zip member to the C unpickler as an `io.BytesIO`, and so
does any code that loads from memory: then the unpickler keeps only the bytes of its last read
in its buffer (a FRAME loads its whole length there). When an opcode's argument does not fit in
what is left of the buffer, it drops the rest and reads the argument afresh from the file,
after the frame. A FRAME shorter than the opcodes it announces, or one that starts inside
another, thus makes those bytes vanish, and the stream the loader runs is not the one a
straight reader sees: a call can hide there.

`buffered_reading` replays that reader over the opcode grammar of `pickletools` (argument
sizes only; nothing is evaluated) and returns the bytes it would consume, in order, with a map
back to file offsets; None when nothing is dropped (every well-formed pickle).
"""

from __future__ import annotations

import pickletools
from bisect import bisect_right
from dataclasses import dataclass

_OPCODES = {opcode.code.encode("latin-1")[0]: opcode for opcode in pickletools.opcodes}
_TWO_LINES = frozenset({"GLOBAL", "INST"})
MAX_PICKLES = 64


class _Stop(Exception):
    """Where the loader stops: end of data, a bad opcode or a short read."""


@dataclass
class BufferedReading:
    data: bytes  # the bytes consumed, in order (walkable as a pickle)
    starts: list[int]  # offset in `data` where each consumed piece begins
    origins: list[int]  # its offset in the file

    def file_offset(self, offset: int) -> int:
        index = bisect_right(self.starts, offset) - 1
        return self.origins[index] + offset - self.starts[index]


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.cursor = 0  # next byte to read, inside the buffer [buffer_start, buffer_end)
        self.buffer_end = 0  # == the file position: the buffer holds the last read only
        self.consumed = bytearray()
        self.starts: list[int] = []
        self.origins: list[int] = []
        self.dropped = False

    def _take(self, start: int, stop: int) -> bytes:
        if not self.starts or self.origins[-1] + (len(self.consumed) - self.starts[-1]) != start:
            self.starts.append(len(self.consumed))
            self.origins.append(start)
        piece = self.data[start:stop]
        self.consumed += piece
        return piece

    def _refill(self, size: int) -> int:
        """The buffer runs short: its rest is dropped and `size` bytes are read from the file."""
        if self.cursor < self.buffer_end:
            self.dropped = True
        start = self.buffer_end
        if start + size > len(self.data):
            raise _Stop
        self.cursor = start
        self.buffer_end = start + size
        return start

    def read(self, size: int) -> bytes:
        if self.cursor + size > self.buffer_end:
            self._refill(size)
        start = self.cursor
        self.cursor += size
        return self._take(start, self.cursor)

    def frame(self, size: int) -> None:
        """FRAME: `size` bytes into the buffer (if they are not there already), then rewind."""
        if self.cursor + size > self.buffer_end:
            self._refill(size)

    def readline(self) -> bytes:
        newline = self.data.find(b"\n", self.cursor, self.buffer_end)
        if newline < 0:
            if self.cursor < self.buffer_end:
                self.dropped = True
            newline = self.data.find(b"\n", self.buffer_end)
            if newline < 0:
                raise _Stop
            self.cursor = self.buffer_end
            self.buffer_end = newline + 1
        start = self.cursor
        self.cursor = newline + 1
        return self._take(start, self.cursor)


def buffered_reading(data: bytes) -> BufferedReading | None:
    reader = _Reader(data)
    try:
        for _ in range(MAX_PICKLES):
            if reader.buffer_end >= len(data) and reader.cursor >= reader.buffer_end:
                break
            _read_one(reader)
    except _Stop:
        pass
    if not reader.dropped:
        return None
    return BufferedReading(bytes(reader.consumed), reader.starts, reader.origins)


def _read_one(reader: _Reader) -> None:
    while True:
        opcode = _OPCODES.get(reader.read(1)[0])
        if opcode is None:
            raise _Stop
        name = opcode.name
        if name == "STOP":
            return
        if name == "FRAME":
            reader.frame(int.from_bytes(reader.read(8), "little"))
        elif name in _TWO_LINES:
            reader.readline()
            reader.readline()
        elif opcode.arg is not None:
            _read_argument(reader, opcode.arg.n)


def _read_argument(reader: _Reader, size: int) -> None:
    if size >= 0:
        reader.read(size)
    elif size == pickletools.UP_TO_NEWLINE:
        reader.readline()
    else:
        width = {
            pickletools.TAKEN_FROM_ARGUMENT1: 1,
            pickletools.TAKEN_FROM_ARGUMENT4: 4,
            pickletools.TAKEN_FROM_ARGUMENT4U: 4,
            pickletools.TAKEN_FROM_ARGUMENT8U: 8,
        }[size]
        length = int.from_bytes(reader.read(width), "little", signed=size == pickletools.TAKEN_FROM_ARGUMENT4)
        if length < 0:
            raise _Stop
        reader.read(length)
