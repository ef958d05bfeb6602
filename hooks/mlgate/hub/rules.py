"""The rules of the `hub` hook. Severity is how directly an attacker can use the door.

Declaring a `Rule` registers it; the hook takes its rules from the registry (see CONTRIBUTING.md).
"""

from mlgate.findings import Rule, Severity

HOOK = "hub"

UNPINNED = Rule(
    "HUB001",
    "hub-revision-not-pinned",
    HOOK,
    Severity.MEDIUM,
    "hub model, dataset or file loaded without a revision, or at a branch or tag",
    "pass revision=<40-hex commit SHA> (or /resolve/<sha>/ in URLs, --revision <sha> on the command line)",
    owasp_ml="ML06",
    cwe=(345, 829),
)
TRUST_REMOTE_CODE = Rule(
    "HUB002",
    "trust-remote-code",
    HOOK,
    Severity.HIGH,
    "hub code allowed to run on this machine (trust_remote_code / trust_repo); critical when the revision is not pinned",
    "drop trust_remote_code (use a model class transformers ships), or pin revision= to a reviewed commit SHA",
    owasp_ml="ML06",
    cwe=(829,),
)
TORCH_HUB_UNPINNED = Rule(
    "HUB003",
    "torch-hub-not-pinned",
    HOOK,
    Severity.HIGH,
    "torch.hub runs hubconf.py from a GitHub repository that is not pinned to a commit",
    "use owner/repo:<40-hex commit SHA>, or vendor the model code and load weights with a checksum",
    owasp_ml="ML06",
    cwe=(494, 829),
)
INSECURE_DOWNLOAD = Rule(
    "HUB004",
    "weights-over-http",
    HOOK,
    Severity.HIGH,
    "model weights or hub files fetched over plain http",
    "use https:// (and a checksum, or a /resolve/<sha>/ URL)",
    owasp_ml="ML06",
    cwe=(300, 494),
)
NO_CHECKSUM = Rule(
    "HUB005",
    "weights-without-checksum",
    HOOK,
    Severity.MEDIUM,
    "model weights downloaded by URL without a checksum",
    "verify the file: check_hash=True with a hash in the file name, hash_prefix=, file_hash=, or a sha256 compare",
    owasp_ml="ML06",
    cwe=(345, 494),
)
LOOKALIKE_NAMESPACE = Rule(
    "HUB006",
    "look-alike-namespace",
    HOOK,
    Severity.HIGH,
    "hub namespace that looks like a well-known organisation but is not it",
    "use the real organisation's namespace; if this one is yours, add it to trusted-namespaces",
    owasp_ml="ML06",
    cwe=(829,),
)
NAMESPACE_NOT_ALLOWED = Rule(
    "HUB007",
    "namespace-not-allowed",
    HOOK,
    Severity.MEDIUM,
    "hub namespace not in the project's allowed-namespaces list",
    "load from an allowed namespace, or add this one to allowed-namespaces after review",
    owasp_ml="ML06",
    cwe=(1357,),
)
UNRESOLVED = Rule(
    "HUB008",
    "unresolved-hub-reference",
    HOOK,
    Severity.LOW,
    "hub loader whose model or dataset name is computed at run time (reported with report-unresolved)",
    "make sure the value is pinned where it is set (a config with revision=<sha>), or suppress the note",
    owasp_ml="ML06",
    cwe=(829,),
)

# Online only (`--online`, hub/online.py): what the hub says about a reference.
MISSING_REFERENCE = Rule(
    "HUB010",
    "hub-reference-missing",
    HOOK,
    Severity.HIGH,
    "hub repository or revision that no longer exists; critical when its namespace is gone (reported with --online)",
    "load from the repository's new home pinned to a reviewed commit SHA, or vendor the files; never re-point at a re-registered name",
    owasp_ml="ML06",
    cwe=(829,),
    online_only=True,
)
# Online only, what the referenced revision holds (hub/verdicts.py; also `mlgate scan hf://...`).
FLAGGED_FILE = Rule(
    "HUB011",
    "hub-flagged-file",
    HOOK,
    Severity.HIGH,
    "the hub's own scanners flag a file of the referenced revision as unsafe or suspicious; critical when unsafe (reported with --online)",
    "do not load this revision: pin a commit whose files the hub finds safe, or a reviewed copy; report the repository to the hub",
    owasp_ml="ML06",
    cwe=(506, 502),
    online_only=True,
)
UNVERIFIED_REVISION = Rule(
    "HUB012",
    "hub-revision-unverified",
    HOOK,
    Severity.LOW,
    "files of the referenced revision that no scanner has verified: not scanned by the hub yet, or beyond a truncated listing (reported with --online)",
    "look again once the hub has scanned the revision (or scan the files yourself), then pin it",
    owasp_ml="ML06",
    cwe=(494,),
    online_only=True,
)
PICKLE_ONLY_WEIGHTS = Rule(
    "HUB013",
    "pickle-only-weights",
    HOOK,
    Severity.MEDIUM,
    "the loader reads pickle-based weights of the referenced revision: it has no safetensors, or use_safetensors=False (reported with --online)",
    "load a revision with *.safetensors weights (convert them, or use a repository that publishes them), and drop use_safetensors=False",
    owasp_ml="ML06",
    cwe=(502,),
    online_only=True,
)
REMOTE_CODE_FILES = Rule(
    "HUB014",
    "remote-code-files",
    HOOK,
    Severity.LOW,
    "the code trust_remote_code runs at the referenced revision, with sha256s and what main would change; critical when it comes from another repository's branch (reported with --online)",
    "review the listed files at the pinned revision; before moving the pin, review what the update changes",
    owasp_ml="ML06",
    cwe=(829, 94),
    online_only=True,
)
REVISION_TOO_NEW = Rule(
    "HUB020",
    "revision-too-new",
    HOOK,
    Severity.MEDIUM,
    "hub reference pinned to a commit younger than the `cooldown` setting (default 3 days; reported with --online)",
    "wait until the cooldown ends (the message says when) or pin the previous commit; `cooldown` sets the days, 0 turns it off",
    owasp_ml="ML06",
    cwe=(1357, 494),
    online_only=True,
)
