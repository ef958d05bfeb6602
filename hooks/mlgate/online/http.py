"""The only module that imports `requests`: timeouts, retries, tokens, cache.

- 429 and 5xx answers and connection failures are retried with exponential backoff,
  honouring `Retry-After`, every wait capped by `Settings.max_wait`.
- A token is sent only to the origin it belongs to (GITHUB_TOKEN to GITHUB_API_URL,
  HF_TOKEN to HF_ENDPOINT); requests drops it itself on a redirect to another host.
- 200 and 404 answers are cached (a 404 is an answer too: "this repository is gone").
- Every failure is an `OnlineError` naming the request, never a traceback.
"""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from mlgate import __version__
from mlgate.online import OnlineError, Settings, origin
from mlgate.online.cache import Cache, Response

RETRIED = {429, 500, 502, 503, 504}
CACHED = {200, 404}


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class Client:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.cache = Cache(settings.cache_dir, settings.cache_ttl)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"mlgate/{__version__}"

    def request(
        self, method: str, url: str, *, body: Any = None, headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200,), cache: bool = True,
    ) -> Response:
        """Send (or answer from the cache) one request; a status outside `ok` is an OnlineError.

        `cache=False` for answers that expire on their own (registry pull tokens)."""
        data = json.dumps(body, sort_keys=True) if body is not None else ""
        cached = self.cache.get(method, url, data) if cache else None
        response = cached or self._send(method, url, data, headers or {})
        if cache and cached is None and response.status in CACHED:
            self.cache.put(method, url, data, response)
        if response.status not in ok:
            raise OnlineError(f"{method} {url}: HTTP {response.status}{_reason(response)}")
        return response

    def json(self, method: str, url: str, *, body: Any = None, ok: tuple[int, ...] = (200,), cache: bool = True) -> Any:
        """The decoded JSON answer; None for a non-200 status listed in `ok` (e.g. 404)."""
        response = self.request(method, url, body=body, ok=ok, cache=cache)
        if response.status != 200:
            return None
        try:
            return json.loads(response.body)
        except ValueError:
            raise OnlineError(f"{method} {url}: malformed response (not JSON): {response.body[:80]!r}") from None

    def _send(self, method: str, url: str, data: str, headers: dict[str, str]) -> Response:
        headers = dict(headers)
        token = self.settings.tokens.get(origin(url))
        if token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {token}"
        if data:
            headers["Content-Type"] = "application/json"
        settings = self.settings
        attempt = 0
        while True:
            wait = settings.backoff * 2**attempt
            try:
                answer = self.session.request(
                    method, url, data=data or None, headers=headers, timeout=settings.timeout, allow_redirects=True,
                )
            except requests.Timeout:
                failure = f"no answer within {settings.timeout:g} s"
            except requests.RequestException as exc:
                failure = f"cannot connect ({type(exc).__name__})"
            else:
                if answer.status_code not in RETRIED:
                    lower = {name.lower(): value for name, value in answer.headers.items()}
                    return Response(answer.status_code, lower, answer.text, url)
                failure = f"HTTP {answer.status_code}"
                asked = _retry_after(answer.headers.get("Retry-After"))
                wait = wait if asked is None else asked
            if attempt == settings.retries:
                tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
                raise OnlineError(f"{method} {url}: {failure} (after {tries})")
            time.sleep(min(wait, settings.max_wait))
            attempt += 1


def _reason(response: Response) -> str:
    """A short reason from a JSON error body (`{"message": ...}`), when there is one."""
    try:
        message = json.loads(response.body).get("message")
    except (ValueError, AttributeError):
        return ""
    return f" ({message})" if isinstance(message, str) and message else ""
