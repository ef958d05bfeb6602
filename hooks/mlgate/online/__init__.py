"""Online mode (`--online`, `--fix`): what hooks see of the network, and nothing more.

Nothing here imports `requests`: an offline run never loads it. A hook plugs in by naming a
module in `Hook.online` (e.g. `online="mlgate.pins.online"`), imported only for an online
run, which exposes (see `OnlineModule`):

- `check(session, context, findings) -> Iterable[Finding]`: runs once after the scan, with
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
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from mlgate.files import SourceFile
    from mlgate.findings import Finding
    from mlgate.hook import ScanContext
    from mlgate.online.http import Client

DOCKER_HUB = "docker.io"


class OnlineError(Exception):
    """A lookup failed (network, HTTP status, malformed answer): becomes an `errors` entry."""


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
    osv_database: str | None = None  # a directory of OSV JSON records: no OSV request at all
    registries: dict[str, str] = field(default_factory=dict)  # registry host -> base URL
    tokens: dict[str, str] = field(default_factory=dict)  # API ("github", "hub") -> its token, sent to that API only
    cache_dir: Path | None = None  # None: no cache
    cache_ttl: float = 6 * 3600.0
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 1.0  # first wait; doubles on each retry
    max_wait: float = 30.0  # cap on any one wait, Retry-After included

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        settings = cls(
            github_api=(env.get("GITHUB_API_URL") or cls.github_api).rstrip("/"),
            hf_endpoint=(env.get("HF_ENDPOINT") or cls.hf_endpoint).rstrip("/"),
            osv_url=(env.get("MLGATE_OSV_URL") or cls.osv_url).rstrip("/"),
            osv_database=env.get("MLGATE_OSV_DATABASE") or None,
            registries=_registries(env.get("MLGATE_REGISTRY_URLS", "")),
            cache_dir=None if env.get("MLGATE_NO_CACHE") else default_cache_dir(env),
            cache_ttl=_seconds(env, "MLGATE_CACHE_TTL", cls.cache_ttl),
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


class OnlineSession:
    """What online checks and fixers share in one run: settings, the HTTP client, errors,
    and a memo so that a fixer reuses what the check already looked up."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.errors: list[tuple[str, str]] = []
        self.memo: dict[Any, Any] = {}
        self.wanted: Callable[[str], bool] = lambda code: True  # set by the engine: selected rules
        self._http: Client | None = None

    @property
    def http(self) -> Client:
        if self._http is None:
            from mlgate.online.http import Client  # requests is imported here, and only here

            self._http = Client(self.settings)
        return self._http

    def error(self, path: str, message: str) -> None:
        self.errors.append((path, message))

    def lookup(self, key: tuple[str, ...], fetch: Callable[[], Any]) -> Any:
        """`fetch()` once per run for `key`, its JSON result kept in the on-disk cache too.

        A resolution can take several requests that are not worth caching one by one (a
        registry's 401, then a short-lived pull token, then the digest): the answer is what is
        kept, so a second run makes none of them. An `OnlineError` is remembered for the run.
        """
        if key not in self.memo:
            from mlgate.online.cache import Cache, Response

            cache, name = Cache(self.settings.cache_dir, self.settings.cache_ttl), json.dumps(key)
            stored = cache.get("LOOKUP", name, "")
            try:
                self.memo[key] = json.loads(stored.body) if stored else fetch()
            except OnlineError as exc:
                self.memo[key] = exc
            else:
                if stored is None:
                    cache.put("LOOKUP", name, "", Response(200, {}, json.dumps(self.memo[key]), ""))
        value = self.memo[key]
        if isinstance(value, OnlineError):
            raise value
        return value


Fixer = Callable[[OnlineSession, "Finding", "SourceFile"], list[Edit]]


class OnlineModule(Protocol):
    """What the module named by `Hook.online` exposes."""

    FIXES: Mapping[str, Fixer]

    def check(self, session: OnlineSession, context: ScanContext, findings: list[Finding]) -> Iterable[Finding]: ...
