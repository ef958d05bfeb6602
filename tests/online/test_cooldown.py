"""PIN032 / HUB020: pins to releases younger than the `cooldown` setting, against fake PyPI,
GitHub and hub APIs on 127.0.0.1, with the clock fixed (`mlgate.online.cooldown.now`)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from conftest import write_tree
from httpfake import online_env, server  # noqa: F401  (fixtures)
from mlgate.cli import main
from mlgate.config import COOLDOWN_DAYS, ConfigError, load_config
from mlgate.online import cooldown
from mlgate.plugins import load_hooks

NOW = datetime(2025, 3, 17, 12, 0, tzinfo=timezone.utc)
JUST_YOUNGER = timedelta(days=3) - timedelta(minutes=1)
JUST_OLDER = timedelta(days=3) + timedelta(minutes=1)
EXACTLY = timedelta(days=3)
SHA = ["%040x" % (0xC0 + number) for number in range(6)]


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setattr(cooldown, "now", lambda: NOW)


def iso(age: timedelta, fraction: bool = True) -> str:
    """A timestamp `age` before NOW, as PyPI (with microseconds) or GitHub (without) write it."""
    return (NOW - age).strftime("%Y-%m-%dT%H:%M:%S.%fZ" if fraction else "%Y-%m-%dT%H:%M:%SZ")


def pypi(server, name: str, version: str, *ages: timedelta, body=None) -> None:
    files = [{"filename": f"{name}-{version}-{n}.whl", "upload_time_iso_8601": iso(age)} for n, age in enumerate(ages)]
    server.reply("GET", f"/pypi/{name}/{version}/json", body=body if body is not None else {"urls": files})


def github_commit(server, owner: str, repo: str, ref: str, sha: str, age: timedelta | None) -> None:
    commit = {"committer": {"date": iso(age, fraction=False)}} if age is not None else {}
    server.reply("GET", f"/repos/{owner}/{repo}/commits/{ref}", body={"sha": sha, "commit": commit})


def hub_commit(server, repo_id: str, sha: str, age: timedelta | None, kind: str = "models") -> None:
    server.reply("GET", f"/api/{kind}/{repo_id}/revision/{sha}", body={"sha": sha})
    entry = {"id": sha, "title": "Upload model", "date": iso(age)} if age is not None else {"id": sha, "title": "x"}
    server.reply("GET", f"/api/{kind}/{repo_id}/commits/{sha}", body=[entry, {"id": SHA[5], "date": iso(timedelta(days=400))}])


def said(what: str, when: str, ends: str, previous: str) -> str:
    """A finding's message: `what` released `when`, in a cooldown that `ends`; pin the `previous` release or commit."""
    return (
        f"{what} ({when}), inside the 3-day cooldown that lets a malicious release be found and pulled before it is used; "
        f"pin the previous {previous}, or wait until then to take this one (the cooldown ends {ends}; the `cooldown` setting sets the days)"
    )


def online(scan_tree, files, select: str):
    return scan_tree(files, select=select, online=True)


# ---- the core: ages, the threshold, the wording ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-12-04T19:45:37.123456Z", datetime(2024, 12, 4, 19, 45, 37, 123456, tzinfo=timezone.utc)),
        ("2025-03-14T16:57:06Z", datetime(2025, 3, 14, 16, 57, 6, tzinfo=timezone.utc)),
        ("2025-03-14T17:57:06+01:00", datetime(2025, 3, 14, 16, 57, 6, tzinfo=timezone.utc)),
        ("2024-01-01T00:00:00.000Z", datetime(2024, 1, 1, tzinfo=timezone.utc)),
        ("2024-12-04T19:45:37", datetime(2024, 12, 4, 19, 45, 37, tzinfo=timezone.utc)),  # PyPI's `upload_time`: UTC
    ],
)
def test_timestamps_as_the_apis_write_them(text, expected):
    assert cooldown.parse_time(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "", "2025-13-40T00:00:00Z", "2025-03-14", "2025-03-14T16:57:06Zjunk"])
def test_malformed_timestamps_are_refused(text):
    with pytest.raises(ValueError):
        cooldown.parse_time(text)


@pytest.mark.parametrize(
    ("age", "said"),
    [
        (timedelta(minutes=59), "less than an hour ago"),
        (timedelta(hours=1), "1 hour ago"),
        (timedelta(hours=47, minutes=59), "47 hours ago"),
        (timedelta(days=2, hours=23), "2.9 days ago"),
        (timedelta(hours=-2), "in the future, by this machine's clock"),
    ],
)
def test_ages_in_hours_then_days(age, said):
    assert cooldown.describe_age(age) == said


def test_the_default_is_three_days_and_the_setting_is_checked(tmp_path):
    hooks = load_hooks()
    assert COOLDOWN_DAYS == 3.0
    assert load_config(None, hooks, start=tmp_path).cooldown == 3.0
    (tmp_path / ".mlgate.yaml").write_text("cooldown: 0.5\n")
    assert load_config(None, hooks, start=tmp_path).cooldown == 0.5
    for bad in ("-1", "three", "true", "[3]"):
        (tmp_path / ".mlgate.yaml").write_text(f"cooldown: {bad}\n")
        with pytest.raises(ConfigError, match=r"\.mlgate\.yaml: key 'cooldown': expected a number of days, 0 or more"):
            load_config(None, hooks, start=tmp_path)


def test_show_settings_prints_the_cooldown(tmp_path, monkeypatch, capsys):
    write_tree(tmp_path, {".mlgate.yaml": "cooldown: 7\n"})
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--show-settings", "."]) == 0
    assert "cooldown: 7.0" in capsys.readouterr().out.splitlines()


# ---- PyPI: exact pins --------------------------------------------------------------------------

REQUIREMENTS = "ultralytics==8.3.41\nnumpy==1.26.4\nrequests==2.32.3\ntorch==2.6.0\nour-private-package==1.0\nscipy==1.15.0\n"


def pypi_releases(server) -> None:
    pypi(server, "ultralytics", "8.3.41", timedelta(hours=1), JUST_YOUNGER)  # the earliest file counts
    pypi(server, "numpy", "1.26.4", JUST_OLDER)
    pypi(server, "requests", "2.32.3", EXACTLY)  # exactly 3 days: the cooldown is served
    pypi(server, "torch", "2.6.0", timedelta(hours=5))
    pypi(server, "scipy", "1.15.0", body={"urls": []})  # a release without files: nothing to judge
    # our-private-package: PyPI answers 404, not judged either


def test_exact_pins_younger_than_the_cooldown_are_reported(scan_tree, server, online_env):
    pypi_releases(server)
    scan = online(scan_tree, {"requirements.txt": REQUIREMENTS}, "PIN032")
    assert scan.errors == []
    assert scan.hits == [("PIN032", "requirements.txt", 1, 1), ("PIN032", "requirements.txt", 4, 1)]
    assert scan.messages("PIN032") == [
        said("ultralytics 8.3.41 was first uploaded to PyPI 2.9 days ago", "2025-03-14 12:01 UTC", "2025-03-17 12:01 UTC", "release"),
        said("torch 2.6.0 was first uploaded to PyPI 5 hours ago", "2025-03-17 07:00 UTC", "2025-03-20 07:00 UTC", "release"),
    ]
    assert str(scan.findings[0].severity) == "medium"
    assert sorted(server.seen()) == sorted(
        ("GET", f"/pypi/{name}/json")
        for name in ("ultralytics/8.3.41", "numpy/1.26.4", "requests/2.32.3", "torch/2.6.0", "our-private-package/1.0", "scipy/1.15.0")
    )


def test_a_second_run_is_answered_by_the_cache(scan_tree, server, online_env):
    pypi_releases(server)
    first = online(scan_tree, {"requirements.txt": REQUIREMENTS}, "PIN032")
    count = len(server.requests)
    second = online(scan_tree, {"requirements.txt": REQUIREMENTS}, "PIN032")
    assert (count, len(server.requests), second.hits) == (6, 6, first.hits)


def test_pins_in_lock_files_and_pyproject_are_checked_once_per_release(scan_tree, server, online_env):
    pypi(server, "torch", "2.6.0", timedelta(hours=5))
    lock = 'version = 1\n\n[[package]]\nname = "torch"\nversion = "2.6.0"\nsource = { registry = "https://pypi.org/simple" }\n'
    pyproject = '[project]\nname = "demo"\nversion = "0.1"\ndependencies = ["torch==2.6.0"]\n'
    scan = online(scan_tree, {"uv.lock": lock, "pyproject.toml": pyproject}, "PIN032")
    assert (scan.hits, scan.errors) == ([("PIN032", "pyproject.toml", 4, 18), ("PIN032", "uv.lock", 4, 9)], [])
    assert server.seen() == [("GET", "/pypi/torch/2.6.0/json")]


def test_a_malformed_upload_time_is_an_error_not_a_finding(scan_tree, server, online_env):
    server.reply("GET", "/pypi/torch/2.6.0/json", body={"urls": [{"upload_time_iso_8601": "yesterday"}]})
    server.reply("GET", "/pypi/numpy/2.0.0/json", body={"info": {}})
    scan = online(scan_tree, {"requirements.txt": "torch==2.6.0\nnumpy==2.0.0\n"}, "PIN032")
    assert scan.hits == []
    assert scan.errors == [
        (
            "requirements.txt",
            f"line 1: GET {server.url}/pypi/torch/2.6.0/json: malformed response (release time 'yesterday' is not an ISO 8601 time)",
        ),
        ("requirements.txt", f"line 2: GET {server.url}/pypi/numpy/2.0.0/json: malformed response (no 'urls' list)"),
    ]


def test_cooldown_0_turns_it_off_and_sends_nothing(scan_tree, server, online_env):
    pypi_releases(server)
    scan = online(scan_tree, {"requirements.txt": REQUIREMENTS, ".mlgate.yaml": "cooldown: 0\n"}, "PIN032")
    assert (scan.hits, scan.errors, server.requests) == ([], [], [])


def test_a_longer_cooldown_reports_older_releases(scan_tree, server, online_env):
    pypi_releases(server)
    scan = online(scan_tree, {"requirements.txt": REQUIREMENTS, ".mlgate.yaml": "cooldown: 7\n"}, "PIN032")
    assert [line for _, _, line, _ in scan.hits] == [1, 2, 3, 4]
    assert "inside the 7-day cooldown" in scan.messages("PIN032")[1]


def test_offline_nothing_is_asked_and_nothing_reported(scan_tree, server, online_env):
    pypi_releases(server)
    scan = scan_tree({"requirements.txt": REQUIREMENTS}, select="PIN032")
    assert (scan.hits, scan.errors, server.requests) == ([], [], [])


def test_not_asked_when_the_rule_is_not_selected(scan_tree, server, online_env):
    pypi_releases(server)
    scan = online(scan_tree, {"requirements.txt": "torch==2.6.0\n"}, "PIN001")
    assert (scan.hits, server.requests) == ([], [])


def test_many_pins_are_looked_up_side_by_side(scan_tree, server, online_env):
    names = [f"package{number}" for number in range(16)]
    for name in names:
        server.reply("GET", f"/pypi/{name}/1.0/json", body={"urls": [{"upload_time_iso_8601": iso(JUST_OLDER)}]}, delay=0.2)
    scan = online(scan_tree, {"requirements.txt": "".join(f"{name}==1.0\n" for name in names)}, "PIN032")
    assert (scan.hits, scan.errors) == ([], [])
    assert len(server.requests) == 16
    assert server.most_in_flight > 1


# ---- GitHub Actions: at a commit, at a tag -----------------------------------------------------

WORKFLOW = f"""\
on: push
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA[0]}
      - uses: actions/setup-python@{SHA[1]}
      - uses: acme/deploy@v1
      - uses: acme/other/sub@v2
      - uses: acme/gone@{SHA[4]}
      - uses: acme/exact@{SHA[3]}
"""


def github(server) -> None:
    github_commit(server, "actions", "checkout", SHA[0], SHA[0], timedelta(hours=1))  # just released
    github_commit(server, "actions", "setup-python", SHA[1], SHA[1], JUST_OLDER)
    github_commit(server, "acme", "deploy", "v1", SHA[2], JUST_YOUNGER)  # the tag moved to a young commit
    github_commit(server, "acme", "other", "v2", SHA[3], timedelta(days=30))
    github_commit(server, "acme", "exact", SHA[3], SHA[3], EXACTLY)
    # acme/gone: GitHub answers 404 for the commit, not judged here


def test_actions_at_young_commits_are_reported(scan_tree, server, online_env):
    github(server)
    scan = online(scan_tree, {".github/workflows/ci.yml": WORKFLOW}, "pins")
    assert scan.errors == []
    assert scan.hits == [
        ("PIN032", ".github/workflows/ci.yml", 6, 15),
        ("PIN020", ".github/workflows/ci.yml", 8, 15),
        ("PIN032", ".github/workflows/ci.yml", 8, 15),
        ("PIN020", ".github/workflows/ci.yml", 9, 15),
    ]
    assert scan.messages("PIN032") == [
        said(
            f"action actions/checkout at commit {SHA[0][:12]} was committed 1 hour ago",
            "2025-03-17 11:00 UTC",
            "2025-03-20 11:00 UTC",
            "release",
        ),
        said(
            f"action acme/deploy@v1 is commit {SHA[2][:12]} today, committed 2.9 days ago",
            "2025-03-14 12:01 UTC",
            "2025-03-17 12:01 UTC",
            "release",
        ),
    ]
    # One request per reference: the tag's commit and its date come in one answer.
    assert sorted(server.seen()) == sorted(
        ("GET", f"/repos/{path}")
        for path in (
            f"actions/checkout/commits/{SHA[0]}",
            f"actions/setup-python/commits/{SHA[1]}",
            "acme/deploy/commits/v1",
            "acme/other/commits/v2",
            f"acme/gone/commits/{SHA[4]}",
            f"acme/exact/commits/{SHA[3]}",
        )
    )


def test_allowed_owners_and_offline_runs_ask_nothing(scan_tree, server, online_env):
    github(server)
    workflow = f"on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@{SHA[0]}\n"
    scan = scan_tree({".github/workflows/ci.yml": workflow}, select="pins")
    assert (scan.hits, server.requests) == ([], [])
    scan = scan_tree(
        {".github/workflows/ci.yml": workflow}, select="pins", options={"pins": {"allowed-action-owners": ["actions"]}}, online=True
    )
    assert (scan.hits, server.requests) == ([], [])


def test_a_commit_without_a_date_is_not_judged_and_a_malformed_one_is_an_error(scan_tree, server, online_env):
    github_commit(server, "actions", "checkout", SHA[0], SHA[0], None)
    server.reply("GET", f"/repos/actions/setup-python/commits/{SHA[1]}", body={"sha": SHA[1], "commit": {"committer": {"date": 17}}})
    workflow = WORKFLOW.split("      - uses: acme/deploy")[0]
    scan = online(scan_tree, {".github/workflows/ci.yml": workflow}, "pins")
    assert scan.hits == []
    assert scan.errors == [
        (
            ".github/workflows/ci.yml",
            f"line 7: commit {SHA[1]} of github.com/actions/setup-python: malformed response (release time 17 is not an ISO 8601 time)",
        )
    ]


def test_a_failed_tag_lookup_is_said_once(scan_tree, server, online_env):
    server.reply("GET", "/repos/acme/deploy/commits/v1", 503)
    workflow = "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - uses: acme/deploy@v1\n"
    scan = online(scan_tree, {".github/workflows/ci.yml": workflow}, "pins")
    assert scan.hits == [("PIN020", ".github/workflows/ci.yml", 6, 15)]
    assert len(scan.errors) == 1 and scan.errors[0][1].startswith(f"line 6: GET {server.url}/repos/acme/deploy/commits/v1: HTTP 503")


# ---- the hub: references pinned to a commit ----------------------------------------------------

TRAIN = f"""\
from transformers import AutoModel
from datasets import load_dataset
a = AutoModel.from_pretrained("acme/young", revision="{SHA[0]}")
b = AutoModel.from_pretrained("acme/old", revision="{SHA[1]}")
c = AutoModel.from_pretrained("acme/exact", revision="{SHA[2]}")
d = load_dataset("acme/data", revision="{SHA[3]}")
e = AutoModel.from_pretrained("acme/nodate", revision="{SHA[4]}")
"""


def hub(server) -> None:
    hub_commit(server, "acme/young", SHA[0], timedelta(hours=2))
    hub_commit(server, "acme/old", SHA[1], JUST_OLDER)
    hub_commit(server, "acme/exact", SHA[2], EXACTLY)
    hub_commit(server, "acme/data", SHA[3], JUST_YOUNGER, kind="datasets")
    hub_commit(server, "acme/nodate", SHA[4], None)


def test_hub_references_at_young_commits_are_reported(scan_tree, server, online_env):
    hub(server)
    scan = online(scan_tree, {"train.py": TRAIN}, "HUB020")
    assert scan.errors == []
    assert scan.hits == [("HUB020", "train.py", 3, 31), ("HUB020", "train.py", 6, 18)]
    assert scan.messages("HUB020") == [
        said(
            f"hub model 'acme/young' is pinned to commit {SHA[0][:12]}, made 2 hours ago",
            "2025-03-17 10:00 UTC",
            "2025-03-20 10:00 UTC",
            "commit",
        ),
        said(
            f"hub dataset 'acme/data' is pinned to commit {SHA[3][:12]}, made 2.9 days ago",
            "2025-03-14 12:01 UTC",
            "2025-03-17 12:01 UTC",
            "commit",
        ),
    ]
    asked = sorted(path for _, path in server.seen() if "/commits/" in path)
    assert asked == sorted(
        [
            f"/api/models/acme/young/commits/{SHA[0]}",
            f"/api/models/acme/old/commits/{SHA[1]}",
            f"/api/models/acme/exact/commits/{SHA[2]}",
            f"/api/datasets/acme/data/commits/{SHA[3]}",
            f"/api/models/acme/nodate/commits/{SHA[4]}",
        ]
    )


def test_a_commit_the_hub_does_not_have_is_left_to_hub010(scan_tree, server, online_env):
    server.reply("GET", "/api/models/acme/young")  # the repository is there, the commit is not
    files = {"train.py": TRAIN.splitlines(keepends=True)[2], ".mlgate.yaml": "select: [HUB010, HUB020]\n"}
    scan = scan_tree(files, online=True)
    assert [hit[0] for hit in scan.hits] == ["HUB010"]
    assert scan.errors == []


def test_a_malformed_hub_answer_is_an_error(scan_tree, server, online_env):
    server.reply("GET", f"/api/models/acme/young/revision/{SHA[0]}", body={"sha": SHA[0]})
    server.reply("GET", f"/api/models/acme/young/commits/{SHA[0]}", body=[{"id": SHA[0], "date": "soon"}])
    server.reply("GET", f"/api/models/acme/old/revision/{SHA[1]}", body={"sha": SHA[1]})
    server.reply("GET", f"/api/models/acme/old/commits/{SHA[1]}", body={"error": "nope"})
    scan = online(scan_tree, {"train.py": "".join(TRAIN.splitlines(keepends=True)[:4])}, "HUB020")
    assert scan.hits == []
    url = f"{server.url}/api/models/acme"
    assert scan.errors == [
        ("train.py", f"line 3: GET {url}/young/commits/{SHA[0]}: malformed response (release time 'soon' is not an ISO 8601 time)"),
        ("train.py", f"line 4: GET {url}/old/commits/{SHA[1]}: malformed response (commit {SHA[1]} is not in it)"),
    ]


def test_hub_cooldown_0_and_hub020_not_selected_ask_nothing_of_the_commits(scan_tree, server, online_env):
    hub(server)
    scan = online(scan_tree, {"train.py": TRAIN, ".mlgate.yaml": "cooldown: 0\n"}, "HUB020")
    assert (scan.hits, scan.errors) == ([], [])
    scan = scan_tree({"train.py": TRAIN, ".mlgate.yaml": "select: [HUB010]\n"}, online=True)
    assert (scan.hits, scan.errors) == ([], [])
    assert not any("/commits/" in path for _, path in server.seen())


def test_the_command_line_reports_both_hooks(tmp_path, monkeypatch, server, online_env, capsys):
    pypi(server, "torch", "2.6.0", timedelta(hours=5))
    hub_commit(server, "acme/young", SHA[0], timedelta(hours=2))
    write_tree(tmp_path, {"requirements.txt": "torch==2.6.0\n", "train.py": TRAIN.splitlines(keepends=True)[2]})
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--online", "--select", "PIN032,HUB020", "--format", "json", "."]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == []
    assert [(f["rule"], f["path"], f["line"], f["severity"]) for f in report["findings"]] == [
        ("PIN032", "requirements.txt", 1, "medium"),
        ("HUB020", "train.py", 1, "medium"),
    ]
