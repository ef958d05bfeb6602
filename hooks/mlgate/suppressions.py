"""Ways to accept a finding: an inline comment, or a baseline of fingerprints.

Inline: `mlgate: ignore[CODE]` in a comment, in whatever comment syntax the file has (`#`, `//`,
`/* */`, `<!-- -->`, `{# #}`, `--`, `;`); several codes are separated by commas, and a hook name
accepts all its rules. Where it applies:

- after code on the same line, it covers that line only;
- alone on its line (nothing but the comment opener before `mlgate:`), it covers the next line only.

A comment that names a code mlgate does not know, or no code at all (a bare `mlgate: ignore`),
hides nothing for that code and is reported (see `InlineIgnores.problems`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from mlgate.errors import UsageError
from mlgate.files import SourceFile
from mlgate.findings import Finding, UnusedIgnore, declared_rules

# The marker, then the codes in brackets when there are any: a bracket-less one is reported.
_MARKER = re.compile(r"mlgate:\s*ignore\b(?:\s*\[([^\]\n]*)\])?")
# What makes the text before the marker a comment: the marker in a string or in prose is not one.
# `--` and `;` open comments only at the start of a line (`--index-url` is an option, not a comment).
_COMMENT_OPENER = re.compile(r"#|//|/\*|<!--|\{#|^\s*(?:--|;)(?=\s|$)")
# A comment alone on its line: only its opener before the marker (`"` opens a notebook's source
# line in the .ipynb JSON, `{{/*` and `{{- /*` a Helm template comment).
_ALONE = re.compile(r"\s*\"?\s*(?:#+|//+|/\*+|<!--|\{#-?|\{\{-?\s*/\*|--|;+)\s*")
_RULE_CODE = re.compile(r"[A-Z]+[0-9]{3}")


@dataclass(frozen=True)
class IgnoreComment:
    """One `mlgate: ignore` comment: on `line`, hiding findings on `covers`; `codes` as written
    (empty for a bare `mlgate: ignore`)."""

    path: str
    line: int
    covers: int
    codes: tuple[str, ...]


def ignore_comments(path: str, lines: list[str]) -> list[IgnoreComment]:
    """The ignore comments in a file's lines (1-based line numbers)."""
    found = []
    for number, text in enumerate(lines, start=1):
        if "mlgate:" not in text:
            continue
        for match in _MARKER.finditer(text):
            before = text[: match.start()]
            if not _COMMENT_OPENER.search(before):
                continue
            codes = tuple(code.strip() for code in (match.group(1) or "").split(",") if code.strip())
            covers = number + 1 if _ALONE.fullmatch(before) else number
            found.append(IgnoreComment(path, number, covers, codes))
    return found


def ignore_comments_of(source: SourceFile) -> list[IgnoreComment]:
    """The ignore comments of a file the run has read: none in a file read only as bytes (a
    model has no lines; its findings have none either)."""
    if source.read_as_text and "mlgate:" in source.text:
        return ignore_comments(source.path, source.lines)
    return []


class InlineIgnores:
    """The ignore comments of the files a run read as text, and which of their codes hid a finding."""

    def __init__(self, comments: Iterable[IgnoreComment]) -> None:
        self.comments: list[IgnoreComment] = list(dict.fromkeys(comments))  # a file opened by two workers is read twice
        self._covering: dict[tuple[str, int], list[IgnoreComment]] = {}
        for comment in self.comments:
            self._covering.setdefault((comment.path, comment.covers), []).append(comment)
        self._used: set[tuple[IgnoreComment, str]] = set()

    def hides(self, finding: Finding) -> bool:
        """Whether a comment covering the finding's line names its rule or hook (and remember
        which comment and code did, for `unused`)."""
        if finding.in_binary_content:
            return False
        names = (finding.rule.code, finding.rule.hook)
        hidden = False
        for comment in self._covering.get((finding.path, finding.line or 0), ()):
            for name in names:
                if name in comment.codes:
                    self._used.add((comment, name))
                    hidden = True
        return hidden

    def problems(self) -> list[tuple[str, str]]:
        """(path, message) for each comment that names a code mlgate does not know, or no code."""
        known = _known_names(code for comment in self.comments for code in comment.codes)
        found = []
        for comment in self.comments:
            if not comment.codes:
                found.append(
                    (comment.path, f"line {comment.line}: `mlgate: ignore` without codes hides nothing: write `mlgate: ignore[CODE]`")
                )
            elif unknown := [code for code in comment.codes if code not in known]:
                found.append(
                    (
                        comment.path,
                        f"line {comment.line}: `mlgate: ignore[...]` names no rule or hook mlgate knows: "
                        f"{', '.join(unknown)} (see `mlgate rules`); nothing is hidden for it",
                    )
                )
        return found

    def unused(self, ran: Callable[[str], bool]) -> list[UnusedIgnore]:
        """The comments with codes that hid nothing, each with those codes; `ran(name)` says
        whether the run checked that rule or hook (a code of a rule it did not run is not unused)."""
        found = []
        for comment in self.comments:
            idle = tuple(code for code in comment.codes if ran(code) and (comment, code) not in self._used)
            if idle:
                found.append(UnusedIgnore(comment.path, comment.line, idle))
        return sorted(found, key=lambda unused: (unused.path, unused.line))


def _known_names(names: Iterable[str]) -> set[str]:
    """Of `names`, those that are a hook or a rule: the rules of hooks this run did not import
    (`mlgate-pins` reading `ignore[SVC001]` in a Dockerfile) are known by their rule page."""
    from mlgate import plugins, rule_pages

    declared = {rule.code for rule in declared_rules()}
    known = {name for name in names if name in plugins.HOOK_MODULES or name in declared}
    pages = {name for name in set(names) - known if _RULE_CODE.fullmatch(name) and (rule_pages.DOCS / f"{name}.md").is_file()}
    return known | pages


class BaselineError(UsageError):
    pass


# Version 2: a finding in a model file is fingerprinted with the file's sha256 (see
# `assign_fingerprints`). Version 1 files still load; their entries for such findings match no
# more, and the engine says so on each.
BASELINE_VERSION = 2


def write_baseline(path: str, findings: list[Finding]) -> None:
    entries = [
        {"fingerprint": f.fingerprint, "rule": f.rule.code, "path": f.path, "message": f.message}
        for f in sorted(findings, key=lambda f: f.sort_key)
    ]
    Path(path).write_text(json.dumps({"version": BASELINE_VERSION, "findings": entries}, indent=2) + "\n", encoding="utf-8")


def read_baseline(path: str) -> set[str]:
    """Fingerprints listed in a baseline file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found") from None
    except (OSError, ValueError) as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc}") from None
    entries = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: not an mlgate baseline (no 'findings' list)")
    return {entry["fingerprint"] for entry in entries if isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str)}
