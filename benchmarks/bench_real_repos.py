"""mlgate on whole real ML repositories: findings per hook, distinct targets, errors, time against the parse floor.

    python3 benchmarks/bench_real_repos.py [REPO_FOLDER ...] [--runs N] [--sample N --seed S] [--no-run]

For each repository folder (default: every folder in /work/trees except `_*`, `sdist-*` and
`benign-*`), runs `mlgate check --format json .` in a fresh process with the folder as working
directory, once untimed for its report (which also warms the file cache), then in `--runs`
rounds (default 1): each round is one mlgate run (its default: the files split among one
process per processor), one `mlgate check --jobs 1` run (one process), one start-up run (below), the
one-parse floor and the required-reading extra, back to back, so every ratio compares times
taken together on a machine whose speed drifts; the medians over the rounds are reported.

The parse floor is what any tool reading the same files must pay at least: one process reads
and parses every *.yaml/*.yml/*.json/*.ipynb/*.py/*.toml/*.jinja file and lock file of the folder once
(ruamel.yaml's C composer `YAML(typ="safe", pure=False).compose_all`, as mlgate does; `json.loads`;
`ast.parse`; `tomllib.loads`; Jinja's parser, as the servers that render chat templates do),
skipping the folders mlgate skips (`.git`, `node_modules`, ...) and texts over 5 MB. Parse failures (Helm templates are not YAML) still count their time.
The floor is timed in this process, without interpreter start-up; mlgate's time includes it.

The required-reading floor is the one-parse floor plus the reading the issue requires of mlgate
that the one-parse floor leaves out (same walk, same skipped folders): (a) the first 1 KiB of
every other file the walk visits (the models hook judges a file by its head, whatever its name);
(b) `ast.parse` of every code cell of every notebook, with lines starting with `!` or `%` left
out (the cells are Python; the one-parse floor only decodes the JSON); (c) shell tokenising
(`shlex.shlex(text, posix=True, punctuation_chars=True)` consumed to the end) of every
`*.sh`/`*.bash` file, every `Dockerfile*` and every `run:` string of `.github/workflows/*.yml`
(taken from the nodes the one-parse floor composed). Only that extra work is timed, in a second
pass; the required floor is the one-parse floor plus it.

Columns: files = mlgate's `scanned_files`; PIN/MOD/HUB/SVC = findings by hook; distinct =
distinct (rule, message) pairs (a message names its target: the action and its ref, the image
and its tag, the package, the model id, the service and its port, so the same target reported
in ten files counts once); errors = the report's `errors` entries; ratio = time / floor (medians);
ratio after start-up = the median over the rounds of (time - start-up) / floor, where start-up is
that round's mlgate run on a folder of one tiny file of each kind the floor parses (so that it
imports the parsers the floor imports before its timing starts); required floor s and ratio to required floor after
start-up: the same against the required-reading floor; time s, one process and its ratio after
start-up: the same for `--jobs 1` (the floor is one process).

Findings are written to benchmarks/.work/real/<repo>.json (the full mlgate report plus the
measurements). `--sample N --seed S` then prints N random findings per hook across all
repositories, with the source line, for hand judging (`--sample-exclude GLOB` leaves
`repo/path` matches out); `--no-run` samples the stored reports.
"""

from __future__ import annotations

import argparse
import ast
import collections
import fnmatch
import json
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import tomllib

HERE = Path(__file__).resolve().parent
HOOKS_SOURCE = HERE.parent / "hooks" / "mlgate"
WORK = HERE / ".work" / "real"
DEFAULT_TREES = Path("/work/trees")
HOOKS = {"pins": "PIN", "models": "MOD", "hub": "HUB", "services": "SVC"}
SKIPPED_DIRS = {
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv",
    ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache",
}  # fmt: skip
MAX_TEXT_BYTES = 5 * 1024 * 1024
PARSED = (".yaml", ".yml", ".json", ".ipynb", ".py", ".toml", ".jinja", ".jinja2", ".j2")
LOCK_FILES = {"poetry.lock": ".toml", "uv.lock": ".toml", "pdm.lock": ".toml", "Pipfile.lock": ".json"}
HEAD_BYTES = 1024
SHELL_SUFFIXES = (".sh", ".bash")


def default_folders() -> list[Path]:
    if not DEFAULT_TREES.is_dir():
        return []
    return sorted(
        p for p in DEFAULT_TREES.iterdir()
        if p.is_dir() and not p.name.startswith(("_", "sdist-", "benign-"))
    )  # fmt: skip


def mlgate_command() -> list[str]:
    found = shutil.which("mlgate")
    return [found] if found else [sys.executable, "-m", "mlgate"]


def installed_environment() -> dict[str, str]:
    """As installed: pip compiles an installed package's modules once. Where the environment forbids
    writing bytecode (PYTHONDONTWRITEBYTECODE), every start would compile all of mlgate again
    (about 0.2 s), which no user pays; the modules are compiled once here instead."""
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HOOKS_SOURCE)], check=False, env=environment)
    return environment


def start_up_seconds(runs: int = 5) -> float:
    """mlgate's start-up (see `start_up_run`), median of `runs`."""
    return statistics.median(start_up_run() for _ in range(runs))


# One tiny file of each kind the one-parse floor parses: the start-up run imports the same parsers
# (ruamel.yaml's composer, Jinja's lexer, json, ast, tomllib) that the floor imports untimed.
_START_UP_FILES = {
    "a.py": "import os\n",
    "a.yaml": "a: 1\n",
    "a.json": "{}\n",
    "a.ipynb": json.dumps(
        {
            "cells": [{"cell_type": "code", "source": ["x = 1\n"], "metadata": {}, "outputs": []}],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    ),
    "a.toml": "[a]\nb = 1\n",
    "a.jinja": "{{ x }}\n",
}


def start_up_run() -> float:
    """Seconds of one mlgate run on a folder of one tiny file of each kind the floor parses:
    interpreter, imports (the parsers' too), configuration, what every run pays before its files'
    own work and what the floor, timed inside one process after its imports, does not include."""
    with tempfile.TemporaryDirectory() as folder:
        for name, text in _START_UP_FILES.items():
            Path(folder, name).write_text(text)
        started = time.perf_counter()
        subprocess.run([*mlgate_command(), "check", "--format", "json", "."], cwd=folder, capture_output=True, env=installed_environment())
        return time.perf_counter() - started


def run_mlgate(folder: Path, runs: int, options: tuple[str, ...] = ()) -> tuple[dict, list[float]]:
    command = [*mlgate_command(), "check", "--format", "json", *options, "."]
    environment = installed_environment()
    seconds = []
    report = None
    for index in range(max(runs, 1) + (1 if runs > 1 else 0)):
        started = time.perf_counter()
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=environment)
        elapsed = time.perf_counter() - started
        if runs > 1 and index == 0:  # warm-up
            report = done
            continue
        seconds.append(elapsed)
        report = report or done
    assert report is not None
    try:
        parsed = json.loads(report.stdout)
    except json.JSONDecodeError:
        parsed = {"findings": [], "errors": [{"message": f"no JSON (exit {report.returncode}): {report.stderr[-2000:]}"}]}
        parsed["crashed"] = True
    return parsed, seconds


def parse_files(folder: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        for name in files:
            if name.lower().endswith(PARSED) or name in LOCK_FILES:
                found.append(Path(root, name))
    return found


def parse_floor(paths: list[Path]) -> tuple[float, int, int]:
    """(seconds, files parsed, parse failures) of reading and parsing each file once."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=False)
    jinja = ImmutableSandboxedEnvironment()
    failures = 0
    count = 0
    started = time.perf_counter()
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if len(data) > MAX_TEXT_BYTES:
            continue
        count += 1
        suffix = LOCK_FILES.get(path.name, path.suffix.lower())
        try:
            text = data.decode("utf-8")
            if suffix in (".yaml", ".yml"):
                for _ in yaml.compose_all(text):
                    pass
            elif suffix in (".json", ".ipynb"):
                json.loads(text)
            elif suffix in (".jinja", ".jinja2", ".j2"):
                jinja.parse(text)  # how transformers and the serving engines read a chat template
            elif suffix == ".py":
                ast.parse(text)
            else:
                tomllib.loads(text)
        except Exception:  # noqa: BLE001 - a file that does not parse still cost its time
            failures += 1
    return time.perf_counter() - started, count, failures


def required_files(folder: Path) -> tuple[list[Path], list[Path], list[Path], list[Path]]:
    """The walk of `parse_files`, split by what the required-reading floor adds for each file:
    (shell scripts and Dockerfiles, other files the one-parse floor does not parse, notebooks,
    workflows)."""
    shell, heads, notebooks, workflows = [], [], [], []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        in_workflows = Path(root).relative_to(folder).as_posix() == ".github/workflows"
        for name in files:
            path = Path(root, name)
            lowered = name.lower()
            if lowered.endswith(PARSED) or name in LOCK_FILES:
                if lowered.endswith(".ipynb"):
                    notebooks.append(path)
                elif in_workflows and lowered.endswith((".yml", ".yaml")):
                    workflows.append(path)
                else:
                    continue
                try:  # a text the one-parse floor skips as too large is only sniffed
                    if path.stat().st_size > MAX_TEXT_BYTES:
                        heads.append(path)
                except OSError:
                    pass
            elif lowered.endswith(SHELL_SUFFIXES) or name.startswith("Dockerfile"):
                shell.append(path)
            else:
                heads.append(path)
    return shell, heads, notebooks, workflows


def shell_tokens(text: str) -> None:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    try:
        for _ in lexer:
            pass
    except ValueError:  # an unclosed quote: the tokens before it still cost their time
        pass


def run_strings(node, found: list[str]) -> None:
    """The text of every `run:` scalar under a composed YAML node."""
    value = node.value
    if isinstance(value, list):
        for item in value:
            if isinstance(item, tuple):
                key, child = item
                if key.value == "run" and isinstance(child.value, str):
                    found.append(child.value)
                else:
                    run_strings(child, found)
            else:
                run_strings(item, found)


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) else str(source)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("!", "%")))


def read_heads(paths: list[Path]) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    for path in paths:
        try:
            handle = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.read(handle, HEAD_BYTES)
        except OSError:
            pass
        finally:
            os.close(handle)
        count += 1
    return time.perf_counter() - started, count


def tokenise_shell_files(paths: list[Path]) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if len(data) <= MAX_TEXT_BYTES:
            shell_tokens(data.decode("utf-8", errors="replace"))
            count += 1
    return time.perf_counter() - started, count


def notebook_cells(path: Path) -> list:
    """The cells of a notebook, decoded untimed (the one-parse floor already paid for it)."""
    try:
        data = path.read_bytes()
        if len(data) > MAX_TEXT_BYTES:
            return []
        cells = json.loads(data.decode("utf-8")).get("cells", [])
    except Exception:  # noqa: BLE001 - not a notebook the one-parse floor could decode
        return []
    return cells if isinstance(cells, list) else []


def parse_cells(paths: list[Path]) -> tuple[float, int, int]:
    seconds = 0.0
    count = failures = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in paths:
            cells = notebook_cells(path)
            started = time.perf_counter()
            for cell in cells:
                if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                    continue
                count += 1
                try:
                    ast.parse(cell_source(cell))
                except Exception:  # noqa: BLE001 - a cell that does not parse still cost its time
                    failures += 1
            seconds += time.perf_counter() - started
    return seconds, count, failures


def tokenise_run_steps(paths: list[Path]) -> tuple[float, int]:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=False)
    seconds = 0.0
    count = 0
    for path in paths:
        try:
            data = path.read_bytes()
            if len(data) > MAX_TEXT_BYTES:
                continue
            documents = list(yaml.compose_all(data.decode("utf-8")))  # untimed: the one-parse floor's
        except Exception:  # noqa: BLE001 - not YAML: nothing to take `run:` from
            continue
        started = time.perf_counter()
        found: list[str] = []
        for document in documents:
            if document is not None:
                run_strings(document, found)
        for text in found:
            shell_tokens(text)
        count += len(found)
        seconds += time.perf_counter() - started
    return seconds, count


def required_extra(lists: tuple[list[Path], list[Path], list[Path], list[Path]]) -> dict[str, float | int]:
    """Seconds and counts of the work the required-reading floor adds to the one-parse floor.
    Only that work is timed: the notebook JSON decoding and the workflow composing are the
    one-parse floor's and are redone here untimed."""
    shell, heads, notebooks, workflows = lists
    head, head_count = read_heads(heads)
    shell_seconds, shell_count = tokenise_shell_files(shell)
    cells, cell_count, cell_failures = parse_cells(notebooks)
    run, run_count = tokenise_run_steps(workflows)
    return {
        "head": head, "heads": head_count, "shell": shell_seconds, "shell_files": shell_count,
        "cells": cells, "cell_count": cell_count, "cell_failures": cell_failures,
        "run": run, "run_count": run_count,
    }  # fmt: skip


def hook_of(finding: dict) -> str:
    return HOOKS.get(finding.get("hook", ""), finding.get("rule", "?")[:3])


def measure(folder: Path, runs: int) -> dict:
    """`runs` rounds, each of one mlgate run, one start-up run (`start_up_run`), the one-parse floor and
    the required-reading extra, back to back: the machine's speed drifts over seconds (a plain
    loop's time moved by 40% between runs on the 2-core machine), so each round's ratio compares
    times taken together, and the ratios reported are the medians of the rounds'."""
    report, _ = run_mlgate(folder, 1)  # the report, and a warm file cache
    paths = parse_files(folder)
    lists = required_files(folder)
    seconds, one_process, start_ups, floors, extras = [], [], [], [], []
    for _ in range(max(runs, 1)):
        seconds += run_mlgate(folder, 1)[1]
        one_process += run_mlgate(folder, 1, ("--jobs", "1"))[1]
        start_ups.append(start_up_run())
        floors.append(parse_floor(paths))
        extras.append(required_extra(lists))
    floor = statistics.median(f[0] for f in floors)
    extra_seconds = [e["head"] + e["shell"] + e["cells"] + e["run"] for e in extras]
    extra = statistics.median(extra_seconds)
    extra_parts = extras[extra_seconds.index(extra)] if extra in extra_seconds else extras[0]
    rounds = list(zip(seconds, start_ups, (f[0] for f in floors), extra_seconds, strict=True))
    after_start_up = statistics.median((wall - start) / parse for wall, start, parse, _ in rounds)
    after_start_up_required = statistics.median((wall - start) / (parse + more) for wall, start, parse, more in rounds)
    alone = list(zip(one_process, start_ups, (f[0] for f in floors), strict=True))
    after_start_up_one_process = statistics.median((wall - start) / parse for wall, start, parse in alone)
    findings = report.get("findings", [])
    by_hook = collections.Counter(hook_of(f) for f in findings)
    by_rule = collections.Counter(f["rule"] for f in findings)
    distinct = {(f["rule"], f["message"]) for f in findings}
    distinct_by_hook = collections.Counter(rule[:3] for rule, _ in distinct)
    wall = statistics.median(seconds)
    result = {
        "repo": folder.name,
        "folder": str(folder),
        "scanned_files": report.get("scanned_files"),
        "findings": len(findings),
        "by_hook": dict(by_hook),
        "by_rule": dict(by_rule.most_common()),
        "distinct": len(distinct),
        "distinct_by_hook": dict(distinct_by_hook),
        "errors": len(report.get("errors", [])),
        "crashed": bool(report.get("crashed")),
        "seconds": seconds,
        "wall": wall,
        "floor": floor,
        "floor_files": floors[0][1],
        "floor_failures": floors[0][2],
        "ratio": wall / floor if floor else None,
        "start_up": statistics.median(start_ups),
        "ratio_after_start_up": after_start_up,
        "required_floor": floor + extra,
        "ratio_required_after_start_up": after_start_up_required,
        "required_extra": extra_parts,
        "one_process": statistics.median(one_process),
        "ratio_after_start_up_one_process": after_start_up_one_process,
    }
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / f"{folder.name}.json").write_text(json.dumps({"measurement": result, "report": report}, indent=1))
    return result


def table(results: list[dict], start_up: float) -> str:
    head = (
        "| repo | files | findings | PIN | MOD | HUB | SVC | distinct targets | errors | time s | floor s (files) | ratio"
        " | ratio after start-up | required floor s | ratio to required floor after start-up"
        " | time s, one process | ratio after start-up, one process |"
    )
    rows = [head, "|" + "---|" * 17]
    total = collections.Counter()
    for r in results:
        h = r["by_hook"]
        d = r["distinct_by_hook"]
        cells = [
            r["repo"], str(r["scanned_files"]), str(r["findings"]),
            *(f"{h.get(k, 0)} ({d.get(k, 0)})" for k in ("PIN", "MOD", "HUB", "SVC")),
            str(r["distinct"]), str(r["errors"]) + (" (crashed)" if r["crashed"] else ""),
            f"{r['wall']:.2f}", f"{r['floor']:.2f} ({r['floor_files']})",
            f"{r['ratio']:.1f}x" if r["ratio"] else "-",
            f"{r['ratio_after_start_up']:.1f}x" if r["floor"] else "-",
            f"{r['required_floor']:.2f}",
            f"{r['ratio_required_after_start_up']:.1f}x" if r["required_floor"] else "-",
            f"{r['one_process']:.2f}",
            f"{r['ratio_after_start_up_one_process']:.1f}x" if r["floor"] else "-",
        ]  # fmt: skip
        rows.append("| " + " | ".join(cells) + " |")
        for key in (
            "scanned_files",
            "findings",
            "distinct",
            "errors",
            "wall",
            "floor",
            "floor_files",
            "required_floor",
            "start_up",
            "one_process",
        ):
            total[key] += r[key] or 0
        for k in HOOKS.values():
            total[k] += h.get(k, 0)
            total["d" + k] += d.get(k, 0)
    if len(results) > 1:
        cells = [
            "**total**", str(total["scanned_files"]), str(total["findings"]),
            *(f"{total[k]} ({total['d' + k]})" for k in ("PIN", "MOD", "HUB", "SVC")),
            str(total["distinct"]), str(total["errors"]), f"{total['wall']:.2f}",
            f"{total['floor']:.2f} ({total['floor_files']})",
            f"{total['wall'] / total['floor']:.1f}x" if total["floor"] else "-",
            f"{(total['wall'] - total['start_up']) / total['floor']:.1f}x" if total["floor"] else "-",
            f"{total['required_floor']:.2f}",
            f"{(total['wall'] - total['start_up']) / total['required_floor']:.1f}x"
            if total["required_floor"] else "-",
            f"{total['one_process']:.2f}",
            f"{(total['one_process'] - total['start_up']) / total['floor']:.1f}x" if total["floor"] else "-",
        ]  # fmt: skip
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def source_line(folder: Path, finding: dict) -> str:
    path = folder / finding["path"]
    line = finding.get("line")
    if not line:
        try:
            return f"(binary/whole file, {path.stat().st_size} bytes)"
        except OSError:
            return "(file not found)"
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, 1):
                if number == line:
                    return text.strip()[:240]
    except OSError:
        return "(file not found)"
    return "(line not found)"


def sample(names: list[str], per_hook: int, seed: int, exclude: list[str] = ()) -> None:
    pools: dict[str, list[tuple[str, Path, dict]]] = collections.defaultdict(list)
    for name in names:
        stored = json.loads((WORK / f"{name}.json").read_text())
        folder = Path(stored["measurement"]["folder"])
        for finding in stored["report"].get("findings", []):
            if any(fnmatch.fnmatch(f"{name}/{finding['path']}", pattern) for pattern in exclude):
                continue
            pools[hook_of(finding)].append((name, folder, finding))
    rng = random.Random(seed)
    for hook in HOOKS.values():
        pool = sorted(pools.get(hook, []), key=lambda t: (t[0], t[2]["path"], t[2].get("line") or 0, t[2]["rule"], t[2]["message"]))
        chosen = pool if len(pool) <= per_hook else rng.sample(pool, per_hook)
        print(f"\n## {hook}: {len(chosen)} of {len(pool)} findings (seed {seed})\n")
        for index, (name, folder, f) in enumerate(chosen, 1):
            where = f"{name}/{f['path']}:{f.get('line') or '-'}"
            print(f"{hook}-{index:02d} {f['rule']} {where}\n    msg: {f['message']}\n    src: {source_line(folder, f)}")


def _processors() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=1, help="timed runs per repository (median reported)")
    parser.add_argument("--sample", type=int, default=0, help="print N random findings per hook")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--sample-exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave findings whose repo/path matches GLOB out of the sample (repeatable)",
    )
    parser.add_argument("--no-run", action="store_true", help="only sample the reports stored by an earlier run")
    args = parser.parse_args(argv)
    folders = [f.resolve() for f in args.folders] or default_folders()
    if not folders:
        parser.error("no repository folders given and none found in /work/trees")
    if not args.no_run:
        results = []
        for folder in folders:
            print(f"... {folder.name}", file=sys.stderr, flush=True)
            results.append(measure(folder, args.runs))
        start_up = start_up_seconds()
        print(f"mlgate with its default jobs: {_processors()} processes on this machine; `--jobs 1`: one process\n")
        print(table(results, start_up))
        print(
            f"\nstart-up (mlgate on a folder of one tiny file of each parsed kind, median of 5 after the rounds): {start_up:.2f} s; in the rounds: "
            + ", ".join(f"{r['repo']} {r['start_up']:.2f} s" for r in results)
        )
        print("\nrequired-reading floor, past the one-parse floor:")
        for r in results:
            e = r["required_extra"]
            print(
                f"  {r['repo']}: heads {e['heads']} files {e['head']:.3f} s, shell {e['shell_files']} files"
                f" {e['shell']:.3f} s, notebook cells {e['cell_count']} ({e['cell_failures']} did not parse)"
                f" {e['cells']:.3f} s, workflow run: {e['run_count']} {e['run']:.3f} s"
            )
        print("\nby rule:")
        for r in results:
            print(f"  {r['repo']}: " + ", ".join(f"{k} {v}" for k, v in r["by_rule"].items()))
    if args.sample:
        sample([f.name for f in folders], args.sample, args.seed, args.sample_exclude)
    return 0


if __name__ == "__main__":
    sys.exit(main())
