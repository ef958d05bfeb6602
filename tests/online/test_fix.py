"""`--fix` / `mlgate fix`: actions, pre-commit repositories and images pinned in place,
against a fake GitHub API and registry on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from conftest import write_tree
from httpfake import online_env, server  # noqa: F401  (fixtures)
from mlgate.cli import main
from mlgate.online import Edit
from mlgate.online.fix import apply

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
SHA2 = "0b93645e9fea7318ecaed2b359559ac225c90a2b"
DIGEST = "sha256:" + "ab" * 32

WORKFLOW = """\
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: "actions/setup-python@v5"   # the Python we test on
      - {uses: actions/checkout@v4, with: {fetch-depth: 0}}
      - uses: ./.github/actions/local
"""
WORKFLOW_FIXED = f"""\
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4
      - uses: "actions/setup-python@{SHA2}" # v5   # the Python we test on
      - {{uses: actions/checkout@{SHA}, with: {{fetch-depth: 0}}}}
      - uses: ./.github/actions/local
"""


def github(server) -> None:
    server.reply("GET", "/repos/actions/checkout/commits/v4", body={"sha": SHA})
    server.reply("GET", "/repos/actions/setup-python/commits/v5", body={"sha": SHA2.upper()})


def run(monkeypatch, tmp_path, files, *args) -> int:
    write_tree(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    return main([*args])


def test_fix_pins_actions_and_keeps_the_tag_as_a_comment(monkeypatch, tmp_path, server, online_env, capsys):
    github(server)
    assert run(monkeypatch, tmp_path, {".github/workflows/ci.yml": WORKFLOW}, "fix", ".") == 1
    assert (tmp_path / ".github/workflows/ci.yml").read_text() == WORKFLOW_FIXED
    assert "mlgate: fixed .github/workflows/ci.yml" in capsys.readouterr().err
    # The same references are asked once per run (at the same time: in any order); a second run is answered by the cache.
    assert sorted(server.seen()) == [("GET", "/repos/actions/checkout/commits/v4"), ("GET", "/repos/actions/setup-python/commits/v5")]
    assert main(["fix", "."]) == 0
    assert (tmp_path / ".github/workflows/ci.yml").read_text() == WORKFLOW_FIXED
    assert len(server.requests) == 2


def test_online_check_says_what_a_tag_points_to(monkeypatch, tmp_path, server, online_env, capsys):
    github(server)
    assert run(monkeypatch, tmp_path, {".github/workflows/ci.yml": WORKFLOW}, "check", "--online", "--format", "json", ".") == 1
    report = json.loads(capsys.readouterr().out)
    assert [(f["rule"], f["line"], f["column"]) for f in report["findings"]] == [("PIN020", 6, 15), ("PIN020", 7, 16), ("PIN020", 8, 16)]
    assert report["findings"][0]["message"] == (
        f"action actions/checkout is used at 'v4', a tag or branch its owner (or whoever takes over the account) can move; 'v4' is commit {SHA} today"
    )
    assert (tmp_path / ".github/workflows/ci.yml").read_text() == WORKFLOW


def test_missing_repository_is_an_error_and_nothing_is_rewritten(monkeypatch, tmp_path, server, online_env, capsys):
    server.reply("GET", "/repos/actions/checkout/commits/v4", body={"sha": SHA})
    # setup-python is not served: the fake answers 404, as GitHub does for a deleted repository
    assert run(monkeypatch, tmp_path, {".github/workflows/ci.yml": WORKFLOW}, "fix", "--format", "json", ".") == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert "mlgate: no file rewritten: 1 fix(es) could not be made (see the errors)" in captured.err
    assert (tmp_path / ".github/workflows/ci.yml").read_text() == WORKFLOW
    # Once: the check reported the failed lookup; the fix that needed it does not say it again.
    assert report["errors"] == [
        {
            "path": ".github/workflows/ci.yml",
            "message": f"line 7: GET {server.url}/repos/actions/setup-python/commits/v5: HTTP 404 (Not Found)",
        },
    ]


def test_malformed_answer_rewrites_nothing(monkeypatch, tmp_path, server, online_env):
    server.reply("GET", "/repos/actions/checkout/commits/v4", body={"sha": "not-a-sha"})
    server.reply("GET", "/repos/actions/setup-python/commits/v5", body={"sha": SHA2})
    assert run(monkeypatch, tmp_path, {".github/workflows/ci.yml": WORKFLOW}, "fix", ".") == 1
    assert (tmp_path / ".github/workflows/ci.yml").read_text() == WORKFLOW


PRE_COMMIT = """\
repos:
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: v0.6.9
    hooks:
      - id: ruff
  - repo: https://gitlab.com/org/hooks
    rev: 'v1.0'
    hooks:
      - id: lint
"""


def test_fix_freezes_pre_commit_revs_of_github_repositories(monkeypatch, tmp_path, server, online_env):
    server.reply("GET", "/repos/astral-sh/ruff-pre-commit/commits/v0.6.9", body={"sha": SHA})
    assert run(monkeypatch, tmp_path, {".pre-commit-config.yaml": PRE_COMMIT}, "fix", ".") == 1
    # Not on GitHub: left alone, still reported.
    assert (tmp_path / ".pre-commit-config.yaml").read_text() == PRE_COMMIT.replace("rev: v0.6.9", f"rev: {SHA}  # frozen: v0.6.9")
    assert server.seen() == [("GET", "/repos/astral-sh/ruff-pre-commit/commits/v0.6.9")]


DOCKERFILE = (
    "# syntax=docker/dockerfile:1\r\nFROM python:3.11 AS build\r\nFROM ghcr.io/org/app:1.0\r\nFROM build\r\nARG BASE=ubuntu:22.04\r\n"
)


def registry(server) -> None:
    challenge = f'Bearer realm="{server.url}/token",service="registry.docker.io",scope="repository:library/python:pull"'
    server.reply("HEAD", "/v2/library/python/manifests/3.11", 401, headers={"WWW-Authenticate": challenge})
    server.reply("HEAD", "/v2/library/python/manifests/3.11", headers={"Docker-Content-Digest": DIGEST})
    server.reply("GET", "/token", body={"token": "pull-token"})
    server.reply("HEAD", "/v2/org/app/manifests/1.0", headers={"Docker-Content-Digest": "sha256:" + "cd" * 32})
    server.reply("HEAD", "/v2/docker/dockerfile/manifests/1", headers={"Docker-Content-Digest": "sha256:" + "ef" * 32})


def test_fix_pins_images_by_digest_with_the_registry_token_flow(monkeypatch, tmp_path, server, online_env):
    registry(server)
    assert run(monkeypatch, tmp_path, {"Dockerfile": DOCKERFILE}, "fix", ".") == 1
    assert (tmp_path / "Dockerfile").read_bytes().decode() == (
        f"# syntax=docker/dockerfile:1@sha256:{'ef' * 32}\r\nFROM python:3.11@{DIGEST} AS build\r\n"
        f"FROM ghcr.io/org/app:1.0@sha256:{'cd' * 32}\r\nFROM build\r\nARG BASE=ubuntu:22.04\r\n"
    )
    python = [r for r in server.requests if r.path == "/v2/library/python/manifests/3.11"]
    assert [r.headers.get("authorization") for r in python] == [None, "Bearer pull-token"]
    assert (
        python[0]
        .headers["accept"]
        .startswith("application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json")
    )
    [token] = [r.path for r in server.requests if r.path.startswith("/token")]
    assert token == "/token?service=registry.docker.io&scope=repository%3Alibrary%2Fpython%3Apull"
    # The second run (on the unfixed file again) asks nothing: the digests are cached, not the token.
    count = len(server.requests)
    (tmp_path / "Dockerfile").write_bytes(DOCKERFILE.encode())
    assert main(["fix", "."]) == 1
    assert len(server.requests) == count


def test_fix_pins_compose_images_by_digest(monkeypatch, tmp_path, server, online_env):
    registry(server)
    text = "services:\n  api:\n    image: 'python:3.11'  # the API\n  worker:\n    image: ghcr.io/org/app:1.0\n"
    assert run(monkeypatch, tmp_path, {"compose.yaml": text}, "fix", ".") == 1  # files changed
    assert (tmp_path / "compose.yaml").read_text() == (
        f"services:\n  api:\n    image: 'python:3.11@{DIGEST}'  # the API\n  worker:\n    image: ghcr.io/org/app:1.0@sha256:{'cd' * 32}\n"
    )


def test_registry_answer_without_digest_is_an_error(monkeypatch, tmp_path, server, online_env):
    server.reply("HEAD", "/v2/library/alpine/manifests/latest")
    assert run(monkeypatch, tmp_path, {"Dockerfile": "FROM alpine\n"}, "fix", ".") == 1
    assert (tmp_path / "Dockerfile").read_text() == "FROM alpine\n"


def test_edit_that_no_longer_fits_writes_no_file(tmp_path, monkeypatch):
    write_tree(tmp_path, {"a.yml": "uses: o/r@v1\n", "b.yml": "uses: o/r@v2\n"})
    monkeypatch.chdir(tmp_path)
    changed, errors = apply([Edit("a.yml", 1, 11, "v1", SHA), Edit("b.yml", 1, 11, "v1", SHA)])
    assert (changed, errors) == ([], [("b.yml", "not fixed: line 1 no longer holds 'v1' at column 11")])
    assert (tmp_path / "a.yml").read_text() == "uses: o/r@v1\n"


def test_overlapping_edits_are_refused(tmp_path, monkeypatch):
    write_tree(tmp_path, {"a.yml": "uses: o/r@v1\n"})
    monkeypatch.chdir(tmp_path)
    changed, errors = apply([Edit("a.yml", 1, 7, "o/r@v1", "x"), Edit("a.yml", 1, 11, "v1", SHA)])
    assert (changed, errors) == ([], [("a.yml", "not fixed: line 1: two fixes overlap at column 7")])


def test_edits_keep_a_byte_order_mark_and_the_file_mode(tmp_path, monkeypatch):
    path = tmp_path / "a.yml"
    path.write_bytes(b"\xef\xbb\xbfuses: o/r@v1\n")
    path.chmod(0o640)
    monkeypatch.chdir(tmp_path)
    assert apply([Edit("a.yml", 1, 11, "v1", SHA), Edit("a.yml", 1, 13, "", " # v1")]) == (["a.yml"], [])
    assert path.read_bytes() == f"\ufeffuses: o/r@{SHA} # v1\n".encode()
    assert path.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("command", [["check", "."], ["check", "--online", "."]])
def test_check_without_fix_never_writes(monkeypatch, tmp_path, server, online_env, command):
    github(server)
    assert run(monkeypatch, tmp_path, {".github/workflows/ci.yml": WORKFLOW}, *command) == 1
    assert (tmp_path / ".github/workflows/ci.yml").read_text() == WORKFLOW
