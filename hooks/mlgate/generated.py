"""Which files the repository marks as generated or vendored (`.gitattributes`), as GitHub reads them.

GitHub's linguist reads `linguist-generated` and `linguist-vendored` from `.gitattributes` to fold
such files away in pull requests: kserve marks `charts/**/files/** linguist-generated=true`, the
copies of `config/` that its Makefile writes into the Helm charts. A finding on such a copy is
fixed at its source, where the same finding is reported; the engine shows it there only
(`engine._without_generated_copies`), and keeps every finding that has no counterpart outside.

Read like git (gitattributes(5)): every `.gitattributes` from the repository root down to the
file's folder, patterns relative to the folder of their file and matched as `.gitignore` patterns
are (`excludes.compile_pattern`, checked against git; a folder pattern `vendor/` does not reach the
files inside, and a negative pattern is not allowed), later lines and deeper files winning;
`attr`/`attr=true` set it, `-attr`/`attr=false` unset it, `!attr` leaves it unspecified.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from mlgate.excludes import Pattern, compile_pattern
from mlgate.identity import repository_root

ATTRIBUTES = ("linguist-generated", "linguist-vendored")
_MAX_BYTES = 1 << 20  # a .gitattributes larger than this is read up to here
# Bounds on hostile input: a pattern of many `*` backtracks on a long name, and every rule is tried
# on every file with a finding. Real files mark a few folders; past these, patterns are ignored.
_MAX_STARS = 8
_MAX_PATTERN = 512
_MAX_RULES = 1000


def _state(token: str) -> tuple[str, bool | None] | None:
    """(attribute, set/unset/unspecified) of one attribute token, for the attributes read here."""
    if token.startswith(("-", "!")):
        name, value = token[1:], (False if token[0] == "-" else None)
    else:
        name, _, raw = token.partition("=")
        value = raw.lower() not in ("false", "0") if raw else True
    return (name, value) if name in ATTRIBUTES else None


@functools.lru_cache(maxsize=1024)
def _rules(folder: str) -> tuple[tuple[Pattern, tuple[tuple[str, bool | None], ...]], ...]:
    """The patterns of `folder/.gitattributes` that speak of the attributes read here, in file order."""
    try:
        with open(os.path.join(folder, ".gitattributes"), "rb") as handle:
            text = handle.read(_MAX_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ()
    rules = []
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        states = tuple(state for token in fields[1:] if (state := _state(token)) is not None)
        pattern = fields[0]
        if not states or pattern.startswith("!"):  # a negative pattern is forbidden in gitattributes
            continue
        compiled = compile_pattern(pattern) if pattern.count("*") <= _MAX_STARS and len(pattern) <= _MAX_PATTERN else None
        if compiled is not None:
            rules.append((compiled, states))
        if len(rules) >= _MAX_RULES:
            break
    return tuple(rules)


def is_generated(path: str | Path) -> bool:
    """Whether the repository marks the file (absolute or relative to the current folder) as
    generated or vendored."""
    absolute = Path(os.path.abspath(path))
    root = repository_root(absolute.parent)
    if root is None:
        return False
    relative = absolute.relative_to(root).parts
    state: dict[str, bool | None] = {}
    for depth in range(len(relative)):  # the root's .gitattributes first, then each folder down
        folder = root.joinpath(*relative[:depth])
        below = "/".join(relative[depth:])
        for pattern, states in _rules(str(folder)):
            if pattern.matches(below, is_folder=False):
                state.update(states)
    return any(state.values())
