"""How often a whole-repository run parses each file, and how long the run takes.

    python3 benchmarks/bench_parse.py [FOLDER ...] [--runs N] [--source PATH]

For each folder (default: ../shared/corpus/real), runs every hook over it in-process once with
the parsers counted (`ast.parse`, YAML composition, `json.loads`, TOML loads), then `--runs`
times as a user runs it (`mlgate check FOLDER`, default text output, a fresh process each time)
and prints the median and minimum wall time. `--source` points at another checkout's `hooks/`
folder, to compare two versions of mlgate on the same input (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import ast
import collections
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def counted_run(folder: Path) -> tuple[collections.Counter[str], int, int]:
    """(parser calls by kind, findings, errors) of one in-process run of every hook over `folder`."""
    from mlgate import cli, yamlfile

    counts: collections.Counter[str] = collections.Counter()

    def counting(kind: str, function):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            counts[kind] += 1
            return function(*args, **kwargs)

        return wrapper

    originals = [(ast, "parse"), (yamlfile, "compose_text"), (json, "loads")]
    import tomllib

    originals.append((tomllib, "loads"))
    saved = [(owner, name, getattr(owner, name)) for owner, name in originals]
    for owner, name, function in saved:
        setattr(owner, name, counting(f"{owner.__name__}.{name}", function))
    output = io.StringIO()
    cwd = os.getcwd()
    try:
        os.chdir(folder)
        with contextlib.redirect_stdout(output):
            cli.main(["check", "--format", "json", "."])
    finally:
        os.chdir(cwd)
        for owner, name, function in saved:
            setattr(owner, name, function)
    report = json.loads(output.getvalue())
    return counts, len(report.get("findings", [])), len(report.get("errors", []))


def timed_runs(folder: Path, runs: int, source: Path | None) -> list[float]:
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    command = [sys.executable, "-m", "mlgate", "check", "."]
    subprocess.run(command, cwd=folder, env=env, capture_output=True)  # warm the file cache
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=folder, env=env, capture_output=True)
        seconds.append(time.perf_counter() - started)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[HERE.parent.parent / "shared" / "corpus" / "real"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--source", type=Path, help="the hooks/ folder of the mlgate to measure (default: the installed one)")
    args = parser.parse_args(argv)
    if args.source is not None:
        sys.path.insert(0, str(args.source.resolve()))
    for folder in args.folders:
        folder = folder.resolve()
        counts, findings, errors = counted_run(folder)
        seconds = timed_runs(folder, args.runs, args.source.resolve() if args.source else None)
        print(f"{folder}: {findings} findings, {errors} errors")
        for kind, number in sorted(counts.items()):
            print(f"  {kind:<24} {number:>7} calls")
        print(f"  wall time over {args.runs} runs: median {statistics.median(seconds):.2f} s, min {min(seconds):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
