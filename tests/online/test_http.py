"""The HTTP client against a real server on 127.0.0.1: retries, timeouts, tokens, cache."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

import pytest

from httpfake import FakeServer, server  # noqa: F401  (server: a fixture)
from mlgate.online import OnlineError, Settings
from mlgate.online import http as http_module
from mlgate.online.http import Client


def client(tmp_path, **overrides) -> Client:
    settings = Settings(cache_dir=tmp_path / "cache", backoff=0.01, max_wait=0.05, timeout=5.0)
    for name, value in overrides.items():
        setattr(settings, name, value)
    return Client(settings)


def test_json_answer_is_cached_across_clients(server, tmp_path):
    server.reply("GET", "/data", body={"value": 1})
    assert client(tmp_path).json("GET", f"{server.url}/data") == {"value": 1}
    assert client(tmp_path).json("GET", f"{server.url}/data") == {"value": 1}
    assert server.seen() == [("GET", "/data")]


def test_post_body_is_part_of_the_cache_key(server, tmp_path):
    server.reply("POST", "/q", body={"n": 1})
    server.reply("POST", "/q", body={"n": 2})
    http = client(tmp_path)
    assert http.json("POST", f"{server.url}/q", body={"a": 1}) == {"n": 1}
    assert http.json("POST", f"{server.url}/q", body={"a": 2}) == {"n": 2}
    assert http.json("POST", f"{server.url}/q", body={"a": 1}) == {"n": 1}
    assert [r.json() for r in server.requests] == [{"a": 1}, {"a": 2}]
    assert server.requests[0].headers["content-type"] == "application/json"


def test_expired_cache_entry_is_asked_again(server, tmp_path):
    server.reply("GET", "/data", body={"value": 1})
    client(tmp_path).json("GET", f"{server.url}/data")
    [entry] = (tmp_path / "cache" / "http").glob("*.json")
    old = time.time() - 7 * 3600
    os.utime(entry, (old, old))
    client(tmp_path).json("GET", f"{server.url}/data")
    assert server.seen() == [("GET", "/data"), ("GET", "/data")]


def test_no_cache_folder_means_every_run_asks(server, tmp_path):
    server.reply("GET", "/data", body={"value": 1})
    http = client(tmp_path, cache_dir=None)
    http.json("GET", f"{server.url}/data")
    http.json("GET", f"{server.url}/data")
    assert len(server.requests) == 2


def test_404_is_a_clear_error_and_is_cached(server, tmp_path):
    with pytest.raises(OnlineError) as raised:
        client(tmp_path).json("GET", f"{server.url}/repos/gone/gone/commits/v1")
    assert str(raised.value) == f"GET {server.url}/repos/gone/gone/commits/v1: HTTP 404 (Not Found)"
    assert client(tmp_path).json("GET", f"{server.url}/repos/gone/gone/commits/v1", ok=(200, 404)) is None
    assert len(server.requests) == 1


def test_429_is_retried_after_the_time_the_server_asks(server, tmp_path):
    server.reply("GET", "/limited", 429, b"slow down", {"Retry-After": "0"})
    server.reply("GET", "/limited", body={"ok": True})
    assert client(tmp_path).json("GET", f"{server.url}/limited") == {"ok": True}
    assert server.seen() == [("GET", "/limited"), ("GET", "/limited")]


def test_retry_after_is_capped(server, tmp_path, monkeypatch):
    server.reply("GET", "/limited", 429, b"", {"Retry-After": "3600"})
    server.reply("GET", "/limited", body={"ok": True})
    waits: list[float] = []  # every sleep the client asks for, instead of timing it
    monkeypatch.setattr(http_module, "time", SimpleNamespace(sleep=waits.append))
    assert client(tmp_path, max_wait=0.05).json("GET", f"{server.url}/limited") == {"ok": True}
    assert waits == [0.05]  # the server asked for an hour
    assert server.seen() == [("GET", "/limited"), ("GET", "/limited")]


def test_5xx_gives_up_after_the_retries_and_is_not_cached(server, tmp_path):
    server.reply("GET", "/down", 503)
    with pytest.raises(OnlineError) as raised:
        client(tmp_path, retries=2).json("GET", f"{server.url}/down")
    assert str(raised.value) == f"GET {server.url}/down: HTTP 503 (after 3 attempts)"
    assert len(server.requests) == 3
    assert not (tmp_path / "cache" / "http").exists()


def test_timeout_is_a_clear_error(server, tmp_path):
    server.reply("GET", "/slow", body={"late": True}, delay=1.0)
    with pytest.raises(OnlineError) as raised:
        client(tmp_path, timeout=0.2, retries=0).json("GET", f"{server.url}/slow")
    assert str(raised.value) == f"GET {server.url}/slow: no answer within 0.2 s (after 1 attempt)"


def test_refused_connection_is_a_clear_error(tmp_path):
    with pytest.raises(OnlineError) as raised:
        client(tmp_path, retries=1).json("GET", "http://127.0.0.1:9/x")
    assert str(raised.value) == "GET http://127.0.0.1:9/x: cannot connect (connection refused) (after 1 attempt)"


def test_malformed_json_is_a_clear_error(server, tmp_path):
    server.reply("GET", "/broken", body=b"<html>oops</html>")
    with pytest.raises(OnlineError) as raised:
        client(tmp_path).json("GET", f"{server.url}/broken")
    assert str(raised.value) == f"GET {server.url}/broken: malformed response (not JSON): '<html>oops</html>'"


def test_token_goes_to_its_own_origin_only(server, tmp_path):
    other = FakeServer()
    try:
        server.reply("GET", "/a", body={})
        other.reply("GET", "/b", body={})
        http = client(tmp_path, tokens={"github": "secret"}, github_api=server.url, cache_dir=None)
        http.json("GET", f"{server.url}/a", token_for="github")
        http.json("GET", f"{other.url}/b", token_for="github")
        http.json("GET", f"{server.url}/a")  # a URL the caller did not build on the API: no token
        assert server.requests[0].headers["authorization"] == "Bearer secret"
        assert "authorization" not in other.requests[0].headers
        assert "authorization" not in server.requests[1].headers
    finally:
        other.close()


def test_settings_come_from_the_usual_environment_variables(tmp_path):
    settings = Settings.from_env(
        {
            "GITHUB_API_URL": "http://127.0.0.1:1/api/",
            "GITHUB_TOKEN": "gh",
            "HF_ENDPOINT": "http://127.0.0.1:2",
            "HF_TOKEN": "hf",
            "MLGATE_OSV_URL": "http://127.0.0.1:3/",
            "MLGATE_REGISTRY_URLS": "docker.io=http://127.0.0.1:4/, ghcr.io=http://127.0.0.1:5",
            "XDG_CACHE_HOME": str(tmp_path),
            "MLGATE_CACHE_TTL": "60",
        }
    )
    assert (settings.github_api, settings.hf_endpoint, settings.osv_url) == (
        "http://127.0.0.1:1/api",
        "http://127.0.0.1:2",
        "http://127.0.0.1:3",
    )
    assert settings.tokens == {"github": "gh", "hub": "hf"}
    assert (settings.token_for("github", "http://127.0.0.1:1/api/repos"), settings.token_for("hub", "http://127.0.0.1:1/api/repos")) == (
        "gh",
        None,
    )
    assert (settings.registry_url("docker.io"), settings.registry_url("ghcr.io"), settings.registry_url("quay.io")) == (
        "http://127.0.0.1:4",
        "http://127.0.0.1:5",
        "https://quay.io",
    )
    assert (settings.cache_dir, settings.cache_ttl) == (tmp_path / "mlgate", 60.0)


def test_default_settings_point_at_the_public_services():
    settings = Settings.from_env({"HOME": "/home/u"})
    assert (settings.github_api, settings.hf_endpoint, settings.osv_url, settings.tokens) == (
        "https://api.github.com",
        "https://huggingface.co",
        "https://api.osv.dev",
        {},
    )
    assert settings.registry_url("docker.io") == "https://registry-1.docker.io"
    assert Settings.from_env({"MLGATE_NO_CACHE": "1"}).cache_dir is None
