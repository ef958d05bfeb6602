"""A small on-disk cache of HTTP answers, so a second run within the TTL sends nothing.

One JSON file per request, named by the sha256 of method, URL and body; written atomically
so that two hooks running at once never read half a file. Clear it with `rm -rf` of the
folder (`$MLGATE_CACHE_DIR`, else `$XDG_CACHE_HOME/mlgate`, else `~/.cache/mlgate`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: str
    url: str


class Cache:
    def __init__(self, folder: Path | None, ttl: float):
        self.folder = folder / "http" if folder is not None else None
        self.ttl = ttl

    def _file(self, method: str, url: str, body: str) -> Path | None:
        if self.folder is None or self.ttl <= 0:
            return None
        key = hashlib.sha256("\0".join((method, url, body)).encode()).hexdigest()
        return self.folder / f"{key}.json"

    def get(self, method: str, url: str, body: str) -> Response | None:
        path = self._file(method, url, body)
        try:
            if path is None or time.time() - path.stat().st_mtime > self.ttl:
                return None
            data = json.loads(path.read_text(encoding="utf-8"))
            return Response(int(data["status"]), dict(data["headers"]), str(data["body"]), str(data["url"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing, expired or damaged: ask again

    def put(self, method: str, url: str, body: str, response: Response) -> None:
        path = self._file(method, url, body)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(asdict(response), out)
            os.replace(temporary, path)
        except OSError:
            pass  # a read-only home must not fail the run: the cache is only an optimisation
