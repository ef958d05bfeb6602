"""The scan step of the GitHub Action (action.yml): pick the files, scan once, write every report.

Inputs arrive as MLGATE_* environment variables (action.yml passes each input through `env:`,
never into the script text) next to GitHub's own GITHUB_* variables. On a pull request the base
and head commits come from the event payload file and are checked to be commit SHAs before git
sees them: nothing a pull request author controls (branch names, titles) is ever used. The
configuration, its baseline and the `baseline` input's file are read from the base commit, and
what the pull request changes in them is reported and fails the step (`mlgate.pull_request`).

Writes annotations to stdout, the Markdown summary to $GITHUB_STEP_SUMMARY, the SARIF file if
asked, and `findings` / `config-changes` / `sarif` to $GITHUB_OUTPUT. Exit status as `mlgate
check`, and 1 when the pull request changes the configuration. Every line printed is plain text
to the runner except the intended workflow commands (`mlgate.report.github.log_line`), and no
warning is printed at all: the job log is where the runner reads commands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import traceback
import warnings
from pathlib import Path

from mlgate.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, build_parser, run_check
from mlgate.errors import UsageError
from mlgate.problem import is_full_sha
from mlgate.pull_request import TITLE as CHANGE_TITLE
from mlgate.pull_request import BaseGate, ConfigChange, base_gate
from mlgate.report import github, markdown, sarif
from mlgate.report.plain import log_line

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


class ChangedFilesUnknown(Exception):
    """The pull request's changes cannot be listed: the whole tree is scanned instead."""


def _input(name: str) -> str:
    return os.environ.get(f"MLGATE_{name}", "").strip()


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, encoding="utf-8", errors="surrogateescape")
    if done.returncode != 0:
        raise ChangedFilesUnknown(f"git {args[0]} failed: {done.stderr.strip()}")
    return done.stdout


def pull_request_commits(event_path: str) -> tuple[str, str]:
    """(base SHA, head SHA) of the pull request in the event payload."""
    try:
        payload = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ChangedFilesUnknown(f"cannot read the event payload: {exc}") from None
    pull_request = payload.get("pull_request") if isinstance(payload, dict) else None
    if not isinstance(pull_request, dict):
        raise ChangedFilesUnknown("the event payload has no pull_request")
    shas = []
    for side in ("base", "head"):
        commit = pull_request.get(side)
        sha = commit.get("sha") if isinstance(commit, dict) else None
        if not isinstance(sha, str) or not is_full_sha(sha):  # also keeps options (`--output=...`) away from git
            raise ChangedFilesUnknown(f"pull_request.{side}.sha in the event payload is not a commit SHA")
        shas.append(sha)
    return shas[0], shas[1]


def _in_checkout(base: str, head: str) -> None:
    for sha in (base, head):
        if subprocess.run(["git", "cat-file", "-e", f"{sha}^{{commit}}"], capture_output=True).returncode != 0:
            raise ChangedFilesUnknown(f"commit {sha} is not in the checkout (use actions/checkout with fetch-depth: 0)")


def changed_files(base: str, head: str) -> list[str]:
    """Files the pull request adds or modifies (deleted ones have nothing to scan), relative to
    the current directory, from the merge base of base and head to head: what the PR changes."""
    names = _git(
        "-c", "core.quotepath=off", "diff", "--name-only", "-z", "--no-renames", "--diff-filter=d", "--relative", f"{base}...{head}", "--"
    )
    # A symlink the pull request adds is left out as a walk leaves it out: named on the command
    # line mlgate follows it, and one to a file of the runner would get that file quoted in the log.
    return [name for name in names.split("\0") if name and os.path.isfile(name) and not os.path.islink(name)]


def _within(path: str, roots: list[str]) -> bool:
    path = os.path.normpath(path)
    return any(root == "." or path == root or path.startswith(root + os.sep) for root in map(os.path.normpath, roots))


class PullRequest:
    """What the event says about a pull request: its commits when they can be used, else why not."""

    def __init__(self, mode: str):
        self.event = os.environ.get("GITHUB_EVENT_NAME", "")
        self.commits: tuple[str, str] | None = None
        self.problem: ChangedFilesUnknown | None = None
        if self.event in PULL_REQUEST_EVENTS or mode == "true":
            try:
                self.commits = pull_request_commits(os.environ.get("GITHUB_EVENT_PATH", ""))
                _in_checkout(*self.commits)
            except ChangedFilesUnknown as exc:
                self.commits, self.problem = None, exc


def _mode() -> str:
    mode = _input("CHANGED_FILES_ONLY").lower() or "auto"
    if mode not in ("auto", "true", "false"):
        raise UsageError(f"changed-files-only must be auto, true or false, not {mode!r}")
    return mode


def files_to_scan(roots: list[str], mode: str, pull: PullRequest) -> tuple[list[str], str]:
    """The paths to hand to the scan, and a line for the log saying what they are."""
    whole_tree = roots, f"mlgate: scanning {' '.join(roots)}"
    if mode == "false" or (mode == "auto" and pull.event not in PULL_REQUEST_EVENTS):
        return whole_tree
    try:
        if pull.commits is None:
            raise pull.problem or ChangedFilesUnknown("the event payload has no pull_request")
        base, head = pull.commits
        files = [name for name in changed_files(base, head) if _within(name, roots)]
    except ChangedFilesUnknown as exc:
        print(github.command("warning", f"mlgate: scanning the whole tree: {exc}"))
        return whole_tree
    return files, f"mlgate: scanning {len(files)} file(s) changed between {base[:12]} and {head[:12]}"


def gate_of(pull: PullRequest, folder: Path) -> BaseGate | None:
    """On a pull request, the base commit's configuration (None elsewhere: the work tree's).
    When the base commit cannot be read, the default configuration: never the pull request's."""
    if pull.commits is not None:
        base, head = pull.commits
        return base_gate(base, head, _input("CONFIG"), _input("BASELINE"), folder)
    if pull.event not in PULL_REQUEST_EVENTS:
        return None
    empty = folder / ".mlgate.yaml"
    empty.write_text("{}\n", encoding="utf-8")
    note = f"mlgate: the base commit's configuration cannot be read ({pull.problem}): the default configuration is used"
    return BaseGate(config=str(empty), baseline=None, notes=[note])


def _check_arguments(gate: BaseGate | None) -> list[str]:
    """`mlgate check` options from the inputs (on a pull request, the configuration and baseline
    from its base commit), each as `--option=value` so that a value cannot be taken for another
    option."""
    argv = ["check"]
    for name, option in (("SELECT", "--select"), ("IGNORE", "--ignore")):
        value = ",".join(_input(name).split())
        if value:
            argv.append(f"{option}={value}")
    config, baseline = (_input("CONFIG"), _input("BASELINE")) if gate is None else (gate.config, gate.baseline or "")
    for value, option in ((config, "--config"), (baseline, "--baseline"), (_input("FAIL_ON"), "--fail-on")):
        if value:
            argv.append(f"{option}={value}")
    if _online():
        argv.append("--online")
    return argv


def _online() -> bool:
    """The `online` input: the network checks, with GITHUB_TOKEN (the `github-token` input) for the GitHub API."""
    online = _input("ONLINE").lower() or "false"
    if online not in ("true", "false"):
        raise UsageError(f"online must be true or false, not {online!r}")
    return online == "true"


def change_annotation(change: ConfigChange) -> str:
    return github.command("error", change.message, file=change.path, line=change.line, title=CHANGE_TITLE)


def changes_summary(changes: list[ConfigChange]) -> str:
    if not changes:
        return ""
    rows = [
        f"| {markdown.cell(change.path if change.line is None else f'{change.path}:{change.line}')} | {markdown.cell(change.message)} |"
        for change in changes
    ]
    return "\n".join(
        [
            "### Configuration changed by this pull request",
            "",
            "This run used the base commit's configuration and baseline; the step fails until a reviewer has approved these changes.",
            "",
            "| file | change |",
            "|---|---|",
            *rows,
            "",
            "",
        ]
    )


def _append(variable: str, text: str) -> None:
    target = os.environ.get(variable)
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(text)


def run() -> int:
    roots = _input("PATHS").splitlines() or ["."]
    roots = [root.strip() for root in roots if root.strip()] or ["."]
    sarif_path = _input("SARIF")
    if "\n" in sarif_path or "\r" in sarif_path:
        raise UsageError("the sarif path must be one line")
    mode = _mode()
    pull = PullRequest(mode)
    with tempfile.TemporaryDirectory(prefix="mlgate-base-") as folder:
        gate = gate_of(pull, Path(folder))
        for note in gate.notes if gate else []:
            print(github.command("warning", note))
        args = build_parser().parse_args(_check_arguments(gate))
        files, what = files_to_scan(roots, mode, pull)
        print(log_line(what))
        result, rules, fail_on = run_check(args, files)
    changes = gate.changes if gate else []
    sys.stdout.write("".join(change_annotation(change) + "\n" for change in changes))
    sys.stdout.write(github.render(result, rules, reserved_errors=len(changes)))
    _append("GITHUB_STEP_SUMMARY", markdown.render(result, rules, reserved_errors=len(changes)) + changes_summary(changes))
    if sarif_path:
        Path(sarif_path).parent.mkdir(parents=True, exist_ok=True)
        Path(sarif_path).write_text(sarif.render(result, rules), encoding="utf-8")
    _append("GITHUB_OUTPUT", f"findings={len(result.findings)}\nconfig-changes={len(changes)}\nsarif={sarif_path}\n")
    return EXIT_FINDINGS if result.failed(fail_on) or changes else EXIT_OK


def main() -> int:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")  # a log in a non-UTF-8 locale still gets every line
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return run()
    except UsageError as exc:  # configuration and baseline errors too
        print(github.command("error", f"mlgate: {exc}"))
        return EXIT_USAGE
    except Exception as exc:  # a bug: say so, with the traceback as plain log lines
        print(github.command("error", f"mlgate: internal error: {type(exc).__name__}: {exc}"))
        for line in traceback.format_exc().splitlines():
            print(log_line(line))
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
