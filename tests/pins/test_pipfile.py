"""Pipfile: packages of every category, VCS/file tables, sources, and its lock file."""

from __future__ import annotations

import pytest

SHA = "0123456789abcdef0123456789abcdef01234567"

PIPFILE = f"""\
[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]
requests = "*"
flask = "==3.0.0"
numpy = ">=1.26"
torch = {{version = "==2.1.0"}}
rich = {{version = "*", markers = "python_version > '3.8'"}}
branch = {{git = "https://github.com/x/y.git", ref = "main"}}
head = {{git = "https://github.com/x/y.git", editable = true}}
commit = {{git = "https://github.com/x/y.git", ref = "{SHA}"}}
archive = {{file = "https://example.com/x-1.0.tar.gz"}}
local = {{path = ".", editable = true}}

[dev-packages]
pytest = {{version = "~=8.0"}}

[gpu]
cupy = ""

[requires]
python_version = "3.11"

[scripts]
test = "pytest"
"""
RANGES = [
    ("PIN001", "Pipfile", 7, 1),
    ("PIN001", "Pipfile", 9, 1),
    ("PIN001", "Pipfile", 11, 1),
    ("PIN001", "Pipfile", 19, 1),
    ("PIN001", "Pipfile", 22, 1),
]
MOVING = [("PIN002", "Pipfile", 12, 1), ("PIN002", "Pipfile", 13, 1), ("PIN003", "Pipfile", 15, 1)]


def test_pipfile_packages(scan_tree):
    scan = scan_tree({"Pipfile": PIPFILE})
    assert scan.hits == sorted(RANGES + MOVING, key=lambda hit: hit[2:])
    assert scan.messages("PIN001")[0] == (
        "'requests' has no version pin: a new release, or a hijacked one, is installed without review; "
        "commit a lock file (pipenv lock) beside this Pipfile: its ranges are then accepted, and the lock file checked"
    )


@pytest.mark.parametrize(
    ("policy", "lock", "reported"),
    [
        ("never", "Pipfile.lock", RANGES + MOVING),
        ("with-lock-file", "Pipfile.lock", MOVING),
        ("always", "Pipfile.lock", MOVING),
        # An application manifest: 'always' is no reason to accept its ranges, nor is another tool's lock.
        ("always", None, RANGES + MOVING),
        ("with-lock-file", "uv.lock", RANGES + MOVING),
    ],
)
def test_pipfile_ranges_are_accepted_only_beside_pipfile_lock(policy, lock, reported, scan_tree):
    files = {"Pipfile": PIPFILE} | ({lock: "{}" if lock == "Pipfile.lock" else ""} if lock else {})
    scan = scan_tree(files, options={"pins": {"ranges": policy}})
    assert (scan.hits, scan.errors) == (sorted(reported, key=lambda hit: hit[2:]), [])


SOURCES = """\
[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[[source]]
url = "http://private.example/simple"
verify_ssl = false
name = "private"

[[source]]
url = "https://download.pytorch.org/whl/cu118"
name = "pytorch"

[[source]]
url = "https://mirror.example/simple"
name = "mirror"

[packages]
torch = {version = "==2.1.0", index = "pytorch"}
"""


def test_pipfile_sources(scan_tree):
    scan = scan_tree({"Pipfile": SOURCES})
    # `pytorch` is only used by the package that names it; the others are searched for every package.
    assert scan.hits == [
        ("PIN004", "Pipfile", 7, 8),
        ("PIN005", "Pipfile", 7, 8),
        ("PIN005", "Pipfile", 8, 14),
        ("PIN004", "Pipfile", 16, 8),
    ]
    allowed = scan_tree({"Pipfile": SOURCES}, options={"pins": {"allowed-indexes": ["https://mirror.example/"]}})
    assert allowed.hits == [("PIN004", "Pipfile", 7, 8), ("PIN005", "Pipfile", 7, 8), ("PIN005", "Pipfile", 8, 14)]


def test_single_https_source_is_clean(scan_tree):
    scan = scan_tree(
        {"Pipfile": '[[source]]\nurl = "https://pypi.org/simple"\nverify_ssl = true\nname = "pypi"\n\n[packages]\nflask = "==3.0.0"\n'}
    )
    assert (scan.hits, scan.errors) == ([], [])


def test_invalid_pipfile_is_an_error_entry(scan_tree):
    scan = scan_tree({"Pipfile": "[packages\n"})
    assert scan.errors == [("Pipfile", "invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 10)")]
