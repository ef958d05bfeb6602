"""What an image tag points to now: its digest (a tag's commit is `mlgate.online.github`).

Registries: the distribution API v2, `HEAD /v2/<name>/manifests/<tag>` with the
Accept headers of manifest lists and OCI indexes, so the digest is the multi-platform one
`docker pull` records; a 401 with `WWW-Authenticate: Bearer realm=...` is answered with an
anonymous pull token (Docker Hub, GHCR), sent only to the registry that asked for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from mlgate.online import DOCKER_HUB, OnlineError, OnlineSession

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Image:
    host: str
    repository: str
    tag: str

    @classmethod
    def parse(cls, reference: str) -> Image | None:
        """`python:3.11`, `ghcr.io/org/img:tag`, `localhost:5000/x` -> Image; None if it has a digest."""
        if "@" in reference or "$" in reference or not reference:
            return None
        name, tag = reference, "latest"
        last = reference.rsplit("/", 1)[-1]
        if ":" in last:
            name, tag = reference.rsplit(":", 1)
        first, _, rest = name.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            host, repository = first.lower(), rest
        else:
            host, repository = DOCKER_HUB, name
        if host in ("index.docker.io", "registry-1.docker.io"):
            host = DOCKER_HUB
        if host == DOCKER_HUB and "/" not in repository:
            repository = f"library/{repository}"
        return cls(host, repository, tag)


def digest_of(session: OnlineSession, image: Image) -> str:
    """The `sha256:` digest the registry serves for the image's tag now."""
    return session.lookup(("image", image.host, image.repository, image.tag), lambda: _fetch_digest(session, image))


def _fetch_digest(session: OnlineSession, image: Image) -> str:
    url = f"{session.settings.registry_url(image.host)}/v2/{image.repository}/manifests/{quote(image.tag, safe='')}"
    headers = {"Accept": MANIFEST_TYPES}
    answer = session.http.request("HEAD", url, headers=headers, ok=(200, 401))
    if answer.status == 401:
        headers["Authorization"] = f"Bearer {_pull_token(session, url, answer.headers.get('www-authenticate', ''))}"
        answer = session.http.request("HEAD", url, headers=headers)
    digest = answer.headers.get("docker-content-digest", "")
    if DIGEST.fullmatch(digest) is None:
        raise OnlineError(f"HEAD {url}: malformed response (no Docker-Content-Digest)")
    return digest


def _pull_token(session: OnlineSession, url: str, challenge: str) -> str:
    scheme, _, params_text = challenge.partition(" ")
    params = dict(_CHALLENGE_PARAM.findall(params_text))
    if scheme.lower() != "bearer" or "realm" not in params:
        raise OnlineError(f"HEAD {url}: HTTP 401 without a Bearer challenge")
    query = urlencode({key: params[key] for key in ("service", "scope") if key in params})
    token_url = f"{params['realm']}?{query}" if query else params["realm"]
    answer = session.http.json("GET", token_url, cache=False)
    token = (answer.get("token") or answer.get("access_token")) if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise OnlineError(f"GET {token_url}: malformed response (no token)")
    return token
