"""The hub hook reads code, it never imports or runs it."""

from __future__ import annotations

import json
import sys

MARKER = "ran.txt"
PAYLOAD = (
    "import os\n"
    f"os.system('touch {MARKER}')\n"
    f"open('{MARKER}', 'w').write('imported')\n"
    "from transformers import AutoModel\n"
    "AutoModel.from_pretrained('acme/m')\n"
)


def test_scanned_python_and_notebooks_are_never_imported_or_executed(scan_tree, tmp_path):
    notebook = {
        "cells": [{"cell_type": "code", "source": PAYLOAD, "metadata": {}, "outputs": []}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    files = {
        "evil.py": PAYLOAD,
        "transformers/__init__.py": PAYLOAD,  # a local package shadowing the real one
        "nb.ipynb": json.dumps(notebook),
        "hubconf.py": PAYLOAD,
    }
    before = set(sys.modules)
    scan = scan_tree(files, select="hub")
    assert [hit[1] for hit in scan.hits] == ["evil.py", "hubconf.py", "nb.ipynb", "transformers/__init__.py"]
    assert not (tmp_path / MARKER).exists()
    assert not any(name in ("evil", "hubconf", "transformers") or name.startswith("transformers.") for name in set(sys.modules) - before)
