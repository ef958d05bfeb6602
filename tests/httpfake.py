"""A real HTTP server on 127.0.0.1 for online tests (standard library only).

`server.reply(method, path, status, body, headers, delay)` queues an answer for a route;
answers are served in order and the last one repeats. Every request is recorded, so a
test can assert exactly what mlgate sent, and that a cached run sent nothing.

Test modules import the fixtures: `from httpfake import online_env, server  # noqa: F401`.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] | None = None
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str  # with the query string
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class FakeServer:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        self.in_flight = 0  # requests being answered now
        self.most_in_flight = 0  # the most at any one time: how many the client sent at once
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with fake.lock:
                    fake.requests.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    queue = fake.routes.get((self.command, urlsplit(self.path).path))
                    reply = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else Reply(404, b'{"message": "Not Found"}')
                    fake.in_flight += 1
                    fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
                if reply.delay:
                    time.sleep(reply.delay)
                with fake.lock:
                    fake.in_flight -= 1
                try:
                    self.send_response(reply.status)
                    for name, value in (reply.headers or {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = do_HEAD = handle_any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def reply(
        self, method: str, path: str, status: int = 200, body: Any = b"", headers: dict[str, str] | None = None, delay: float = 0.0
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode() if not isinstance(body, str) else body.encode()
        self.routes.setdefault((method, path), []).append(Reply(status, data, headers, delay))

    def seen(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class SilentServer:
    """Accepts every connection on 127.0.0.1 and never answers: a hung API, or a firewall that
    swallows the request. Counts the connections it accepted."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed
                return
            self.connections.append(connection)  # kept open, never read from or written to

    def close(self) -> None:
        self.closed.set()
        self.listener.close()
        for connection in self.connections:
            connection.close()


def refused_url() -> str:
    """A loopback URL whose port nothing listens on: a socket bound there, then closed."""
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def silent_server():
    fake = SilentServer()
    yield fake
    fake.close()


@pytest.fixture
def server():
    fake = FakeServer()
    yield fake
    fake.close()


@pytest.fixture
def online_env(server, tmp_path_factory, monkeypatch):
    """Every endpoint at the fake server, a fresh cache, no tokens, no long waits."""
    cache = tmp_path_factory.mktemp("cache")
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "MLGATE_OSV_DATABASE", "MLGATE_NO_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_API_URL", server.url)
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("MLGATE_OSV_URL", server.url)
    monkeypatch.setenv("MLGATE_PYPI_URL", server.url)
    monkeypatch.setenv("MLGATE_REGISTRY_URLS", f"docker.io={server.url},ghcr.io={server.url}")
    monkeypatch.setenv("MLGATE_CACHE_DIR", str(cache))
    monkeypatch.setenv("MLGATE_HTTP_MAX_WAIT", "0.01")
    monkeypatch.setenv("MLGATE_HTTP_TIMEOUT", "5")
    return cache
