"""setup.cfg and setup.py (read with `ast`, never run), under the `ranges` policy."""

from __future__ import annotations

import pytest

SETUP_CFG = """\
[metadata]
name = demo

[options]
python_requires = >=3.9
install_requires =
    torch==2.1.0
    numpy>=1.26  # a comment
    # a commented-out line: scipy
    pandas; python_version > "3.8"

    git+https://github.com/x/y@main#egg=y
setup_requires = wheel
tests_require = pytest==8.0.0

[options.extras_require]
dev =
    ruff~=0.4
docs = sphinx==7.0.0
all: rich

[flake8]
exclude =
    numpy>=1
"""
CFG_RANGES = [
    ("PIN001", "setup.cfg", 8, 5),
    ("PIN001", "setup.cfg", 10, 5),
    ("PIN001", "setup.cfg", 13, 18),
    ("PIN001", "setup.cfg", 18, 5),
    ("PIN001", "setup.cfg", 20, 6),
]
CFG_VCS = [("PIN002", "setup.cfg", 12, 5)]


def test_setup_cfg_requirements(scan_tree):
    scan = scan_tree({"setup.cfg": SETUP_CFG}, options={"pins": {"ranges": "with-lock-file"}})
    assert scan.hits == sorted(CFG_RANGES + CFG_VCS, key=lambda hit: hit[2:])


@pytest.mark.parametrize(
    ("policy", "lock", "reported"),
    [
        ("never", True, CFG_RANGES + CFG_VCS),
        ("with-lock-file", True, CFG_VCS),
        ("with-lock-file", False, CFG_RANGES + CFG_VCS),
        ("always", False, CFG_VCS),
    ],
)
def test_setup_cfg_follows_the_ranges_policy(policy, lock, reported, scan_tree):
    files = {"setup.cfg": SETUP_CFG} | ({"uv.lock": ""} if lock else {})
    scan = scan_tree(files, options={"pins": {"ranges": policy}})
    assert scan.hits == sorted(reported, key=lambda hit: hit[2:])


def test_setup_cfg_url_requirement_needs_a_hash(scan_tree):
    text = (
        "[options.extras_require]\nx =\n    a @ https://example.com/a-1.0.tar.gz\n    b @ https://example.com/b-1.0.tar.gz#sha256="
        + "f" * 64
        + "\n"
    )
    assert scan_tree({"setup.cfg": text}, options={"pins": {"ranges": "always"}}).hits == [("PIN003", "setup.cfg", 3, 9)]


def test_setup_cfg_without_requirements_is_clean(scan_tree):
    scan = scan_tree({"setup.cfg": "[flake8]\nmax-line-length = 120\n; comment\n[mypy]\nstrict = True\n"})
    assert (scan.hits, scan.errors) == ([], [])


def test_broken_setup_cfg_is_an_error_entry(scan_tree):
    scan = scan_tree({"setup.cfg": "[options\ninstall_requires =\n  torch\n", "other/setup.cfg": "install_requires = torch\n"})
    assert scan.hits == []
    assert scan.errors == [
        ("other/setup.cfg", "line 1: a key before any [section]; not scanned"),
        ("setup.cfg", "line 1: broken section header '[options'; not scanned"),
    ]


SETUP_PY = '''\
import setuptools
from setuptools import setup

BASE = ["torch==2.1.0", 'numpy>=1.26']
EXTRA = BASE + ["scipy"]
EXTRA += [r"rich"]
DOCS = ("sphinx==7.0.0", """furo""")
extras = {"dev": ["pytest~=8.0", *BASE], "docs": DOCS}
REQUIRED = read_requirements("requirements.txt")

if __name__ == "__main__":
    setuptools.setup(
        name="demo",
        install_requires=EXTRA,
        setup_requires=["wheel", "cython==3.0.0"],
        tests_require=["é-not-a-name", "tool @ git+https://github.com/x/tool@v1"],
        extras_require={**extras, "all": REQUIRED},
        dependency_links=["http://example.com/ignored"],
    )
'''
PY_RANGES = [
    ("PIN001", "setup.py", 4, 26),
    ("PIN001", "setup.py", 5, 18),
    ("PIN001", "setup.py", 6, 13),
    ("PIN001", "setup.py", 7, 29),
    ("PIN001", "setup.py", 8, 20),
    ("PIN001", "setup.py", 15, 26),
]
PY_VCS = [("PIN002", "setup.py", 16, 48)]


def test_setup_py_requirements(scan_tree):
    scan = scan_tree({"setup.py": SETUP_PY}, options={"pins": {"ranges": "with-lock-file"}})
    assert scan.hits == PY_RANGES + PY_VCS


@pytest.mark.parametrize(
    ("policy", "lock", "reported"), [("never", True, PY_RANGES + PY_VCS), ("with-lock-file", True, PY_VCS), ("always", False, PY_VCS)]
)
def test_setup_py_follows_the_ranges_policy(policy, lock, reported, scan_tree):
    files = {"setup.py": SETUP_PY} | ({"poetry.lock": ""} if lock else {})
    assert scan_tree(files, options={"pins": {"ranges": policy}}).hits == reported


def test_plain_setup_call_with_literals(scan_tree):
    text = "from setuptools import setup\nsetup(install_requires=['a==1.0', 'b'], tests_require=('c>1',))\n"
    scan = scan_tree({"setup.py": text}, options={"pins": {"ranges": "with-lock-file"}})
    assert scan.hits == [("PIN001", "setup.py", 2, 36), ("PIN001", "setup.py", 2, 57)]


def test_setup_py_url_requirement_needs_a_hash(scan_tree):
    text = "from setuptools import setup\nsetup(install_requires=['a @ https://example.com/a.whl', 'b @ ./vendor/b'])\n"
    assert scan_tree({"setup.py": text}, options={"pins": {"ranges": "always"}}).hits == [("PIN003", "setup.py", 2, 30)]


def test_setup_py_is_never_run(scan_tree, tmp_path):
    text = "open('ran', 'w').write('x')\nfrom setuptools import setup\nsetup(install_requires=['torch'])\n"
    scan = scan_tree({"setup.py": text}, options={"pins": {"ranges": "with-lock-file"}})
    assert scan.hits == [("PIN001", "setup.py", 3, 26)]
    assert not (tmp_path / "ran").exists()


def test_setup_py_that_is_not_python_is_an_error_entry(scan_tree):
    scan = scan_tree({"setup.py": "def (:\n"})
    assert scan.errors == [("setup.py", "not valid Python (line 1: invalid syntax); not scanned")]


def test_setup_files_build_a_distribution_so_auto_keeps_their_ranges(scan_tree):
    # the default `ranges = "auto"`: setup.py and setup.cfg describe a library; VCS problems stay
    assert scan_tree({"setup.py": SETUP_PY, "setup.cfg": SETUP_CFG}).hits == sorted(CFG_VCS + PY_VCS)
