"""The `hub` hook: references to hub models, datasets and code that can be swapped under the project.

One module per file kind, each exposing `SCANNER`: Python (`python_files`, analysed by
`python_code` with `ast`), notebooks, YAML/JSON configs (workflows included), shell scripts and
Dockerfiles (their shell analysed by `commands`). Which calls load from a hub is `loaders.py`;
whether a reference is swappable, `references.py`; look-alike organisations, `namespaces.py`
against the data in `organisations.py`. Rules live in `rules.py`. References pinned to a commit
are returned as notes (`references.PINNED_AT_COMMIT`) for the online check, never reported.
"""

from mlgate.findings import declared_rules
from mlgate.hook import Hook, Option
from mlgate.hub import configs, dockerfile, notebooks, python_files, rules, shell_scripts

OPTIONS = (
    Option("trusted-namespaces", [], "namespaces that are yours or that you trust, never reported as look-alikes of a known organisation"),
    Option("allowed-namespaces", [], "if set, the only namespaces models and datasets may be loaded from (HUB007 for any other)"),
    Option("report-unresolved", False, "report loaders whose repository is computed at run time as low-severity notes (HUB008)"),
    Option("report-tests", False, "also report unpinned references (HUB001) that tests load without running the repository's code"),
)

HOOK = Hook(
    name="hub",
    description="hub models, datasets and code loaded at a revision that can move, with remote code, or from look-alike namespaces",
    rules=declared_rules(rules.HOOK),
    scanners=tuple(module.SCANNER for module in (python_files, notebooks, configs, shell_scripts, dockerfile)),
    options=OPTIONS,
    online="mlgate.hub.online",  # --online / --fix: hub/online.py
    repository_scan="mlgate.hub.online",  # `mlgate scan hf://owner/repo[@rev]`: hub/online.py scan_repository
)
