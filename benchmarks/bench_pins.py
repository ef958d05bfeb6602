#!/usr/bin/env python3
"""How fast is `mlgate check --select pins`, next to zizmor and checkov, on the real corpus?

One command (from anywhere): `python3 benchmarks/bench_pins.py` (or `bash benchmarks/run.sh`).
It creates benchmarks/.work/ (git-ignored) with two virtual environments:

- `mlgate`: this repository installed as users get it (not editable), re-installed each run;
- `tools`: zizmor and checkov at pinned versions, installed once.

Each command is timed as a user runs it (default text output): run once to warm caches, then
`--runs` times; the median wall time (perf_counter around the whole subprocess, interpreter
start-up included) is reported. One more run asks each tool for JSON, so that the table also says
what each one found: the tools check different things, and a speed ratio means little without
the coverage next to it.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
import venv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
TOOLS = {"zizmor": "1.32.0", "checkov": "3.3.30"}
DEFAULT_CORPUS = REPO / "tests" / "corpus" / "real"
TARGET_CORPUS_S = 0.5
TARGET_IMPORT_MS = 100.0

# What each tool reports that is about pinning: the part of its output comparable to mlgate's.
ZIZMOR_PINNING = {"unpinned-uses", "unpinned-images"}
CHECKOV_PINNING = {"CKV_DOCKER_7"}  # "Ensure the base image uses a non latest version tag"
WORKFLOW = re.compile(r"(^|/)\.github/workflows/[^/]+\.ya?ml$")
ACTION = re.compile(r"(^|/)action\.ya?ml$")
PRE_COMMIT = re.compile(r"(^|/)\.pre-commit-config\.ya?ml$")
DOCKERFILE = re.compile(r"(^|/)((Dockerfile|Containerfile)(\.[^/]+)?|[^/]+\.(Dockerfile|dockerfile))$")


@dataclass
class Measure:
    tool: str
    scope: str
    files: int
    findings: Counter
    pinning: int
    times: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)


def timed(cmd: list[str], cwd: Path, runs: int, json_flags: list[str]) -> tuple[list[float], subprocess.CompletedProcess]:
    """One warm-up run, then `runs` timed runs of `cmd`; then one run with `json_flags` whose
    result is returned for counting."""
    run(cmd, cwd)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run(cmd, cwd)
        times.append(time.perf_counter() - start)
    return times, run([*cmd, *json_flags], cwd)


def ensure_venv(path: Path, requirements: list[str], marker: str, force: bool = False) -> Path:
    """A virtual environment at `path` with `requirements`; `marker` records what is in it."""
    stamp = path / ".installed"
    python = path / "bin" / "python"
    if force or not python.exists() or not stamp.exists() or stamp.read_text() != marker:
        if not python.exists():
            print(f"creating {path.relative_to(REPO)} ...", file=sys.stderr)
            venv.create(path, with_pip=True)
        print(f"installing {' '.join(requirements)} into {path.relative_to(REPO)} ...", file=sys.stderr)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements], check=True)
        stamp.write_text(marker)
    return path / "bin"


def install_mlgate() -> Path:
    # setuptools builds in the source tree and reuses its build/ folder, which would keep stale
    # modules in later builds: remove it again unless it was there before.
    leftover = not (REPO / "build").exists()
    bin_dir = ensure_venv(WORK / "mlgate", [str(REPO)], marker="deps")
    # Re-install the package itself every time so the numbers are for the working tree.
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(REPO)],
        check=True,
    )
    if leftover:
        shutil.rmtree(REPO / "build", ignore_errors=True)
    return bin_dir


def corpus_files(corpus: Path, *patterns: re.Pattern) -> list[str]:
    files = (path.relative_to(corpus).as_posix() for path in sorted(corpus.rglob("*")) if path.is_file())
    return [name for name in files if any(p.search(name) for p in patterns)]


def measure_mlgate(bin_dir: Path, corpus: Path, scope: str, paths: list[str], runs: int, hook: str = "pins") -> Measure:
    cmd = [str(bin_dir / "mlgate"), "check", "--select", hook, *paths]
    times, result = timed(cmd, corpus, runs, ["--format", "json"])
    if result.returncode not in (0, 1):
        sys.exit(f"mlgate failed ({result.returncode}):\n{result.stderr}")
    report = json.loads(result.stdout)
    findings = Counter(finding["rule"] for finding in report["findings"])
    if report["errors"]:
        findings["(errors)"] = len(report["errors"])
    return Measure("mlgate", scope, report["scanned_files"], findings, sum(findings.values()) - findings["(errors)"], times)


def measure_zizmor(bin_dir: Path, corpus: Path, files: int, runs: int) -> Measure:
    cmd = [str(bin_dir / "zizmor"), "--offline", "--no-config", "--no-progress", "."]
    times, result = timed(cmd, corpus, runs, ["--format", "json"])
    if not result.stdout.strip().startswith("["):
        sys.exit(f"zizmor failed ({result.returncode}):\n{result.stderr[-2000:]}")
    findings = Counter(finding["ident"] for finding in json.loads(result.stdout))
    pinning = sum(count for ident, count in findings.items() if ident in ZIZMOR_PINNING)
    return Measure("zizmor --offline", "workflows, actions, pre-commit", files, findings, pinning, times)


def measure_checkov(
    bin_dir: Path,
    corpus: Path,
    files: int,
    runs: int,
    frameworks: tuple[str, ...] = ("dockerfile", "github_actions"),
    scope: str = "Dockerfiles, workflows, actions",
) -> Measure:
    cmd = [str(bin_dir / "checkov"), "-d", ".", "--framework", *frameworks, "--quiet", "--compact", "--skip-download"]
    times, result = timed(cmd, corpus, runs, ["--output", "json"])
    try:
        reports = json.loads(result.stdout)
    except ValueError:
        sys.exit(f"checkov failed ({result.returncode}):\n{result.stderr[-2000:]}")
    findings: Counter = Counter()
    for report in reports if isinstance(reports, list) else [reports]:
        for check in report.get("results", {}).get("failed_checks", []):
            findings[check["check_id"]] += 1
    pinning = sum(count for check_id, count in findings.items() if check_id in CHECKOV_PINNING)
    return Measure("checkov", scope, files, findings, pinning, times)


def import_time_ms(bin_dir: Path, runs: int) -> tuple[float, float]:
    """Median (import of the mlgate modules, whole `python -c 'import mlgate.cli'`), in ms."""
    python = str(bin_dir / "python")
    imports, walls = [], []
    for _ in range(runs + 1):
        start = time.perf_counter()
        result = run([python, "-X", "importtime", "-c", "import mlgate.cli"], REPO.parent)
        walls.append((time.perf_counter() - start) * 1000)
        total_us = 0
        for line in result.stderr.splitlines():
            # Nested imports are indented after the second `|`: count top-level mlgate entries only.
            match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (mlgate(\.\S+)?)$", line)
            if match:
                total_us += int(match.group(1))
        imports.append(total_us / 1000)
    return statistics.median(imports[1:]), statistics.median(walls[1:])


def print_found(measures: list[Measure]) -> None:
    """What each measured tool found, by rule, most frequent first."""
    print("\nwhat each tool found (by rule):")
    for m in measures:
        detail = ", ".join(f"{name} {count}" for name, count in sorted(m.findings.items(), key=lambda item: (-item[1], item[0])))
        print(f"  {m.tool} [{m.scope}]: {detail or 'nothing'}")


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.rjust(width) if cell[:1].isdigit() or cell[:1] == "-" else cell.ljust(width)
                for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help=f"default: {DEFAULT_CORPUS}")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command (after one warm-up)")
    parser.add_argument("--skip-tools", action="store_true", help="time mlgate only")
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    if not corpus.is_dir():
        sys.exit(f"corpus not found: {corpus}")

    WORK.mkdir(exist_ok=True)
    mlgate_bin = install_mlgate()
    zizmor_scope = corpus_files(corpus, WORKFLOW, ACTION, PRE_COMMIT)
    checkov_scope = corpus_files(corpus, DOCKERFILE, WORKFLOW, ACTION)

    measures = [measure_mlgate(mlgate_bin, corpus, "whole corpus", ["."], args.runs)]
    pairs = []
    if not args.skip_tools:
        tools_bin = ensure_venv(WORK / "tools", [f"{name}=={version}" for name, version in TOOLS.items()], marker=json.dumps(TOOLS))
        same_as_zizmor = measure_mlgate(mlgate_bin, corpus, "workflows, actions, pre-commit", zizmor_scope, args.runs)
        zizmor = measure_zizmor(tools_bin, corpus, len(zizmor_scope), args.runs)
        same_as_checkov = measure_mlgate(mlgate_bin, corpus, "Dockerfiles, workflows, actions", checkov_scope, args.runs)
        checkov = measure_checkov(tools_bin, corpus, len(checkov_scope), args.runs)
        measures += [same_as_zizmor, zizmor, same_as_checkov, checkov]
        pairs = [(zizmor, same_as_zizmor), (checkov, same_as_checkov)]
    import_ms, python_ms = import_time_ms(mlgate_bin, args.runs)

    baseline = {id(tool): mine for tool, mine in pairs}
    rows = [["tool", "scope", "files", "findings", "pinning findings", "median s", "min s", "x mlgate"]]
    for m in measures:
        ratio = f"{m.median / baseline[id(m)].median:.1f}x" if id(m) in baseline else "-"
        rows.append(
            [m.tool, m.scope, str(m.files), str(sum(m.findings.values())), str(m.pinning), f"{m.median:.3f}", f"{min(m.times):.3f}", ratio]
        )

    print(f"corpus: {corpus}  ({args.runs} timed runs each, after one warm-up; wall time of the whole process)\n")
    print(table(rows))
    print_found(measures)
    print(
        "\npinning findings: mlgate = all of its findings; zizmor = "
        + " + ".join(sorted(ZIZMOR_PINNING))
        + "; checkov = "
        + " + ".join(sorted(CHECKOV_PINNING))
        + " (checks for `latest`, not for a digest)."
    )
    corpus_s = measures[0].median
    print(f"\nmlgate whole corpus: {corpus_s:.3f} s (target < {TARGET_CORPUS_S} s: {'ok' if corpus_s < TARGET_CORPUS_S else 'MISSED'})")
    print(
        f"import of mlgate.cli: {import_ms:.1f} ms (target < {TARGET_IMPORT_MS:.0f} ms: {'ok' if import_ms < TARGET_IMPORT_MS else 'MISSED'}); "
        f"`python -c 'import mlgate.cli'` wall: {python_ms:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
