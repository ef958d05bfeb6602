"""mlgate's own scan of remote model files, by HTTP Range requests (issue 19, item 2).

A real server on 127.0.0.1 serves virtual files: a 1 GiB torch zip checkpoint whose tensor
storage is synthesized per range (never held in memory or on disk), raw pickles with a 1 GiB
byte payload, and counts every body byte it writes. The pickles are written as opcodes here and
never unpickled: `posix.system` is only named.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from httpfake import silent_server  # noqa: F401  (fixture)
from mlgate.models import remote, scanner
from mlgate.models.rules import DANGEROUS_CALL
from mlgate.online import OnlineSession, RemoteFile, Settings
from mlgate.online.ranged import BUDGET, RangedFile, Unavailable

GIB = 1 << 30
PATTERN = bytes(range(256))
CHUNK = 1 << 16
# GLOBAL posix system, BINUNICODE 'id', TUPLE1, REDUCE, STOP: os.system("id") if it were loaded
EVIL_CALL = b"cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."
EVIL_PICKLE = b"\x80\x02" + EVIL_CALL
SAFE_PICKLE = (Path(__file__).parents[1] / "fixtures" / "models" / "pytorch_model.bin").read_bytes()


def synthesized(start: int, end: int) -> bytes:
    """Bytes start..end-1 of a tensor storage that repeats 0..255 (no 0x80 or magic at a 256-byte boundary)."""
    shift = start % 256
    return (PATTERN * ((end - start) // 256 + 2))[shift : shift + end - start]


@dataclass
class Virtual:
    """A file made of parts, each real bytes or (size, generator of a range of it)."""

    parts: list[bytes | tuple[int, Callable[[int, int], bytes]]]

    @property
    def size(self) -> int:
        return sum(len(part) if isinstance(part, bytes) else part[0] for part in self.parts)

    def read(self, start: int, end: int) -> bytes:
        out, base = [], 0
        for part in self.parts:
            length = len(part) if isinstance(part, bytes) else part[0]
            low, high = max(start, base), min(end, base + length)
            if low < high:
                out.append(part[low - base : high - base] if isinstance(part, bytes) else part[1](low - base, high - base))
            base += length
        return b"".join(out)


def _local(name: bytes, size: int, crc: int = 0) -> bytes:
    return struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, size, size, len(name), 0) + name


def _central(name: bytes, size: int, offset: int, crc: int = 0) -> bytes:
    return struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, crc, size, size, len(name), 0, 0, 0, 0, 0, offset) + name


def torch_zip(pickle: bytes, storage: int = GIB, storages: int = 1) -> Virtual:
    """A torch.save zip: archive/data.pkl, byteorder, `storages` storages of `storage`
    synthesized bytes each, version."""
    import zlib

    small = [(b"archive/data.pkl", pickle), (b"archive/byteorder", b"little")]
    parts: list[bytes | tuple[int, Callable[[int, int], bytes]]] = []
    entries, at = [], 0
    for name, data in small:
        header = _local(name, len(data), zlib.crc32(data))
        parts.append(header + data)
        entries.append(_central(name, len(data), at, zlib.crc32(data)))
        at += len(header) + len(data)
    for key in range(storages):
        name = f"archive/data/{key}".encode()
        storage_header = _local(name, storage)
        parts += [storage_header, (storage, synthesized)]
        entries.append(_central(name, storage, at))
        at += len(storage_header) + storage
    version = _local(b"archive/version", 2, zlib.crc32(b"3\n")) + b"3\n"
    entries.append(_central(b"archive/version", 2, at, zlib.crc32(b"3\n")))
    at += len(version)
    directory = b"".join(entries)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), at, 0)
    return Virtual([*parts, version + directory + end])


def raw_pickle(payload: int = GIB) -> Virtual:
    """PROTO 4, BINBYTES8 of `payload` synthesized bytes, POP, then the call to posix.system."""
    return Virtual([b"\x80\x04\x8e" + struct.pack("<Q", payload), (payload, synthesized), b"0" + EVIL_CALL])


@dataclass
class Behaviour:
    honour_range: bool = True
    total: Callable[[int], int] = lambda size: size  # the size Content-Range names
    extra: int = 0  # bytes sent past the range asked
    short: int = 0  # bytes left out of the range asked
    redirects: dict[str, str] = field(default_factory=dict)  # path -> absolute URL


class RangeServer:
    """Serves `files` by path, honouring single `Range: bytes=a-b` requests; counts what it writes."""

    def __init__(self) -> None:
        self.files: dict[str, Virtual] = {}
        self.behaviour = Behaviour()
        self.served = 0  # body bytes written (or being written)
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CHUNK)

            def do_GET(self) -> None:
                with fake.lock:
                    fake.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                behaviour = fake.behaviour
                if self.path in behaviour.redirects:
                    self.send_response(302)
                    self.send_header("Location", behaviour.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                file = fake.files.get(self.path)
                if file is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                asked = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
                if asked is None or not behaviour.honour_range:
                    self.send_response(200)
                    self.send_header("Content-Length", str(file.size))
                    self.end_headers()
                    self._send(file, 0, file.size)
                    return
                start = int(asked.group(1))
                end = min(int(asked.group(2)) + 1 if asked.group(2) else file.size, file.size)
                if start >= file.size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{file.size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                sent_end = min(file.size, end + behaviour.extra) - behaviour.short
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{behaviour.total(file.size)}")
                self.send_header("Content-Length", str(sent_end - start))
                self.end_headers()
                self._send(file, start, sent_end)

            def _send(self, file: Virtual, start: int, end: int) -> None:
                try:
                    for at in range(start, end, CHUNK):
                        piece = file.read(at, min(end, at + CHUNK))
                        with fake.lock:  # counted before it is written: the client may have it before this thread runs again
                            fake.served += len(piece)
                        self.wfile.write(piece)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    """Starts range servers (the hub, a storage host it redirects to), all closed after the test."""
    started: list[RangeServer] = []

    def start() -> RangeServer:
        started.append(RangeServer())
        return started[-1]

    yield start
    for fake in started:
        fake.close()


@pytest.fixture
def hub(serve):
    return serve()


def session(hub: RangeServer, **settings: Any) -> OnlineSession:
    """A session whose hub endpoint is `hub`, no cache, short waits."""
    base = {"hf_endpoint": hub.url, "cache_dir": None, "backoff": 0.01, "max_wait": 0.05, "timeout": 5.0, "retries": 1}
    return OnlineSession(Settings(**{**base, **settings}))


def scan(hub: RangeServer, path: str, file: Virtual, **settings: Any) -> tuple[list[tuple[str, str]], str | None]:
    hub.files[f"/org/model/resolve/{'a' * 40}/{path}"] = file
    remote_file = RemoteFile(f"{hub.url}/org/model/resolve/{'a' * 40}/{path}", path, file.size)
    [(scanned, problems, unscanned)] = remote.scan_remote_files(session(hub, **settings), [remote_file])
    assert scanned is remote_file
    return [(rule.code, message) for rule, _, message in problems], unscanned


# -- the models hook's remote scan --------------------------------------------------------


def test_malicious_1gib_torch_checkpoint_is_found_reading_under_2mb(hub):
    checkpoint = torch_zip(EVIL_PICKLE)
    assert checkpoint.size > GIB
    problems, unscanned = scan(hub, "pytorch_model.bin", checkpoint)
    assert [code for code, _ in problems] == ["MOD001"]
    message = problems[0][1]
    assert message.startswith("pytorch_model.bin!archive/data.pkl@")
    assert "pickle calls posix.system via REDUCE" in message
    assert unscanned is None
    assert hub.served < 2_000_000, hub.served


def test_local_headers_of_tensor_storages_are_not_read(hub):
    checkpoint = torch_zip(EVIL_PICKLE, storage=4 << 20, storages=256)  # 1 GiB in 256 tensors
    problems, unscanned = scan(hub, "pytorch_model.bin", checkpoint)
    assert [code for code, _ in problems] == ["MOD001"] and unscanned is None
    assert len(hub.seen) == 2  # the first block, then the tail: end record and central directory
    assert hub.served < 2_000_000, hub.served


def test_safe_1gib_torch_checkpoint_gives_no_finding(hub):
    safe = torch_zip(_member(SAFE_PICKLE, "pytorch_model/data.pkl"))
    problems, unscanned = scan(hub, "pytorch_model.bin", safe)
    assert (problems, unscanned) == ([], None)
    assert hub.served < 2_000_000, hub.served


def test_raw_pickle_call_after_a_1gib_payload_is_found_without_fetching_the_payload(hub):
    problems, unscanned = scan(hub, "model.pkl", raw_pickle())
    assert [code for code, _ in problems] == [DANGEROUS_CALL.code]
    reduce_at = 11 + GIB + 1 + EVIL_CALL.index(b"R")  # after PROTO, BINBYTES8 and its payload, POP
    assert problems[0][1].startswith(f"model.pkl@{reduce_at}: pickle calls posix.system via REDUCE")
    assert unscanned is None
    assert hub.served < 1_000_000, hub.served


def test_server_ignoring_range_is_read_up_to_the_budget_and_said(hub, monkeypatch):
    from urllib3.util import connection

    # the client's receive buffer as small as the server's send buffer: what both hold at the close is bounded
    small_buffer = (socket.SOL_SOCKET, socket.SO_RCVBUF, CHUNK)
    create = connection.create_connection
    monkeypatch.setattr(
        connection,
        "create_connection",
        lambda *args, socket_options=None, **kwargs: create(*args, socket_options=[*(socket_options or []), small_buffer], **kwargs),
    )
    hub.behaviour.honour_range = False
    problems, unscanned = scan(hub, "pytorch_model.bin", torch_zip(EVIL_PICKLE))
    assert problems == []
    assert unscanned is not None
    assert "server does not honour Range requests; first 4194305 bytes read, not scanned" in unscanned
    assert hub.served <= BUDGET + 8 * CHUNK, hub.served  # the budget, and what the socket buffers held at the close


def test_small_file_from_a_server_ignoring_range_is_scanned_whole(hub):
    hub.behaviour.honour_range = False
    problems, unscanned = scan(hub, "model.pkl", Virtual([EVIL_PICKLE]))
    assert [code for code, _ in problems] == ["MOD001"]
    assert unscanned is None


def test_hub_token_goes_to_the_hub_and_not_to_the_storage_host(hub, serve):
    cdn = serve()
    path = f"/org/model/resolve/{'a' * 40}/pytorch_model.bin"
    cdn.files["/blob"] = torch_zip(EVIL_PICKLE)
    hub.behaviour.redirects[path] = f"{cdn.url}/blob"
    remote_file = RemoteFile(f"{hub.url}{path}", "pytorch_model.bin", cdn.files["/blob"].size)
    online = session(hub)
    online.settings.tokens["hub"] = "hf-secret"
    [(_, problems, unscanned)] = remote.scan_remote_files(online, [remote_file])
    assert [rule.code for rule, _, _ in problems] == ["MOD001"] and unscanned is None
    assert [headers.get("authorization") for _, headers in hub.seen] == ["Bearer hf-secret"]  # then asked at the storage host
    assert cdn.seen and all("authorization" not in headers for _, headers in cdn.seen)


def test_token_is_not_sent_to_a_file_off_the_hub(hub, serve):
    cdn = serve()
    online = session(hub)
    online.settings.tokens["hub"] = "hf-secret"
    cdn.files["/model.pkl"] = Virtual([EVIL_PICKLE])
    remote.scan_remote_files(online, [RemoteFile(f"{cdn.url}/model.pkl", "model.pkl", None)])
    assert cdn.seen and all("authorization" not in headers for _, headers in cdn.seen)


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        (Behaviour(total=lambda size: size + 1), "the file has"),
        (Behaviour(extra=10), "more than the"),
        (Behaviour(short=10), "short read"),
    ],
    ids=["content-range-lies-about-size", "more-bytes-than-asked", "short-read"],
)
def test_hostile_range_answers_are_an_unscanned_entry(hub, behaviour, said):
    hub.behaviour = behaviour
    problems, unscanned = scan(hub, "pytorch_model.bin", torch_zip(EVIL_PICKLE, storage=1 << 20))
    assert problems == []
    assert unscanned is not None and said in unscanned


def test_server_that_never_answers_is_an_unscanned_entry_not_a_hang(hub, silent_server):
    online = session(hub, timeout=0.2, connect_timeout=0.2, retries=0)
    [(_, problems, unscanned)] = remote.scan_remote_files(online, [RemoteFile(f"{silent_server.url}/model.pkl", "model.pkl", 100)])
    assert problems == [] and unscanned is not None and "no answer within 0.2 s" in unscanned


def test_content_range_changing_between_answers_stops_the_reading(hub):
    sizes = iter([GIB + 10, GIB + 11])  # the first answer, then another total
    checkpoint = torch_zip(EVIL_PICKLE, storage=GIB - 5000)
    hub.behaviour.total = lambda size: next(sizes, size)
    path = f"/org/model/resolve/{'a' * 40}/pytorch_model.bin"
    hub.files[path] = checkpoint
    [(_, problems, unscanned)] = remote.scan_remote_files(session(hub), [RemoteFile(f"{hub.url}{path}", "pytorch_model.bin", None)])
    assert problems == []
    assert unscanned is not None and f"Content-Range says the file has {GIB + 11} bytes, an earlier answer said {GIB + 10}" in unscanned


def test_missing_file_is_an_unscanned_entry(hub):
    [(_, problems, unscanned)] = remote.scan_remote_files(session(hub), [RemoteFile(f"{hub.url}/gone", "gone.bin", None)])
    assert problems == [] and unscanned is not None and "HTTP 404" in unscanned


def test_budget_spent_keeps_what_was_found_and_says_the_rest(hub):
    # a pickle member of 6 MiB after the malicious data.pkl: more than the budget
    big = b"\x80\x04\x8e" + struct.pack("<Q", 6 << 20) + bytes(6 << 20) + b"."
    problems, unscanned = scan(hub, "pytorch_model.bin", _two_pickles(EVIL_PICKLE, big))
    assert [code for code, _ in problems] == ["MOD001"]
    assert unscanned is not None and "byte budget spent" in unscanned


def test_not_a_pickle_or_zip_is_not_scanned_remotely(hub):
    problems, unscanned = scan(hub, "model.gguf", Virtual([b"GGUF" + bytes(100)]))
    assert problems == [] and unscanned is not None and "only pickles and zip archives" in unscanned


class OnDemand:
    """Bytes behind `len`, index, slice and `find` only (no buffer protocol), as a remote file is."""

    def __init__(self, data: bytes):
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, key: int | slice) -> int | bytes:
        return self.data[key]

    def find(self, needle: bytes, start: int = 0, end: int | None = None) -> int:
        return self.data.find(needle, start, len(self.data) if end is None else end)


FIXTURES = Path(__file__).parents[1] / "fixtures" / "models"


@pytest.mark.parametrize(
    "name", sorted(path.name for path in FIXTURES.iterdir() if path.suffix in (".pkl", ".pt", ".bin", ".ckpt", ".npz", ".keras"))
)
def test_content_read_on_demand_is_judged_as_bytes_in_memory(name):
    data = (FIXTURES / name).read_bytes()
    on_demand, unread = scanner.scan_remote(OnDemand(data), name, {})
    in_memory, _ = scanner.scan_remote(data, name, {})
    assert unread is None
    assert [(f.rule.code, f.member, f.offset, f.message) for f in on_demand] == [
        (f.rule.code, f.member, f.offset, f.message) for f in in_memory
    ]


# -- the ranged reader itself ----------------------------------------------------------------


def test_ranged_file_reads_aligned_blocks_and_counts_bytes(hub):
    hub.files["/f"] = Virtual([(GIB, synthesized)])
    source = RangedFile.open(session(hub), f"{hub.url}/f", GIB)
    assert len(source) == GIB
    assert source[GIB - 3 :] == synthesized(GIB - 3, GIB)
    assert source[5] == 5 and source[-1] == 255
    assert source.find(b"\xff\x00", 1000) == 1023
    assert source.find(b"\xff\x00", (1 << 16) - 10) == (1 << 16) - 1  # across two blocks
    assert source.find(b"\x0a", 300, GIB) == -1 and source.unsearched == [(300, GIB)]  # not fetched for a bounded look
    assert source.find(b"\x0a", 300, 1 << 17) == 266 + 256  # within blocks already here
    assert (source.requests, source.received) == (3, 3 * (1 << 16))
    with pytest.raises(Unavailable, match="byte budget spent"):
        source[1 << 20 : 6 << 20]
    assert hub.served == source.received


def _member(zipped: bytes, name: str) -> bytes:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        return archive.read(name)


def _two_pickles(first: bytes, second: bytes) -> Virtual:
    """A torch zip whose data.pkl is `first`, with a second pickle member `extra.pkl`."""
    import zlib

    parts, entries, at = [], [], 0
    for name, data in ((b"archive/data.pkl", first), (b"archive/extra.pkl", second)):
        header = _local(name, len(data), zlib.crc32(data))
        parts.append(header + data)
        entries.append(_central(name, len(data), at, zlib.crc32(data)))
        at += len(header) + len(data)
    directory = b"".join(entries)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), at, 0)
    return Virtual([*parts, directory + end])
