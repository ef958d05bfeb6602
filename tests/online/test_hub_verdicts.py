"""What a referenced hub revision holds (HUB011..HUB014) and `mlgate scan hf://...`, against a
loopback hub stand-in (HF_ENDPOINT on 127.0.0.1) that serves the revision API, the tree API with
per-file security information (paginated through `Link: <...>; rel="next"`), config.json and
remote code files. Nothing fetched is executed or imported: the code files are only hashed."""

from __future__ import annotations

import hashlib
import json
import re
import sys
import types
from pathlib import Path

import pytest

from conftest import write_tree
from httpfake import FakeServer, online_env, server  # noqa: F401  (fixtures)
from mlgate.cli import main
from mlgate.models.rules import DANGEROUS_CALL
from mlgate.online import hub_api
from mlgate.online.hub_api import git_blob_id

EVIL, OLD, BOTH, FRESH, PINNED, HEAD, DATA = ("%040x" % (0xE0 + number) for number in range(7))


def entry(path: str, content: bytes = b"", status: str | None = "safe", lfs: bool = False, **scans: dict) -> dict:
    """One file of a tree listing, as the hub's tree API with expand=true lists it."""
    listed: dict = {"type": "file", "path": path, "size": len(content), "oid": git_blob_id(content)}
    if lfs:
        listed["lfs"] = {"oid": hashlib.sha256(content).hexdigest(), "size": len(content), "pointerSize": 134}
    if status is not None:
        listed["securityFileStatus"] = {
            "status": status,
            "avScan": {"status": "safe"},
            "pickleImportScan": {"status": "unscanned"},
            **scans,
        }
    return listed


def serve_repo(
    server,
    repo: str,
    sha: str,
    files: list[dict],
    contents: dict[str, bytes] | None = None,
    *,
    kind: str = "models",
    branch: str | None = None,
) -> None:
    """The revision API (the SHA itself, and `branch` when given), one tree page, and raw files."""
    server.reply("GET", f"/api/{kind}/{repo}/revision/{sha}", body={"sha": sha})
    if branch:
        server.reply("GET", f"/api/{kind}/{repo}/revision/{branch}", body={"sha": sha})
    server.reply("GET", f"/api/{kind}/{repo}/tree/{sha}", body=files)
    prefix = "" if kind == "models" else f"/{kind}"
    for path, content in (contents or {}).items():
        server.reply("GET", f"{prefix}/{repo}/resolve/{sha}/{path}", body=content)


UNSAFE_PICKLE = {
    "pickleImportScan": {
        "status": "unsafe",
        "pickleImports": [
            {"module": "collections", "name": "OrderedDict", "safety": "innocuous"},
            {"module": "posix", "name": "system", "safety": "dangerous"},
        ],
    }
}
SAFETENSORS = entry("model.safetensors", b"st", lfs=True)
README = entry("README.md", b"# card")


def run_json(capsys, monkeypatch, tmp_path, files: dict[str, str], *args: str) -> tuple[int, dict]:
    write_tree(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    code = main(["check", "--online", "--format", "json", *args, "."])
    return code, json.loads(capsys.readouterr().out)


def hits(report: dict) -> list[tuple]:
    return [(f["rule"], f["path"], f["line"], f["column"], f["severity"]) for f in report["findings"]]


# --- HUB011: the hub's own verdicts ------------------------------------------------------------------


def test_a_file_the_hub_flags_is_reported_on_the_referencing_line(monkeypatch, tmp_path, server, online_env, capsys):
    """Pinned reference; the listing comes in two pages, the flagged file on the second."""
    server.reply("GET", f"/api/models/acme/evil/revision/{EVIL}", body={"sha": EVIL})
    server.reply(
        "GET",
        f"/api/models/acme/evil/tree/{EVIL}",
        body=[README, SAFETENSORS],
        headers={"Link": f'<{server.url}/api/models/acme/evil/tree/{EVIL}?recursive=true&expand=true&cursor=page2>; rel="next"'},
    )
    server.reply("GET", f"/api/models/acme/evil/tree/{EVIL}", body=[entry("extra/payload.pkl", b"x", lfs=True, **UNSAFE_PICKLE)])
    train = f'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/evil", revision="{EVIL}")\n'
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": train}, "--select", "HUB011")
    assert (code, report["errors"]) == (1, [])
    assert hits(report) == [("HUB011", "train.py", 2, 31, "critical")]
    assert report["findings"][0]["message"] == (
        f"the hub flags extra/payload.pkl of hub model 'acme/evil' at commit {EVIL[:12]} as unsafe "
        "(pickle import scan: unsafe, imports posix.system (dangerous)): loading it from this revision can run an attacker's code"
    )
    trees = [path for method, path in server.seen() if "/tree/" in path]
    assert trees == [
        f"/api/models/acme/evil/tree/{EVIL}?recursive=true&expand=true",
        f"/api/models/acme/evil/tree/{EVIL}?recursive=true&expand=true&cursor=page2",
    ]


def test_suspicious_and_unresolved_branch_references_too(monkeypatch, tmp_path, server, online_env, capsys):
    """An unpinned reference (HUB001) is checked at the commit its branch names today."""
    suspicious = entry("model.bin", b"m", lfs=True, status="suspicious", avScan={"status": "suspicious", "message": "Pickle.Malware.Sus"})
    serve_repo(server, "acme/evil", EVIL, [suspicious, SAFETENSORS], branch="main")
    train = 'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/evil")\n'
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": train}, "--select", "HUB001,HUB011")
    assert (code, report["errors"]) == (1, [])
    assert hits(report) == [("HUB001", "train.py", 2, 31, "medium"), ("HUB011", "train.py", 2, 31, "high")]
    assert "as suspicious (antivirus scan: suspicious, Pickle.Malware.Sus)" in report["findings"][1]["message"]


def test_a_revision_the_hub_finds_safe_gives_nothing(monkeypatch, tmp_path, server, online_env, capsys):
    pickle = entry("pytorch_model.bin", b"p", lfs=True, pickleImportScan={"status": "safe", "pickleImports": []})
    serve_repo(server, "acme/fine", EVIL, [README, SAFETENSORS, pickle])
    train = f'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/fine", revision="{EVIL}")\n'
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": train}, "--select", "hub")
    assert (code, report["errors"], report["findings"]) == (0, [], [])


# --- HUB012: not verified ------------------------------------------------------------------------------


def test_an_unscanned_revision_says_so_once(monkeypatch, tmp_path, server, online_env, capsys):
    files = [
        entry("pytorch_model.bin", b"p", lfs=True, status="queued"),
        entry("modeling_x.py", b"x = 1\n", status="unscanned"),
        entry("README.md", b"r", status=None),  # text: not worth a finding
        SAFETENSORS,
    ]
    serve_repo(server, "acme/fresh", FRESH, files)
    train = f'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/fresh", revision="{FRESH}")\n'
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": train}, "--select", "hub")
    assert (code, report["errors"]) == (1, [])
    assert hits(report) == [("HUB012", "train.py", 2, 31, "low")]
    assert report["findings"][0]["message"] == (
        f"hub model 'acme/fresh' at commit {FRESH[:12]} has 2 file(s) that can run code when loaded and that the hub has not "
        "scanned yet: pytorch_model.bin (queued), modeling_x.py (unscanned); nothing vouches for them"
    )


def test_a_listing_cut_short_says_so(monkeypatch, tmp_path, server, online_env, capsys):
    monkeypatch.setattr(hub_api, "MAX_PAGES", 1)
    server.reply("GET", f"/api/models/acme/big/revision/{OLD}", body={"sha": OLD})
    server.reply(
        "GET",
        f"/api/models/acme/big/tree/{OLD}",
        body=[README, SAFETENSORS],
        headers={"Link": '</api/models/acme/big/tree/x?cursor=2>; rel="next"'},
    )
    train = f'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/big", revision="{OLD}")\n'
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": train}, "--select", "HUB012")
    assert (code, report["errors"], hits(report)) == (1, [], [("HUB012", "train.py", 2, 31, "low")])
    assert report["findings"][0]["message"] == (
        f"the file listing of hub model 'acme/big' at commit {OLD[:12]} was cut short (the listing has more than 2 files: "
        "only those were checked): the files beyond were not checked"
    )
    assert len([path for _, path in server.seen() if "/tree/" in path]) == 1


def test_a_whole_listing_of_scanned_files_is_not_reported(monkeypatch, tmp_path, server, online_env, capsys):
    serve_repo(server, "acme/big", OLD, [README, SAFETENSORS, entry("modeling.py", b"x", status="safe")])
    train = f'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/big", revision="{OLD}")\n'
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": train}, "--select", "HUB012")
    assert (code, report["errors"], report["findings"]) == (0, [], [])


# --- HUB013: pickle-only weights -------------------------------------------------------------------------

PICKLE_ONLY = [README, entry("pytorch_model.bin", b"p", lfs=True), entry("training_args.bin", b"t", lfs=True)]
WEIGHTS = f"""\
from transformers import AutoModel, AutoTokenizer
from sentence_transformers import SentenceTransformer
tok = AutoTokenizer.from_pretrained("acme/old", revision="{OLD}")
m = AutoModel.from_pretrained("acme/old", revision="{OLD}")
e = SentenceTransformer("acme/old", revision="{OLD}")
b = AutoModel.from_pretrained("acme/both", revision="{BOTH}")
u = AutoModel.from_pretrained("acme/both", revision="{BOTH}", use_safetensors=False)
"""


def test_pickle_only_weights_are_reported_for_weight_loaders_only(monkeypatch, tmp_path, server, online_env, capsys):
    serve_repo(server, "acme/old", OLD, PICKLE_ONLY)
    serve_repo(server, "acme/both", BOTH, [README, SAFETENSORS, entry("pytorch_model.bin", b"p", lfs=True)])
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": WEIGHTS}, "--select", "HUB013")
    assert (code, report["errors"]) == (1, [])
    # not the tokenizer (line 3), not acme/both where safetensors are read (line 6)
    assert hits(report) == [
        ("HUB013", "train.py", 4, 31, "medium"),
        ("HUB013", "train.py", 5, 25, "medium"),
        ("HUB013", "train.py", 7, 31, "medium"),
    ]
    messages = [f["message"] for f in report["findings"]]
    assert messages[0] == (
        f"the loader reads pickle-based weights of hub model 'acme/old' at commit {OLD[:12]} (pytorch_model.bin): "
        "the revision has no *.safetensors weights; unpickling runs whatever code the file names"
    )
    assert "use_safetensors=False makes the loader read them" in messages[2]


def test_datasets_and_safetensors_revisions_have_no_weights_finding(monkeypatch, tmp_path, server, online_env, capsys):
    serve_repo(server, "acme/data", DATA, [entry("data.pkl", b"d", lfs=True)], kind="datasets")
    serve_repo(server, "acme/both", BOTH, [README, SAFETENSORS, entry("pytorch_model.bin", b"p", lfs=True)])
    text = f'from datasets import load_dataset\nfrom transformers import AutoModel\nd = load_dataset("acme/data", revision="{DATA}")\nm = AutoModel.from_pretrained("acme/both", revision="{BOTH}")\n'
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": text}, "--select", "HUB013")
    assert (code, report["errors"], report["findings"]) == (0, [], [])


# --- HUB014: remote code ----------------------------------------------------------------------------------

CONFIG = json.dumps({"auto_map": {"AutoConfig": "configuration_coder.CoderConfig", "AutoModel": "modeling_coder.CoderModel"}}).encode()
MODELING = b"from .configuration_coder import CoderConfig\nfrom .utils_coder import helper\nimport os\nos.system('echo never run')\n"
MODELING_HEAD = MODELING + b"# changed at main\n"
CONFIGURATION = b"class CoderConfig:\n    pass\n"
UTILS = b"def helper():\n    return 1\n"


def coder(server) -> None:
    pinned = {"config.json": CONFIG, "modeling_coder.py": MODELING, "configuration_coder.py": CONFIGURATION, "utils_coder.py": UTILS}
    head = {**pinned, "modeling_coder.py": MODELING_HEAD}
    listing = [entry(path, content) for path, content in pinned.items()] + [SAFETENSORS]
    serve_repo(server, "acme/coder", PINNED, listing, pinned)
    serve_repo(server, "acme/coder", HEAD, [entry(path, content) for path, content in head.items()] + [SAFETENSORS], head, branch="main")


REMOTE = f'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/coder", revision="{PINNED}", trust_remote_code=True)\n'


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_remote_code_files_are_listed_with_their_sha256_and_what_main_changes(monkeypatch, tmp_path, server, online_env, capsys):
    coder(server)
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": REMOTE}, "--select", "HUB014")
    assert (code, report["errors"]) == (1, [])
    assert hits(report) == [("HUB014", "train.py", 2, 31, "low")]
    assert report["findings"][0]["message"] == (
        f"trust_remote_code=True runs this code of hub model 'acme/coder' at commit {PINNED[:12]}: "
        f"configuration_coder.py (sha256 {sha256(CONFIGURATION)}), modeling_coder.py (sha256 {sha256(MODELING)}), "
        f"utils_coder.py (sha256 {sha256(UTILS)}); updating to 'main' (commit {HEAD[:12]}) changes modeling_coder.py: "
        "review that diff before moving the pin"
    )
    assert "never run" not in capsys.readouterr().err  # read, hashed, never executed


def test_remote_code_at_main_itself_says_so(monkeypatch, tmp_path, server, online_env, capsys):
    coder(server)
    text = 'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/coder", trust_remote_code=True)\n'
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": text}, "--select", "HUB014")
    assert (code, report["errors"], hits(report)) == (1, [], [("HUB014", "train.py", 2, 31, "low")])
    assert report["findings"][0]["message"].startswith(
        f"trust_remote_code=True runs this code of hub model 'acme/coder' at commit {HEAD[:12]}: "
    )
    assert report["findings"][0]["message"].endswith("; this is what 'main' holds today")


def test_code_from_another_repository_is_critical(monkeypatch, tmp_path, server, online_env, capsys):
    config = json.dumps({"auto_map": {"AutoModel": "other/code--modeling_o.OModel"}}).encode()
    serve_repo(server, "acme/borrow", PINNED, [entry("config.json", config), SAFETENSORS], {"config.json": config})
    serve_repo(server, "other/code", HEAD, [entry("modeling_o.py", UTILS)], {"modeling_o.py": UTILS}, branch="main")
    text = (
        f'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/borrow", revision="{PINNED}", trust_remote_code=True)\n'
    )
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": text}, "--select", "HUB014")
    assert (code, report["errors"], hits(report)) == (1, [], [("HUB014", "train.py", 2, 31, "critical")])
    assert report["findings"][0]["message"] == (
        f"modeling_o.py (sha256 {sha256(UTILS)}) comes from hub model 'other/code' at its default branch (commit {HEAD[:12]} today), "
        "whatever this revision is pinned to: whoever can push there runs code here"
    )


def test_a_tokenizers_remote_code_is_listed_too(monkeypatch, tmp_path, server, online_env, capsys):
    tokenizer = json.dumps({"auto_map": {"AutoTokenizer": ["tokenization_t.TTokenizer", None]}}).encode()
    files = [entry("tokenizer_config.json", tokenizer), entry("tokenization_t.py", UTILS), SAFETENSORS]
    serve_repo(server, "acme/tok", PINNED, files, {"tokenizer_config.json": tokenizer, "tokenization_t.py": UTILS})
    server.reply("GET", "/api/models/acme/tok/revision/main", body={"sha": PINNED})
    text = (
        "from transformers import AutoTokenizer\n"
        f't = AutoTokenizer.from_pretrained("acme/tok", revision="{PINNED}", trust_remote_code=True)\n'
    )
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": text}, "--select", "HUB014")
    assert (code, report["errors"], hits(report)) == (1, [], [("HUB014", "train.py", 2, 35, "low")])
    assert report["findings"][0]["message"] == (
        f"trust_remote_code=True runs this code of hub model 'acme/tok' at commit {PINNED[:12]}: "
        f"tokenization_t.py (sha256 {sha256(UTILS)}); this is what 'main' holds today"
    )


def test_no_remote_code_listing_without_trust_remote_code(monkeypatch, tmp_path, server, online_env, capsys):
    coder(server)
    text = f'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/coder", revision="{PINNED}")\n'
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": text}, "--select", "HUB014")
    assert (code, report["errors"], report["findings"]) == (0, [], [])
    assert not [path for _, path in server.seen() if "/resolve/" in path]


def test_nothing_is_asked_offline(monkeypatch, tmp_path, server, online_env, capsys):
    coder(server)
    write_tree(tmp_path, {"train.py": REMOTE})
    monkeypatch.chdir(tmp_path)
    main(["check", "--select", "hub", "--format", "json", "."])
    assert server.requests == []


# --- tokens ---------------------------------------------------------------------------------------------


@pytest.fixture
def evil():
    fake = FakeServer()
    yield fake
    fake.close()


def test_the_token_goes_to_the_hub_only_and_a_next_page_link_cannot_move_the_listing(
    monkeypatch, tmp_path, server, online_env, capsys, evil
):
    monkeypatch.setenv("HF_TOKEN", "hf-secret")
    server.reply("GET", f"/api/models/acme/evil/revision/{EVIL}", body={"sha": EVIL})
    link = f'<{evil.url}/api/models/acme/evil/tree/{EVIL}?recursive=true&expand=true&cursor=c2>; rel="next"'
    server.reply("GET", f"/api/models/acme/evil/tree/{EVIL}", body=[README], headers={"Link": link})
    server.reply("GET", f"/api/models/acme/evil/tree/{EVIL}", body=[entry("x.pkl", b"x", lfs=True, **UNSAFE_PICKLE)])
    evil.reply("GET", f"/api/models/acme/evil/tree/{EVIL}", body=[])
    train = f'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/evil", revision="{EVIL}")\n'
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": train}, "--select", "HUB011")
    assert hits(report) == [("HUB011", "train.py", 2, 31, "critical")]
    assert evil.requests == []  # the page's cursor is asked of the hub, on a URL mlgate built
    assert [(r.path, r.headers.get("authorization")) for r in server.requests if "/tree/" in r.path] == [
        (f"/api/models/acme/evil/tree/{EVIL}?recursive=true&expand=true", "Bearer hf-secret"),
        (f"/api/models/acme/evil/tree/{EVIL}?recursive=true&expand=true&cursor=c2", "Bearer hf-secret"),
    ]


# --- the remote scan of the run's hooks ----------------------------------------------------------------


@pytest.fixture
def remote_scan(monkeypatch):
    """A stand-in for the models hook's `scan_remote_files`: what it was handed, and a problem in pytorch_model.bin."""
    handed: list = []

    def scan_remote_files(session, files):
        handed.extend(files)
        return [
            (
                file,
                [(DANGEROUS_CALL, DANGEROUS_CALL.severity, "data.pkl: calls posix.system")] if file.path == "pytorch_model.bin" else [],
                None,
            )
            for file in files
        ]

    monkeypatch.setitem(sys.modules, "mlgate.models.remote", types.SimpleNamespace(scan_remote_files=scan_remote_files))
    return handed


def test_pickle_weights_go_to_the_remote_scan_and_its_problems_land_on_the_line(
    monkeypatch, tmp_path, server, online_env, capsys, remote_scan
):
    serve_repo(server, "acme/old", OLD, PICKLE_ONLY)
    train = f'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/old", revision="{OLD}")\n'
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": train}, "--select", "HUB013,models")
    assert (code, report["errors"]) == (1, [])
    assert hits(report) == [("HUB013", "train.py", 2, 31, "medium"), ("MOD001", "train.py", 2, 31, "critical")]
    assert (
        report["findings"][1]["message"] == f"pytorch_model.bin of hub model 'acme/old' at commit {OLD[:12]}: data.pkl: calls posix.system"
    )
    assert [(file.url, file.path, file.size) for file in remote_scan] == [
        (f"{server.url}/acme/old/resolve/{OLD}/pytorch_model.bin", "pytorch_model.bin", 1)
    ]


def test_no_remote_scan_when_models_is_not_selected(monkeypatch, tmp_path, server, online_env, capsys, remote_scan):
    serve_repo(server, "acme/old", OLD, PICKLE_ONLY)
    train = f'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/old", revision="{OLD}")\n'
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": train}, "--select", "hub")
    assert hits(report) == [("HUB013", "train.py", 2, 31, "medium")]
    assert remote_scan == []


@pytest.mark.parametrize(
    ("unscanned", "rule_or_error"),
    [
        ("byte budget spent: 4194304 bytes read, 65536 more needed at offset 9 (the limit is 4194304 bytes per file)", "HUB012"),
        ("not scanned: server does not honour Range requests; first 4194305 bytes read, not scanned", "error"),
    ],
)
def test_what_the_remote_scan_did_not_read_is_a_finding_for_a_limit_and_an_error_for_a_failure(
    monkeypatch, tmp_path, server, online_env, capsys, unscanned, rule_or_error
):
    def scan_remote_files(session, files):
        return [(file, [], unscanned) for file in files]

    monkeypatch.setitem(sys.modules, "mlgate.models.remote", types.SimpleNamespace(scan_remote_files=scan_remote_files))
    serve_repo(server, "acme/old", OLD, PICKLE_ONLY)
    train = f'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/old", revision="{OLD}")\n'
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": train}, "--select", "HUB012,HUB013,models")
    if rule_or_error == "HUB012":
        assert report["errors"] == []
        assert hits(report) == [("HUB012", "train.py", 2, 31, "low"), ("HUB013", "train.py", 2, 31, "medium")]
    else:
        assert hits(report) == [("HUB013", "train.py", 2, 31, "medium")]
        assert [(error["path"], error["message"]) for error in report["errors"]] == [
            (
                "train.py",
                f"line 2: mlgate's remote scan did not read all of pytorch_model.bin of hub model 'acme/old' at commit {OLD[:12]}: "
                + unscanned,
            )
        ]


# --- mlgate scan hf://... -----------------------------------------------------------------------------


def scan_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["scan", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_scan_reports_a_repository_by_id_at_the_commit_of_its_branch(server, online_env, capsys):
    files = [README, entry("pytorch_model.bin", b"p", lfs=True, **UNSAFE_PICKLE)]
    serve_repo(server, "acme/old", OLD, files, branch="main")
    code, report = scan_json(capsys, "hf://acme/old", "--select", "hub")
    assert (code, report["errors"]) == (1, [])
    assert [(f["rule"], f["path"], f["line"], f["severity"]) for f in report["findings"]] == [
        ("HUB013", f"hf://acme/old@{OLD}", None, "medium"),
        ("HUB011", f"hf://acme/old@{OLD}/pytorch_model.bin", None, "critical"),
    ]


def test_scan_with_models_hands_the_pickles_to_the_remote_scan(server, online_env, capsys, remote_scan):
    serve_repo(server, "acme/old", OLD, PICKLE_ONLY)
    code, report = scan_json(capsys, f"hf://acme/old@{OLD}", "--select", "models")
    assert (code, report["errors"]) == (1, [])
    assert [(f["rule"], f["path"], f["severity"]) for f in report["findings"]] == [
        ("MOD001", f"hf://acme/old@{OLD}/pytorch_model.bin", "critical")
    ]
    assert [file.path for file in remote_scan] == ["pytorch_model.bin"]


def test_scan_of_a_dataset_and_of_a_clean_model(server, online_env, capsys):
    serve_repo(server, "acme/data", DATA, [entry("data.pkl", b"d", lfs=True)], kind="datasets", branch="v1")
    code, report = scan_json(capsys, "hf://datasets/acme/data@v1")  # pickles in a dataset: no weights finding
    assert (code, report["errors"], report["findings"]) == (0, [], [])
    assert f"/api/datasets/acme/data/tree/{DATA}?recursive=true&expand=true" in [path for _, path in server.seen()]
    serve_repo(server, "acme/fine", EVIL, [README, SAFETENSORS])
    assert scan_json(capsys, f"hf://models/acme/fine@{EVIL}")[0] == 0


def test_scan_lists_remote_code_of_a_model(server, online_env, capsys):
    coder(server)
    code, report = scan_json(capsys, f"hf://acme/coder@{PINNED}", "--select", "HUB014")
    assert (code, report["errors"]) == (1, [])
    assert [(f["rule"], f["path"]) for f in report["findings"]] == [("HUB014", f"hf://acme/coder@{PINNED}")]


def test_scan_of_a_repository_that_does_not_exist_is_a_clear_error(server, online_env, capsys):
    server.reply("GET", "/api/users/acme/overview")
    code, report = scan_json(capsys, "hf://acme/nothing")
    assert code == 1
    assert report["findings"] == []
    assert report["errors"] == [
        {
            "path": "hf://acme/nothing@main",
            "message": "hub model 'acme/nothing' does not exist on the hub (deleted, renamed or private): a repository re-created under this name would be loaded without review",
        }
    ]


@pytest.mark.parametrize("target", ["acme/model", "hf://", "hf://acme/../x", "https://huggingface.co/acme/model", "hf://acme/model@"])
def test_scan_refuses_what_is_not_a_repository(server, online_env, capsys, target):
    assert main(["scan", target]) == 2
    assert "expected hf://owner/repo[@revision]" in capsys.readouterr().err
    assert server.requests == []


# --- the rule pages' examples (docs/rules/HUB011..HUB014.md), against revisions served here -------------

DOC_BAD, DOC_GOOD = "5d3c7a1f0e9b8c2d4a6f1e3b5c7d9e0f2a4b6c8d", "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"
EXAMPLE = re.compile(r"^\*\*(Bad|Good)\*\* — `([^`]+)`\n\n```[\w-]*\n(.*?)\n```$", re.MULTILINE | re.DOTALL)


def doc_hub(server) -> None:
    """What the pages' repositories hold at their bad and good commits."""
    serve_repo(server, "acme-labs/sentiment", DOC_BAD, [entry("pytorch_model.bin", b"p", lfs=True, **UNSAFE_PICKLE), SAFETENSORS])
    serve_repo(server, "acme-labs/sentiment", DOC_GOOD, [README, SAFETENSORS])
    serve_repo(server, "acme-labs/fresh-model", DOC_BAD, [SAFETENSORS, entry("pytorch_model.bin", b"p", lfs=True, status="queued")])
    serve_repo(server, "acme-labs/fresh-model", DOC_GOOD, [SAFETENSORS, entry("pytorch_model.bin", b"p", lfs=True)])
    serve_repo(server, "acme-labs/legacy-bert", DOC_BAD, [README, entry("pytorch_model.bin", b"p", lfs=True)])
    serve_repo(server, "acme-labs/legacy-bert", DOC_GOOD, [README, SAFETENSORS, entry("pytorch_model.bin", b"p", lfs=True)])
    config = json.dumps({"auto_map": {"AutoModel": "modeling_custom.CustomModel"}}).encode()
    files = {"config.json": config, "modeling_custom.py": UTILS}
    serve_repo(server, "acme-labs/custom-arch", DOC_BAD, [entry(path, content) for path, content in files.items()], files, branch="main")
    serve_repo(server, "acme-labs/custom-arch", DOC_GOOD, [entry("config.json", b"{}"), SAFETENSORS], {"config.json": b"{}"})


@pytest.mark.parametrize("code", ["HUB011", "HUB012", "HUB013", "HUB014"])
def test_the_rule_pages_examples(monkeypatch, tmp_path, server, online_env, capsys, code):
    doc_hub(server)
    found = EXAMPLE.findall((DOCS / f"{code}.md").read_text(encoding="utf-8").split("## Example", 1)[1].split("\n## ", 1)[0])
    assert [kind for kind, _, _ in found] == ["Bad", "Good"]
    for kind, path, snippet in found:
        folder = tmp_path / kind
        folder.mkdir()
        code_, report = run_json(capsys, monkeypatch, folder, {path: snippet + "\n"}, "--select", code)
        assert report["errors"] == []
        assert [f["rule"] for f in report["findings"]] == ([code] if kind == "Bad" else []), (kind, report["findings"])


# --- hostile answers: an error entry or nothing, never a crash ------------------------------------------

HOSTILE_LISTINGS = [
    {"not": "a list"},
    ["a string, not an entry", 7, None],
    [{"type": "file", "path": 5, "size": "big", "oid": []}],
    [{"type": "file", "path": "pytorch_model.bin", "size": -1, "securityFileStatus": "unsafe"}],
    [{"type": "file", "path": "model.pkl", "securityFileStatus": {"status": 3, "pickleImportScan": {"pickleImports": "posix.system"}}}],
    [{"type": "file", "path": "model.pkl", "securityFileStatus": {"status": "unsafe", "pickleImportScan": {"pickleImports": [None, 1]}}}],
    [{"type": "directory", "path": "../../etc"}, {"type": "file", "path": "config.json", "size": 10**12, "oid": "x"}],
]


@pytest.mark.parametrize("listing", HOSTILE_LISTINGS)
def test_a_malformed_listing_is_an_error_entry_or_nothing_never_a_crash(monkeypatch, tmp_path, server, online_env, capsys, listing):
    serve_repo(server, "acme/odd", PINNED, listing, {"config.json": b"{"})
    text = f'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/odd", revision="{PINNED}", trust_remote_code=True)\n'
    code, report = run_json(capsys, monkeypatch, tmp_path, {"train.py": text}, "--select", "HUB011,HUB012,HUB013,HUB014")
    assert code in (0, 1)
    assert not any("internal error" in error["message"] for error in report["errors"])
    assert all(finding["path"] == "train.py" and finding["line"] == 2 for finding in report["findings"])
