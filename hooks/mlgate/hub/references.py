"""Is one hub reference swappable? Shared by every `hub` scanner.

A reference is a repository on the Hugging Face Hub (a model, dataset or space, `ns/name`
or a legacy bare `name`), a GitHub repository for torch.hub (`owner/repo[:ref]`), or a URL
to a hub file (`https://huggingface.co/ns/name/resolve/<rev>/file`, `hf://ns/name@rev/file`,
`hf-hub:ns/name@rev`). `Judge` turns one into `Problem`s with offsets into the text it was
given; scanners place them. Only a full commit SHA is immutable: branches, tags and "no
revision" (the default branch) all move.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

from mlgate.downloads import is_test_fixture
from mlgate.files import is_test_path
from mlgate.findings import Severity
from mlgate.hook import ScanContext
from mlgate.hub.namespaces import imitated_organisation
from mlgate.hub.rules import (
    INSECURE_DOWNLOAD,
    LOOKALIKE_NAMESPACE,
    NAMESPACE_NOT_ALLOWED,
    NO_CHECKSUM,
    TORCH_HUB_UNPINNED,
    TRUST_REMOTE_CODE,
    UNPINNED,
    UNRESOLVED,
)
from mlgate.notes import NoteKind
from mlgate.problem import Problem, is_full_sha

_REPO_ID = re.compile(r"(?:([A-Za-z0-9][\w.-]{0,95})/)?([A-Za-z0-9][\w.-]{0,95})")
_TORCH_HUB = re.compile(r"([A-Za-z0-9][\w.-]*)/([\w.-]+)(?::(\S+))?")
# Download URLs of hub files; a page link (`huggingface.co/ns/name`) is a download only for git clone.
HUB_URL = re.compile(
    r"(?P<scheme>https?)://(?:www\.)?(?:huggingface\.co|hf\.co|hf-mirror\.com)/"
    # A legacy canonical repository has no namespace (`https://huggingface.co/gpt2/resolve/main/x.bin`):
    # a single name is taken for a repository only when a file action follows it.
    r"(?:(?P<bare>[\w.-]+)(?=/(?:resolve|raw|blob)/)|(?P<kind>datasets/|spaces/)?(?P<ns>[\w.{}$-]+)/(?P<name>[\w.{}$-]+))"
    r"(?:/(?P<action>resolve|raw|blob|tree)/(?P<rev>[^/\s'\"?#]+))?"
)


def url_repository(match: re.Match) -> str:
    """The repository id a `HUB_URL` match names: `ns/name`, or a legacy name alone."""
    return match.group("bare") or f"{match.group('ns')}/{match.group('name')}"


# `f"https://huggingface.co/{repo}/resolve/main/{file}"`: the repository is unknown, the revision is not.
_TEMPLATE_RESOLVE = re.compile(
    r"https?://(?:www\.)?(?:huggingface\.co|hf\.co|hf-mirror\.com)/(?P<repo>[^\s'\"]*?)/resolve/(?P<rev>[^/\s'\"?#]+)"
)
# `hf://ns/name@rev/file` (huggingface_hub's file system) and `hf://ns/name:rev` (KServe's storage URI).
# MLC LLM writes the scheme in capitals (`HF://mlc-ai/Llama-3-8B-Instruct-q4f16_1-MLC`, cloned at its main branch).
_HF_PATH = re.compile(r"(?i:hf)://(?P<kind>datasets/|spaces/|buckets/)?(?P<ns>[\w.-]+)/(?P<name>[\w.-]+)(?:[@:](?P<rev>[^/\s'\":@]+))?")
# `hf://example.com/model`: a host name where a namespace belongs (hub namespaces have no TLD).
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|ai|co|dev|local|internal|example)", re.IGNORECASE)
_HF_HUB_PREFIX = re.compile(r"hf[-_]hub:(?P<ns>[\w.-]+)/(?P<name>[\w.-]+)(?:@(?P<rev>[^/\s'\"]+))?")
URL_MARKERS = re.compile(r"huggingface\.co|hf\.co/|hf-mirror\.com|(?i:hf)://|hf[-_]hub:")
_NOT_REPO_NAMESPACES = frozenset(
    {
        "api",
        "docs",
        "blog",
        "models",
        "datasets",
        "spaces",
        "settings",
        "join",
        "login",
        "collections",
        "papers",
        "learn",
        "organizations",
        "new",
        "tasks",
        "pricing",
    }
)
_FILE_SUFFIXES = (
    ".json", ".jsonl", ".yaml", ".yml", ".txt", ".py", ".pt", ".pth", ".bin", ".ckpt", ".safetensors", ".onnx",
    ".gguf", ".h5", ".hdf5", ".pkl", ".pickle", ".csv", ".tsv", ".parquet", ".arrow", ".tar", ".gz", ".zip",
    ".npz", ".npy", ".msgpack", ".model", ".pb", ".tflite", ".keras", ".joblib", ".md", ".sh", ".cfg", ".toml",
)  # fmt: skip
# `models/bert`, `outputs/run1`: folders of a project, not hub users, even when not checked in.
_LOCAL_FOLDERS = frozenset(
    "models model data datasets dataset checkpoints checkpoint ckpt ckpts output outputs runs weights pretrained "
    "pretrained_models saved_models saved results logs exp exps experiments cache tmp local artifacts src assets "
    "resources configs config lora adapters save work workdir".split()
)
# Weights whose loading unpickles them (torch.load, joblib.load, pickle.load): loading runs code.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".dill", ".sav")
WEIGHT_SUFFIXES = (
    ".pt", ".pth", ".bin", ".ckpt", ".safetensors", ".onnx", ".gguf", ".h5", ".hdf5", ".pkl", ".pickle",
    ".msgpack", ".tflite", ".keras", ".joblib", ".npz", ".pb", ".tar", ".tar.gz", ".tgz", ".zip", ".model",
)  # fmt: skip
_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
# Names of LLM API providers in `provider/model` strings (LiteLLM, LangChain): not hub repositories.
_API_PROVIDERS = frozenset(
    {
        "anthropic",
        "azure",
        "azure_ai",
        "bedrock",
        "vertex_ai",
        "gemini",
        "ollama",
        "ollama_chat",
        "groq",
        "together_ai",
        "together",  # Stanford HELM's name for Together AI's API (its hub organisation is `togethercomputer`)
        "meta",  # NVIDIA's API catalog (NIM) and HELM name Meta's models `meta/...`; the hub's are `meta-llama/...`
        "openrouter",
        "cohere_chat",
        "deepinfra",
        "fireworks_ai",
        "perplexity",
        "replicate",
        "sagemaker",
        "watsonx",
        "xai",
        "mistral",
        "text-completion-openai",
        "deepseek",
        "anyscale",
        "cloudflare",
        "voyage",
        "nvidia_nim",
        "sambanova",
        "cerebras",
        "ai21",
        "nlp_cloud",
        "aleph_alpha",
        "dashscope",
        "moonshot",
        "litellm_proxy",
        "hosted_vllm",
    }
)
# (`gpt-oss-20b` is OpenAI's open-weight model on the hub)
# OpenAI's API models; the GPT-3 family too (`ada`, `curie`, `code-cushman-001`), which HELM still lists
_OPENAI_API_MODEL = re.compile(
    r"(?:gpt-(?!oss)|o[134]\b|o[134]-|text-|chatgpt|dall-e|davinci|babbage|curie\b|ada\b|code-(?:davinci|cushman)|tts-|omni-)",
    re.IGNORECASE,
)

KINDS = ("model", "dataset", "space")
# A reference pinned to a commit: nothing to report, but on an online run the hook asks the hub
# whether that commit (its repository, its namespace) still exists. Subject: (kind, repo id, commit).
PINNED_AT_COMMIT = NoteKind("hub-commit", 3)
# A reference loaded with trust_remote_code=True: on an online run the hook lists the code that
# revision runs (hub/verdicts.py). Subject: (kind, repo id, revision: a SHA, a branch, or `main` when none).
REMOTE_CODE = NoteKind("hub-remote-code", 3)


@dataclass
class Reference:
    """One hub repository named somewhere. `revision`: None when none is given."""

    repo_id: str
    offset: int
    kind: str = "model"
    revision: str | None = None
    revision_known: bool = True  # False: a revision is passed but we cannot read it
    where: str = ""  # how it is loaded, for the message (`AutoModel.from_pretrained`)
    runs_code: bool = False  # loading it runs code from the repository (trust_remote_code, pickled weights)
    # trust_remote_code beside it: HUB002 reports the movable revision (critical), not HUB001 again
    remote_code: bool = False

    @property
    def namespace(self) -> str:
        return self.repo_id.split("/", 1)[0] if "/" in self.repo_id else ""

    @property
    def pinned(self) -> bool | None:
        """True at a full commit SHA, False when movable, None when unknown."""
        if not self.revision_known:
            return None
        return self.revision is not None and is_full_sha(self.revision)


# The short names of sentence-transformers' own models (`all-MiniLM-L6-v2`), which it loads from
# `sentence-transformers/<name>` on the hub.
_SENTENCE_TRANSFORMERS_NAME = re.compile(
    r"(?:all-(?:MiniLM|mpnet|distilroberta|roberta)|paraphrase-|multi-qa-|msmarco-|distiluse-|sentence-t5-|gtr-t5-|nli-|stsb-|LaBSE$|clip-ViT-)"
)


def repo_id_of(text: str, bare: bool = False) -> str | None:
    """`text` as a hub repository id (`ns/name`, or `name` when `bare`), or None.

    Local paths (`./ckpt`, `/models/x`, `~/x`, `C:\\x`, names with a file suffix) are not ids.
    """
    text = text.strip()
    match = _REPO_ID.fullmatch(text)
    if match is None or ".." in text or "--" in text or text.endswith("."):
        return None
    if match.group(1) is None and not bare:
        return None
    if text.lower().endswith(_FILE_SUFFIXES) or (match.group(1) or "").lower() in _LOCAL_FOLDERS:
        return None
    if match.group(1) and match.group(2).isdigit():
        return None  # `ViT-B/32`: a model name with a slash in it (OpenAI CLIP), not ns/name
    if match.group(1) is None and _SENTENCE_TRANSFORMERS_NAME.match(text):
        return f"sentence-transformers/{text}"  # how sentence-transformers resolves its models' short names
    if match.group(1) is None and text != text.lower():
        # the hub's names without a namespace are its legacy canonical ones, all lower case (`gpt2`,
        # `bert-base-cased`, `glue`): `Qwen3-VL-4B-Instruct-trl-sft` is a folder a notebook wrote
        return None
    return text


# A client's settings: the model it names is the one an API serves (`base_url:
# https://integrate.api.nvidia.com/v1`, `api_key: ${api_key}`), loaded by that server, not here.
API_URL_KEYS = frozenset({"base_url", "api_base", "api_url", "openai_api_base", "api_endpoint", "endpoint_url", "server_url"})
API_KEY_KEYS = frozenset({"api_key", "api_key_env", "api_key_var", "api_key_name", "openai_api_key"})


# Hosted providers as model registries name them besides LiteLLM's names (llama-stack's remote
# providers). Not in _API_PROVIDERS: as a namespace, `nvidia/...` or `openai/whisper-*` is the hub's.
_REGISTRY_PROVIDERS = frozenset({"nvidia", "openai", "together", "fireworks", "vertexai", "databricks", "runpod", "passthrough"})


def is_api_provider(name: str) -> bool:
    """A hosted API's provider name (`nvidia`, `remote::watsonx`, `together_ai`), as model registries
    write it beside the model it serves (llama-stack's `provider_id:`)."""
    key = name.strip().lower().removeprefix("remote::").replace("-", "_")
    return key in _API_PROVIDERS or key in _REGISTRY_PROVIDERS


def is_api_model(repo_id: str, kind: str = "model") -> bool:
    """`openai/gpt-4o`, `anthropic/claude-3`: a hosted API's model, not a hub repository. APIs serve
    models only: a dataset under a provider's name (`Anthropic/hh-rlhf`) is the hub's."""
    if kind != "model":
        return False
    namespace, slash, name = repo_id.partition("/")
    if not slash:  # `gpt-4`, `claude-3-opus`: an API's model named without its provider
        return _OPENAI_API_MODEL.match(namespace) is not None or namespace.lower().startswith("claude-")
    if namespace.lower() in _API_PROVIDERS:
        return True
    return namespace.lower() == "openai" and _OPENAI_API_MODEL.match(name) is not None


def exists_locally(path: str, folder: str) -> bool:
    """A relative path that names a file or folder of the project (from the cwd or the file's folder)."""
    return os.path.exists(path) or os.path.exists(os.path.join(folder, path))


def _revision_text(reference: Reference) -> str:
    if reference.revision is None:
        return "without a revision, so it gets whatever the default branch holds when it runs"
    return f"at '{reference.revision}', a branch or tag that can be moved"


class Judge:
    """The hub hook's verdicts, with the hook's options."""

    def __init__(self, context: ScanContext, folder: str = ".", path: str = ""):
        options = context.options
        self.context = context
        self.folder = folder
        self.in_tests = is_test_path(path)
        self.report_tests = bool(options.get("report-tests", False))
        self.trusted = frozenset(name.lower() for name in options.get("trusted-namespaces", []) if isinstance(name, str))
        self.allowed = frozenset(name.lower() for name in options.get("allowed-namespaces", []) if isinstance(name, str))
        self.report_unresolved = bool(options.get("report-unresolved", False))

    def is_local(self, text: str) -> bool:
        return exists_locally(text, self.folder)

    def is_local_path(self, text: str) -> bool:
        """A path of the project (`./ckpt`, `/models/x`, `outputs/run1`), not a hub id: its code is the project's own."""
        if "://" in text or "$" in text or "{" in text:
            return False
        return self.is_local(text) or repo_id_of(text, bare=True) is None

    def reference(self, reference: Reference) -> list[Problem]:
        """HUB001 (movable revision) and the namespace checks of one hub repository."""
        problems = self.namespace(reference.namespace, reference.offset)
        if self.context.online and reference.pinned:  # does the commit exist? asked after the scan
            subject = PINNED_AT_COMMIT.message(reference.kind, reference.repo_id, reference.revision or "")
            problems.append(Problem(PINNED_AT_COMMIT, subject, reference.offset))  # placed as a Note, not a finding
        if (
            self.context.online
            and reference.remote_code
            and reference.revision_known
            and not is_placeholder(reference.repo_id)
            and not any(character.isspace() for character in reference.revision or "")
        ):
            subject = REMOTE_CODE.message(reference.kind, reference.repo_id, reference.revision or "main")
            problems.append(Problem(REMOTE_CODE, subject, reference.offset))
        unpinned = reference.pinned is False and not is_placeholder(reference.repo_id)
        if unpinned and not reference.remote_code and not self.test_load(reference):
            where = f" by {reference.where}" if reference.where else ""
            message = f"hub {reference.kind} '{reference.repo_id}' is loaded{where} {_revision_text(reference)}; pin revision to a full commit SHA"
            problems.insert(0, Problem(UNPINNED, message, reference.offset))
        return problems

    def test_load(self, reference: Reference) -> bool:
        """A reference a test loads that HUB001 leaves alone: a tiny fixture (`hf-internal-testing/...`),
        or, unless `report-tests`, any load that runs no code from the repository. A test loads
        whatever the hub holds on purpose (it checks the library against the model as it is now),
        and what it loads are weights and tokenizer files read as data: swapped, they fail a test
        run, they do not run code in it. trust_remote_code and pickled weights do, and are reported."""
        if not self.in_tests:
            return False
        return is_test_fixture(reference.repo_id) or (not reference.runs_code and not self.report_tests)

    def namespace(self, namespace: str, offset: int) -> list[Problem]:
        if not namespace:
            return []
        problems = []
        imitated = imitated_organisation(namespace, self.trusted)
        if imitated is not None:
            message = f"namespace '{namespace}' looks like the organisation '{imitated}' but is not it: whoever registered it controls what loads here"
            problems.append(Problem(LOOKALIKE_NAMESPACE, message, offset))
        if self.allowed and namespace.lower() not in self.allowed:
            problems.append(Problem(NAMESPACE_NOT_ALLOWED, f"namespace '{namespace}' is not in allowed-namespaces", offset))
        return problems

    def trust_remote_code(
        self, offset: int, pinned: bool | None, what: str = "trust_remote_code=True", named: bool = True
    ) -> list[Problem]:
        """HUB002: critical when the code it trusts is not pinned to a commit, high when it is or when
        its revision is the caller's (`revision=revision`). In a test, only beside a
        hub repository it names (`named`), unless `report-tests`: a test's flag with no repository
        (a mock's settings, a dict a unit under test reads, a local fixture) runs no one's code."""
        if self.in_tests and not named and not self.report_tests:
            return []
        if pinned:
            return [
                Problem(
                    TRUST_REMOTE_CODE, f"{what} runs the repository's Python on this machine (pinned to a commit: review that code)", offset
                )
            ]
        if pinned is None:
            # `revision=revision`: the caller decides (mteb's model wrappers are handed the commit
            # their registry pins; FastChat's the `--revision` a user types): high, not critical,
            # since nothing here says it moves
            said = "and its revision comes from elsewhere (a variable or a caller), so nothing here pins it"
            severity = Severity.HIGH
        else:
            said = "and the revision is not pinned"
            severity = Severity.CRITICAL
        return [
            Problem(
                TRUST_REMOTE_CODE,
                f"{what} runs the repository's Python on this machine, {said}: whoever can push to it runs code here",
                offset,
                severity=severity,
            )
        ]

    def torch_hub(self, text: str, offset: int) -> list[Problem]:
        """HUB003: `owner/repo[:ref]` of torch.hub.load/list/help not at a full commit SHA."""
        match = _TORCH_HUB.fullmatch(text.strip())
        if match is None or self.is_local(text):
            return []
        ref = match.group(3)
        if ref is not None and is_full_sha(ref):
            return []
        at = f"at '{ref}', a branch or tag that can be moved" if ref else "at its default branch"
        message = (
            f"torch.hub runs hubconf.py of {match.group(1)}/{match.group(2)} {at}; use {match.group(1)}/{match.group(2)}:<full commit SHA>"
        )
        return [Problem(TORCH_HUB_UNPINNED, message, offset)]

    def unresolved(self, offset: int, where: str) -> list[Problem]:
        if not self.report_unresolved:
            return []
        return [Problem(UNRESOLVED, f"{where} loads a repository named at run time: check where the value is pinned", offset)]

    def urls(self, text: str, offset: int = 0, clone: bool = False) -> list[Problem]:
        """Every hub file reference in `text`: download URLs, `hf://` paths, `hf-hub:` names.

        With `clone`, a repository page URL (`https://huggingface.co/ns/name`) counts too: it is
        what `git clone` fetches.
        """
        if not URL_MARKERS.search(text):
            return []
        problems: list[Problem] = []
        for match in HUB_URL.finditer(text):
            action = match.group("action")
            if (match.group("bare") or match.group("ns")) in _NOT_REPO_NAMESPACES or (action is None and not clone) or action == "tree":
                continue
            start = offset + match.start()
            if action is not None and _is_media(text, match.end()):
                continue  # a picture, a recording or a document: shown to people, never loaded as a model or code
            if match.group("scheme") == "http":
                problems.append(
                    Problem(
                        INSECURE_DOWNLOAD, f"{match.group()} is fetched over plain http: anyone on the network path can replace it", start
                    )
                )
            if any(mark in match.group() for mark in "{$"):
                continue  # a template: judged by _TEMPLATE_RESOLVE below
            kind = (match.group("kind") or "model/").rstrip("s/")
            reference = Reference(
                url_repository(match),
                start,
                kind,
                match.group("rev"),
                where="URL" if not clone else "git clone",
                runs_code=_names_pickle(text, match.end()),
            )
            problems += self._url_reference(reference, match.group())
        for match in _TEMPLATE_RESOLVE.finditer(text):
            revision = match.group("rev")
            if (
                any(mark in match.group("repo") for mark in "{$")
                and not any(mark in revision for mark in "{$")
                and not is_full_sha(revision)
            ):
                message = f"hub URL template {match.group()} resolves files at '{revision}', a branch or tag that can be moved; use a full commit SHA"
                problems.append(Problem(UNPINNED, message, offset + match.start()))
        for pattern, where in ((_HF_PATH, "an hf:// path"), (_HF_HUB_PREFIX, "an hf-hub: name")):
            for match in pattern.finditer(text):
                kind = (match.groupdict().get("kind") or "model/").rstrip("s/")
                if kind == "bucket" or _DOMAIN.fullmatch(match.group("ns")):
                    continue
                reference = Reference(
                    f"{match.group('ns')}/{match.group('name')}",
                    offset + match.start(),
                    kind,
                    match.group("rev"),
                    where=where,
                    runs_code=_names_pickle(text, match.end()),
                )
                problems += self._url_reference(reference, match.group())
        return problems

    def _url_reference(self, reference: Reference, written: str) -> list[Problem]:
        problems = self.reference(reference)
        if problems and problems[0].rule is UNPINNED:
            if reference.revision is None and written.startswith("HF://"):  # MLC LLM's: it has no revision
                problems[0].message = (
                    f"{written} names hub {reference.kind} '{reference.repo_id}' without a revision: MLC LLM clones its default "
                    "branch; download it at a full commit SHA (hf download --revision <sha>) and give the local folder"
                )
            elif reference.revision is None:
                problems[
                    0
                ].message = f"{written} names hub {reference.kind} '{reference.repo_id}' without a revision: it gets whatever the default branch holds; pin a full commit SHA"
            else:
                problems[
                    0
                ].message = f"{written} resolves hub {reference.kind} '{reference.repo_id}' at '{reference.revision}', a branch or tag that can be moved; use the full commit SHA"
        return problems

    def weight_url(self, url: str, offset: int, verified: bool, what: str) -> list[Problem]:
        """A URL a loader or fetcher downloads weights from (not a hub URL: those are `urls`)."""
        lower = url.lower()
        if URL_MARKERS.search(lower) or not lower.startswith(("http://", "https://")):
            return []
        if lower.startswith("http://"):
            return [
                Problem(
                    INSECURE_DOWNLOAD, f"{what} fetches {url} over plain http: anyone on the network path can replace the weights", offset
                )
            ]
        if verified:
            return []
        # an archive may hold weights, a dataset or code: the message does not claim which
        held = "what the archive holds" if lower.split("?", 1)[0].split("#", 1)[0].endswith(_ARCHIVE_SUFFIXES) else "the weights"
        return [Problem(NO_CHECKSUM, f"{what} fetches {url} without checking a sha256: whoever controls that URL controls {held}", offset)]


_URL_PATH = re.compile(r"[^\s'\"?#]*")


# Files no loader runs or loads as weights (a demo's input image, a LICENSE.md link): a movable
# revision changes what people see, not what runs.
_MEDIA_SUFFIXES = (
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".svg", ".ico", ".tif", ".tiff",
    ".mp3", ".wav", ".flac", ".ogg", ".m4a", ".mp4", ".webm", ".mov", ".avi", ".gifv",
    ".md", ".pdf", ".html", ".htm",
)  # fmt: skip


# A repository's legal and readme files, whatever their extension (`.../blob/main/LICENSE` in a help text).
_DOCUMENT_NAMES = frozenset({"license", "licence", "notice", "copying", "readme", "citation"})


def _is_media(text: str, end: int) -> bool:
    """Whether the hub URL matched up to `end` goes on to a picture, a recording or a document
    (`.../resolve/main/corgi.png`, `.../blob/main/LICENSE`)."""
    path = _URL_PATH.match(text, end)
    if path is None:
        return False
    name = path.group().split("?", 1)[0].split("#", 1)[0].rstrip(").]>,;:").rsplit("/", 1)[-1]
    return _ends_with(name, _MEDIA_SUFFIXES) or name.split(".", 1)[0].lower() in _DOCUMENT_NAMES


def _names_pickle(text: str, end: int) -> bool:
    """Whether the hub URL matched up to `end` goes on to a pickled-weights file (`.../resolve/main/model.bin`)."""
    path = _URL_PATH.match(text, end)
    return path is not None and is_pickle_file(path.group())


def _ends_with(name: str, suffixes: tuple[str, ...]) -> bool:
    """Whether a file name or URL (its query and fragment left out, and the `)`, `]`, `>` or full stop
    that ends a link in markdown and prose) ends with one of `suffixes`, whatever the case."""
    return name.split("?", 1)[0].split("#", 1)[0].rstrip(").]>,;:").lower().endswith(suffixes)


def is_pickle_file(name: str) -> bool:
    """A file whose loading unpickles it (`pytorch_model.bin`, `model.joblib`)."""
    return _ends_with(name, PICKLE_SUFFIXES)


# An archive is a model, a dataset or code only when its URL says so: a path naming models, weights,
# checkpoints or data (`fairseq/models/...tar.gz`, `ai2-public-datasets/...zip`), or a code host's
# source archive (`github.com/o/r/archive/branch.zip`). Software releases (`openmpi-5.0.1.tar.gz`,
# `otelcol_0.91.0_linux_amd64.tar.gz`) are packages the image build installs, not ML artefacts.
_ML_ARCHIVE = re.compile(r"model|weight|checkpoint|ckpt|pretrain|dataset|(?<![a-z])data(?![a-z])|/archive/", re.IGNORECASE)


def is_weight_url(url: str) -> bool:
    """A URL of model weights, or of an archive that holds a model, a dataset or code."""
    if not _ends_with(url, WEIGHT_SUFFIXES):
        return False
    return not _ends_with(url, _ARCHIVE_SUFFIXES) or _ML_ARCHIVE.search(url.split("?", 1)[0]) is not None


# Settings (config keys, CLI options, argparse/dataclass fields, env variables) that name a hub
# repository to load, normalised to lower case with `_`: key -> (kind, a bare name counts).
# Keys that only the Hugging Face example scripts use accept bare names (`gpt2`); generic ones
# (`model:`) count only as `ns/name`. `hub_model_id` and `output_dir` are where a model is
# pushed or saved, not loaded.
_HF_SCRIPT_MODEL_KEYS = "model_name_or_path pretrained_model_name_or_path tokenizer_name base_model_name_or_path"
_GENERIC_MODEL_KEYS = (
    "model model_name model_id model_repo base_model tokenizer tokenizer_name_or_path pretrained_model teacher_model "
    "teacher_model_name_or_path reward_model reward_model_name_or_path ref_model ref_model_name_or_path "
    "pretrained_vae_model_name_or_path vae_model_name_or_path controlnet_model_name_or_path adapter_name_or_path "
    "peft_model_id lora_model_id embedding_model embed_model embedding_model_name reranker_model draft_model "
    "speculative_model hf_model_id hf_model hf_model_name llm_model model_path hf_repo config_name"
)
_DATASET_KEYS = "dataset dataset_id dataset_path dataset_name_or_path hf_dataset"
REFERENCE_KEYS: dict[str, tuple[str, bool]] = {
    **{key: ("model", True) for key in _HF_SCRIPT_MODEL_KEYS.split()},
    **{key: ("model", False) for key in _GENERIC_MODEL_KEYS.split()},
    **{key: ("dataset", False) for key in _DATASET_KEYS.split()},
    "dataset_name": ("dataset", True),
}
REVISION_KEYS = frozenset({"revision", "model_revision", "code_revision"})


@functools.lru_cache(maxsize=4096)
def setting_key(name: str) -> str:
    """`--model-name-or-path`, `MODEL_ID`, `modelNameOrPath` -> the REFERENCE_KEYS spelling."""
    name = name.lstrip("-")
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name) if not name.isupper() else name
    return name.lower().replace("-", "_")


def revision_keys_for(key: str) -> tuple[str, ...]:
    """Sibling settings that hold the revision of `key` (`tokenizer` -> `tokenizer_revision`)."""
    stem = key.removesuffix("_name_or_path").removesuffix("_name").removesuffix("_id")
    kind = REFERENCE_KEYS.get(key, ("model", False))[0]
    # `hf_repo` beside `hf_revision` (lighteval's task configs)
    prefixed = ("hf_revision",) if key.startswith("hf_") else ()
    return ("revision", f"{key}_revision", f"{stem}_revision", f"{kind}_revision", *prefixed)


def is_truthy(text: str) -> bool:
    return text.strip().lower() in ("true", "yes", "on", "1")


# Recorded data (snapshot tests, VCR cassettes, recorded API responses) says what a service once
# answered, not what the project loads: never scanned for references.
_RECORDED_PATH = re.compile(
    r"(?:^|/)(?:__snapshots__|cassettes?)/|(?:^|/)fixtures/(?:[^/]+/)*responses?/|\.snap$"
    # what a run wrote: JSON in an output or results folder (`example_eval_output/workflow_output.json`),
    # and the configs Hydra records for each run (`outputs/<date>/.hydra/config.yaml`)
    r"|(?:^|/)(?:[^/]*[-_])?(?:outputs?|results)/(?:[^/]+/)*[^/]+\.jsonl?$|(?:^|/)\.hydra/",
    re.IGNORECASE,
)


def is_recorded_data(path: str) -> bool:
    """A file under `__snapshots__/`, `cassettes/`, `fixtures/**/responses/`, a `*.snap`, JSON under
    an output or results folder, or a run's `.hydra/` record."""
    lowered = path.lower()
    if not any(word in lowered for word in ("snap", "cassette", "fixtures", "output", "result", ".hydra")):
        return False  # asked of every file: a word each pattern holds, looked for before the expression
    return _RECORDED_PATH.search(path.replace("\\", "/")) is not None


# Namespaces of ids written to show a format (`hf://owner/model[:revision]` in an error message,
# `your-org/your-model` in a docs sample): no one loads them.
_PLACEHOLDER_NAMESPACES = frozenset(
    {
        "owner",
        "org",
        "organization",
        "user",
        "username",
        "namespace",
        "your-org",
        "your_org",
        "yourorg",
        "your-username",
        "your_username",
        "your-name",
        "my-org",
        "myorg",
        "example",
        "example-org",
        "<org>",
        "<owner>",
        "<user>",
        "<namespace>",
    }
)


def is_placeholder(repo_id: str) -> bool:
    return repo_id.rpartition("/")[0].lower() in _PLACEHOLDER_NAMESPACES
