"""A run split among processes (`mlgate.file_scans`) reports exactly what one process does."""

from __future__ import annotations

import dataclasses
import os
import sys
import time

import pytest

import demo_hook
from conftest import write_tree
from mlgate import engine, file_scans
from mlgate.cli import main
from mlgate.config import Config
from mlgate.findings import Result
from mlgate.hook import Scanner
from mlgate.pins import HOOK as PINS

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="runs are split only where workers are forked")


def _outcome(result: Result) -> dict:
    """Everything a report shows of a result."""
    return {
        "findings": [(f.rule.code, f.path, f.line, f.column, f.message, f.context, f.fingerprint) for f in result.findings],
        "errors": [(e.path, e.message, e.kind) for e in result.errors],
        "scanned": result.scanned_files,
        "hidden_inline": result.hidden_inline,
        "unused": [(u.path, u.line, u.codes) for u in result.unused_ignores],
    }


def _demo_files(count: int) -> dict[str, str]:
    files = {f"part{number:03}.txt": ("BAD\n" if number % 3 else "fine\nMEH\n") for number in range(count)}
    files["hidden.txt"] = "BAD  # mlgate: ignore[DEMO001]\n"
    files["idle.txt"] = "fine  # mlgate: ignore[DEMO002]\n"
    files["unknown.txt"] = "BAD  # mlgate: ignore[NOPE001]\n"
    files["other.bin"] = "BAD\n"  # no scanner wants it
    return files


def _slow(hook, pids_file):
    """The hook with each file taking a few milliseconds, noting which process scanned it."""

    def scan(source, context):
        with open(pids_file, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        time.sleep(0.005)
        yield from demo_hook.scan(source, context)

    return dataclasses.replace(hook, scanners=(Scanner("txt", matches=lambda path: path.endswith(".txt"), scan=scan),))


def test_a_split_run_reports_what_one_process_reports(tmp_path, monkeypatch):
    monkeypatch.delenv("MLGATE_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path / "tree", _demo_files(150))
    config = Config(report_unused_ignores=True)
    alone = engine.scan(["tree"], [demo_hook.HOOK], config, jobs=1)
    hook = _slow(demo_hook.HOOK, tmp_path / "pids")
    split = engine.scan(["tree"], [hook], config, jobs=3)
    assert _outcome(split) == _outcome(alone)
    assert len(set((tmp_path / "pids").read_text().split())) == 3  # this process and two workers
    # what the report holds, checked once so that the comparison above compares something
    assert ("DEMO001", "tree/part001.txt", 1) in [(f.rule.code, f.path, f.line) for f in split.findings]
    assert ("DEMO002", "tree/part000.txt", 2) in [(f.rule.code, f.path, f.line) for f in split.findings]
    assert "tree/hidden.txt" not in {f.path for f in split.findings} and split.hidden_inline == 1
    assert [(u.path, u.line, u.codes) for u in split.unused_ignores] == [("tree/idle.txt", 1, ("DEMO002",))]
    assert [(e.path, e.kind) for e in split.errors] == [("tree/unknown.txt", "invalid")]
    assert split.scanned_files == 153
    assert len(split.findings) == 100 + 50 + 1


def test_a_worker_that_dies_leaves_its_files_to_the_run(tmp_path, monkeypatch):
    monkeypatch.delenv("MLGATE_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, _demo_files(120))
    runner = os.getpid()

    def die_in_a_worker(source, context):
        if os.getpid() != runner:
            os._exit(3)  # as if killed: it reports nothing
        time.sleep(0.002)
        yield from demo_hook.scan(source, context)

    dying = dataclasses.replace(
        demo_hook.HOOK, scanners=(Scanner("txt", matches=lambda path: path.endswith(".txt"), scan=die_in_a_worker),)
    )
    alone = engine.scan(["."], [demo_hook.HOOK], Config(), jobs=1)
    split = engine.scan(["."], [dying], Config(), jobs=2)
    assert _outcome(split) == _outcome(alone)
    assert split.scanned_files == 123


def test_included_files_keep_their_ignore_comments_in_a_split_run(tmp_path, monkeypatch):
    """A file a scanner opens (a requirements include) is read in a worker: its ignore comment
    still hides its finding, and its line is still the finding's context."""
    monkeypatch.delenv("MLGATE_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    files = {f"notes/n{number:03}.md": "text\n" for number in range(100)}
    files["requirements.txt"] = "-r base.in\nrequests\n"
    files["base.in"] = "torch  # mlgate: ignore[PIN001]\nnumpy>=1\n"
    write_tree(tmp_path, files)
    alone = engine.scan(["."], [PINS], Config(), jobs=1)
    split = engine.scan(["."], [PINS], Config(), jobs=2)
    assert _outcome(split) == _outcome(alone)
    assert [(f.rule.code, f.path, f.line, f.context) for f in split.findings] == [
        ("PIN001", "base.in", 2, "numpy>=1"),
        ("PIN001", "requirements.txt", 2, "requests"),
    ]
    assert split.hidden_inline == 1


@pytest.mark.parametrize(("jobs", "files", "expected"), [(1, 5000, 1), (2, 79, 1), (2, 80, 2), (8, 200, 5), (4, 10_000, 4)])
def test_a_run_is_split_only_when_each_process_gets_enough_files(jobs, files, expected):
    assert file_scans.worth_splitting(jobs, files) == expected


def test_jobs_must_be_a_whole_number_of_one_or_more(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for bad in ("0", "-2", "two"):
        assert main(["check", "--jobs", bad, "."]) == 2
        assert f"argument --jobs: expected a whole number of processes, 1 or more: '{bad}'" in capsys.readouterr().err
    assert main(["check", "--jobs", "2", "."]) == 0


def test_the_per_hook_scripts_run_in_one_process_unless_told(monkeypatch):
    """pre-commit already runs a hook script once per processor, each with its share of the files."""
    from mlgate.cli import _jobs, build_parser

    monkeypatch.setattr(file_scans, "default_jobs", lambda: 6)
    assert _jobs(build_parser().parse_args(["check", "."])) == 6
    assert _jobs(build_parser("mlgate-pins").parse_args(["check", "."])) == 1
    assert _jobs(build_parser("mlgate-pins").parse_args(["check", "--jobs", "3", "."])) == 3


def test_the_queue_of_chunks_fits_one_pipe_page_however_many_files(tmp_path):
    """Every chunk's number is written to the queue pipe before anyone reads it: at most
    MAX_CHUNKS + 1 chunks (4 bytes each, under 4 KiB), each file in exactly one of them."""
    files = [tmp_path / f"f{number}" for number in range(20_000)]  # none exists: each weighs 4 KiB
    files[7].write_bytes(b"x" * 1_000_000)  # and one huge file
    chunks = list(file_scans._chunks(files, file_scans.MAX_CHUNKS))
    assert len(chunks) <= file_scans.MAX_CHUNKS + 1 and 4 * len(chunks) < 4096
    assert sorted(index for chunk in chunks for index in chunk) == list(range(len(files)))
    assert chunks[0] == list(range(8))  # the heaviest first: the run that ends at the huge file
