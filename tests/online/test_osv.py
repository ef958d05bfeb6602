"""PIN030/PIN031: exact pins looked up in OSV (a fake API on 127.0.0.1, or an offline export)."""

from __future__ import annotations

import json
import zipfile

import pytest
from osvdata import KERAS, REQUESTS, TORCH, YAML_TOOL

from httpfake import online_env, server  # noqa: F401  (fixtures)
from mlgate.pins.osv import version_key

REQUIREMENTS = "torch==2.5.1\nrequests==2.31.0\nnumpy==1.26.4\ntransformers>=4\n"
TORCH_MESSAGE = (
    "torch 2.5.1 has advisories that let a model file run code when it is loaded: GHSA-53q9-r3pm-6pq6 (CVE-2025-32434), "
    "critical, fixed in 2.6.0: PyTorch: `torch.load` with `weights_only=True` leads to remote code execution"
)
REQUESTS_MESSAGE = (
    "requests 2.31.0 has 1 known advisory: GHSA-9wx4-h78v-vm56 (CVE-2024-35195), medium, fixed in 2.32.0: "
    "Requests `Session` object does not verify requests after making first request with verify=False"
)


def osv_api(server) -> None:
    server.reply(
        "POST",
        "/v1/querybatch",
        body={
            "results": [  # numpy, requests, torch: the order asked
                {},
                {"vulns": [{"id": "GHSA-9wx4-h78v-vm56", "modified": "2024-06-10T00:00:00Z"}]},
                {"vulns": [{"id": "GHSA-53q9-r3pm-6pq6", "modified": "2025-04-18T00:00:00Z"}]},
            ]
        },
    )
    server.reply("GET", "/v1/vulns/GHSA-53q9-r3pm-6pq6", body=TORCH)
    server.reply("GET", "/v1/vulns/GHSA-9wx4-h78v-vm56", body=REQUESTS)


def online_scan(scan_tree, files, options=None):
    return scan_tree(files, select="pins", options=options, online=True)


def test_api_reports_advisories_of_exact_pins(scan_tree, server, online_env):
    osv_api(server)
    scan = online_scan(scan_tree, {"requirements.txt": REQUIREMENTS})
    assert scan.hits == [
        ("PIN031", "requirements.txt", 1, 1),
        ("PIN030", "requirements.txt", 2, 1),
        ("PIN001", "requirements.txt", 4, 1),
    ]
    assert scan.messages("PIN031") == [TORCH_MESSAGE]
    assert scan.messages("PIN030") == [REQUESTS_MESSAGE]
    assert [str(f.severity) for f in scan.findings] == ["critical", "medium", "medium"]
    assert server.requests[0].json() == {
        "queries": [
            {"package": {"name": "numpy", "ecosystem": "PyPI"}, "version": "1.26.4"},
            {"package": {"name": "requests", "ecosystem": "PyPI"}, "version": "2.31.0"},
            {"package": {"name": "torch", "ecosystem": "PyPI"}, "version": "2.5.1"},
        ]
    }
    assert server.seen()[:3] == [
        ("POST", "/v1/querybatch"),
        ("GET", "/v1/vulns/GHSA-53q9-r3pm-6pq6"),
        ("GET", "/v1/vulns/GHSA-9wx4-h78v-vm56"),
    ]
    # then each pin's release date, for the cooldown (PIN032, tests/online/test_cooldown.py): unknown to this PyPI, not judged
    assert sorted(server.seen()[3:]) == [("GET", f"/pypi/{pin}/json") for pin in ("numpy/1.26.4", "requests/2.31.0", "torch/2.5.1")]


def test_second_run_makes_no_request(scan_tree, server, online_env):
    osv_api(server)
    first = online_scan(scan_tree, {"requirements.txt": REQUIREMENTS})
    count = len(server.requests)
    second = online_scan(scan_tree, {"requirements.txt": REQUIREMENTS})
    assert (count, len(server.requests)) == (6, 6)  # OSV's 3, and PyPI's 3 for the cooldown
    assert second.hits == first.hits


def test_offline_run_sends_nothing_and_reports_no_advisory(scan_tree, server, online_env):
    osv_api(server)
    scan = scan_tree({"requirements.txt": REQUIREMENTS}, select="pins")
    assert scan.hits == [("PIN001", "requirements.txt", 4, 1)]
    assert server.requests == []


def test_pins_in_lock_files_are_looked_up(scan_tree, server, online_env):
    server.reply("POST", "/v1/querybatch", body={"results": [{"vulns": [{"id": "GHSA-53q9-r3pm-6pq6"}]}]})
    server.reply("GET", "/v1/vulns/GHSA-53q9-r3pm-6pq6", body=TORCH)
    lock = (
        'version = 1\n\n[[package]]\nname = "demo"\nversion = "0.1.0"\nsource = { editable = "." }\n\n'
        '[[package]]\nname = "torch"\nversion = "2.5.1"\nsource = { registry = "https://pypi.org/simple" }\n'
        'wheels = [{ url = "https://files/torch.whl", hash = "sha256:' + "a" * 64 + '" }]\n'
    )
    scan = online_scan(scan_tree, {"uv.lock": lock})
    assert scan.hits == [("PIN031", "uv.lock", 9, 9)]
    assert server.requests[0].json() == {"queries": [{"package": {"name": "torch", "ecosystem": "PyPI"}, "version": "2.5.1"}]}


def test_malformed_batch_answer_is_an_error_and_no_finding(scan_tree, server, online_env):
    server.reply("POST", "/v1/querybatch", body={"results": []})
    scan = online_scan(scan_tree, {"requirements.txt": "torch==2.5.1\n"})
    assert scan.hits == []
    assert scan.errors == [(server.url, f"POST {server.url}/v1/querybatch: malformed response (expected 1 results)")]


def test_unreachable_osv_is_an_error_not_a_traceback(scan_tree, monkeypatch, online_env):
    monkeypatch.setenv("MLGATE_OSV_URL", "http://127.0.0.1:9")
    scan = online_scan(scan_tree, {"requirements.txt": "torch==2.5.1\n"})
    assert scan.hits == []
    assert scan.errors == [
        ("http://127.0.0.1:9", "POST http://127.0.0.1:9/v1/querybatch: cannot connect (connection refused) (after 1 attempt)")
    ]


def write_database(folder, records, zipped=()):
    folder.mkdir()
    for record in records:
        (folder / f"{record['id']}.json").write_text(json.dumps(record))
    if zipped:
        with zipfile.ZipFile(folder / "all.zip", "w") as archive:
            for record in zipped:
                archive.writestr(f"{record['id']}.json", json.dumps(record))


def test_offline_database_matches_versions_and_ranges(scan_tree, tmp_path, server, online_env):
    write_database(tmp_path / "osv", [TORCH, REQUESTS, YAML_TOOL], zipped=[KERAS])
    requirements = "torch==2.6.0\nrequests==2.31.0\nkeras==3.8.0\nyamltool==1.1\ntorch==2.5.1\nkeras==3.8.1\nyamltool==1.2rc1\n"
    scan = online_scan(scan_tree, {"requirements.txt": requirements}, options={"pins": {"osv-database": str(tmp_path / "osv")}})
    assert scan.hits == [
        ("PIN030", "requirements.txt", 2, 1),
        ("PIN031", "requirements.txt", 3, 1),
        ("PIN030", "requirements.txt", 4, 1),
        ("PIN031", "requirements.txt", 5, 1),
    ]
    assert scan.messages("PIN031")[0] == (
        "keras 3.8.0 has advisories that let a model file run code when it is loaded: PYSEC-2099-1, severity not given, "
        "no fixed version: Deserialization in keras load_model allows arbitrary code execution"
    )
    assert scan.messages("PIN030")[1] == (
        "yamltool 1.1 has 1 known advisory: PYSEC-2099-2, severity not given, fixed in 1.2rc1: "
        "Deserialization in load_model of yamltool allows arbitrary code execution"
    )
    assert [str(f.severity) for f in scan.findings] == ["medium", "critical", "high", "critical"]
    assert [path for _, path in server.seen() if not path.startswith("/pypi/")] == []  # PyPI: the cooldown's release dates


def test_database_from_the_environment(scan_tree, tmp_path, monkeypatch, online_env):
    write_database(tmp_path / "osv", [TORCH])
    monkeypatch.setenv("MLGATE_OSV_DATABASE", str(tmp_path / "osv"))
    scan = online_scan(scan_tree, {"requirements.txt": "torch==2.5.1\n"})
    assert scan.hits == [("PIN031", "requirements.txt", 1, 1)]


def test_broken_database_record_is_an_error(scan_tree, tmp_path, online_env):
    (tmp_path / "osv").mkdir()
    (tmp_path / "osv" / "bad.json").write_text('{"id": "X", "affected": [{"package": {"name": "torch"')
    scan = online_scan(scan_tree, {"requirements.txt": "torch==2.5.1\n"}, options={"pins": {"osv-database": str(tmp_path / "osv")}})
    assert scan.hits == []
    assert scan.errors == [(str(tmp_path / "osv"), f"OSV database {tmp_path / 'osv' / 'bad.json'}: not valid JSON")]


def test_missing_database_folder_is_an_error(scan_tree, tmp_path, online_env):
    scan = online_scan(scan_tree, {"requirements.txt": "torch==2.5.1\n"}, options={"pins": {"osv-database": "nowhere"}})
    assert scan.errors == [("nowhere", "OSV database nowhere: not a directory")]


@pytest.mark.parametrize(
    "lower, higher",
    [
        ("1.0.dev1", "1.0a1"),
        ("1.0a1", "1.0b2"),
        ("1.0b2", "1.0rc1"),
        ("1.0rc1", "1.0"),
        ("1.0", "1.0.post1"),
        ("1.0.post1", "1.1.dev0"),
        ("2.5.1", "2.6.0"),
        ("2.9", "2.10"),
        ("0", "0.0.1"),
    ],
)
def test_version_order_follows_pep_440(lower, higher):
    assert version_key(lower) < version_key(higher)


def test_equal_versions_and_unreadable_ones():
    assert version_key("1.0") == version_key("1.0.0") == version_key("v1.0+local")
    assert version_key("not-a-version") is None
