"""The only module that imports `requests`: timeouts, retries, tokens, cache.

- 429 and 5xx answers, a connection that timed out or broke off are retried with exponential
  backoff, honouring `Retry-After`, every wait capped by `Settings.max_wait`. A refused
  connection, a host name that does not resolve, an unreachable network, a TLS failure and an
  answer that did not come within the read timeout are not retried: asking again gives the same
  outcome, or makes a commit wait a second full timeout. A host that refused, has no address or
  cannot be reached is not asked again in the run.
- No request starts, and no wait outlasts, the run's online deadline (`Deadline`): each
  timeout is cut to what is left of it.
- One `requests.Session` per thread: the online checks run on several threads at once.
- A token goes only to the API it belongs to (GITHUB_TOKEN to GITHUB_API_URL, HF_TOKEN to
  HF_ENDPOINT), and only when the caller built the URL on that endpoint itself and names the
  API (`token_for="github"`): never to a URL that a scanned file or a server chose (a
  registry's `WWW-Authenticate` realm, an image's registry), even one on the API's own host. Redirects
  are followed here, not by requests: once a redirect leaves the origin of the first request,
  no Authorization header (the token, or one the caller set) is sent on any later hop, even
  one that comes back.
- 200 and 404 answers are cached (a 404 is an answer too: "this repository is gone").
- `read_bytes` streams a binary answer (a ranged read of a model file) and stops reading at a
  limit: a server that sends more than asked, or ignores `Range`, is never read to the end.
- Every failure is an `OnlineError` naming the request, never a traceback.
"""

from __future__ import annotations

import errno
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import requests

from mlgate import __version__
from mlgate.online import Deadline, DeadlinePassed, OnlineError, Settings, Turn, origin
from mlgate.online.cache import Cache, Response

RETRIED = {429, 500, 502, 503, 504}
CACHED = {200, 404}
REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5
_CHUNK = 1 << 16  # bytes asked of the socket at a time by `read_bytes`


@dataclass(frozen=True)
class Bytes:
    """A binary answer read by `read_bytes`: at most its `limit` + 1 bytes of `body` (one more
    than the limit says the server had more to send); `url` is the one that answered."""

    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    url: str


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


_UNREACHABLE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}


def _not_worth_retrying(exc: BaseException) -> str | None:
    """Why asking again would fail the same way (refused, no such host, no route, TLS), or None.

    requests wraps the socket's error a few levels deep (ConnectionError > MaxRetryError >
    NewConnectionError > ConnectionRefusedError): the whole chain is searched."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, requests.exceptions.SSLError):
            return "TLS failed"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror):
            return "host name not resolved"
        if isinstance(current, OSError) and current.errno in _UNREACHABLE_ERRNOS:
            return "host or network unreachable"
        reason = getattr(current, "reason", None)
        causes = [current.__cause__, current.__context__, reason if isinstance(reason, BaseException) else None]
        stack.extend([*causes, *(arg for arg in current.args if isinstance(arg, BaseException))])
    return None


class Client:
    def __init__(
        self,
        settings: Settings,
        deadline: Deadline | None = None,
        watch: Callable[[str], None] | None = None,
        turn: Turn | None = None,
    ):
        """`deadline`: none when None. `watch` is told each request before it is sent ("GET url").
        The caller's `turn` is given up while a request or a pause lasts."""
        self.settings = settings
        self.deadline = deadline or Deadline(None)
        self.watch = watch
        self.turn = turn or Turn()
        self.cache = Cache(settings.cache_dir, settings.cache_ttl)
        self._local = threading.local()
        self._unreachable: dict[str, str] = {}  # origin -> why it cannot be reached (`_hop`)

    @property
    def session(self) -> requests.Session:
        """This thread's `requests.Session` (one is not meant to be shared between threads)."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["User-Agent"] = f"mlgate/{__version__}"
        return session

    def close_thread_session(self) -> None:
        """Close this thread's connections: a thread that is done with the network calls it."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is not None:
            self._local.session = None
            session.close()

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

    def read_bytes(
        self, url: str, *, headers: dict[str, str], limit: int, ok: tuple[int, ...] = (200,), token_for: str | None = None
    ) -> Bytes:
        """GET `url` as bytes, never cached, reading at most `limit` + 1 bytes of the body (the
        connection is closed there); retries, redirects, tokens and the deadline as `request`."""
        token = self.settings.token_for(token_for, url) if token_for else None
        wanted = {**headers, "Accept-Encoding": "identity"}  # the bytes as stored: ranges count them
        answer: Bytes = self._send("GET", url, "", wanted, token, read=lambda answer, final_url: self._read_body(answer, final_url, limit))
        if answer.status not in ok:
            raise OnlineError(f"GET {url}: HTTP {answer.status}")
        return answer

    def _read_body(self, answer: requests.Response, url: str, limit: int) -> Bytes:
        body = bytearray()
        headers = {name.lower(): value for name, value in answer.headers.items()}
        if headers.get("content-encoding", "identity").lower() != "identity":
            answer.close()
            raise OnlineError(f"GET {url}: answer encoded as {headers['content-encoding']!r}, not the bytes asked for")
        ended = False
        try:
            with self.turn.given_up():
                for chunk in answer.iter_content(_CHUNK):  # identity: the bytes as sent
                    body += chunk
                    if len(body) > limit:
                        break
                    if self.deadline.passed:  # a server that sends slowly: each read came in time, the whole did not
                        raise DeadlinePassed(f"GET {url}: {len(body)} bytes read before {self.deadline.describe()} passed")
                else:
                    ended = True  # read to its end: the connection goes back to the pool
        finally:
            if not ended:
                answer.close()  # the rest is never read
        return Bytes(answer.status_code, headers, bytes(body[: limit + 1]), url)

    def _send(
        self,
        method: str,
        url: str,
        data: str,
        headers: dict[str, str],
        token: str | None,
        read: Callable[[requests.Response, str], Any] | None = None,
    ) -> Any:
        """The answer as a `Response` (its whole text), or as `read(answer, url)` makes it (a
        streamed answer: `read` reads the body and closes it)."""
        headers = dict(headers)
        if token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {token}"
        if data:
            headers["Content-Type"] = "application/json"
        settings, deadline = self.settings, self.deadline
        attempt = 0
        while True:
            if deadline.passed:
                raise DeadlinePassed(f"{method} {url}: not sent: {deadline.describe()} passed first")
            wait = settings.backoff * 2**attempt
            final = False  # asking again would not help
            try:
                answer, final_url = self._follow(method, url, data, headers, stream=read is not None)
                if read is not None and answer.status_code not in RETRIED:
                    return read(answer, final_url)
            except requests.Timeout as exc:
                if deadline.passed:  # the timeout was cut to what the deadline left
                    raise DeadlinePassed(f"{method} {url}: no answer before {deadline.describe()} passed") from None
                if isinstance(exc, requests.ConnectTimeout):  # a lost packet, perhaps: worth another try
                    failure = f"no connection within {settings.connect_timeout:g} s"
                else:
                    failure, final = f"no answer within {settings.timeout:g} s", True
            except requests.RequestException as exc:
                reason = _not_worth_retrying(exc)
                failure, final = f"cannot connect ({reason or type(exc).__name__})", reason is not None
            else:
                if answer.status_code not in RETRIED:
                    lower = {name.lower(): value for name, value in answer.headers.items()}
                    return Response(answer.status_code, lower, answer.text, final_url)
                failure = f"HTTP {answer.status_code}"
                answer.close()
                asked = _retry_after(answer.headers.get("Retry-After"))
                wait = wait if asked is None else asked
            tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
            if final or attempt == settings.retries:
                raise OnlineError(f"{method} {url}: {failure} (after {tries})")
            wait = min(wait, settings.max_wait)
            if wait >= deadline.remaining():
                raise DeadlinePassed(f"{method} {url}: {failure} (after {tries}; {deadline.describe()} leaves no time to retry)")
            with self.turn.given_up():
                time.sleep(wait)
            attempt += 1

    def _timeouts(self) -> tuple[float, float]:
        """(connect, read) timeouts of the next request, cut to what is left of the deadline."""
        return (self.deadline.cap(self.settings.connect_timeout), self.deadline.cap(self.settings.timeout))

    def _follow(self, method: str, url: str, data: str, headers: dict[str, str], *, stream: bool = False) -> tuple[requests.Response, str]:
        """One request and its redirects (the answer, and the URL that gave it). Authorization
        is sent only while every hop so far stayed on the first request's origin."""
        asked, first_origin, left = f"{method} {url}", origin(url), False
        for _ in range(MAX_REDIRECTS + 1):
            left = left or origin(url) != first_origin
            sent = {name: value for name, value in headers.items() if not (left and name.lower() == "authorization")}
            if self.watch is not None:
                self.watch(f"{method} {url}")
            answer = self._hop(method, url, data, sent, stream=stream)
            location = answer.headers.get("Location")
            if answer.status_code not in REDIRECTS or not location:
                return answer, url
            answer.close()
            url = urljoin(url, location)
            if answer.status_code == 303 or (answer.status_code in (301, 302) and method == "POST"):
                method = "GET" if method != "HEAD" else method  # as browsers and requests do
                data, headers = "", {name: value for name, value in headers.items() if name.lower() != "content-type"}
        raise OnlineError(f"{asked}: more than {MAX_REDIRECTS} redirects")

    def _hop(self, method: str, url: str, data: str, headers: dict[str, str], *, stream: bool = False) -> requests.Response:
        """One request, no redirect followed. A host that refused a connection, has no address or
        cannot be reached is not asked again in this run: without a network every lookup would
        pay for it (a name server may take 5 s to say it has no answer)."""
        host = origin(url)
        known = self._unreachable.get(host)
        if known is not None:
            raise OnlineError(f"{method} {url}: not sent: {host} failed before in this run ({known})")
        try:
            with self.turn.given_up():
                return self.session.request(
                    method, url, data=data or None, headers=headers, timeout=self._timeouts(), allow_redirects=False, stream=stream
                )
        except requests.RequestException as exc:
            reason = _not_worth_retrying(exc)
            if reason is not None:
                self._unreachable[host] = reason
            raise


def _reason(response: Response) -> str:
    """A short reason from a JSON error body (`{"message": ...}`), when there is one."""
    try:
        message = json.loads(response.body).get("message")
    except (ValueError, AttributeError):
        return ""
    return f" ({message})" if isinstance(message, str) and message else ""
