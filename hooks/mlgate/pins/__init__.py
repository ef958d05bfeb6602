"""The `pins` hook: dependency references that can change under the project.

One module per manifest kind; each exposes `SCANNER`. Rules live in `rules.py`, the
shared "is this reference immutable?" logic in `requirement.py`, and the analysis of
install commands found in Dockerfiles, workflows, scripts and notebooks in `commands.py`.
"""

from mlgate.findings import declared_rules
from mlgate.hook import Hook, Option
from mlgate.pins import (
    ci_systems,
    compose,
    conda,
    dockerfile,
    kubernetes,
    lockfiles,
    notebooks,
    own_repositories,
    pipfile,
    precommit,
    pyproject,
    requirements,
    rules,
    setup_cfg,
    setup_py,
    shell_scripts,
    workflows,
)

OPTIONS = (
    Option(
        "ranges",
        "auto",
        "where version ranges in package metadata (pyproject [project], Poetry, setup.py, setup.cfg) are accepted: "
        "'auto' (the project decides: a library's pyproject keeps its ranges, dependency groups included; an application's are accepted beside a lock file), "
        "'never' (application policy), 'with-lock-file' (accepted when a lock file sits beside the manifest, which is then checked), "
        "'always' (library policy: metadata ranges are never reported)",
        choices=("auto", "never", "with-lock-file", "always"),
    ),
    Option("require-hashes", False, "also report exact pins that have no --hash (strict profile)"),
    Option("allowed-indexes", [], "index URLs accepted as --extra-index-url (prefix match), e.g. a private mirror"),
    Option("allowed-action-owners", [], "owners whose actions may be used by tag, e.g. ['actions', 'github'] (default: none)"),
    Option(
        "first-party-namespaces",
        [],
        "image namespaces the project publishes besides its own owner and name (found from git and its metadata), "
        "e.g. ['lmcache']: their images are first-party, not reported by PIN010",
    ),
    Option("report-first-party-images", False, "also report the project's own (first-party) images referenced by tag (PIN010)"),
    Option(
        own_repositories.OPTION,
        False,
        "also report VCS installs and clones of the project's own owner's repositories at a branch or tag (PIN002)",
    ),
    Option("osv-database", "", "with --online: a folder of OSV JSON records (an offline export) to use instead of the OSV API"),
)

HOOK = Hook(
    name="pins",
    description="unpinned or unverified dependencies in every manifest an ML repository has",
    rules=declared_rules(rules.HOOK),
    scanners=tuple(
        own_repositories.leave_out_own(module.SCANNER)
        for module in (
            requirements,
            pyproject,
            setup_cfg,
            setup_py,
            pipfile,
            conda,
            lockfiles,
            dockerfile,
            compose,
            kubernetes,
            workflows,
            ci_systems,
            precommit,
            shell_scripts,
            notebooks,
        )
    ),
    options=OPTIONS,
    online="mlgate.pins.online",
)
