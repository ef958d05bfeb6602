"""mlgate's MOD017/MOD018 against bandit's B301 (pickle) and B614 (torch.load) on generated code.

Generates one small project per case under a work folder (each with its own root, since the
torch a project declares changes the verdict), runs `bandit -t B301,B614` over all of them and
`mlgate check --select MOD017,MOD018` in each, and prints every case with both verdicts, marking
those the tools judge differently and why. bandit is needed only here (`pip install bandit`);
it is not a dependency of mlgate. Nothing generated is ever run or loaded.

    python3 benchmarks/bench_unsafe_loads.py [--work DIR] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

DOWNLOAD = 'from huggingface_hub import hf_hub_download\np = hf_hub_download("acme/model", "pytorch_model.bin")\n'


@dataclass
class Case:
    name: str
    files: dict[str, str | bytes]
    why: str  # what a maintainer would say about the call, i.e. the right verdict
    target: str = "app.py"  # the file whose calls are compared
    extra: dict[str, str] = field(default_factory=dict)


CASES = [
    Case("download-torch-load", {"app.py": "import torch\n" + DOWNLOAD + "torch.load(p)\n"},
         "a file from an unpinned hub repository, unpickled: the attack itself"),
    Case("download-two-assignments", {"app.py": "import os, torch\n" + DOWNLOAD + 'd = os.path.dirname(p)\nf = os.path.join(d, "m.pt")\ntorch.load(f)\n'},
         "the same, through two assignments"),
    Case("alias", {"app.py": "from torch import load as tload\n" + DOWNLOAD + "tload(p)\n"}, "an alias of torch.load"),
    Case("weights-only-true", {"app.py": "import torch\n" + DOWNLOAD + "torch.load(p, weights_only=True)\n"},
         "weights_only=True loads tensors only: safe on torch>=2.6"),
    Case("weights-only-false", {"app.py": "import torch\n" + DOWNLOAD + "torch.load(p, weights_only=False)\n"}, "explicitly unsafe"),
    Case("torch-2.6-default", {"app.py": "import torch\ndef load(path):\n    return torch.load(path)\n", "requirements.txt": "torch>=2.6\n"},
         "the project requires torch>=2.6, where weights_only defaults to True"),
    Case("torch-2.5-weights-only", {"app.py": "import torch\n" + DOWNLOAD + "torch.load(p, weights_only=True)\n", "requirements.txt": "torch==2.5.1\n"},
         "CVE-2025-32434: weights_only=True is bypassable before torch 2.6"),
    Case("wrapper", {"app.py": "import torch\ndef load(path):\n    return torch.load(path)\nload('a.pt')\nload(b)\n"},
         "library wrapper: one finding, at the wrapper"),
    Case("roundtrip-bytes", {"app.py": "import pickle\ndef copy(obj):\n    return pickle.loads(pickle.dumps(obj))\n"},
         "a deep copy of the program's own object: nothing is loaded"),
    Case("own-save", {"app.py": "import torch\ndef cache(m, path):\n    torch.save(m, path)\n    return torch.load(path)\n"},
         "loads the file it saved two lines above"),
    Case("own-cache-helper", {"app.py": "import os, pickle\ndef _path(n):\n    return os.path.join(CACHE, n)\n"
                              "def get(n):\n    with open(_path(n), 'rb') as f:\n        return pickle.load(f)\n"
                              "def put(n, o):\n    with open(_path(n), 'wb') as f:\n        pickle.dump(o, f)\n"},
         "a cache the module writes itself"),
    Case("ipc-bytes", {"app.py": "import pickle\ndef on_message(payload):\n    return pickle.loads(payload.data)\n"},
         "bytes between the program's own processes, not a model file"),
    Case("test-fixture", {"tests/test_io.py": "import torch\ndef test_load():\n    torch.load('tests/fixture.pt')\n"},
         "a test loading its own fixture (MOD003's convention)", target="tests/test_io.py"),
    Case("checked-in-clean", {"app.py": "import pickle\npickle.load(open('vocab.pkl', 'rb'))\n", "vocab.pkl": pickle.dumps({"a": 1}, protocol=4)},
         "a checked-in pickle mlgate read: plain data (medium)"),
    Case("argparse-joblib", {"app.py": "import argparse, joblib\nparser = argparse.ArgumentParser()\nparser.add_argument('--model')\n"
                             "args = parser.parse_args()\njoblib.load(args.model)\n"},
         "joblib.load of a command-line path: joblib is pickle"),
    Case("numpy-allow-pickle", {"app.py": "import sys\nimport numpy as np\nnp.load(sys.argv[1], allow_pickle=True)\n"},
         "numpy object arrays are pickles"),
    Case("keras-unsafe", {"app.py": "import keras\nkeras.models.load_model(URL_PATH, safe_mode=False)\n"},
         "safe_mode=False runs Lambda layers' code"),
    Case("fastapi-route", {"app.py": "import joblib\nfrom fastapi import FastAPI\napp = FastAPI()\n@app.post('/load')\n"
                           "def load(path: str):\n    return joblib.load(path)\n"},
         "a path from an HTTP request"),
    Case("unpickler", {"app.py": "import pickle\n" + DOWNLOAD + "pickle.Unpickler(open(p, 'rb')).load()\n"}, "pickle.Unpickler of a download"),
    Case("read-pickle-url", {"app.py": "import pandas as pd\nimport urllib.request\n"
                             "urllib.request.urlretrieve('https://example.org/f.pkl', 'f.pkl')\npd.read_pickle('f.pkl')\n"},
         "a pickle written from a URL download"),
]  # fmt: skip


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


def _bandit(work: Path) -> dict[tuple[str, int], str]:
    """(case/path, line) -> bandit's test id and severity."""
    done = subprocess.run(["bandit", "-q", "-f", "json", "-t", "B301,B614", "-r", str(work)], capture_output=True, text=True)
    found: dict[tuple[str, int], str] = {}
    for result in json.loads(done.stdout or "{}").get("results", []):
        path = Path(result["filename"]).resolve().relative_to(work.resolve()).as_posix()
        found[(path, result["line_number"])] = f"{result['test_id']} {result['issue_severity'].lower()}"
    return found


def _mlgate(folder: Path, case: str) -> dict[tuple[str, int], str]:
    done = subprocess.run(
        [sys.executable, "-m", "mlgate", "check", "--select", "MOD017,MOD018", "--format", "json", "."],
        capture_output=True,
        text=True,
        cwd=folder,
    )
    found: dict[tuple[str, int], str] = {}
    for finding in json.loads(done.stdout)["findings"]:
        found[(f"{case}/{finding['path']}", finding["line"])] = f"{finding['rule']} {finding['severity']}"
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="where to generate the cases (default: a temporary folder, removed after)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for benchmarks/README.md)")
    options = parser.parse_args()
    if shutil.which("bandit") is None:
        print("bandit is not installed: pip install bandit", file=sys.stderr)
        return 2
    work = options.work or Path(tempfile.mkdtemp(prefix="mlgate-loads-"))
    try:
        for case in CASES:
            _write(work / case.name, case.files)
            (work / case.name / ".git").mkdir(exist_ok=True)  # each case is a repository of its own
        bandit = _bandit(work)
        rows = []
        for case in CASES:
            mlgate = _mlgate(work / case.name, case.name)
            lines = sorted({line for path, line in [*bandit, *mlgate] if path == f"{case.name}/{case.target}"})
            for line in lines or [0]:
                key = (f"{case.name}/{case.target}", line)
                said_bandit, said_mlgate = bandit.get(key, "—"), mlgate.get(key, "—")
                differ = (said_bandit == "—") != (said_mlgate == "—") or said_mlgate.startswith("MOD017 medium")
                rows.append((case.name, line, said_bandit, said_mlgate, "differ" if differ else "same", case.why))
    finally:
        if options.work is None:
            shutil.rmtree(work, ignore_errors=True)
    if options.markdown:
        print("| case | line | bandit B301/B614 | mlgate | verdicts | why |\n|---|---|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(str(cell) for cell in row) + " |")
    else:
        for row in rows:
            print(f"{row[0]:<26} {row[1]:>3}  bandit: {row[2]:<12} mlgate: {row[3]:<16} {row[4]:<6}  {row[5]}")
    print(
        f"\n{sum(row[2] != '—' for row in rows)} bandit findings, {sum(row[3] != '—' for row in rows)} mlgate findings, "
        f"{sum(row[4] == 'differ' for row in rows)} judged differently",
        file=sys.stderr if options.markdown else sys.stdout,
    )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    raise SystemExit(main())
