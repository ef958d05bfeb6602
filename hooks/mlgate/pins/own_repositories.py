"""The project's own repositories are first-party: VCS references to them are not PIN002.

A repository that installs or clones code of its own owner from its code host (peft's examples
installing `git+https://github.com/huggingface/peft`, its nightly workflow testing against
`huggingface/transformers` at main) does so on purpose: the code is written and reviewed by the
same organisation, and following its default branch is the point. Which owner is the project's is
`mlgate.identity`'s answer (git remotes, `GITHUB_REPOSITORY`, and code-host URLs of the project's
own metadata that name this repository). `report-first-party-repositories` reports them again.

Every PIN002 message names its URL (`VCS dependency <url> ...`, `git clone of <url> ...`, `ADD of
the git repository <url> ...`); the first code-host repository in it is the one judged.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.identity import code_host_owner, identity_of, normalise
from mlgate.notes import Note
from mlgate.pins.rules import VCS_REF

OPTION = "report-first-party-repositories"


def _own(finding: Finding, source: SourceFile) -> bool:
    """Whether a PIN002 finding is about a repository of the project's own owner."""
    owner = code_host_owner(finding.message)
    # The owner, not a project name: `github.com/<name>/...` is an account of that name, anyone's.
    return owner is not None and normalise(owner) in identity_of(Path(os.path.abspath(source.abspath.parent))).owners


def leave_out_own(scanner: Scanner) -> Scanner:
    """`scanner`, less its PIN002 findings on repositories of the project's own owner. Its items
    pass through as it yields them: a scanner that raises a ScanError after its findings (a missing
    include) keeps them, as the engine records both."""

    def scan(source: SourceFile, context: ScanContext) -> Iterator[Finding | Note]:
        report_own = bool(context.options.get(OPTION, False))
        for item in scanner.scan(source, context):
            if report_own or not (isinstance(item, Finding) and item.rule is VCS_REF and _own(item, source)):
                yield item

    return Scanner(name=scanner.name, matches=scanner.matches, scan=scan)
