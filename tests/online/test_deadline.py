"""Online that fits a commit hook: lookups side by side (at most 8 at once), one overall deadline,
no retry of what cannot succeed, progress only on a terminal, each failure said once, nothing
looked up for a finding the report hides anyway.

Every server is on 127.0.0.1 and started by the test: the fake API of httpfake.py, a silent
one that accepts connections and never answers, or a port nothing listens on.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest

from conftest import write_tree
from httpfake import online_env, refused_url, server, silent_server  # noqa: F401  (fixtures)
from mlgate.cli import main
from mlgate.online import CONCURRENCY, Deadline, DeadlinePassed, OnlineError, OnlineSession, RepeatedFailure, Settings
from mlgate.online.checks import Progress
from mlgate.online.http import Client

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
MARGIN = 3.0  # seconds past the deadline a run may take to start, scan, and print its report (a loaded CI machine)
ACTIONS = 13


def workflow(count: int = ACTIONS, comment: str = "") -> str:
    """A workflow with `count` actions used by tag, one per line from line 6 on."""
    steps = "".join(f"      - uses: org{n}/act@v1{comment if n == 0 else ''}\n" for n in range(count))
    return "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n" + steps


def answer_every_action(server, count: int = ACTIONS, delay: float = 0.0) -> None:
    for n in range(count):
        server.reply("GET", f"/repos/org{n}/act/commits/v1", body={"sha": SHA}, delay=delay)


def run_json(capsys, monkeypatch, tmp_path, files: dict[str, str], *args: str) -> tuple[int, dict, str, float]:
    """`mlgate check --online --format json` of `files` in `tmp_path`: (status, report, stderr, seconds)."""
    write_tree(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    code = main(["check", "--online", "--format", "json", *args, "."])
    seconds = time.monotonic() - started
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err, seconds


def errors_by_line(report: dict, path: str) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for error in report["errors"]:
        if error["path"] == path:
            line = int(re.match(r"lines? (\d+)", error["message"]).group(1))
            found.setdefault(line, []).append(error["message"])
    return found


# ---- the deadline ------------------------------------------------------------------------------


def test_a_server_that_never_answers_costs_the_deadline_and_one_error_per_lookup(monkeypatch, tmp_path, silent_server, online_env, capsys):
    for variable in ("GITHUB_API_URL", "MLGATE_OSV_URL"):
        monkeypatch.setenv(variable, silent_server.url)
    files = {".github/workflows/ci.yml": workflow(), "requirements.txt": "torch==2.5.1\nnumpy==1.26.4\n"}
    code, report, _, seconds = run_json(capsys, monkeypatch, tmp_path, files, "--online-deadline", "2")

    assert seconds < 2 + MARGIN  # without the deadline: 10 s per lookup (the read timeout), 8 at a time
    assert code == 1
    # Every finding is still reported, as the scan found it.
    assert [(f["rule"], f["line"]) for f in report["findings"]] == [("PIN020", line) for line in range(6, 6 + ACTIONS)]
    assert not any("today" in f["message"] for f in report["findings"])
    # One error line per lookup the deadline cut short: the 8 under way say what they waited for.
    by_line = errors_by_line(report, ".github/workflows/ci.yml")
    assert sorted(by_line) == list(range(6, 6 + ACTIONS))
    assert all(len(messages) == 1 for messages in by_line.values())
    waiting = re.compile(
        rf"line (\d+): PIN020 not checked online: GET {silent_server.url}/repos/org(\d+)/act/commits/v1 had not answered "
        r"when the 2 s online deadline passed"
    )
    not_started = re.compile(r"line \d+: PIN020 not checked online: the 2 s online deadline passed before it started")
    asked = [waiting.fullmatch(messages[0]) for messages in by_line.values()]
    assert all(match is None or int(match.group(1)) == int(match.group(2)) + 6 for match in asked)
    assert sum(match is not None for match in asked) == CONCURRENCY - 1  # the OSV batch took the 8th thread
    assert all(waiting.fullmatch(m[0]) or not_started.fullmatch(m[0]) for m in by_line.values())
    assert errors_by_line(report, "requirements.txt") == {
        1: [
            f"lines 1, 2: pin lookups not checked online: POST {silent_server.url}/v1/querybatch had not answered "
            "when the 2 s online deadline passed"
        ]
    }
    assert len(report["errors"]) == ACTIONS + 1
    assert len(silent_server.connections) == CONCURRENCY


def test_the_deadline_comes_from_the_configuration_and_the_flag_wins(monkeypatch, tmp_path, silent_server, online_env, capsys):
    monkeypatch.setenv("GITHUB_API_URL", silent_server.url)
    files = {".github/workflows/ci.yml": workflow(1), ".mlgate.yaml": "online-deadline: 1\n"}
    code, report, _, seconds = run_json(capsys, monkeypatch, tmp_path, files)
    assert (code, seconds < 1 + MARGIN) == (1, True)
    assert [error["message"].split(" had not answered ")[1] for error in report["errors"]] == ["when the 1 s online deadline passed"]

    code, report, _, seconds = run_json(capsys, monkeypatch, tmp_path, files, "--online-deadline", "0.5")
    assert (code, seconds < 0.5 + MARGIN) == (1, True)
    assert report["errors"][0]["message"].endswith("when the 0.5 s online deadline passed")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "online-deadline: soon\n",
            "mlgate: error: .mlgate.yaml: key 'online-deadline': expected a number of seconds, 0 or more (0: no deadline), not 'soon'",
        ),
        (
            "online-deadline: -1\n",
            "mlgate: error: .mlgate.yaml: key 'online-deadline': expected a number of seconds, 0 or more (0: no deadline), not -1",
        ),
        (
            "online-deadline: true\n",
            "mlgate: error: .mlgate.yaml: key 'online-deadline': expected a number of seconds, 0 or more (0: no deadline), not True",
        ),
    ],
)
def test_a_bad_deadline_setting_is_a_configuration_error(monkeypatch, tmp_path, capsys, setting, message):
    write_tree(tmp_path, {".mlgate.yaml": setting, "requirements.txt": "torch==2.5.1\n"})
    monkeypatch.chdir(tmp_path)
    assert main(["check", "."]) == 2
    assert capsys.readouterr().err.strip() == message


def test_a_bad_deadline_flag_is_a_usage_error(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--online-deadline", "nan", "."]) == 2
    assert "argument --online-deadline: expected a number of seconds, 0 or more (0: no deadline), not 'nan'" in capsys.readouterr().err


def test_a_deadline_of_zero_means_none(monkeypatch, tmp_path, server, online_env, capsys):
    answer_every_action(server, 1, delay=0.3)
    code, report, _, _ = run_json(capsys, monkeypatch, tmp_path, {".github/workflows/ci.yml": workflow(1)}, "--online-deadline", "0")
    assert (code, report["errors"]) == (1, [])
    assert report["findings"][0]["message"].endswith(f"'v1' is commit {SHA} today")


def test_fix_after_the_deadline_writes_nothing_and_says_each_lookup_once(monkeypatch, tmp_path, silent_server, online_env, capsys):
    monkeypatch.setenv("GITHUB_API_URL", silent_server.url)
    write_tree(tmp_path, {".github/workflows/ci.yml": workflow(2)})
    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    assert main(["fix", "--online-deadline", "1", "--format", "json", "."]) == 1
    assert time.monotonic() - started < 1 + MARGIN
    captured = capsys.readouterr()
    assert (tmp_path / ".github/workflows/ci.yml").read_text() == workflow(2)
    assert "mlgate: no file rewritten: 2 fix(es) could not be made (see the errors)" in captured.err
    assert [error["message"] for error in json.loads(captured.out)["errors"]] == [
        f"line {line}: PIN020 not checked online: GET {silent_server.url}/repos/org{line - 6}/act/commits/v1 had not answered "
        "when the 1 s online deadline passed"
        for line in (6, 7)
    ]


def test_a_pre_commit_run_against_a_silent_server_ends_at_the_deadline(tmp_path, silent_server, precommit_hooks):
    from precommit_env import git, init_repo

    project = tmp_path / "project"
    init_repo(project)
    args = {"mlgate-pins": ["--online", "--online-deadline=2"]}
    (project / ".pre-commit-config.yaml").write_text(precommit_hooks.config(["mlgate-pins"], args=args))
    write_tree(project, {".github/workflows/ci.yml": workflow(3)})
    git(project, "add", "-A")
    env = {key: value for key, value in precommit_hooks.env().items() if not key.startswith(("GITHUB_", "GH_"))}
    env.update(GITHUB_API_URL=silent_server.url, MLGATE_OSV_URL=silent_server.url, MLGATE_CACHE_DIR=str(tmp_path / "cache"))

    started = time.monotonic()
    done = precommit_hooks.pre_commit(project, "run", "--all-files", env=env)
    seconds = time.monotonic() - started
    assert done.returncode == 1, done.stdout + done.stderr
    assert seconds < 2 + 5, seconds  # pre-commit itself takes a moment; without the deadline: 10 s (the read timeout)
    unfinished = [line for line in done.stdout.splitlines() if "not checked online" in line]
    assert [line.split(": error: ")[1].split(":")[0] for line in unfinished] == ["line 6", "line 7", "line 8"], done.stdout
    assert "mlgate: online" not in done.stdout + done.stderr  # pre-commit's output is no terminal


# ---- what is not retried, and what is not waited for ------------------------------------------


def counted_connections(monkeypatch) -> list[object]:
    """Every address a socket connects to during the test, in order."""
    attempts: list[object] = []
    connect = socket.socket.connect

    def counted(self, address):
        attempts.append(address)
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", counted)
    return attempts


def test_a_refused_connection_is_tried_once(monkeypatch, tmp_path, online_env, capsys):
    github, osv, pypi = refused_url(), refused_url(), refused_url()
    monkeypatch.setenv("GITHUB_API_URL", github)
    monkeypatch.setenv("MLGATE_OSV_URL", osv)
    monkeypatch.setenv("MLGATE_PYPI_URL", pypi)  # the pin's release date (the cooldown)
    attempts = counted_connections(monkeypatch)
    files = {".github/workflows/ci.yml": workflow(1), "requirements.txt": "torch==2.5.1\n"}
    code, report, _, seconds = run_json(capsys, monkeypatch, tmp_path, files)
    assert sorted(attempts) == sorted(("127.0.0.1", int(url.rsplit(":", 1)[1])) for url in (github, osv, pypi))  # each tried once
    assert code == 1
    assert sorted((error["path"], error["message"]) for error in report["errors"]) == [
        (
            ".github/workflows/ci.yml",
            f"line 6: GET {github}/repos/org0/act/commits/v1: cannot connect (connection refused) (after 1 attempt)",
        ),
        (osv, f"POST {osv}/v1/querybatch: cannot connect (connection refused) (after 1 attempt)"),
        ("requirements.txt", f"line 1: GET {pypi}/pypi/torch/2.5.1/json: cannot connect (connection refused) (after 1 attempt)"),
    ]


def test_a_host_that_refused_is_not_asked_again_in_the_run(monkeypatch):
    url = refused_url()
    attempts = counted_connections(monkeypatch)
    http = Client(Settings(cache_dir=None, backoff=0.01, max_wait=0.01))
    failures = []
    for path in ("/a", "/b"):
        with pytest.raises(OnlineError) as raised:
            http.json("GET", f"{url}{path}")
        failures.append(str(raised.value))
    assert len(attempts) == 1
    assert failures == [
        f"GET {url}/a: cannot connect (connection refused) (after 1 attempt)",
        f"GET {url}/b: not sent: {url} failed before in this run (connection refused)",
    ]


def test_a_host_name_that_does_not_resolve_is_tried_once(monkeypatch, tmp_path, online_env, capsys):
    monkeypatch.setenv("GITHUB_API_URL", "http://api.github.invalid")
    lookups: list[str] = []
    resolve = socket.getaddrinfo

    def no_such_host(host, *args, **kwargs):
        if host == "api.github.invalid":  # answered here: the test asks no name server
            lookups.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    code, report, _, _ = run_json(capsys, monkeypatch, tmp_path, {".github/workflows/ci.yml": workflow(1)})
    assert lookups == ["api.github.invalid"]
    assert [error["message"] for error in report["errors"]] == [
        "line 6: GET http://api.github.invalid/repos/org0/act/commits/v1: cannot connect (host name not resolved) (after 1 attempt)"
    ]


def test_an_answer_that_does_not_come_within_the_read_timeout_is_not_asked_again(server, tmp_path):
    server.reply("GET", "/slow", body={"late": True}, delay=1.0)
    http = Client(Settings(cache_dir=None, timeout=0.2, retries=3, backoff=0.01, max_wait=0.01))
    with pytest.raises(OnlineError) as raised:
        http.json("GET", f"{server.url}/slow")
    assert str(raised.value) == f"GET {server.url}/slow: no answer within 0.2 s (after 1 attempt)"
    assert server.seen() == [("GET", "/slow")]


def test_a_503_is_retried_only_while_the_deadline_leaves_time(server, tmp_path):
    server.reply("GET", "/busy", 503, headers={"Retry-After": "5"})
    deadline = Deadline(1)
    deadline.start()
    http = Client(Settings(cache_dir=None, retries=3, max_wait=5), deadline)
    started = time.monotonic()
    with pytest.raises(DeadlinePassed) as raised:
        http.json("GET", f"{server.url}/busy")
    assert time.monotonic() - started < 1
    assert str(raised.value) == f"GET {server.url}/busy: HTTP 503 (after 1 attempt; the 1 s online deadline leaves no time to retry)"
    assert server.seen() == [("GET", "/busy")]


def test_no_request_starts_after_the_deadline(server):
    deadline = Deadline(0.01)
    deadline.start()
    time.sleep(0.02)
    with pytest.raises(DeadlinePassed):
        Client(Settings(cache_dir=None), deadline).json("GET", f"{server.url}/late")
    assert server.requests == []


# ---- side by side ------------------------------------------------------------------------------


def test_lookups_run_side_by_side_at_most_eight_at_once(monkeypatch, tmp_path, server, online_env, capsys):
    count, delay = 20, 0.4
    answer_every_action(server, count, delay=delay)
    code, report, _, seconds = run_json(capsys, monkeypatch, tmp_path, {".github/workflows/ci.yml": workflow(count)})
    assert (code, report["errors"]) == (1, [])
    assert [f["message"].endswith(f"'v1' is commit {SHA} today") for f in report["findings"]] == [True] * count
    assert server.most_in_flight == CONCURRENCY
    assert sorted(server.seen()) == sorted(("GET", f"/repos/org{n}/act/commits/v1") for n in range(count))


def test_one_lookup_for_a_reference_used_twice_even_at_the_same_time(monkeypatch, tmp_path, server, online_env, capsys):
    server.reply("GET", "/repos/org0/act/commits/v1", body={"sha": SHA}, delay=0.3)
    text = workflow(1) + "      - uses: org0/act@v1\n" * 5
    code, report, _, _ = run_json(capsys, monkeypatch, tmp_path, {".github/workflows/ci.yml": text})
    assert (code, report["errors"]) == (1, [])
    assert len(report["findings"]) == 6
    assert server.seen() == [("GET", "/repos/org0/act/commits/v1")]


def test_a_lookup_asked_by_two_threads_is_fetched_once_and_a_failure_told_once():
    session = OnlineSession(Settings(cache_dir=None))
    calls: list[str] = []

    def slow_fetch() -> str:
        calls.append("fetch")
        time.sleep(0.2)
        raise OnlineError("GET x: HTTP 404")

    outcomes: list[BaseException] = []

    def ask() -> None:
        try:
            session.lookup(("k",), slow_fetch)
        except OnlineError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == ["fetch"]
    assert sorted(type(exc).__name__ for exc in outcomes) == ["OnlineError", "RepeatedFailure", "RepeatedFailure"]
    assert {str(exc) for exc in outcomes} == {"GET x: HTTP 404"}
    with pytest.raises(RepeatedFailure):
        session.lookup(("k",), slow_fetch)


def test_checks_take_turns_and_only_their_network_waits_overlap(server):
    """Hook code runs in one thread at a time (no hook needs to be thread-safe), while the
    requests of eight checks are under way together."""
    from mlgate.hook import ScanContext
    from mlgate.online.checks import run_checks
    from mlgate.pins.rules import ACTION_NOT_PINNED

    for n in range(16):
        server.reply("GET", f"/{n}", body={}, delay=0.2)
    session = OnlineSession(Settings(cache_dir=None))
    inside: list[int] = []
    most_inside = 0

    def check(session, context, findings):
        nonlocal most_inside
        for step in ("before", "after"):
            inside.append(1)
            most_inside = max(most_inside, len(inside))
            time.sleep(0.005)  # hook code that takes a while: another thread would get in now
            inside.pop()
            if step == "before":
                session.http.json("GET", f"{server.url}/{findings[0].line}")
        return findings

    module = type("Module", (), {"check": staticmethod(check), "FIXES": {}})
    findings = [ACTION_NOT_PINNED.finding("ci.yml", n, 1, "m") for n in range(16)]
    started = time.monotonic()
    assert run_checks(session, [(module, ScanContext(online=True), findings)]) == findings
    assert most_inside == 1
    assert server.most_in_flight == CONCURRENCY
    assert time.monotonic() - started < 16 * 0.2 / 2


# ---- each failure once -------------------------------------------------------------------------


def test_fix_lists_a_failed_lookup_once(monkeypatch, tmp_path, online_env, capsys):
    url = refused_url()
    monkeypatch.setenv("GITHUB_API_URL", url)
    write_tree(tmp_path, {".github/workflows/ci.yml": workflow(2)})
    monkeypatch.chdir(tmp_path)
    assert main(["fix", "--format", "json", "."]) == 1
    captured = capsys.readouterr()
    # The two lookups run together: the second may find the host already known to refuse.
    failed = re.compile(
        rf"line (\d+): GET {url}/repos/org(\d+)/act/commits/v1: (cannot connect \(connection refused\) \(after 1 attempt\)|"
        rf"not sent: {url} failed before in this run \(connection refused\))"
    )
    matches = [failed.fullmatch(error["message"]) for error in json.loads(captured.out)["errors"]]
    assert [(int(match.group(1)), int(match.group(2))) for match in matches] == [(6, 0), (7, 1)]
    assert "mlgate: no file rewritten: 2 fix(es) could not be made (see the errors)" in captured.err
    assert (tmp_path / ".github/workflows/ci.yml").read_text() == workflow(2)


# ---- what the report hides is not looked up ------------------------------------------------------


def test_a_finding_an_ignore_comment_hides_is_not_looked_up(monkeypatch, tmp_path, server, online_env, capsys):
    answer_every_action(server, 2)
    files = {".github/workflows/ci.yml": workflow(2, comment="  # mlgate: ignore[PIN020]")}
    code, report, _, _ = run_json(capsys, monkeypatch, tmp_path, files)
    assert (code, [(f["rule"], f["line"]) for f in report["findings"]]) == (1, [("PIN020", 7)])
    assert server.seen() == [("GET", "/repos/org1/act/commits/v1")]


def test_a_finding_the_baseline_lists_is_not_looked_up(monkeypatch, tmp_path, server, online_env, capsys):
    answer_every_action(server, 2)
    write_tree(tmp_path, {".github/workflows/ci.yml": workflow(1)})
    monkeypatch.chdir(tmp_path)
    assert main(["baseline", "--output", "baseline.json", "."]) == 0  # offline: org0 is accepted
    (tmp_path / ".github/workflows/ci.yml").write_text(workflow(2))
    capsys.readouterr()
    assert main(["check", "--online", "--baseline", "baseline.json", "--format", "json", "."]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(f["rule"], f["line"]) for f in report["findings"]] == [("PIN020", 7)]
    assert server.seen() == [("GET", "/repos/org1/act/commits/v1")]


def test_an_ignored_rule_is_not_looked_up(monkeypatch, tmp_path, server, online_env, capsys):
    answer_every_action(server, 2)
    files = {".github/workflows/ci.yml": workflow(2), "requirements.txt": "torch==2.5.1\n"}
    code, report, _, _ = run_json(capsys, monkeypatch, tmp_path, files, "--ignore", "PIN020,PIN030,PIN031,PIN032")
    assert (code, report["findings"], report["errors"]) == (0, [], [])
    assert server.requests == []


# ---- progress ----------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_line_rewritten_then_erased_on_a_terminal(monkeypatch):
    stream = Terminal()
    progress = Progress(stream, 3)
    monkeypatch.setattr(Progress, "INTERVAL", 0)
    for count in range(4):
        progress.show(count)
    progress.clear()
    written = stream.getvalue()
    assert written.split("\r")[1:5] == [f"mlgate: online {n}/3 lookups" for n in range(4)]
    assert written.endswith("\r" + " " * len("mlgate: online 3/3 lookups") + "\r")
    assert "\n" not in written


def test_no_progress_when_stderr_is_not_a_terminal(monkeypatch, tmp_path, server, online_env, capsys):
    answer_every_action(server, 2)
    _, _, err, _ = run_json(capsys, monkeypatch, tmp_path, {".github/workflows/ci.yml": workflow(2)})
    assert err == ""
    stream = io.StringIO()
    Progress(stream, 2).show(1)
    assert stream.getvalue() == ""


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_progress_on_a_real_terminal(tmp_path, server):
    answer_every_action(server, 3, delay=0.2)
    write_tree(tmp_path, {".github/workflows/ci.yml": workflow(3)})
    leader, follower = os.openpty()
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "GH_", "MLGATE_", "HF_"))},
        "GITHUB_API_URL": server.url,
        "MLGATE_NO_CACHE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "mlgate", "check", "--online", "--format", "json", "--output", "report.json", "."],
        cwd=tmp_path,
        env=env,
        stderr=follower,
        stdout=subprocess.DEVNULL,
        timeout=60,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the follower side is closed: all is read
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert done.returncode == 1
    text = shown.decode()
    assert "mlgate: online 0/3 lookups" in text
    assert "mlgate: online 3/3 lookups" in text
    assert text.endswith(" " * len("mlgate: online 3/3 lookups") + "\r")
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["errors"] == []
