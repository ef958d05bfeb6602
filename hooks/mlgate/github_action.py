"""The scan step of the GitHub Action (action.yml): pick the files, scan once, write every report.

Inputs arrive as MLGATE_* environment variables (action.yml passes each input through `env:`,
never into the script text) next to GitHub's own GITHUB_* variables. On a pull request the base
and head commits come from the event payload file and are checked to be commit SHAs before git
sees them: nothing a pull request author controls (branch names, titles) is ever used.

Writes annotations to stdout, the Markdown summary to $GITHUB_STEP_SUMMARY, the SARIF file if
asked, and `findings` / `sarif` to $GITHUB_OUTPUT. Exit status as `mlgate check`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from mlgate.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, build_parser, run_check
from mlgate.config import ConfigError
from mlgate.report import github, markdown, sarif
from mlgate.suppressions import BaselineError

COMMIT_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")  # SHA-1, or SHA-256 repositories
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
        if not isinstance(sha, str) or not COMMIT_SHA.fullmatch(sha):
            raise ChangedFilesUnknown(f"pull_request.{side}.sha in the event payload is not a commit SHA")
        shas.append(sha)
    return shas[0], shas[1]


def changed_files(base: str, head: str) -> list[str]:
    """Files the pull request adds or modifies (deleted ones have nothing to scan), relative to
    the current directory, from the merge base of base and head to head: what the PR changes."""
    for sha in (base, head):
        if subprocess.run(["git", "cat-file", "-e", f"{sha}^{{commit}}"], capture_output=True).returncode != 0:
            raise ChangedFilesUnknown(f"commit {sha} is not in the checkout (use actions/checkout with fetch-depth: 0)")
    names = _git("-c", "core.quotepath=off", "diff", "--name-only", "-z", "--no-renames", "--diff-filter=d", "--relative", f"{base}...{head}", "--")
    return [name for name in names.split("\0") if name and os.path.isfile(name)]


def _within(path: str, roots: list[str]) -> bool:
    path = os.path.normpath(path)
    for root in map(os.path.normpath, roots):
        if root == "." or path == root or path.startswith(root + os.sep):
            return True
    return False


def files_to_scan(roots: list[str]) -> tuple[list[str], str]:
    """The paths to hand to the scan, and a line for the log saying what they are."""
    mode = _input("CHANGED_FILES_ONLY").lower() or "auto"
    if mode not in ("auto", "true", "false"):
        raise UsageError(f"changed-files-only must be auto, true or false, not {mode!r}")
    whole_tree = roots, f"mlgate: scanning {' '.join(roots)}"
    event = os.environ.get("GITHUB_EVENT_NAME", "")
    if mode == "false" or (mode == "auto" and event not in PULL_REQUEST_EVENTS):
        return whole_tree
    try:
        base, head = pull_request_commits(os.environ.get("GITHUB_EVENT_PATH", ""))
        files = [name for name in changed_files(base, head) if _within(name, roots)]
    except ChangedFilesUnknown as exc:
        print(github.command("warning", f"mlgate: scanning the whole tree: {exc}"))
        return whole_tree
    return files, f"mlgate: scanning {len(files)} file(s) changed between {base[:12]} and {head[:12]}"


def _check_arguments() -> list[str]:
    """`mlgate check` options from the inputs, each as `--option=value` so that a value cannot
    be taken for another option."""
    argv = ["check"]
    for name, option in (("SELECT", "--select"), ("IGNORE", "--ignore")):
        value = ",".join(_input(name).split())
        if value:
            argv.append(f"{option}={value}")
    for name, option in (("CONFIG", "--config"), ("BASELINE", "--baseline"), ("FAIL_ON", "--fail-on")):
        if _input(name):
            argv.append(f"{option}={_input(name)}")
    return argv


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
    args = build_parser().parse_args(_check_arguments())
    files, what = files_to_scan(roots)
    print(what)
    result, rules, fail_on = run_check(args, files)
    sys.stdout.write(github.render(result, rules))
    _append("GITHUB_STEP_SUMMARY", markdown.render(result, rules))
    if sarif_path:
        Path(sarif_path).parent.mkdir(parents=True, exist_ok=True)
        Path(sarif_path).write_text(sarif.render(result, rules), encoding="utf-8")
    _append("GITHUB_OUTPUT", f"findings={len(result.findings)}\nsarif={sarif_path}\n")
    return EXIT_FINDINGS if result.failed(fail_on) else EXIT_OK


def main() -> int:
    try:
        return run()
    except (UsageError, ConfigError, BaselineError) as exc:
        print(github.command("error", f"mlgate: {exc}"))
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
