"""A remote file read by HTTP Range requests: only the bytes a scanner asks for are fetched.

    RangedFile.open(session, url, size=None, *, budget=BUDGET, block=BLOCK) -> RangedFile

A read-only byte source over one URL with what the models scanner does to its data: `len`,
an index, a slice, `find` (no buffer protocol: code that reads numbers from it slices first).
Reads are rounded to aligned blocks of `block` bytes, neighbouring missing blocks are asked in
one request (`Range: bytes=a-b`, answered by 206 and a `Content-Range` naming the total size),
and every block received is kept (at most `budget` bytes: the cache is bounded by the budget).

Bounds, so that a hostile or broken server costs a few MB at most:
- Every byte received counts against the per-file `budget`; a read that would need more is
  refused before it is sent.
- A server that ignores `Range` (200 and the whole body) is read up to the budget, then the
  connection is closed: a file that fits is used as a whole, a larger one is "first N bytes
  read, not scanned".
- A `Content-Range` that names other bytes or another total than the first answer, a body
  shorter or longer than the range: the file is not read further.
- A `find` with an end, over a window of more than `search_limit` bytes not fetched yet, is
  not made: it answers -1 and the window is listed in `unsearched` (the walker's look for a
  pickle stored inside a large byte payload, which the loader does not run; see
  `PickleWalker._keep_if_stored`). A `find` without an end searches on, within the budget.

A read that cannot be served raises `unavailable(message, offset)` (by default `Unavailable`,
an `OnlineError` that is also an `IndexError`: the pickle walker stops there as at the end of
its data, keeping what it saw); `shortfall` keeps the first such reason, so the caller can say
what was not scanned. Requests go through `session.http` (deadline, retries, redirects); the
hub token is sent only to a URL on the hub endpoint, never after a redirect to another host.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from mlgate.online import OnlineError, OnlineSession, origin

BLOCK = 64 << 10  # bytes per aligned block: a range request asks for whole blocks
BUDGET = 4 << 20  # bytes received per file, at most
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)\s*", re.IGNORECASE)


# How a remote scan says a limit, not a failure, stopped it (the caller reports a limit as a
# finding and a failure as an error entry).
BUDGET_SPENT = "byte budget spent"
NOT_READ_REMOTELY = "only pickles and zip archives are scanned remotely"


class Unavailable(OnlineError, IndexError):
    """Bytes of a remote file that could not be had (budget spent, server or network failure)."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset


Unavailability = Callable[[str, int], Exception]


class RangedFile:
    """The bytes of one remote file, fetched on demand (see the module docstring)."""

    def __init__(
        self,
        session: OnlineSession,
        url: str,
        *,
        budget: int = BUDGET,
        block: int = BLOCK,
        search_limit: int | None = None,
        unavailable: Unavailability = Unavailable,
    ):
        self.session = session
        self.url = url
        self.budget = budget
        self.block = block
        self.search_limit = block if search_limit is None else search_limit
        self.unavailable = unavailable
        self.size = 0  # known once `open` has read the first block
        self.received = 0  # bytes received in answers' bodies
        self.requests = 0
        self.shortfall: str | None = None  # the first reason a read was refused or failed
        self.unsearched: list[tuple[int, int]] = []  # windows `find` looked at only in part
        self._location = url  # where the bytes are (the target of the hub's redirect)
        self._blocks: dict[int, bytes] = {}
        self._last: tuple[int, bytes] = (-1, b"")

    @classmethod
    def open(
        cls,
        session: OnlineSession,
        url: str,
        size: int | None = None,
        *,
        budget: int = BUDGET,
        block: int = BLOCK,
        unavailable: Unavailability = Unavailable,
    ) -> RangedFile:
        """Reads the first block, which says the file's size (`size`, when given, must match)."""
        ranged = cls(session, url, budget=budget, block=block, unavailable=unavailable)
        ranged._first(size)
        return ranged

    # -- what the scanners use ----------------------------------------------------------
    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key: int | slice) -> int | bytes:
        if isinstance(key, slice):
            start, stop, step = key.indices(self.size)
            if step != 1:
                raise ValueError("RangedFile slices have no step")
            return self._read(start, stop) if stop > start else b""
        at = key + self.size if key < 0 else key
        if not 0 <= at < self.size:
            raise IndexError("index out of range")
        index = at // self.block
        last_index, last = self._last
        if index != last_index:
            last = self._blocks.get(index) or self._load(index, index + 1)[index]
            self._last = (index, last)
        return last[at - index * self.block]

    def find(self, needle: bytes, start: int = 0, end: int | None = None) -> int:
        """Like `bytes.find`; with an `end`, a window of more than `search_limit` bytes that are
        not all here yet is not searched (-1, and listed in `unsearched`)."""
        bounded = end is not None
        start = max(0, start + self.size if start < 0 else start)
        end = self.size if end is None else min(self.size, end + self.size if end < 0 else end)
        if bounded and end - start > self.search_limit and not self._holds(start, end):
            self.unsearched.append((start, end))
            return -1
        at, stop = start, end
        while at + len(needle) <= stop:
            reach = min(stop, ((at + len(needle) - 1) // self.block + 1) * self.block)  # to the end of a block
            hit = self._read(at, reach).find(needle)
            if hit >= 0:
                return at + hit
            at = reach - len(needle) + 1
        return -1

    def _holds(self, start: int, stop: int) -> bool:
        return all(index in self._blocks for index in range(start // self.block, (stop - 1) // self.block + 1))

    # -- fetching -------------------------------------------------------------------------
    def _read(self, start: int, stop: int) -> bytes:
        first, last = start // self.block, (stop - 1) // self.block
        blocks = self._blocks
        run = None  # the first block of a run of missing ones: each run is one request
        for index in range(first, last + 2):
            if index <= last and index not in blocks:
                run = index if run is None else run
            elif run is not None:
                self._load(run, index)
                run = None
        if first == last:
            base = first * self.block
            return blocks[first][start - base : stop - base]
        pieces = [blocks[index] for index in range(first, last + 1)]
        base = first * self.block
        return b"".join(pieces)[start - base : stop - base]

    def _load(self, first: int, end: int) -> dict[int, bytes]:
        """Blocks `first` to `end` (excluded) that are not here yet, in one request."""
        while first < end and first in self._blocks:
            first += 1
        while end > first and end - 1 in self._blocks:
            end -= 1
        if first < end:
            start, stop = first * self.block, min(end * self.block, self.size)
            self._store(start, self._fetch(start, stop))
        return self._blocks

    def _store(self, start: int, data: bytes) -> None:
        for at in range(0, len(data), self.block):
            self._blocks[(start + at) // self.block] = data[at : at + self.block]

    def _refuse(self, message: str, offset: int) -> Exception:
        if self.shortfall is None:
            self.shortfall = message
        return self.unavailable(message, offset)

    def _fetch(self, start: int, stop: int) -> bytes:
        """Bytes start..stop-1, exactly, or `unavailable`."""
        if self.shortfall is not None:
            raise self.unavailable(f"not read: {self.shortfall}", start)
        wanted = stop - start
        if self.received + wanted > self.budget:
            message = (
                f"{BUDGET_SPENT}: {self.received} bytes read, {wanted} more needed at offset {start} "
                f"(the limit is {self.budget} bytes per file)"
            )
            raise self._refuse(message, start)
        return self._ask(start, stop, self.size)

    def _ask(self, start: int, stop: int, total: int | None) -> bytes:
        """One ranged GET; `total` None: the size is not known yet (the first request)."""
        http, settings = self.session.http, self.session.settings
        token_for = "hub" if origin(self._location) == origin(settings.hf_endpoint) else None
        room = self.budget - self.received
        try:
            self.requests += 1
            answer = http.read_bytes(
                self._location,
                headers={"Range": f"bytes={start}-{stop - 1}"},
                limit=min(room, stop - start) if total is not None else room,
                ok=(200, 206, 416),
                token_for=token_for,
            )
        except OnlineError as error:
            raise self._refuse(f"request failed: {error}", start) from None
        self.received += len(answer.body)
        if answer.url != self._location and origin(answer.url) != origin(self._location):
            self._location = answer.url  # the hub's redirect to its storage: ask there directly
        if answer.status == 206:
            return self._ranged(answer.headers.get("content-range", ""), answer.body, start, stop, total)
        if answer.status == 416:
            unsatisfied = _UNSATISFIED_RANGE.fullmatch(answer.headers.get("content-range", ""))
            if total is None and start == 0 and unsatisfied is not None and int(unsatisfied.group(1)) == 0:
                self.size = 0
                return b""
            raise self._refuse(f"server refused the range {start}-{stop - 1} (HTTP 416)", start)
        return self._whole(answer.body, answer.headers.get("content-length"), room, total)[start:stop]

    def _ranged(self, header: str, body: bytes, start: int, stop: int, total: int | None) -> bytes:
        match = _CONTENT_RANGE.fullmatch(header)
        if match is None or match.group(3) == "*":
            raise self._refuse(f"answer to the range {start}-{stop - 1} without a usable Content-Range ({header!r})", start)
        first, last, size = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if total is None:
            total = self.size = size
            stop = min(stop, size)
        if size != total:
            raise self._refuse(f"Content-Range says the file has {size} bytes, an earlier answer said {total}", start)
        if first != start or last != stop - 1:
            raise self._refuse(f"asked for bytes {start}-{stop - 1}, Content-Range says {first}-{last}/{size}", start)
        if len(body) > stop - start:
            raise self._refuse(f"server sent more than the {stop - start} bytes asked at offset {start}", start)
        if len(body) < stop - start:
            raise self._refuse(f"short read: {len(body)} of the {stop - start} bytes asked at offset {start}", start)
        return body

    def _whole(self, body: bytes, length: str | None, room: int, total: int | None) -> bytes:
        """A 200 answer: the server ignored Range and sent the file from its start."""
        complete = len(body) <= room and (length is None or length.strip() == str(len(body)))
        if not complete or total is not None and len(body) != total:
            message = f"server does not honour Range requests; first {len(body)} bytes read, not scanned"
            raise self._refuse(message, 0)
        if total is None:
            self.size = len(body)
        self._store(0, body)
        return body

    def _first(self, size: int | None) -> None:
        data = self._ask(0, self.block if size is None else max(1, min(self.block, size)), None)
        if size is not None and self.size != size:
            raise self._refuse(f"the file has {self.size} bytes, its listing says {size}", 0)
        self._store(0, data)
