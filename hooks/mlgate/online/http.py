"""The only module that imports `requests`: timeouts, retries, tokens, cache.

- 429 and 5xx answers and connection failures are retried with exponential backoff,
  honouring `Retry-After`, every wait capped by `Settings.max_wait`.
- A token goes only to the API it belongs to (GITHUB_TOKEN to GITHUB_API_URL, HF_TOKEN to
  HF_ENDPOINT), and only when the caller built the URL on that endpoint itself and names the
  API (`token_for="github"`): never to a URL that a scanned file or a server chose (a
  registry's `WWW-Authenticate` realm, an image's registry), even one on the API's own host. Redirects
  are followed here, not by requests: once a redirect leaves the origin of the first request,
  no Authorization header (the token, or one the caller set) is sent on any later hop, even
  one that comes back.
- 200 and 404 answers are cached (a 404 is an answer too: "this repository is gone").
- Every failure is an `OnlineError` naming the request, never a traceback.
"""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import requests

from mlgate import __version__
from mlgate.online import OnlineError, Settings, origin
from mlgate.online.cache import Cache, Response

RETRIED = {429, 500, 502, 503, 504}
CACHED = {200, 404}
REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5


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
        self,
        method: str,
        url: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
        cache: bool = True,
        token_for: str | None = None,
    ) -> Response:
        """Send (or answer from the cache) one request; a status outside `ok` is an OnlineError.

        `cache=False` for answers that expire on their own (registry pull tokens).
        `token_for` ("github", "hub") only for a URL mlgate built on that API's endpoint: the
        API's token is then sent, if the URL's origin is the endpoint's."""
        data = json.dumps(body, sort_keys=True) if body is not None else ""
        token = self.settings.token_for(token_for, url) if token_for else None
        key = f"{data}\0with token" if token else data  # an answer given to the token is never reused without it
        cached = self.cache.get(method, url, key) if cache else None
        response = cached or self._send(method, url, data, headers or {}, token)
        if cache and cached is None and response.status in CACHED:
            self.cache.put(method, url, key, response)
        if response.status not in ok:
            raise OnlineError(f"{method} {url}: HTTP {response.status}{_reason(response)}")
        return response

    def json(
        self,
        method: str,
        url: str,
        *,
        body: Any = None,
        ok: tuple[int, ...] = (200,),
        cache: bool = True,
        token_for: str | None = None,
    ) -> Any:
        """The decoded JSON answer; None for a non-200 status listed in `ok` (e.g. 404)."""
        response = self.request(method, url, body=body, ok=ok, cache=cache, token_for=token_for)
        if response.status != 200:
            return None
        try:
            return json.loads(response.body)
        except ValueError:
            raise OnlineError(f"{method} {url}: malformed response (not JSON): {response.body[:80]!r}") from None

    def _send(self, method: str, url: str, data: str, headers: dict[str, str], token: str | None) -> Response:
        headers = dict(headers)
        if token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {token}"
        if data:
            headers["Content-Type"] = "application/json"
        settings = self.settings
        attempt = 0
        while True:
            wait = settings.backoff * 2**attempt
            try:
                answer, final_url = self._follow(method, url, data, headers)
            except requests.Timeout:
                failure = f"no answer within {settings.timeout:g} s"
            except requests.RequestException as exc:
                failure = f"cannot connect ({type(exc).__name__})"
            else:
                if answer.status_code not in RETRIED:
                    lower = {name.lower(): value for name, value in answer.headers.items()}
                    return Response(answer.status_code, lower, answer.text, final_url)
                failure = f"HTTP {answer.status_code}"
                asked = _retry_after(answer.headers.get("Retry-After"))
                wait = wait if asked is None else asked
            if attempt == settings.retries:
                tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
                raise OnlineError(f"{method} {url}: {failure} (after {tries})")
            time.sleep(min(wait, settings.max_wait))
            attempt += 1

    def _follow(self, method: str, url: str, data: str, headers: dict[str, str]) -> tuple[requests.Response, str]:
        """One request and its redirects (the answer, and the URL that gave it). Authorization
        is sent only while every hop so far stayed on the first request's origin."""
        asked, first_origin, left = f"{method} {url}", origin(url), False
        for _ in range(MAX_REDIRECTS + 1):
            left = left or origin(url) != first_origin
            sent = {name: value for name, value in headers.items() if not (left and name.lower() == "authorization")}
            answer = self.session.request(
                method, url, data=data or None, headers=sent, timeout=self.settings.timeout, allow_redirects=False
            )
            location = answer.headers.get("Location")
            if answer.status_code not in REDIRECTS or not location:
                return answer, url
            answer.close()
            url = urljoin(url, location)
            if answer.status_code == 303 or (answer.status_code in (301, 302) and method == "POST"):
                method = "GET" if method != "HEAD" else method  # as browsers and requests do
                data, headers = "", {name: value for name, value in headers.items() if name.lower() != "content-type"}
        raise OnlineError(f"{asked}: more than {MAX_REDIRECTS} redirects")


def _reason(response: Response) -> str:
    """A short reason from a JSON error body (`{"message": ...}`), when there is one."""
    try:
        message = json.loads(response.body).get("message")
    except (ValueError, AttributeError):
        return ""
    return f" ({message})" if isinstance(message, str) and message else ""
