"""Lock files: every downloaded file hashed, every VCS source at a commit, no http registry."""

from __future__ import annotations

import sys

import pytest

from mlgate.files import SourceFile
from mlgate.pins import tomlfile
from workcount import count_calls

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SHA = "0123456789abcdef0123456789abcdef01234567"

UV_LOCK = f"""\
version = 1
requires-python = ">=3.10"

[[package]]
name = "myproj"
version = "0.1.0"
source = {{ editable = "." }}

[[package]]
name = "good"
version = "1.0.0"
source = {{ registry = "https://pypi.org/simple" }}
sdist = {{ url = "https://files/good-1.0.0.tar.gz", hash = "sha256:aaaa", size = 1 }}
wheels = [
    {{ url = "https://files/good-1.0.0-py3-none-any.whl", hash = "sha256:bbbb", size = 1 }},
]

[[package]]
name = "nohash"
version = "1.0.0"
source = {{ registry = "http://mirror.local/simple" }}
sdist = {{ url = "http://mirror.local/nohash-1.0.0.tar.gz", size = 1 }}

[[package]]
name = "nohash2"
version = "1.0.0"
source = {{ registry = "http://mirror.local/simple" }}

[[package]]
name = "gitok"
version = "1.0.0"
source = {{ git = "https://github.com/x/y?rev=main#{SHA}" }}

[[package]]
name = "gitbad"
version = "1.0.0"
source = {{ git = "https://github.com/x/y?rev=main" }}

[[package]]
name = "direct"
version = "1.0.0"
source = {{ url = "https://example.com/direct-1.0.0.tar.gz" }}
sdist = {{ url = "https://example.com/direct-1.0.0.tar.gz" }}

[[package]]
name = "sibling"
version = "0.1.0"
source = {{ directory = "../sibling" }}

[[package]]
name = "wheelhouse"
version = "0.1.0"
source = {{ registry = "wheels" }}
"""


def test_uv_lock(scan_tree):
    scan = scan_tree({"uv.lock": UV_LOCK})
    assert scan.hits == [
        ("PIN008", "uv.lock", 19, 9),
        ("PIN005", "uv.lock", 21, 24),
        # nohash2 (line 25) lists no distribution for any platform: nothing is downloaded for it
        ("PIN008", "uv.lock", 35, 9),
        ("PIN008", "uv.lock", 40, 9),
    ]
    assert scan.messages("PIN008")[0] == "'nohash' 1.0.0 has 1 file(s) without a hash: what is downloaded for it is not verified"


POETRY_LOCK = f"""\
[[package]]
name = "good"
version = "1.0"
files = [
    {{file = "good-1.0.tar.gz", hash = "sha256:aaaa"}},
]

[[package]]
name = "bad"
version = "1.0"
files = []

[[package]]
name = "gitpkg"
version = "1.2.3"
files = []

[package.source]
type = "git"
url = "https://github.com/python-poetry/poetry.git"
reference = "develop"
resolved_reference = "123456"

[[package]]
name = "gitok"
version = "1.0"
files = []

[package.source]
type = "git"
url = "https://github.com/x/y.git"
reference = "main"
resolved_reference = "{SHA}"

[[package]]
name = "private"
version = "1.0"
files = [{{file = "p.whl", hash = "sha256:cc"}}]

[package.source]
type = "legacy"
url = "http://private/simple"
reference = "private"

[[package]]
name = "mine"
version = "0.1"
files = []

[package.source]
type = "directory"
url = "../mine"
"""


def test_poetry_lock(scan_tree):
    scan = scan_tree({"poetry.lock": POETRY_LOCK})
    assert scan.hits == [("PIN008", "poetry.lock", 9, 9), ("PIN008", "poetry.lock", 14, 9), ("PIN005", "poetry.lock", 42, 8)]


def test_old_poetry_lock_keeps_hashes_in_metadata(scan_tree):
    text = (
        '[[package]]\nname = "Hashed-Pkg"\nversion = "1.0"\n\n[[package]]\nname = "bare"\nversion = "2.0"\n\n'
        '[metadata]\nlock-version = "1.1"\n\n[metadata.files]\nhashed-pkg = [\n    {file = "a.whl", hash = "sha256:aa"},\n]\nbare = []\n'
    )
    assert scan_tree({"poetry.lock": text}).hits == [("PIN008", "poetry.lock", 6, 9)]


PDM_LOCK = """\
[metadata]
groups = ["default"]

[[package]]
name = "anyio"
version = "4.4.0"
files = [
    {file = "anyio-4.4.0-py3-none-any.whl", hash = "sha256:aa"},
]

[[package]]
name = "nofiles"
version = "1.0"

[[package]]
name = "gitdep"
version = "0.1"
git = "https://github.com/x/foo.git"
ref = "main"
revision = "abc"

[[package]]
name = "local"
version = "0.1"
path = "./local"
"""


def test_pdm_lock(scan_tree):
    scan = scan_tree({"pdm.lock": PDM_LOCK})
    assert scan.hits == [("PIN008", "pdm.lock", 12, 9), ("PIN008", "pdm.lock", 16, 9)]


PYLOCK = f"""\
lock-version = "1.0"
created-by = "x"

[[packages]]
name = "attrs"
version = "25.1.0"
index = "https://pypi.org/simple"
wheels = [{{name = "attrs-25.1.0-py3-none-any.whl", url = "https://x/attrs.whl", size = 1, hashes = {{sha256 = "aa"}}}}]

[[packages]]
name = "nohash"
version = "1.0"
index = "http://mirror/simple"
sdist = {{name = "nohash-1.0.tar.gz", url = "http://mirror/nohash.tar.gz", size = 1}}

[[packages]]
name = "vcs"
version = "1.0"
vcs = {{type = "git", url = "https://github.com/x/y", requested-revision = "main", commit-id = "{SHA}"}}

[[packages]]
name = "vcs-tag"
vcs = {{type = "git", url = "https://github.com/x/z", requested-revision = "v1"}}

[[packages]]
name = "archive"
archive = {{url = "https://x/a.tar.gz", hashes = {{sha256 = "bb"}}}}

[[packages]]
name = "dir"
directory = {{path = "."}}
"""


@pytest.mark.parametrize("name", ["pylock.toml", "pylock.gpu.toml"])
def test_pylock(name, scan_tree):
    scan = scan_tree({name: PYLOCK})
    assert scan.hits == [("PIN008", name, 11, 9), ("PIN005", name, 13, 10), ("PIN008", name, 22, 9)]


PIPFILE_LOCK = f"""\
{{
    "_meta": {{
        "hash": {{"sha256": "x"}},
        "pipfile-spec": 6,
        "sources": [
            {{
                "name": "pypi",
                "url": "https://pypi.org/simple",
                "verify_ssl": true
            }},
            {{
                "name": "private",
                "url": "http://private/simple",
                "verify_ssl": false
            }}
        ]
    }},
    "default": {{
        "requests": {{
            "hashes": ["sha256:aa"],
            "index": "pypi",
            "version": "==2.31.0"
        }},
        "nohash": {{
            "version": "==1.0"
        }},
        "gitdep": {{
            "git": "https://github.com/x/y.git",
            "ref": "main"
        }},
        "gitok": {{"git": "https://github.com/x/y.git", "ref": "{SHA}"}},
        "local": {{"editable": true, "path": "."}}
    }},
    "develop": {{
        "nohash": {{"version": "==1.0", "hashes": []}}
    }}
}}
"""


def test_pipfile_lock(scan_tree):
    scan = scan_tree({"Pipfile.lock": PIPFILE_LOCK})
    assert scan.hits == [
        ("PIN005", "Pipfile.lock", 13, 25),
        ("PIN005", "Pipfile.lock", 14, 31),
        ("PIN008", "Pipfile.lock", 24, 10),
        ("PIN008", "Pipfile.lock", 27, 10),
        ("PIN008", "Pipfile.lock", 35, 10),
    ]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("uv.lock", "[[package]\n", "invalid TOML at line 1: expected ']]'"),
        ("poetry.lock", 'name = "unterminated\n', "invalid TOML at line 1: unterminated string"),
        ("pdm.lock", "a = " + "[" * 200 + "]" * 200 + "\n", "invalid TOML at line 1: nested more than 100 levels deep"),
        ("Pipfile.lock", "{", "invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("Pipfile.lock", "[]", "not a Pipfile.lock: the top level is not an object"),
    ],
)
def test_broken_lock_files_are_error_entries(name, text, message, scan_tree):
    scan = scan_tree({name: text})
    assert (scan.hits, scan.errors) == ([], [(name, message)])


TRICKY_TOML = """\
# comment = "no"
title = "x" # trailing
"quoted.key" = 'literal \\n'
ml = \"\"\"
a "" b \\u00e9 \\
   c\"\"\"\"\"
lit = '''
x'''
dt = 1979-05-27 07:32:00Z
[a.b]
c.d = [1, [2, 3], {e = "f", g = { h = true }}]
[[a.arr]]
x = 1
[[a.arr]]
x = -2
[a.arr.sub]
y = false
"""


def test_lock_reader_agrees_with_tomllib():
    data, positions = tomlfile.parse(SourceFile.from_text("t.toml", TRICKY_TOML))
    expected = tomllib.loads(TRICKY_TOML)
    expected["dt"] = "1979-05-27 07:32:00Z"  # kept as written: lock checks never read dates
    expected["a"]["arr"][1]["x"] = "-2"  # only plain integers are typed
    assert data == expected
    assert [positions.value(path) for path in [("ml",), ("lit",), ("a", "arr", 1, "sub", "y"), ("a", "b", "c", "d", 2, "g", "h")]] == [
        (5, 1),
        (8, 1),
        (17, 5),
        (11, 39),
    ]
    assert positions.key(("quoted.key",)) == (3, 2)


def test_large_lock_files_are_read_in_linear_work(scan_tree):
    packages = "".join(
        f'[[package]]\nname = "pkg{i}"\nversion = "1.{i}.0"\nsource = {{ registry = "https://pypi.org/simple" }}\n'
        f'dependencies = [\n    {{ name = "dep{i}" }},\n    {{ name = "other{i}", marker = "sys_platform == \'linux\'" }},\n]\n'
        f'sdist = {{ url = "https://files.example/pkg{i}-1.0.tar.gz", hash = "sha256:{"a" * 64}", size = 12345 }}\n'
        f'wheels = [\n    {{ url = "https://files.example/pkg{i}-1.0-py3-none-any.whl", hash = "sha256:{"b" * 64}", size = 12345 }},\n]\n\n'
        for i in range(3000)
    )
    scan_tree({"uv.lock": "version = 1\n"})  # imports and first-use set-up, not counted below
    scan, calls = count_calls(
        scan_tree,
        {
            "uv.lock": "version = 1\n\n"
            + packages
            + '[[package]]\nname = "last"\nversion = "1"\nsource = { registry = "https://pypi.org/simple" }\n'
            + 'sdist = { url = "https://files.example/last-1.tar.gz" }\n'
        },
    )
    # Every function call of the whole scan, Python and built-in: about 245 per package today;
    # a pass that went back over the earlier packages for each one would make millions more.
    assert calls <= 500 * 3000, calls
    assert scan.hits == [("PIN008", "uv.lock", 3000 * 13 + 4, 9)]


def test_an_entry_without_any_distribution_has_nothing_to_verify(scan_tree):
    # uv records a release that has files only for other platforms with none at all; pylock alike.
    uv = (
        'version = 1\n\n[[package]]\nname = "cuda-bindings"\nversion = "12.9.4"\n'
        'source = { registry = "https://pypi.org/simple" }\n\n'
        '[[package]]\nname = "partial"\nversion = "1.0"\nsource = { registry = "https://pypi.org/simple" }\n'
        'wheels = [{ url = "https://files/partial-1.0-py3-none-any.whl" }]\n'
    )
    pylock = 'lock-version = "1.0"\n\n[[packages]]\nname = "empty"\nversion = "1.0"\n'
    # Poetry falls back to the index for an entry with no files: what it downloads is not verified.
    poetry = '[[package]]\nname = "bare"\nversion = "1.0"\nfiles = []\n'
    scan = scan_tree({"uv.lock": uv, "pylock.toml": pylock, "poetry.lock": poetry})
    assert scan.hits == [("PIN008", "poetry.lock", 2, 9), ("PIN008", "uv.lock", 9, 9)]
