"""The one-parse floor of a repository: the time to parse every *.yaml, *.yml, *.json and *.py
file once, with ruamel's C composer (as mlgate composes YAML: nodes, no objects), json and ast.

    python benchmarks/parse_floor.py /work/trees/kserve

Compare with `time mlgate check .` in the same folder: a whole-repository run should stay
within about twice this floor. Files that do not parse count with the time they took.

A second line gives the required-reading floor of bench_real_repos.py: its one-parse floor
(also *.ipynb, *.toml, lock files and Jinja templates) plus what the issue requires mlgate to
read past one parse: the first 1 KiB of every other file, `ast.parse` of each notebook code
cell, and shell tokenising of scripts, Dockerfiles and workflow `run:` steps.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import time
import warnings

from ruamel.yaml import YAML

SKIPPED = {".git", "node_modules", "__pycache__", ".venv", "venv", ".tox"}


def files(root: str) -> list[str]:
    found = []
    for folder, folders, names in os.walk(root):
        folders[:] = [name for name in folders if name not in SKIPPED]
        found += [os.path.join(folder, name) for name in names if name.endswith((".yaml", ".yml", ".json", ".py"))]
    return sorted(found)


def main(root: str) -> None:
    yaml = YAML(typ="safe", pure=False)
    timings = {"yaml": 0.0, "json": 0.0, "python": 0.0}
    counts = dict.fromkeys(timings, 0)
    size = failed = 0
    for path in files(root):
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError):
            continue
        size += len(text)
        kind = "json" if path.endswith(".json") else "python" if path.endswith(".py") else "yaml"
        start = time.perf_counter()
        try:
            if kind == "yaml":
                list(yaml.compose_all(text))
            elif kind == "json":
                json.loads(text)
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ast.parse(text)
        except Exception:
            failed += 1
        timings[kind] += time.perf_counter() - start
        counts[kind] += 1
    total = sum(timings.values())
    detail = ", ".join(f"{kind} {counts[kind]} files {timings[kind]:.2f} s" for kind in timings)
    print(f"parse floor: {total:.2f} s for {sum(counts.values())} files, {size / 1e6:.1f} MB ({detail}; {failed} did not parse)")
    required_floor(root)


def required_floor(root: str) -> None:
    from pathlib import Path

    import bench_real_repos

    folder = Path(root).resolve()
    floor, parsed, _ = bench_real_repos.parse_floor(bench_real_repos.parse_files(folder))
    e = bench_real_repos.required_extra(bench_real_repos.required_files(folder))
    extra = e["head"] + e["shell"] + e["cells"] + e["run"]
    print(
        f"required-reading floor: {floor + extra:.2f} s = one-parse floor {floor:.2f} s ({parsed} files)"
        f" + heads {e['heads']} files {e['head']:.2f} s + shell {e['shell_files']} files {e['shell']:.2f} s"
        f" + notebook cells {e['cell_count']} {e['cells']:.2f} s + workflow run: {e['run_count']} {e['run']:.2f} s"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
