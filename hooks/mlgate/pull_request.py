"""A pull request does not set its own gate: in the Action, its configuration comes from the base.

A pull request that adds or edits `.mlgate.yaml` (or `[tool.mlgate]` in `pyproject.toml`, or the
baseline file) could otherwise allowlist its own payload by digest, ignore a rule, lower the
severity that fails the step, or list its findings in the baseline. So on a pull request the
scan step reads every one of those files from the base commit (`git show <base>:<path>` into a
temporary folder; nothing of the pull request is checked out or run for it), and reports each
change the pull request makes to them as a `ConfigChange`: an error annotation that fails the
step whatever `fail-on` says, so that a reviewer sees it and approves it on its own merits.

Configuration changes are not findings: findings belong to a hook (`pins`, `models`, `hub`,
`services`) and can be suppressed, baselined or ignored by configuration, which is exactly what
a change of the configuration must not be able to do to its own report.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.config import CONFIG_NAMES, ConfigError, load_config
from mlgate.plugins import load_hooks
from mlgate.suppressions import BaselineError

TITLE = "mlgate: configuration changed by this pull request"


@dataclass(frozen=True)
class ConfigChange:
    path: str  # as shown: relative to the current directory
    line: int | None  # None: the file was deleted
    message: str


@dataclass
class BaseGate:
    """The base commit's configuration and baseline, copied out, and what the pull request changes."""

    config: str  # a configuration file to pass as --config (empty when the base has none)
    baseline: str | None  # a baseline file to pass as --baseline (the input's, read from the base)
    changes: list[ConfigChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings for the log


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], capture_output=True)


def _show(commit: str, path: str) -> bytes | None:
    """A file of a commit, by its path from the repository root; None when it has none."""
    done = _git("cat-file", "blob", f"{commit}:{path}")
    return done.stdout if done.returncode == 0 else None


def _root_and_prefix() -> tuple[Path, str]:
    top = _git("rev-parse", "--show-toplevel").stdout.decode("utf-8", "surrogateescape").strip()
    return Path(top), Path(os.getcwd()).resolve().relative_to(Path(top).resolve()).as_posix()


def _in_repository(path: str, root: Path) -> str | None:
    """The path of `path` (relative to the current directory) from the repository root, or
    None for a path outside the repository (not versioned, so not the pull request's)."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def _shown(repository_path: str, root: Path) -> str:
    return Path(os.path.relpath(root / repository_path)).as_posix()


def _candidates(prefix: str) -> list[str]:
    """Where the configuration is looked for, from the current folder up to the repository root."""
    parts = [] if prefix in ("", ".") else prefix.split("/")
    folders = ["/".join(parts[:end]) for end in range(len(parts), -1, -1)]
    return [f"{folder}/{name}" if folder else name for folder in folders for name in CONFIG_NAMES]


def _mlgate_table(data: bytes | None) -> Any:
    """What of a pyproject.toml mlgate reads: its [tool.mlgate] table (the raw text when it is
    not valid TOML, so that any change still shows)."""
    if data is None:
        return None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        tool = tomllib.loads(data.decode("utf-8")).get("tool", {})
        return tool.get("mlgate") if isinstance(tool, dict) else tool
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return data


def _is_config(name: str, data: bytes | None) -> bool:
    """Would `find_config_file` take this file (a pyproject.toml only with an mlgate table)?"""
    return data is not None and (not name.endswith("pyproject.toml") or b"[tool.mlgate" in data)


def _changed_line(old: bytes | None, new: bytes, name: str) -> int:
    """The first line of `new` that differs from `old` (for a pyproject, its [tool.mlgate] header)."""
    new_lines = new.decode("utf-8", "replace").splitlines()
    if name.endswith("pyproject.toml"):
        return next((number for number, text in enumerate(new_lines, 1) if text.strip().startswith("[tool.mlgate")), 1)
    old_lines = (old or b"").decode("utf-8", "replace").splitlines()
    for tag, _, _, second, _ in difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes():
        if tag != "equal":
            return min(second + 1, max(len(new_lines), 1))
    return 1


def _change(path: str, shown: str, old: bytes | None, new: bytes | None, what: str) -> ConfigChange | None:
    if path.endswith("pyproject.toml"):
        before, after = _mlgate_table(old), _mlgate_table(new)
    else:
        before, after = old, new
    if before == after:
        return None
    verb = "adds" if before is None else "removes" if after is None else "changes"
    message = (
        f"this pull request {verb} {what}; the scan used the base commit's, so the change has no effect on this "
        "run: review it before merging (it sets the gate of every later pull request)"
    )
    return ConfigChange(shown, None if new is None else _changed_line(old, new, path), message)


def _materialise(commit: str, path: str, folder: Path) -> Path | None:
    data = _show(commit, path)
    if data is None:
        return None
    target = folder / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def _config_from_base(base: str, config_input: str, root: Path, prefix: str, folder: Path, gate: BaseGate, watched: dict[str, str]) -> str:
    """The configuration file to scan with: the base commit's, copied out (or an empty one)."""
    if config_input:
        named = _in_repository(config_input, root)
        if named is None:
            return config_input  # outside the repository: not the pull request's to change
        candidates = [named]
    else:
        candidates = _candidates(prefix)
    for path in candidates:
        watched[path] = "the mlgate table [tool.mlgate]" if path.endswith("pyproject.toml") else "the mlgate configuration"
    chosen = next((path for path in candidates if _is_config(path, _show(base, path))), None)
    if chosen is not None:
        return str(_materialise(base, chosen, folder))
    if config_input:
        if not os.path.isfile(config_input):
            raise ConfigError(f"{config_input}: configuration file not found")
        gate.notes.append(f"mlgate: {config_input} is not in the base commit: the default configuration is used")
    empty = folder / ".mlgate.yaml"
    empty.write_text("{}\n", encoding="utf-8")
    return str(empty)


def _baselines_from_base(base: str, baseline_input: str, root: Path, folder: Path, gate: BaseGate, watched: dict[str, str]) -> None:
    """Copy out the baseline the base configuration names (where the configuration will look for
    it) and the `baseline` input's file, both as the base commit has them."""
    try:
        named = load_config(gate.config, load_hooks()).baseline
    except ConfigError:
        named = None  # reported when the scan loads it
    if named is not None and Path(os.path.normpath(named)).is_relative_to(folder):
        named_inside = Path(os.path.normpath(named)).relative_to(folder).as_posix()
        watched[named_inside] = "the baseline the configuration names"
        _materialise(base, named_inside, folder)
    if not baseline_input:
        return
    inside = _in_repository(baseline_input, root)
    if inside is None:
        gate.baseline = baseline_input
        return
    watched[inside] = "the baseline file"
    copied = _materialise(base, inside, folder)
    if copied is None:
        if not os.path.isfile(baseline_input):
            raise BaselineError(f"{baseline_input}: baseline file not found")
        gate.notes.append(f"mlgate: {baseline_input} is not in the base commit: no baseline is used")
    gate.baseline = str(copied) if copied is not None else None


def base_gate(base: str, head: str, config_input: str, baseline_input: str, folder: Path) -> BaseGate:
    """The gate of a pull request from `base` to `head`, its files copied under `folder`, and the
    changes the pull request makes to them (from the merge base of the two, as its diff shows)."""
    root, prefix = _root_and_prefix()
    gate = BaseGate(config="", baseline=None)
    watched: dict[str, str] = {}  # repository path -> what it is, for the change messages
    gate.config = _config_from_base(base, config_input, root, prefix, folder, gate, watched)
    _baselines_from_base(base, baseline_input, root, folder, gate, watched)
    merge_base = _git("merge-base", base, head).stdout.decode().strip() or base
    for path, what in watched.items():
        change = _change(path, _shown(path, root), _show(merge_base, path), _show(head, path), what)
        if change is not None:
            gate.changes.append(change)
    return gate
