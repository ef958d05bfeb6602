"""The rules of the `pins` hook. Severity is how directly an attacker can use the door.

Declaring a `Rule` registers it; the hook takes its rules from the registry (see CONTRIBUTING.md).
"""

from mlgate.findings import Rule, Severity

HOOK = "pins"

UNPINNED = Rule(
    "PIN001",
    "unpinned-requirement",
    HOOK,
    Severity.MEDIUM,
    "Python or conda package without an exact version pin",
    "pin the exact version (name==X.Y.Z), ideally with --hash, or keep ranges only where a lock file pins them",
    owasp_ml="ML06",
    cwe=(829,),
)
VCS_REF = Rule(
    "PIN002",
    "vcs-ref-not-commit",
    HOOK,
    Severity.HIGH,
    "VCS dependency or clone not at a full commit SHA",
    "reference the full 40-character commit SHA (git+https://...@<sha>), not a branch or tag",
    owasp_ml="ML06",
    cwe=(829,),
)
URL_NO_HASH = Rule(
    "PIN003",
    "url-without-hash",
    HOOK,
    Severity.HIGH,
    "dependency or requirements file fetched from a URL without a hash",
    "add #sha256=<digest> to the URL or a --hash=sha256:<digest> option",
    owasp_ml="ML06",
    cwe=(494,),
)
EXTRA_INDEX = Rule(
    "PIN004",
    "extra-index-url",
    HOOK,
    Severity.HIGH,
    "extra package index: the dependency-confusion door",
    "use a single --index-url (a proxy that mirrors PyPI), or pin every package to one index",
    owasp_ml="ML06",
    cwe=(427, 829),
)
INSECURE_INDEX = Rule(
    "PIN005",
    "insecure-index",
    HOOK,
    Severity.HIGH,
    "package index or channel over plain http or with TLS checks disabled",
    "use an https:// index and drop --trusted-host / verify_ssl = false",
    owasp_ml="ML06",
    cwe=(300, 494),
)
PARTIAL_HASHES = Rule(
    "PIN006",
    "partial-hashes",
    HOOK,
    Severity.MEDIUM,
    "some requirements in the file have --hash and others do not",
    "give every requirement in the file a --hash (pip-compile --generate-hashes), or none",
    owasp_ml="ML06",
    cwe=(494,),
)
MISSING_HASH = Rule(
    "PIN007",
    "missing-hash",
    HOOK,
    Severity.LOW,
    "exact pin without a --hash (reported with require-hashes = true)",
    "add --hash=sha256:<digest> (pip-compile --generate-hashes / uv pip compile --generate-hashes)",
    owasp_ml="ML06",
    cwe=(494,),
)
LOCK_UNVERIFIED = Rule(
    "PIN008",
    "unverified-lock-entry",
    HOOK,
    Severity.MEDIUM,
    "lock file entry without a hash or with a VCS source not at a commit",
    "regenerate the lock file with hashes (uv lock / poetry lock / pipenv lock)",
    owasp_ml="ML06",
    cwe=(494, 829),
)
IMAGE_NO_DIGEST = Rule(
    "PIN010",
    "image-not-digest",
    HOOK,
    Severity.MEDIUM,
    "container image referenced by tag, not by @sha256 digest",
    "pin the image by digest: image:tag@sha256:<digest>",
    owasp_ml="ML06",
    cwe=(829,),
)
PIPE_TO_SHELL = Rule(
    "PIN011",
    "remote-script-to-shell",
    HOOK,
    Severity.HIGH,
    "script downloaded and executed in one step (curl ... | sh)",
    "download to a file, verify its sha256, then run it; or install a pinned package instead",
    owasp_ml="ML06",
    cwe=(494,),
)
ADD_NO_CHECKSUM = Rule(
    "PIN012",
    "add-url-without-checksum",
    HOOK,
    Severity.MEDIUM,
    "Dockerfile ADD of a URL without --checksum",
    "use ADD --checksum=sha256:<digest> <url> <dest>",
    owasp_ml="ML06",
    cwe=(494,),
)
ACTION_NOT_PINNED = Rule(
    "PIN020",
    "action-not-pinned",
    HOOK,
    Severity.HIGH,
    "GitHub Action used by tag or branch, not by full commit SHA",
    "use owner/repo@<40-hex-sha> # vX.Y.Z",
    owasp_ml="ML06",
    cwe=(829,),
)
PRECOMMIT_REV = Rule(
    "PIN021",
    "pre-commit-rev-not-commit",
    HOOK,
    Severity.MEDIUM,
    "pre-commit hook repository at a tag or branch, not a full commit SHA",
    "run `pre-commit autoupdate --freeze` to pin rev: to a commit SHA",
    owasp_ml="ML06",
    cwe=(829,),
)
# Online only (`--online`): what OSV knows about the exact versions pinned.
KNOWN_VULNERABLE = Rule(
    "PIN030",
    "known-vulnerable-pin",
    HOOK,
    Severity.HIGH,
    "exact pin of a version with known advisories (OSV; reported with --online)",
    "upgrade to a fixed version named in the message, then pin that one",
    owasp_ml="ML06",
    cwe=(1395,),
    online_only=True,
)
MODEL_LOADING_RCE = Rule(
    "PIN031",
    "model-loading-runs-code",
    HOOK,
    Severity.CRITICAL,
    "pinned ML library version in which loading a model can run code (OSV; reported with --online)",
    "upgrade to the fixed version now: until then, every model file you load can run code",
    owasp_ml="ML06",
    cwe=(1395, 502),
    online_only=True,
)
RELEASE_TOO_NEW = Rule(
    "PIN032",
    "release-too-new",
    HOOK,
    Severity.MEDIUM,
    "pin to a PyPI release or action commit younger than the `cooldown` setting (default 3 days; reported with --online)",
    "wait until the cooldown ends (the message says when) or pin the previous release; `cooldown` sets the days, 0 turns it off",
    owasp_ml="ML06",
    cwe=(1357, 494),
    online_only=True,
)
