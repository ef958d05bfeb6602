"""Tokens go only to the API they belong to, never to a URL a third party chose.

Real servers on loopback: the "API" (GITHUB_API_URL and HF_ENDPOINT, with GITHUB_TOKEN and
HF_TOKEN set) and a registry or other host on another port. `localhost` and `127.0.0.1` reach
the same server under two host names, which are two origins: a token bound to one is not
sent to the other.

The attack these tests close: a Dockerfile in a pull request names a registry the attacker
runs; its 401 answer points the `WWW-Authenticate` realm at the GitHub API (or the hub), and
the answer mlgate gets there with the user's token is sent back to the attacker's registry
as the "pull token".
"""

from __future__ import annotations

import pytest

from conftest import write_tree
from httpfake import FakeServer, server  # noqa: F401  (fixture)
from mlgate.cli import main
from mlgate.online import OnlineError, Settings
from mlgate.online.http import MAX_REDIRECTS, Client

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
DIGEST = "sha256:" + "ab" * 32
TOKENS = ("gh-secret", "hf-secret")


@pytest.fixture
def other():
    fake = FakeServer()
    yield fake
    fake.close()


@pytest.fixture
def api_env(server, monkeypatch, tmp_path_factory):
    """GitHub API and hub at `server`, with tokens; no registry yet; a fresh cache."""
    for name in ("GH_TOKEN", "HUGGING_FACE_HUB_TOKEN", "MLGATE_OSV_DATABASE", "MLGATE_NO_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_API_URL", server.url)
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKENS[0])
    monkeypatch.setenv("HF_TOKEN", TOKENS[1])
    monkeypatch.setenv("MLGATE_OSV_URL", "http://127.0.0.1:9")  # never asked: only pins of images and actions here
    monkeypatch.setenv("MLGATE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("MLGATE_HTTP_MAX_WAIT", "0.01")
    return server


def localhost(fake: FakeServer) -> str:
    """The same server under its other name."""
    return fake.url.replace("127.0.0.1", "localhost")


def authorizations(*fakes: FakeServer) -> list[tuple[str, str | None]]:
    return [(request.path, request.headers.get("authorization")) for fake in fakes for request in fake.requests]


def scan(monkeypatch, tmp_path, files: dict[str, str], *args: str) -> int:
    write_tree(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    return main(["check", "--online", "--select", "pins", *args, "."])


# ---- a registry's realm ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "realm",
    [
        "{api}/repos/victim/private/commits/main",  # the GitHub API
        "{api}/api/whoami-v2",  # the hub
        "{api_localhost}/repos/victim/private/commits/main",  # the same server by another name
    ],
)
def test_a_registry_realm_pointing_at_an_api_gets_no_token(monkeypatch, tmp_path, api_env, other, realm):
    monkeypatch.setenv("MLGATE_REGISTRY_URLS", f"evil.example={other.url}")
    realm = realm.format(api=api_env.url, api_localhost=localhost(api_env))
    path = "/" + realm.split("/", 3)[3]
    other.reply("HEAD", "/v2/team/app/manifests/1.0", 401, headers={"WWW-Authenticate": f'Bearer realm="{realm}",service="x"'})
    other.reply("HEAD", "/v2/team/app/manifests/1.0", headers={"Docker-Content-Digest": DIGEST})
    api_env.reply("GET", path, body={"token": "what-the-api-told-the-token"})

    assert scan(monkeypatch, tmp_path, {"Dockerfile": "FROM evil.example/team/app:1.0\n"}) == 1
    assert authorizations(api_env) == [(f"{path}?service=x", None)]
    assert authorizations(other) == [
        ("/v2/team/app/manifests/1.0", None),
        ("/v2/team/app/manifests/1.0", "Bearer what-the-api-told-the-token"),
    ]
    assert not any(token in str(request.headers) for request in api_env.requests + other.requests for token in TOKENS)


def test_a_registry_on_the_api_host_gets_no_token(monkeypatch, tmp_path, api_env):
    monkeypatch.setenv("MLGATE_REGISTRY_URLS", f"evil.example={api_env.url}")
    api_env.reply("HEAD", "/v2/team/app/manifests/1.0", headers={"Docker-Content-Digest": DIGEST})
    assert scan(monkeypatch, tmp_path, {"Dockerfile": "FROM evil.example/team/app:1.0\n"}) == 1
    assert authorizations(api_env) == [("/v2/team/app/manifests/1.0", None)]


def test_a_registry_redirect_to_another_host_does_not_carry_the_pull_token(monkeypatch, tmp_path, api_env, other):
    monkeypatch.setenv("MLGATE_REGISTRY_URLS", f"evil.example={other.url}")
    challenge = f'Bearer realm="{other.url}/token",service="x"'
    other.reply("HEAD", "/v2/team/app/manifests/1.0", 401, headers={"WWW-Authenticate": challenge})
    other.reply("HEAD", "/v2/team/app/manifests/1.0", 307, headers={"Location": f"{localhost(other)}/cdn/manifest"})
    other.reply("GET", "/token", body={"token": "pull-token"})
    other.reply("HEAD", "/cdn/manifest", headers={"Docker-Content-Digest": DIGEST})
    assert scan(monkeypatch, tmp_path, {"Dockerfile": "FROM evil.example/team/app:1.0\n"}) == 1
    assert authorizations(other) == [
        ("/v2/team/app/manifests/1.0", None),
        ("/token?service=x", None),
        ("/v2/team/app/manifests/1.0", "Bearer pull-token"),
        ("/cdn/manifest", None),
    ]


# ---- redirects from the API itself ----------------------------------------------------------

WORKFLOW = {
    ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
}


@pytest.mark.parametrize("elsewhere", ["other", "localhost"])
def test_an_api_redirect_to_another_origin_drops_the_token(monkeypatch, tmp_path, api_env, other, elsewhere):
    target = other if elsewhere == "other" else api_env
    base = other.url if elsewhere == "other" else localhost(api_env)
    api_env.reply("GET", "/repos/actions/checkout/commits/v4", 302, headers={"Location": f"{base}/moved/commits/v4"})
    target.reply("GET", "/moved/commits/v4", body={"sha": SHA})
    assert scan(monkeypatch, tmp_path, WORKFLOW) == 1
    assert authorizations(api_env, other) == [("/repos/actions/checkout/commits/v4", f"Bearer {TOKENS[0]}"), ("/moved/commits/v4", None)]


def test_a_redirect_within_the_api_keeps_the_token(monkeypatch, tmp_path, api_env):
    # GitHub answers 301 for a renamed repository.
    api_env.reply("GET", "/repos/actions/checkout/commits/v4", 301, headers={"Location": "/repositories/1/commits/v4"})
    api_env.reply("GET", "/repositories/1/commits/v4", body={"sha": SHA})
    assert scan(monkeypatch, tmp_path, WORKFLOW) == 1
    assert authorizations(api_env) == [
        ("/repos/actions/checkout/commits/v4", f"Bearer {TOKENS[0]}"),
        ("/repositories/1/commits/v4", f"Bearer {TOKENS[0]}"),
    ]


def test_a_redirect_that_leaves_the_api_and_comes_back_gets_no_token(monkeypatch, tmp_path, api_env, other):
    api_env.reply("GET", "/repos/actions/checkout/commits/v4", 302, headers={"Location": f"{other.url}/bounce"})
    other.reply("GET", "/bounce", 302, headers={"Location": f"{api_env.url}/repos/victim/private/commits/main"})
    api_env.reply("GET", "/repos/victim/private/commits/main", body={"sha": SHA})
    assert scan(monkeypatch, tmp_path, WORKFLOW) == 1
    assert authorizations(api_env, other) == [
        ("/repos/actions/checkout/commits/v4", f"Bearer {TOKENS[0]}"),
        ("/repos/victim/private/commits/main", None),
        ("/bounce", None),
    ]


def test_lookups_side_by_side_never_carry_the_token_to_another_host(monkeypatch, tmp_path, api_env, other):
    """Eight threads at once, each with its own connections: half the API's answers redirect
    elsewhere, and no request that reaches the other host carries the token."""
    count = 12
    workflow = "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n" + "".join(
        f"      - uses: org{n}/act@v1\n" for n in range(count)
    )
    for n in range(count):
        if n % 2:
            api_env.reply("GET", f"/repos/org{n}/act/commits/v1", 302, headers={"Location": f"{other.url}/moved/{n}"}, delay=0.05)
            other.reply("GET", f"/moved/{n}", body={"sha": SHA}, delay=0.05)
        else:
            api_env.reply("GET", f"/repos/org{n}/act/commits/v1", body={"sha": SHA}, delay=0.05)
    assert scan(monkeypatch, tmp_path, {".github/workflows/ci.yml": workflow}) == 1
    assert api_env.most_in_flight > 1  # side by side
    assert sorted(authorizations(api_env)) == sorted((f"/repos/org{n}/act/commits/v1", f"Bearer {TOKENS[0]}") for n in range(count))
    assert sorted(authorizations(other)) == sorted((f"/moved/{n}", None) for n in range(1, count, 2))


# ---- the client itself ---------------------------------------------------------------------


def client(server: FakeServer) -> Client:
    return Client(Settings(github_api=server.url, tokens={"github": "secret"}, cache_dir=None, backoff=0.01, max_wait=0.01, retries=2))


def test_a_caller_set_authorization_is_dropped_on_another_origin_too(server, other):
    server.reply("GET", "/a", 307, headers={"Location": f"{other.url}/b"})
    other.reply("GET", "/b", body={})
    assert client(server).json("GET", f"{server.url}/a") == {}  # no token_for: the caller's header only
    server.requests.clear()
    Client(Settings(cache_dir=None)).request("GET", f"{server.url}/a", headers={"Authorization": "Bearer registry"})
    assert authorizations(server, other) == [("/a", "Bearer registry"), ("/b", None), ("/b", None)]


def test_a_redirect_loop_is_one_error_and_is_not_retried(server):
    server.reply("GET", "/loop", 302, headers={"Location": "/loop"})
    with pytest.raises(OnlineError) as raised:
        client(server).json("GET", f"{server.url}/loop", token_for="github")
    assert str(raised.value) == f"GET {server.url}/loop: more than {MAX_REDIRECTS} redirects"
    assert len(server.requests) == MAX_REDIRECTS + 1


def test_see_other_turns_a_post_into_a_get_without_its_body(server):
    server.reply("POST", "/query", 303, headers={"Location": "/answer"})
    server.reply("GET", "/answer", body={"ok": True})
    assert client(server).json("POST", f"{server.url}/query", body={"q": 1}, token_for="github") == {"ok": True}
    assert [(r.method, r.path, r.body, r.headers.get("content-type"), r.headers.get("authorization")) for r in server.requests] == [
        ("POST", "/query", b'{"q": 1}', "application/json", "Bearer secret"),
        ("GET", "/answer", b"", None, "Bearer secret"),
    ]


def test_an_answer_got_with_the_token_is_not_reused_without_it(server, tmp_path):
    server.reply("GET", "/private", body={"secret": 1})
    settings = Settings(github_api=server.url, tokens={"github": "secret"}, cache_dir=tmp_path, backoff=0.01, max_wait=0.01)
    assert Client(settings).json("GET", f"{server.url}/private", token_for="github") == {"secret": 1}
    assert Client(settings).json("GET", f"{server.url}/private", token_for="github") == {"secret": 1}  # cached
    Client(settings).json("GET", f"{server.url}/private")  # asked again, without the token
    assert authorizations(server) == [("/private", "Bearer secret"), ("/private", None)]
