"""Online mode (`--online`, `--fix`): what hooks see of the network, and nothing more.

Nothing here imports `requests`: an offline run never loads it. A hook plugs in by naming a
module in `Hook.online` (e.g. `online="mlgate.pins.online"`), imported only for an online
run, which exposes (see `OnlineModule`):

- `check(session, context, findings) -> Iterable[Finding]`: runs after the scan, with
  the hook's `ScanContext` (whose `notes`, read with `context.notes_of(kind)`, hold the
  `mlgate.notes.Note`s its scanners kept or returned, e.g. exact pins) and the hook's
  findings; returns the hook's findings as the run reports them: the given ones in their
  order (findings are immutable: one the network tells more about is replaced by a copy,
  `dataclasses.replace(finding, message=...)`), then the new ones. Failures go to
  `session.error(path, message)`.
- `FIXES: dict[rule code, fixer]`, `fixer(session, finding, source) -> list[Edit]`: the
  token-exact edits that make one finding go away (`[]` when it cannot be fixed here).

Both reach the network only through `session.http` (endpoints, tokens, retries, cache)
and `session.lookup(key, fetch)` (one fetch per key per run, shared by check and fixer).

`check` is called several times per run, on several threads (`mlgate.online.checks`): once
per finding, with no notes, and once per kind of note, with those notes and no findings. So it
must not assume it sees all of them at once, and keeps what calls share in the session
(`lookup`: two calls for one key make one fetch). The calls take turns (`Turn`): only their
waits for the network overlap, so hook code need not be thread-safe.

Remote files (files on the hub, read without downloading them whole): a hook that can scan
such files names a module in `Hook.remote_scan` (e.g. `remote_scan="mlgate.models.remote"`),
imported only when some online check or `mlgate scan hf://...` has remote files to scan, which
exposes (see `RemoteScanModule`):

- `scan_remote_files(session, files: list[RemoteFile]) -> list[RemoteResult]`: one result per
  file it looked at, `(file, problems, unscanned)`: `problems` are `(rule, severity, message)`
  (the message names the remote file, and the member for an archive), `unscanned` says what was
  not scanned (too large, not a format it reads, a failed request), None when everything was.
  It reaches the network only through `session.http` (with `token_for="hub"` for hub URLs) and
  reports failures with `session.error(file.url, message)` or in `unscanned`.

The core calls it through `session.scan_remote(files)` (the hooks of the run, `session.hooks`)
or `scan_remote_files(session, hooks, files)` below; whoever found the reference (the hub hook's
online check, the `scan` command) places the problems.

`mlgate scan hf://owner/repo[@revision]` checks one hub repository by id: a hook that can names
a module in `Hook.repository_scan` exposing `scan_repository(session, repository: HubRepository)
-> list[Finding]` (see `RepositoryScanModule`; `HubRepository` is in `mlgate.online.hub_api`),
which raises `MissingRepository` when the hub has no such repository or revision.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO
from urllib.parse import urlsplit

from mlgate.config import COOLDOWN_DAYS, ONLINE_DEADLINE

if TYPE_CHECKING:
    from mlgate.files import SourceFile
    from mlgate.findings import Finding, Rule, Severity
    from mlgate.hook import Hook, ScanContext
    from mlgate.online.http import Client
    from mlgate.online.hub_api import HubRepository

DOCKER_HUB = "docker.io"
CONCURRENCY = 8  # lookups at a time: enough to hide the latency, few enough for any API's rate limits


class OnlineError(Exception):
    """A lookup failed (network, HTTP status, malformed answer): becomes an `errors` entry."""


class RepeatedFailure(OnlineError):
    """A lookup that already failed in this run, asked again: whoever asked first was told (and
    reported it), so a caller that only adds to that report (the fix) need not say it again."""


class DeadlinePassed(OnlineError):
    """The run's online deadline passed before this lookup could be made or answered: the
    online check lists each lookup it cut short, once."""


class Turn:
    """Hooks' online code runs in one thread at a time, as if there were one: the threads of
    `mlgate.online.checks` take turns, and a thread gives its turn away only while it waits for
    the network (a request, a retry's pause, another thread's answer to the same lookup). So the
    waits overlap, and no hook needs its code (or the parsers it calls) to be thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()

    @contextlib.contextmanager
    def taken(self) -> Iterator[None]:
        """Run hook code: wait for the turn, and hold it."""
        with self._lock:
            self._local.held = True
            try:
                yield
            finally:
                self._local.held = False

    @contextlib.contextmanager
    def given_up(self) -> Iterator[None]:
        """Wait for the network: others may run meanwhile (nothing to give when this thread has no turn)."""
        if not getattr(self._local, "held", False):
            yield
            return
        self._local.held = False
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()
            self._local.held = True


class Deadline:
    """One clock for every lookup of a run, started by the first online check; `seconds` None
    or 0: no deadline."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds or None
        self._end: float | None = None

    def start(self) -> None:
        if self._end is None and self.seconds is not None:
            self._end = time.monotonic() + self.seconds

    def remaining(self) -> float:
        """Seconds left (`math.inf` without a deadline, or before it started)."""
        return math.inf if self._end is None else max(0.0, self._end - time.monotonic())

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0

    def cap(self, seconds: float) -> float:
        """`seconds`, or what is left when that is less."""
        return min(seconds, self.remaining())

    def describe(self) -> str:
        return f"the {self.seconds:g} s online deadline"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    try:
        return float(environ[name])
    except (KeyError, ValueError):
        return default


def _registries(text: str) -> dict[str, str]:
    """`docker.io=http://127.0.0.1:5000,ghcr.io=https://mirror` -> {host: base URL}."""
    pairs = (item.split("=", 1) for item in text.split(",") if "=" in item)
    return {host.strip().lower(): url.strip().rstrip("/") for host, url in pairs}


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    if environ.get("MLGATE_CACHE_DIR"):
        return Path(environ["MLGATE_CACHE_DIR"])
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mlgate"


@dataclass
class Settings:
    """Endpoints, tokens and HTTP behaviour, from the usual environment variables."""

    github_api: str = "https://api.github.com"
    hf_endpoint: str = "https://huggingface.co"
    osv_url: str = "https://api.osv.dev"
    pypi_url: str = "https://pypi.org"  # its JSON API: release upload times (the cooldown)
    osv_database: str | None = None  # a directory of OSV JSON records: no OSV request at all
    registries: dict[str, str] = field(default_factory=dict)  # registry host -> base URL
    tokens: dict[str, str] = field(default_factory=dict)  # API ("github", "hub") -> its token, sent to that API only
    cache_dir: Path | None = None  # None: no cache
    cache_ttl: float = 6 * 3600.0
    connect_timeout: float = 5.0  # to open a connection (TLS included)
    timeout: float = 10.0  # to wait for each part of an answer once connected
    retries: int = 3
    backoff: float = 1.0  # first wait; doubles on each retry
    max_wait: float = 30.0  # cap on any one wait, Retry-After included
    deadline: float = ONLINE_DEADLINE  # seconds for all the lookups of a run (`online-deadline`); 0: none
    concurrency: int = CONCURRENCY  # lookups made at the same time

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        settings = cls(
            github_api=(env.get("GITHUB_API_URL") or cls.github_api).rstrip("/"),
            hf_endpoint=(env.get("HF_ENDPOINT") or cls.hf_endpoint).rstrip("/"),
            osv_url=(env.get("MLGATE_OSV_URL") or cls.osv_url).rstrip("/"),
            pypi_url=(env.get("MLGATE_PYPI_URL") or cls.pypi_url).rstrip("/"),
            osv_database=env.get("MLGATE_OSV_DATABASE") or None,
            registries=_registries(env.get("MLGATE_REGISTRY_URLS", "")),
            cache_dir=None if env.get("MLGATE_NO_CACHE") else default_cache_dir(env),
            cache_ttl=_seconds(env, "MLGATE_CACHE_TTL", cls.cache_ttl),
            connect_timeout=_seconds(env, "MLGATE_HTTP_CONNECT_TIMEOUT", cls.connect_timeout),
            timeout=_seconds(env, "MLGATE_HTTP_TIMEOUT", cls.timeout),
            max_wait=_seconds(env, "MLGATE_HTTP_MAX_WAIT", cls.max_wait),
        )
        github_token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
        hf_token = env.get("HF_TOKEN") or env.get("HUGGING_FACE_HUB_TOKEN")
        for api, token in (("github", github_token), ("hub", hf_token)):
            if token:
                settings.tokens[api] = token
        return settings

    def token_for(self, api: str, url: str) -> str | None:
        """The token of `api` ("github": GITHUB_API_URL, "hub": HF_ENDPOINT) if `url` is on that
        API's origin, else None."""
        endpoint = {"github": self.github_api, "hub": self.hf_endpoint}[api]
        return self.tokens.get(api) if origin(url) == origin(endpoint) else None

    def registry_url(self, host: str) -> str:
        """Base URL of the registry API of an image host (Docker Hub's API is elsewhere)."""
        if host in self.registries:
            return self.registries[host]
        return "https://registry-1.docker.io" if host == DOCKER_HUB else f"https://{host}"


@dataclass(frozen=True)
class Edit:
    """Replace `old` with `new` at 1-based (line, column) of `path`, if `old` is still there."""

    path: str
    line: int
    column: int
    old: str
    new: str


class _Lookup:
    """One key's answer: fetched by the first thread that asks, waited for by any other."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None  # the answer, or the OnlineError that stands for it


class OnlineSession:
    """What online checks and fixers share in one run: settings, the HTTP client, errors, the
    deadline, and the lookups made so far, so that a fixer reuses what the check looked up.

    Safe to use from several threads: `mlgate.online.checks` runs the checks concurrently, each
    holding the session's `turn` except while it waits for the network."""

    def __init__(self, settings: Settings | None = None, progress: TextIO | None = None):
        self.settings = settings or Settings.from_env()
        self.deadline = Deadline(self.settings.deadline)
        self.turn = Turn()
        self.progress = progress  # where to show how far the lookups are, when it is a terminal
        self.errors: list[tuple[str, str]] = []
        self.wanted: Callable[[str], bool] = lambda code: True  # set by the engine: selected rules
        self.cooldown: float = COOLDOWN_DAYS  # set by the engine: the `cooldown` setting, in days (0: off)
        self.hooks: tuple[Hook, ...] = ()  # set by the engine: the hooks of the run (`scan_remote`)
        self._http: Client | None = None
        self._lookups: dict[Any, _Lookup] = {}
        self._lock = threading.Lock()
        self._local = threading.local()  # what the check this thread runs reports to (`reporting_to`)

    @property
    def http(self) -> Client:
        with self._lock:
            if self._http is None:
                from mlgate.online.http import Client  # requests is imported here, and only here

                self._http = Client(self.settings, self.deadline, watch=self._asking, turn=self.turn)
            return self._http

    def error(self, path: str, message: str) -> None:
        """Report a failure: with the check this thread runs (its errors count only if it
        finishes in time), else with the session."""
        errors = getattr(self._local, "errors", None)
        (self.errors if errors is None else errors).append((path, message))

    def reporting_to(self, errors: list[tuple[str, str]] | None, asking: Callable[[str], None] | None = None) -> None:
        """From now on this thread's `error()` calls go to `errors` (None: to the session), and
        `asking` is told each request it sends."""
        self._local.errors, self._local.asking = errors, asking

    def thread_done(self) -> None:
        """A thread that ran checks is done: its connections are closed."""
        with self._lock:
            http = self._http
        if http is not None:
            http.close_thread_session()

    def _asking(self, request: str) -> None:
        asking = getattr(self._local, "asking", None)
        if asking is not None:
            asking(request)

    def lookup(self, key: tuple[str, ...], fetch: Callable[[], Any]) -> Any:
        """`fetch()` once per run for `key`, its JSON result kept in the on-disk cache too.

        A resolution can take several requests that are not worth caching one by one (a
        registry's 401, then a short-lived pull token, then the digest): the answer is what is
        kept, so a second run makes none of them. An `OnlineError` is remembered for the run:
        the first caller gets it, later ones a `RepeatedFailure`. A thread that asks for a key
        another thread is fetching waits for that answer, until the deadline at most.
        """
        with self._lock:
            pending = self._lookups.get(key)
            mine = pending is None
            if pending is None:
                if self.deadline.passed:
                    raise DeadlinePassed(f"not looked up: {self.deadline.describe()} passed first")
                pending = self._lookups[key] = _Lookup()
        if mine:
            try:
                pending.value = self._fetch(key, fetch)
            except OnlineError as exc:
                pending.value = exc
            except BaseException:  # a bug: it reaches this caller, and nobody waits forever
                pending.value = OnlineError(f"lookup {key!r} failed (internal error)")
                raise
            finally:
                pending.done.set()
        else:
            with self.turn.given_up():
                answered = pending.done.wait(None if math.isinf(left := self.deadline.remaining()) else left)
            if not answered:
                raise DeadlinePassed(f"no answer before {self.deadline.describe()} passed")
        if isinstance(pending.value, OnlineError):
            if mine:
                raise pending.value
            raise RepeatedFailure(str(pending.value)) from None
        return pending.value

    def scan_remote(self, files: list[RemoteFile]) -> list[RemoteResult]:
        """The remote scan of `files` by the hooks of this run that have one (none: []), only
        the problems of selected rules kept."""
        results = scan_remote_files(self, self.hooks, files)
        return [
            (file, [problem for problem in problems if self.wanted(problem[0].code)], unscanned) for file, problems, unscanned in results
        ]

    def _fetch(self, key: tuple[str, ...], fetch: Callable[[], Any]) -> Any:
        from mlgate.online.cache import Cache, Response

        cache, name = Cache(self.settings.cache_dir, self.settings.cache_ttl), json.dumps(key)
        stored = cache.get("LOOKUP", name, "")
        if stored is not None:
            return json.loads(stored.body)
        value = fetch()
        cache.put("LOOKUP", name, "", Response(200, {}, json.dumps(value), ""))
        return value


Fixer = Callable[[OnlineSession, "Finding", "SourceFile"], list[Edit]]


class OnlineModule(Protocol):
    """What the module named by `Hook.online` exposes."""

    FIXES: Mapping[str, Fixer]

    def check(self, session: OnlineSession, context: ScanContext, findings: list[Finding]) -> Iterable[Finding]: ...


@dataclass(frozen=True)
class RemoteFile:
    """A file on a remote host (a hub repository at a commit): `url` to read it (ranged requests
    allowed), `path` inside its repository, `size` in bytes when the listing said."""

    url: str
    path: str
    size: int | None = None


# What a remote scan says of one file: (the file, its problems as (rule, severity, message),
# what was not scanned or None when everything was).
RemoteResult = tuple[RemoteFile, list[tuple["Rule", "Severity", str]], str | None]


class RemoteScanModule(Protocol):
    """What the module named by `Hook.remote_scan` exposes."""

    def scan_remote_files(self, session: OnlineSession, files: list[RemoteFile]) -> list[RemoteResult]: ...


def scan_remote_files(session: OnlineSession, hooks: Iterable[Hook], files: list[RemoteFile]) -> list[RemoteResult]:
    """Every result of every hook among `hooks` that declares a `remote_scan` module (none: [])."""
    results: list[RemoteResult] = []
    if not files:
        return results
    for hook in hooks:
        module = hook.remote_scan_module()
        if module is not None:
            results.extend(module.scan_remote_files(session, files))
    return results


class RepositoryScanModule(Protocol):
    """What the module named by `Hook.repository_scan` exposes (`mlgate scan hf://...`)."""

    def scan_repository(self, session: OnlineSession, repository: HubRepository) -> list[Finding]: ...
