"""GitHub workflows and actions: which files they are and the shell each `run:` step runs.

Shared by every hook that reads workflows. `run_script` returns a step's script with
`${{ }}` expressions masked to shell variables of the same length (so positions hold) and a
function mapping offsets in it back to the file; steps of a non-POSIX shell (pwsh, cmd,
python, or the Windows default) give None.
"""

from __future__ import annotations

import re

from mlgate import yamlfile
from mlgate.files import SourceFile
from mlgate.problem import Locate

_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
_POSIX_SHELL = re.compile(r"(?<![\w-])(?:ba|z|da|k)?sh\b")


def matches(path: str) -> bool:
    folder, _, name = ("/" + path).rpartition("/")
    if name in ("action.yml", "action.yaml"):
        return True
    return folder.endswith("/.github/workflows") and name.endswith((".yml", ".yaml"))


def mask_expressions(text: str) -> str:
    """`${{ matrix.torch }}` -> `$_______________`: a shell variable of the same length."""
    return _EXPRESSION.sub(lambda match: "$" + "_" * (len(match.group()) - 1), text)


def default_shell(node: yamlfile.Node | None) -> str | None:
    """The `defaults.run.shell` of a workflow or job."""
    return yamlfile.text_of(yamlfile.get(yamlfile.get(yamlfile.get(node, "defaults"), "run"), "shell"))


def on_windows(job: yamlfile.Node) -> bool:
    runs_on = yamlfile.get(job, "runs-on")
    labels = yamlfile.elements(runs_on) if yamlfile.is_sequence(runs_on) else [runs_on]
    return any("windows" in (yamlfile.text_of(label) or "").lower() for label in labels)


def run_script(source: SourceFile, step: yamlfile.Node, default: str | None, windows: bool) -> tuple[str, Locate] | None:
    """The POSIX shell text of a step's `run:` and its locate function, or None."""
    run = yamlfile.get(step, "run")
    shell = yamlfile.text_of(yamlfile.get(step, "shell")) or default
    posix = bool(_POSIX_SHELL.search(shell)) if shell else not windows  # Windows runners default to pwsh
    if run is None or yamlfile.text_of(run) is None or not posix:
        return None
    text, locate = yamlfile.scalar_text(source, run)
    return mask_expressions(text), locate
