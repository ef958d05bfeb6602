#!/usr/bin/env python3
"""How fast is `mlgate check --select models`, next to picklescan, modelscan, fickling and modelaudit?

One command (from anywhere): `python3 benchmarks/bench_models.py`. It creates, under
benchmarks/.work/ (git-ignored):

- the `mlgate` virtual environment of bench_pins.py (this repository, installed as users get it,
  re-installed each run), and one environment per tool at a pinned version (installed once).

The inputs go outside the repository (`--inputs`, default: mlgate-bench-models in the temporary
folder), because mlgate, like git, skips git-ignored files when it walks a work tree:

- `big/pytorch_model.bin`: a ~1 GB benign PyTorch checkpoint laid out as torch.save writes it
  (data.pkl + 64-byte-aligned stored tensor members), written with the zipfile module: no torch
  needed; kept between runs;
- `mixed/`: the benign fixtures made by the real libraries (tests/fixtures/models), one file per
  known attack class written opcode by opcode (benchmarks/model_specimens.py), and files that
  are not models: small files, where start-up dominates;
- `realistic/`: model folders as repositories and hub snapshots hold them, at real sizes (about
  1.1 GB at `--scale 1`): torch zip and safetensors weights, a GGUF, raw pickles and joblib files
  of numpy arrays, a legacy torch checkpoint, npy/npz, ONNX, Keras/HDF5, tokenizers, source, data
  (benchmarks/model_folders.py); kept between runs.

Every command is run once to warm the file cache, then `--runs` times (default 3; once when the
warm-up took more than 10 s); the table gives the median wall time of the whole process (interpreter start-up included) and its peak
resident memory (ru_maxrss of that process and the children it waited for, from os.wait4).
The last run's report is parsed to say what each tool found in each file, so the speed
numbers come with the coverage that goes with them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import model_folders
from bench_pins import REPO, WORK, ensure_venv, install_mlgate, table
from model_specimens import FIXTURES_WITH_CODE, MALICIOUS, write_mixed, write_torch_zip

# Each tool at its pinned version, with the optional dependencies it needs for the formats in the
# mixed directory, so that what it misses is the tool's doing and not the install's.
TOOLS = {
    # picklescan imports numpy to read .npy/.npz (and crashes on an .npz without it).
    "picklescan": ["picklescan==1.0.5", "numpy==2.4.6"],
    # h5py: its Keras Lambda scanners; numpy 1.x: its .npy reader calls a numpy 1 private function.
    "modelscan": ["modelscan[h5py]==0.8.8", "numpy==1.26.4"],
    # fickling 0.1.12 imports typing_extensions without declaring it.
    "fickling": ["fickling==0.1.12", "typing_extensions==4.15.0"],
    "modelaudit": ["modelaudit[h5,onnx,safetensors,joblib]==0.2.54"],
}
DEFAULT_INPUTS = Path(tempfile.gettempdir()) / "mlgate-bench-models"
FIXTURES = REPO / "tests" / "fixtures" / "models"
BIG_BYTES = 1 << 30
TARGET_BIG_S = 0.2
TARGET_BIG_MB = 100
TARGET_SPEEDUP = 5.0
SLOW_S = 10.0
QUIET_ENV = {"PROMPTFOO_DISABLE_TELEMETRY": "1", "NO_ANALYTICS": "1"}  # modelaudit phones home otherwise

# fickling has no directory mode: the fastest fair use is its API in one process over the files.
FICKLING_DRIVER = """
import json, os, sys
import fickling
target = sys.argv[1]
files = [target] if os.path.isfile(target) else sorted(
    os.path.join(root, name) for root, _, names in os.walk(target) for name in names)
for path in files:
    result = fickling.scan_file(path, graceful=True)
    print(json.dumps({"path": path, "severity": result.severity.name, "errors": result.errors[:1]}))
"""

DANGEROUS, WARNING, ERROR, CLEAN = "BLOCK", "warn", "error", "-"


@dataclass
class Run:
    seconds: float
    peak_mb: float
    returncode: int


@dataclass
class Measure:
    tool: str
    target: str  # Target.key
    runs: list[Run] = field(default_factory=list)
    verdicts: dict[str, tuple[str, str]] = field(default_factory=dict)  # file -> (verdict, detail)

    @property
    def seconds(self) -> float:
        return statistics.median(run.seconds for run in self.runs)

    @property
    def peak_mb(self) -> float:
        return statistics.median(run.peak_mb for run in self.runs)


def run_once(cmd: list[str], cwd: Path, output: Path) -> Run:
    """One process, stdout to `output` and stderr beside it; wall time and peak RSS from os.wait4."""
    with output.open("wb") as sink, output.with_suffix(".err").open("wb") as errors:
        start = time.perf_counter()
        process = subprocess.Popen(cmd, cwd=cwd, stdout=sink, stderr=errors, env={**os.environ, **QUIET_ENV})
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(elapsed, usage.ru_maxrss / 1024, process.returncode)


# --- per tool: the command, and how to read its report -------------------------------------------

RANK = [CLEAN, WARNING, ERROR, DANGEROUS]


class Verdicts(dict):
    """file name -> (strongest verdict, every distinct detail, strongest first), for the files
    of the mixed set; locations of other files (extra copies) are left out."""

    def __init__(self, names: list[str]):
        super().__init__()
        self.names = names

    def add(self, location: str, verdict: str, detail: str) -> None:
        name = self._top_file(location)
        if name is None:
            return
        old_verdict, old_detail = self.get(name, (CLEAN, ""))
        details = [part for part in old_detail.split("; ") if part]
        if detail not in details:
            details.insert(0, detail) if RANK.index(verdict) > RANK.index(old_verdict) else details.append(detail)
        self[name] = (max(old_verdict, verdict, key=RANK.index), "; ".join(details))

    def _top_file(self, location: str) -> str | None:
        """The scanned file a location (absolute, relative, 'file:member', 'file (pos 3)') is about."""
        location = location.replace("\\", "/").removeprefix("./")
        location = re.sub(r"^.*/mlgate-bench-models/[^/]+/", "", location)
        matches = [name for name in self.names if location == name or location.startswith((name + ":", name + " ", name + "/"))]
        return max(matches, key=len) if matches else None


def read_mlgate(report: Path, output: str, verdicts: Verdicts) -> None:
    data = json.loads(output[output.index("{") : output.rindex("}") + 1])
    for finding in data["findings"]:
        verdict = DANGEROUS if finding["severity"] in ("high", "critical") else WARNING
        verdicts.add(finding["path"], verdict, f"{finding['rule']} {finding['severity']}")
    for error in data["errors"]:
        verdicts.add(error["path"], ERROR, error["message"][:60])


def read_picklescan(report: Path, output: str, verdicts: Verdicts) -> None:
    for line in output.splitlines():
        if match := re.match(r"(.+?): dangerous import '(.+?)' FOUND", line):
            verdicts.add(match.group(1), DANGEROUS, match.group(2).replace(" ", "."))
        elif match := re.match(r"ERROR: .*? in (.+?): (.*)", line):
            verdicts.add(match.group(1), ERROR, match.group(2)[:60])


def read_modelscan(report: Path, output: str, verdicts: Verdicts) -> None:
    data = json.loads(report.read_text())
    for issue in data.get("issues", []):
        verdict = DANGEROUS if issue["severity"] in ("CRITICAL", "HIGH") else WARNING
        verdicts.add(issue["source"], verdict, f"{issue['module']}.{issue['operator']} {issue['severity']}")
    for error in data.get("errors", []):
        verdicts.add(error.get("source", ""), ERROR, str(error.get("description", ""))[:60])


# fickling's levels: LIKELY_SAFE < POSSIBLY_UNSAFE < SUSPICIOUS < LIKELY_UNSAFE < LIKELY_OVERTLY_MALICIOUS
# < OVERTLY_MALICIOUS. Only the two "malicious" ones count as a block (the others flag most
# scikit-learn pickles), which is the reading most favourable to fickling on benign files.
FICKLING_DANGEROUS = {"LIKELY_OVERTLY_MALICIOUS", "OVERTLY_MALICIOUS"}


def read_fickling(report: Path, output: str, verdicts: Verdicts) -> None:
    for item in (json.loads(line) for line in output.splitlines() if line.startswith("{")):
        if item["errors"]:
            verdicts.add(item["path"], ERROR, item["errors"][0][:60])
        if item["severity"] != "LIKELY_SAFE":
            verdicts.add(item["path"], DANGEROUS if item["severity"] in FICKLING_DANGEROUS else WARNING, item["severity"])


def read_modelaudit(report: Path, output: str, verdicts: Verdicts) -> None:
    for issue in json.loads(report.read_text()).get("issues", []):
        verdict = {"critical": DANGEROUS, "warning": WARNING}.get(issue.get("severity"))
        if verdict:
            verdicts.add(issue.get("location") or "", verdict, f"{issue.get('rule_code', '')} {issue['message'][:50]}")


@dataclass
class Tool:
    name: str
    command: Callable[[Path, Path], list[str]]  # (bin dir, report file) -> argv, run in the target folder
    read: Callable[[Path, str, Verdicts], None]  # (report file, stdout + stderr, verdicts to fill)


TOOL_RUNS = [
    Tool("mlgate", lambda bin_dir, report: [str(bin_dir / "mlgate"), "check", "--select", "models", "--format", "json", "."], read_mlgate),
    Tool("picklescan", lambda bin_dir, report: [str(bin_dir / "picklescan"), "-p", "."], read_picklescan),
    Tool("modelscan", lambda bin_dir, report: [str(bin_dir / "modelscan"), "-p", ".", "-r", "json", "-o", str(report)], read_modelscan),
    Tool("fickling", lambda bin_dir, report: [str(bin_dir / "python"), "-c", FICKLING_DRIVER, "."], read_fickling),
    Tool(
        "modelaudit",
        lambda bin_dir, report: [str(bin_dir / "modelaudit"), "scan", ".", "--format", "json", "--no-cache", "-o", str(report)],
        read_modelaudit,
    ),
]


def measure(tool: Tool, bin_dir: Path, target: Target, runs: int, names: list[str]) -> Measure:
    """One warm-up run, then `runs` timed runs (one when the warm-up took over SLOW_S: at that
    scale the noise is small and repeating costs minutes)."""
    report = WORK / f"models-{tool.name}-report.json"
    output = WORK / f"models-{tool.name}-output.txt"
    result = Measure(tool.name, target.key)
    command = tool.command(bin_dir, report)
    warm_up = run_once(command, target.folder, output)
    for _ in range(runs if warm_up.seconds < SLOW_S else 1):
        report.unlink(missing_ok=True)
        result.runs.append(run_once(command, target.folder, output))
    text = output.read_text(errors="replace") + "\n" + output.with_suffix(".err").read_text(errors="replace")
    result.verdicts = Verdicts(names)
    try:
        tool.read(report, text, result.verdicts)
    except (OSError, ValueError, KeyError) as error:  # no report, or one we cannot read
        for name in names:
            result.verdicts.add(name, ERROR, f"no usable report: {error}"[:60])
    return result


# --- inputs ------------------------------------------------------------------------------------


@dataclass
class Target:
    key: str  # "empty", "big", "mixed" or "realistic"
    folder: Path
    label: str


def build_inputs(inputs: Path, size: int, copies: int, scale: float) -> tuple[list[Target], dict[str, list[str]], dict[str, list[str]]]:
    """The four targets (an empty folder gives each tool's start-up cost), the mixed directory's
    file names by group and the realistic one's. Extra copies go under `mixed/more/`; the
    coverage report reads the verdicts on the first copy, at the top of `mixed/`."""
    empty = inputs / "empty"
    empty.mkdir(parents=True, exist_ok=True)
    big = inputs / "big" / "pytorch_model.bin"
    if not big.exists() or abs(big.stat().st_size - size) > size // 10:
        big.parent.mkdir(parents=True, exist_ok=True)
        print(f"writing {big} (~{size >> 20} MB) ...", file=sys.stderr)
        write_torch_zip(big, size)
    mixed = inputs / "mixed"
    shutil.rmtree(mixed, ignore_errors=True)
    groups = write_mixed(mixed, FIXTURES)
    for copy in range(1, copies):
        write_mixed(mixed / "more" / f"{copy:03}", FIXTURES)
    files = sum(1 for path in mixed.rglob("*") if path.is_file())
    realistic = inputs / "realistic"
    print(f"writing {realistic} (scale {scale}) unless already there ...", file=sys.stderr)
    subprocess.run([sys.executable, str(Path(model_folders.__file__)), str(realistic), str(FIXTURES), str(scale)], check=True)
    real_groups = model_folders.realistic_groups(scale)
    real_files = [path for path in realistic.rglob("*") if path.is_file()]
    real_mb = sum(path.stat().st_size for path in real_files) >> 20
    targets = [
        Target("empty", empty, "empty dir (start-up)"),
        Target("big", big.parent, f"torch zip {big.stat().st_size >> 20} MB"),
        Target("mixed", mixed, f"mixed dir, {files} files"),
        Target("realistic", realistic, f"realistic dir, {len(real_files)} files, {real_mb} MB"),
    ]
    return targets, groups, real_groups


def tool_bins(selected: list[str]) -> dict[str, Path]:
    bins = {"mlgate": install_mlgate()}
    for name in selected:
        bins[name] = ensure_venv(WORK / f"models-{name}", TOOLS[name], marker=" ".join(TOOLS[name]))
    return bins


# --- report ------------------------------------------------------------------------------------


def speed_table(measures: list[Measure], targets: list[Target]) -> str:
    """Wall time, the part of it that is not start-up (minus the tool's empty-folder time), peak
    RSS, and each as a multiple of mlgate's on the same target."""
    by = {(m.tool, m.target): m for m in measures}
    labels = {target.key: target.label for target in targets}
    rows = [["target", "tool", "median s", "min s", "work s", "peak RSS MB", "x mlgate time", "x mlgate work", "x mlgate RSS"]]
    for target in targets:
        mine = by[("mlgate", target.key)]
        for m in (m for m in measures if m.target == target.key):
            work = m.seconds - by[(m.tool, "empty")].seconds
            base_work = mine.seconds - by[("mlgate", "empty")].seconds
            ratios = (
                ["-", "-", "-"]
                if m is mine
                else [
                    f"{m.seconds / mine.seconds:.1f}x",
                    "-" if target.key == "empty" else f"{work / max(base_work, 1e-3):.1f}x",
                    f"{m.peak_mb / mine.peak_mb:.1f}x",
                ]
            )
            rows.append(
                [
                    labels[target.key],
                    m.tool,
                    f"{m.seconds:.3f}",
                    f"{min(r.seconds for r in m.runs):.3f}",
                    "-" if target.key == "empty" else f"{work:.3f}",
                    f"{m.peak_mb:.0f}",
                    *ratios,
                ]
            )
    return table(rows)


def coverage(measures: list[Measure], groups: dict[str, list[str]]) -> str:
    mixed = [m for m in measures if m.target == "mixed"]
    flagged = groups["malicious"] + groups["code"]
    rows = [["file that runs code when loaded", *(m.tool for m in mixed)]]
    for name in flagged:
        rows.append([name, *(m.verdicts.get(name, (CLEAN, ""))[0] for m in mixed)])
    rows.append(
        [f"caught (BLOCK) of {len(flagged)}", *(str(sum(m.verdicts.get(n, (CLEAN,))[0] == DANGEROUS for n in flagged)) for m in mixed)]
    )
    lines = [table(rows), "", "what each tool said about each of them:"]
    descriptions = {**{name: text for name, (text, _) in MALICIOUS.items()}, **FIXTURES_WITH_CODE}
    for name in flagged:
        lines.append(f"  {name}: {descriptions[name]}")
        for m in mixed:
            verdict, detail = m.verdicts.get(name, (CLEAN, ""))
            lines.append(f"      {m.tool:<11} {verdict:<5} {detail[:110]}")
    lines.append("")
    lines.append(false_alarms(mixed, groups))
    return "\n".join(lines)


def false_alarms(measures: list[Measure], groups: dict[str, list[str]]) -> str:
    lines = ["false alarms (BLOCK) on benign files, made by the real libraries or not models at all, and errors:"]
    benign = groups["benign"] + groups["other"]
    for m in measures:
        flagged = [f"{n} ({m.verdicts[n][1]})" for n in benign if m.verdicts.get(n, (CLEAN,))[0] == DANGEROUS]
        errors = [n for n in benign if m.verdicts.get(n, (CLEAN,))[0] == ERROR]
        lines.append(
            f"  {m.tool:<11} {len(flagged)} blocked, {len(errors)} errors"
            + (f": {', '.join(flagged)}" if flagged else "")
            + (f"; errors on {', '.join(errors)}" if errors else "")
        )
    return "\n".join(lines)


def verdict_line(label: str, value: float, target: float, unit: str, smaller: bool = True) -> str:
    ok = value < target if smaller else value >= target
    return f"{label}: {value:.3f}{unit} (target {'<' if smaller else '>='} {target}{unit}: {'ok' if ok else 'MISSED'})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per command (after one warm-up)")
    parser.add_argument("--size-mb", type=int, default=BIG_BYTES >> 20, help="size of the big checkpoint")
    parser.add_argument("--copies", type=int, default=1, help="copies of the mixed set in the mixed directory")
    parser.add_argument("--scale", type=float, default=1.0, help="size of the realistic directory (1: about 1.1 GB)")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"other tools to time (default: {','.join(TOOLS)}; '' for mlgate only)")
    parser.add_argument("--inputs", type=Path, default=DEFAULT_INPUTS, help=f"where the inputs are written (default: {DEFAULT_INPUTS})")
    args = parser.parse_args()
    selected = [name for name in args.tools.split(",") if name]
    if unknown := set(selected) - set(TOOLS):
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")

    WORK.mkdir(exist_ok=True)
    bins = tool_bins(selected)
    targets, groups, real_groups = build_inputs(args.inputs.resolve(), args.size_mb << 20, args.copies, args.scale)
    names = [name for group in [*groups.values(), *real_groups.values()] for name in group] + ["pytorch_model.bin"]
    measures = []
    for tool in TOOL_RUNS:
        if tool.name in bins:
            for target in targets:
                print(f"timing {tool.name} on {target.label} ...", file=sys.stderr)
                measures.append(measure(tool, bins[tool.name], target, args.runs, names))

    print(f"{args.runs} timed runs each after one warm-up; median wall time of the whole process and its peak RSS;")
    print("work = median minus the same tool's median on an empty folder (interpreter start-up and imports)\n")
    print(speed_table(measures, targets))
    print(
        f"\nmixed dir: {len(groups['benign'])} benign model files and {len(groups['code'])} that carry code, made by the real libraries "
        f"(tests/fixtures/models), {len(groups['malicious'])} malicious ones written by benchmarks/model_specimens.py, "
        f"{len(groups['other'])} files that are not models" + (f"; {args.copies} copies of the set" if args.copies > 1 else "") + "\n"
    )
    print(coverage(measures, groups))
    print(
        f"\nrealistic dir: {len(real_groups['benign'])} benign model files, {len(real_groups['code'])} TorchScript archive (code by design), "
        f"{len(real_groups['other'])} files that are not models"
    )
    print(false_alarms([m for m in measures if m.target == "realistic"], real_groups))
    print("\nbig checkpoint, what each tool said:")
    for m in measures:
        if m.target == "big":
            verdict, detail = m.verdicts.get("pytorch_model.bin", (CLEAN, ""))
            print(f"  {m.tool:<11} {verdict:<5} {detail[:110]}")
    print()
    print("\n".join(target_lines(measures, targets[1].label)))
    return 0


def target_lines(measures: list[Measure], big_label: str) -> list[str]:
    by = {(m.tool, m.target): m for m in measures}
    big = by[("mlgate", "big")]
    lines = [
        verdict_line(f"mlgate on the {big_label}, wall", big.seconds, TARGET_BIG_S, " s"),
        verdict_line(f"mlgate on the {big_label}, peak RSS", big.peak_mb, TARGET_BIG_MB, " MB"),
    ]
    for key in ("mixed", "realistic"):
        others = [m for m in measures if m.target == key and m.tool != "mlgate"]
        if not others:
            continue
        mine = by[("mlgate", key)]
        fastest = min(others, key=lambda m: m.seconds)
        lines.append(
            verdict_line(
                f"{key} dir, wall: mlgate vs the fastest other tool ({fastest.tool}), speed-up",
                fastest.seconds / mine.seconds,
                TARGET_SPEEDUP,
                "x",
                smaller=False,
            )
        )
        work = {m.tool: m.seconds - by[(m.tool, "empty")].seconds for m in others + [mine]}
        quickest = min(others, key=lambda m: work[m.tool])
        lines.append(
            verdict_line(
                f"{key} dir, work (start-up excluded): mlgate vs the fastest other tool ({quickest.tool}), speed-up",
                work[quickest.tool] / max(work["mlgate"], 1e-3),
                TARGET_SPEEDUP,
                "x",
                smaller=False,
            )
        )
    return lines


if __name__ == "__main__":
    sys.exit(main())
