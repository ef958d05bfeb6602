"""An offline run makes no network call at all, and does not even import the network code."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import write_tree
from realcorpus import CORPUS

# Every socket connection fails loudly, and is counted; then the full CLI runs.
PROBE = """
import json, socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[1:] or args))
    raise OSError("network disabled by the test")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from mlgate.cli import main
status = main(sys.argv[1:])
loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("requests", "urllib3", "http") or name.startswith("mlgate.online"))
print(json.dumps({"status": status, "attempts": attempts, "loaded": loaded}), file=sys.stderr)
"""

TREE = {
    "requirements.txt": "torch==2.5.1\nrequests==2.31.0\n",
    "uv.lock": 'version = 1\n[[package]]\nname = "torch"\nversion = "2.5.1"\nsource = { registry = "https://pypi.org/simple" }\n'
    'sdist = { url = "https://files.example/torch-2.5.1.tar.gz" }\n',
    ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    container: python:3.11\n    steps:\n      - uses: actions/checkout@v4\n",
    ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/psf/black\n    rev: 24.1.0\n    hooks:\n      - id: black\n",
    "Dockerfile": "FROM python:3.11\nRUN pip install torch\n",
}


def probe(cwd, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_offline_scan_of_every_file_kind_and_the_corpus_opens_no_socket(tmp_path):
    write_tree(tmp_path, TREE)
    outcome = probe(tmp_path, "check", "--format", "json", "--output", "report.json", ".", str(CORPUS))
    report = json.loads((tmp_path / "report.json").read_text())
    assert (outcome["status"], outcome["attempts"], outcome["loaded"]) == (1, [], [])
    assert report["errors"] == []
    assert sorted({f["rule"] for f in report["findings"] if not f["path"].startswith("/")}) == [
        "PIN001",
        "PIN008",
        "PIN010",
        "PIN020",
        "PIN021",
    ]


def test_the_probe_sees_an_online_run(tmp_path, monkeypatch):
    """The same probe on `--online` records the attempt and the import: it can fail."""
    monkeypatch.setenv("MLGATE_NO_CACHE", "1")
    monkeypatch.setenv("MLGATE_HTTP_MAX_WAIT", "0")
    monkeypatch.setenv("MLGATE_OSV_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MLGATE_PYPI_URL", "http://127.0.0.1:9")  # the cooldown's release dates: the same refused host
    write_tree(tmp_path, {"requirements.txt": "torch==2.5.1\n"})
    outcome = probe(tmp_path, "check", "--online", "--output", "report.txt", ".")
    assert outcome["status"] == 1
    assert len(outcome["attempts"]) == 8  # OSV's, then PyPI's (the pin's release date): the first try and three retries each
    assert {"requests", "mlgate.online.http"} <= set(outcome["loaded"])
