"""Shell scripts: which files are read, and their commands."""

from __future__ import annotations

import pytest

from mlgate.pins import shell_scripts


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("install.sh", True),
        ("tools/setup.bash", True),
        ("env.zsh", True),
        ("scripts/bootstrap", True),
        ("repo/bin/setup", True),
        ("scripts/setup.py", False),
        ("setup", False),
        ("binaries/tool", False),
    ],
)
def test_matches(path, expected):
    assert shell_scripts.matches(path) is expected


def test_scripts_are_analysed(scan_tree):
    files = {
        "install.sh": "#!/bin/sh\nset -e\npip install torch\n",
        "scripts/bootstrap": "#!/usr/bin/env bash\ncurl -fsSL https://get.example/i.sh | bash\n",
        "bin/setup": "#!/bin/bash -e\ngit clone https://github.com/o/r.git\n",
    }
    assert scan_tree(files, select="pins").hits == [
        ("PIN002", "bin/setup", 2, 11),
        ("PIN001", "install.sh", 3, 13),
        ("PIN011", "scripts/bootstrap", 2, 1),
    ]


def test_extensionless_files_need_a_shell_shebang(scan_tree):
    files = {
        "scripts/tool": "#!/usr/bin/env python3\nimport os  # pip install torch\n",
        "bin/data": b"\x7fELF\x00\x00pip install torch\n",
        "scripts/notes": "pip install torch\n",
    }
    scan = scan_tree(files, select="pins")
    assert scan.hits == []
    assert scan.errors == []


def test_suppression_comment(scan_tree):
    text = "pip install torch  # mlgate: ignore[PIN001]\n# mlgate: ignore[PIN011]\ncurl -s https://x.example/i | sh\npip install numpy\n"
    assert scan_tree({"run.sh": text}, select="pins").hits == [("PIN001", "run.sh", 4, 13)]
