#!/usr/bin/env python3
"""How fast is `mlgate check --select hub`, next to bandit's Hugging Face check (B615)?

One command (from anywhere): `python3 benchmarks/bench_hub.py` (or `bash benchmarks/run.sh hub`).
It uses, under benchmarks/.work/ (git-ignored), the `mlgate` virtual environment of
bench_pins.py (this repository installed as users get it, re-installed each run) and a `bandit`
environment with bandit at a pinned version (installed once), run as `bandit -r -t B615`.

The input is a generated repository (`--tree`, default: mlgate-bench-hub in the temporary folder,
outside this work tree because mlgate, like git, skips git-ignored files): `--files` Python
modules and `--notebooks` notebooks, deterministic (seeded). Most files are ordinary ML code
with no hub reference (models, data loading, training loops, utilities); about one in ten loads
from the hub in one of the forms real projects use (direct, aliased, through a constant, a
`**kwargs` dict, pinned and unpinned, datasets, pipelines, torch.hub, weight URLs).

Each command runs once to warm the file cache, then `--runs` times; the median wall time of the
whole process (interpreter start-up included) is reported. A "pre-commit" row times `mlgate-hub`
on a handful of files, as pre-commit runs it on a typical commit. One more run of each tool
counts what it found: bandit reads only `.py` files, so its findings are compared with mlgate's
on the same files.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench_pins import WORK, ensure_venv, install_mlgate, table

BANDIT = "bandit==1.9.4"
TARGET_RATIO = 10.0
TARGET_PRE_COMMIT_S = 0.3
PRE_COMMIT_FILES = 5
SHA = "0123456789abcdef0123456789abcdef01234567"

ORGS = ["meta-llama", "mistralai", "google", "microsoft", "Qwen", "BAAI", "acme-research", "someuser", "sentence-transformers"]
NAMES = [
    "Llama-2-7b-hf",
    "Mistral-7B-v0.1",
    "flan-t5-base",
    "phi-2",
    "Qwen2-7B",
    "bge-small-en",
    "tiny-model",
    "fine-tuned",
    "all-MiniLM-L6-v2",
]

# Code with no hub reference: what most files of an ML repository are.
PLAIN_BLOCKS = [
    '''
class {name}(nn.Module):
    """A small block: projection, activation, dropout."""

    def __init__(self, dim: int = {n}, hidden: int = {m}, dropout: float = 0.1):
        super().__init__()
        self.proj = nn.Linear(dim, hidden)
        self.out = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        return self.out(self.drop(torch.relu(self.proj(x)))) + x
''',
    """
def {name}(batch, device="cuda"):
    inputs = {{k: v.to(device) for k, v in batch.items() if k != "labels"}}
    labels = batch["labels"].to(device)
    return inputs, labels
""",
    """
def {name}(model, loader, optimizer, scheduler, epochs={n}):
    model.train()
    for epoch in range(epochs):
        total = 0.0
        for step, batch in enumerate(loader):
            optimizer.zero_grad()
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item()
        logger.info("epoch %d loss %.4f", epoch, total / max(1, step + 1))
    return model
""",
    """
def {name}(path: str, max_rows: int = {m}) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            if index >= max_rows:
                break
            rows.append(json.loads(line))
    return rows
""",
    """
def {name}(predictions, references):
    correct = sum(int(p == r) for p, r in zip(predictions, references))
    accuracy = correct / max(1, len(references))
    return {{"accuracy": accuracy, "n": len(references), "seed": {n}}}
""",
    """
@dataclass
class {name}:
    learning_rate: float = 3e-4
    batch_size: int = {n}
    warmup_steps: int = {m}
    output_dir: str = "outputs/run"
    seed: int = 42
""",
]
PLAIN_HEADER = "import json\nimport logging\nfrom dataclasses import dataclass\n\nimport numpy as np\nimport torch\nfrom torch import nn\n\nlogger = logging.getLogger(__name__)\n"

# One hub reference each, in the forms real code uses ({repo} is `org/name`).
HUB_SNIPPETS = [
    'from transformers import AutoModelForCausalLM, AutoTokenizer\nmodel = AutoModelForCausalLM.from_pretrained("{repo}")\ntokenizer = AutoTokenizer.from_pretrained("{repo}")\n',
    'import transformers as tf\nMODEL_ID = "{repo}"\nmodel = tf.AutoModel.from_pretrained(MODEL_ID, trust_remote_code=True)\n',
    f'from transformers import AutoModel as AM\nmodel = AM.from_pretrained("{{repo}}", revision="{SHA}")\n',
    'from transformers import pipeline\nclassifier = pipeline("text-classification", model="{repo}")\n',
    'from huggingface_hub import hf_hub_download\npath = hf_hub_download(repo_id="{repo}", filename="model.safetensors")\n',
    'from datasets import load_dataset\ndataset = load_dataset("{repo}", split="train")\n',
    'from sentence_transformers import SentenceTransformer\nencoder = SentenceTransformer("{repo}")\n',
    'import torch\nmodel = torch.hub.load("pytorch/vision", "resnet50", pretrained=True)\n',
    'from diffusers import DiffusionPipeline\nkwargs = dict(revision="main")\npipe = DiffusionPipeline.from_pretrained("{repo}", **kwargs)\n',
    'from peft import PeftModel\nmodel = PeftModel.from_pretrained(base_model, "{repo}")\n',
]


def plain_module(rng: random.Random, index: int) -> str:
    blocks = [
        rng.choice(PLAIN_BLOCKS).format(name=f"Part{index}_{k}", n=rng.randint(2, 512), m=rng.randint(8, 4096))
        for k in range(rng.randint(3, 9))
    ]
    return PLAIN_HEADER + "".join(blocks)


def hub_snippet(rng: random.Random) -> str:
    repo = f"{rng.choice(ORGS)}/{rng.choice(NAMES)}"
    return rng.choice(HUB_SNIPPETS).format(repo=repo)


def notebook(rng: random.Random, index: int, with_hub: bool) -> str:
    cells = [
        PLAIN_HEADER,
        *(rng.choice(PLAIN_BLOCKS).format(name=f"Nb{index}_{k}", n=k + 1, m=rng.randint(8, 999)) for k in range(rng.randint(2, 6))),
    ]
    if with_hub:
        cells.insert(1, hub_snippet(rng))
    document = {
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": cell.splitlines(keepends=True)} for cell in cells],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}}, "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip
    return json.dumps(document, indent=1) + "\n"


def generate(tree: Path, files: int, notebooks: int, seed: int) -> list[str]:
    """Write the tree (replacing an old one); returns the paths of files with a hub reference."""
    shutil.rmtree(tree, ignore_errors=True)
    rng = random.Random(seed)
    with_hub = []
    for index in range(files):
        package = tree / "src" / f"pkg{index % 40}"
        package.mkdir(parents=True, exist_ok=True)
        text = plain_module(rng, index)
        if rng.random() < 0.1:
            text += "\n\n" + hub_snippet(rng)
            with_hub.append(f"src/pkg{index % 40}/module{index}.py")
        (package / f"module{index}.py").write_text(text, encoding="utf-8")
    for index in range(notebooks):
        folder = tree / "notebooks"
        folder.mkdir(parents=True, exist_ok=True)
        hub = rng.random() < 0.3
        (folder / f"explore{index}.ipynb").write_text(notebook(rng, index, hub), encoding="utf-8")
        if hub:
            with_hub.append(f"notebooks/explore{index}.ipynb")
    return with_hub


def timed(cmd: list[str], cwd: Path, runs: int) -> list[float]:
    subprocess.run(cmd, cwd=cwd, capture_output=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def mlgate_findings(bin_dir: Path, tree: Path, paths: list[str]) -> tuple[int, Counter, Counter]:
    result = subprocess.run(
        [str(bin_dir / "mlgate"), "check", "--select", "hub", "--format", "json", *paths], cwd=tree, capture_output=True, text=True
    )
    report = json.loads(result.stdout)
    rules = Counter(finding["rule"] for finding in report["findings"])
    python_only = Counter(finding["rule"] for finding in report["findings"] if finding["path"].endswith(".py"))
    if report["errors"]:
        rules["(errors)"] = len(report["errors"])
    return report["scanned_files"], rules, python_only


def bandit_findings(bin_dir: Path, tree: Path) -> Counter:
    result = subprocess.run(
        [str(bin_dir / "bandit"), "-q", "-r", ".", "-t", "B615", "-f", "json"], cwd=tree, capture_output=True, text=True
    )
    try:
        report = json.loads(result.stdout)
    except ValueError:
        sys.exit(f"bandit failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return Counter(issue["test_id"] for issue in report["results"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tree", type=Path, default=Path(tempfile.gettempdir()) / "mlgate-bench-hub", help="where the generated repository goes"
    )
    parser.add_argument("--files", type=int, default=3000, help="Python modules to generate")
    parser.add_argument("--notebooks", type=int, default=300, help="notebooks to generate")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command (after one warm-up)")
    parser.add_argument("--skip-tools", action="store_true", help="time mlgate only (no bandit install)")
    args = parser.parse_args()

    WORK.mkdir(exist_ok=True)
    tree = args.tree.resolve()
    with_hub = generate(tree, args.files, args.notebooks, args.seed)
    mlgate_bin = install_mlgate()
    handful = [path for path in with_hub if path.endswith(".py")][:2] + [f"src/pkg{i}/module{i}.py" for i in range(PRE_COMMIT_FILES - 2)]

    rows = [["tool", "scope", "files", "findings", "median s", "min s", "x mlgate"]]
    scanned, rules, python_only = mlgate_findings(mlgate_bin, tree, ["."])
    whole = timed([str(mlgate_bin / "mlgate"), "check", "--select", "hub", "."], tree, args.runs)
    python_files = sorted(str(path.relative_to(tree)) for path in tree.rglob("*.py"))
    same_scope = timed([str(mlgate_bin / "mlgate"), "check", "--select", "hub", "src"], tree, args.runs)
    pre_commit = timed([str(mlgate_bin / "mlgate-hub"), *handful], tree, args.runs)
    rows.append(
        [
            "mlgate --select hub",
            "whole tree (.py + .ipynb)",
            str(scanned),
            str(sum(rules.values())),
            f"{statistics.median(whole):.3f}",
            f"{min(whole):.3f}",
            "-",
        ]
    )
    rows.append(
        [
            "mlgate --select hub",
            "Python files (src/)",
            str(len(python_files)),
            str(sum(python_only.values())),
            f"{statistics.median(same_scope):.3f}",
            f"{min(same_scope):.3f}",
            "-",
        ]
    )
    bandit_counts: Counter = Counter()
    ratio = None
    if not args.skip_tools:
        bandit_bin = ensure_venv(WORK / "bandit", [BANDIT], marker=BANDIT)
        bandit_counts = bandit_findings(bandit_bin, tree)
        bandit = timed([str(bandit_bin / "bandit"), "-q", "-r", ".", "-t", "B615"], tree, args.runs)
        ratio = statistics.median(bandit) / statistics.median(same_scope)
        rows.append(
            [
                "bandit -t B615",
                "Python files (src/)",
                str(len(python_files)),
                str(sum(bandit_counts.values())),
                f"{statistics.median(bandit):.3f}",
                f"{min(bandit):.3f}",
                f"{ratio:.1f}x",
            ]
        )
    rows.append(
        [
            "mlgate-hub (pre-commit)",
            f"{len(handful)} files",
            str(len(handful)),
            "-",
            f"{statistics.median(pre_commit):.3f}",
            f"{min(pre_commit):.3f}",
            "-",
        ]
    )

    print(
        f"tree: {tree}  ({args.files} Python files, {args.notebooks} notebooks, {len(with_hub)} with a hub reference; {args.runs} timed runs each, after one warm-up)\n"
    )
    print(table(rows))
    print("\nwhat each tool found (by rule):")
    print(f"  mlgate [whole tree]: {', '.join(f'{rule} {count}' for rule, count in rules.most_common())}")
    print(f"  mlgate [Python files]: {', '.join(f'{rule} {count}' for rule, count in python_only.most_common())}")
    if not args.skip_tools:
        print(f"  bandit [Python files]: {', '.join(f'{rule} {count}' for rule, count in bandit_counts.most_common()) or 'nothing'}")
        print(
            f"\nmlgate vs bandit on the same Python files: {ratio:.1f}x faster (target >= {TARGET_RATIO:.0f}x: {'ok' if ratio >= TARGET_RATIO else 'MISSED'})"
        )
    pre_commit_s = statistics.median(pre_commit)
    print(
        f"pre-commit run on {len(handful)} files: {pre_commit_s:.3f} s (target < {TARGET_PRE_COMMIT_S} s: {'ok' if pre_commit_s < TARGET_PRE_COMMIT_S else 'MISSED'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
