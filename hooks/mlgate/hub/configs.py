"""YAML and JSON files: training and serving configs, workflows, compose files, k8s manifests.

Every mapping is read (safely, as a node tree) for:
- keys that name a model or dataset (`model_name_or_path`, `base_model`, `model:` ..., and
  `path:` under `datasets:`), pinned by a sibling `revision` / `<key>_revision` (HUB001);
- `trust_remote_code: true` (HUB002), critical unless a sibling revision is a commit SHA;
- hub URLs in any string value;
- shell in `run:` steps of GitHub workflows (via the core `workflow.run_script`), in GitLab
  `script:` lines, and in `command`/`entrypoint`/`args` values (a string, or a list of arguments);
- `name:`/`id:`/`path:` under `model:`, `datasets:` and the like, and `models: [ns/name, ...]`.
A cheap prefilter skips files that mention none of these, so big data JSON is never parsed;
metadata files that describe a saved model or dataset (`tokenizer_config.json`,
`dataset_info.json`, ...) are not read at all.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator

from mlgate import kubernetes, templated, workflow, yamlfile
from mlgate.files import InvalidText, ScanError, SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.hub.commands import ShellScan
from mlgate.hub.references import (
    API_KEY_KEYS,
    API_URL_KEYS,
    REFERENCE_KEYS,
    REVISION_KEYS,
    URL_MARKERS,
    Judge,
    Reference,
    is_api_model,
    is_api_provider,
    is_recorded_data,
    is_truthy,
    repo_id_of,
    revision_keys_for,
    setting_key,
)
from mlgate.notes import Note
from mlgate.problem import SHA256_HEX, Problem, placer

# What a file that may refer to the hub holds: a setting named like a reference key whose value is
# a plain name (`model: ns/name`, `"dataset": "name"`), or one of these words. Checked before the
# file is walked, so it must cost far less than composing it: the words are looked for with `in`
# first, and keys are read as keys (at a line's start, or after `{`/`,`), never searched for as
# substrings at every position of a multi-megabyte CRD.
_WORDS = re.compile(
    r"huggingface|hf\.co/|hf-mirror\.com|(?i:hf)://|hf[-_]hub:|"
    r"trust_remote_code|from_pretrained|load_dataset|snapshot_download|hf_hub_download|torch\.hub|"
    r"(?i:\bhf download|--model|--trust-remote-code|-hfr? )|\.(?:pt|pth|bin|ckpt|safetensors|onnx|gguf|h5)\b",
)
_LITERALS = (
    "huggingface", "hf.co/", "hf-mirror.com", "hf://", "HF://", "hf-hub:", "hf_hub:", "trust_remote_code", "from_pretrained",
    "load_dataset", "snapshot_download", "hf_hub_download", "torch.hub", "hf download", "--model", "--trust-remote-code",
    "-hf ", "-hfr ", ".pt", ".pth", ".bin", ".ckpt", ".safetensors", ".onnx", ".gguf", ".h5",
)  # fmt: skip
# Every reference key holds one of these stems, lowercased (a test keeps it so): a line is read
# as settings only where one occurs.
_KEY_STEMS = re.compile(r"model|dataset|tokenizer|config_name|hf_repo|adapter")
# ... its value a plain name, or the first item of a list of them (`models:\n  - ns/name`, `models: [ns/name]`)
_SETTING = re.compile(
    r"""(?:^[ \t-]*|[{,][ \t]*)["']?([A-Za-z_][\w.-]*)["']?[ \t]*:\s*(?:-[ \t]+|\[[ \t]*)?["']?[\w.-]+(?:/|["']?[ \t]*[,\]]?[ \t]*$)""",
    re.MULTILINE,
)


def may_refer(text: str) -> bool:
    """Whether `text` holds a reference-like setting or a hub word (see `_WORDS`); linear, and
    answered by `in` alone for the many files that hold none of them."""
    lowered = text.lower()
    if any(word in lowered for word in _LITERALS) and _WORDS.search(text) is not None:
        return True
    if len(lowered) != len(text):  # a character whose lowercase is longer: offsets differ, read it all
        return _has_reference_setting(text, 0, len(text))
    line_end = 0
    for stem in _KEY_STEMS.finditer(lowered):
        if stem.start() < line_end:
            continue  # its line was read already
        line_start = text.rfind("\n", 0, stem.start()) + 1
        line_end = text.find("\n", stem.end())
        line_end = len(text) if line_end == -1 else line_end
        value_end = text.find("\n", line_end + 1)  # `key:` with its value on the next line
        if _has_reference_setting(text, line_start, len(text) if value_end == -1 else value_end):
            return True
    return False


def _has_reference_setting(text: str, start: int, end: int) -> bool:
    """A `key: value` in text[start:end] whose key is a reference key as `setting_key` spells it
    (`modelNameOrPath`, `MODEL_ID`, `model-name-or-path`) or a parent of names (`models:`) and whose
    value is a plain name."""
    return any((key := setting_key(match.group(1))) in REFERENCE_KEYS or key in _PARENTS for match in _SETTING.finditer(text, start, end))


_SHELL_KEYS = frozenset({"command", "entrypoint", "args", "script", "cmd", "before_script", "after_script"})
_SCRIPT_LISTS = frozenset({"script", "before_script", "after_script"})  # GitLab CI: one shell line per element
# `model: {name: ns/name}`, `datasets: [{path: ns/name}]`: the parent says what the child key names.
_PARENTS = frozenset(
    {
        "model",
        "tokenizer",
        "base_model",
        "teacher",
        "teacher_model",
        "reward_model",
        "ref_model",
        "embedding",
        "embedder",
        "embedding_model",
        "llm",
        "encoder",
        "vae",
        "adapter",
        "models",
        "dataset",
        "datasets",
        "test_datasets",
        "eval_datasets",
        "pretraining_dataset",
    }
)
_CHILD_KEYS = frozenset({"name", "id", "path", "repo", "repo_id", "name_or_path", "pretrained", "hf_id", "hub_id", "model"})
# Keys of a model catalog's entry (Kubeflow's model catalog, model cards in YAML): beside two of them
# a `name:` is a model described for a reader, not one loaded.
_CARD_KEYS = frozenset(
    {"description", "readme", "provider", "license", "licenseLink", "license_link", "logo", "maturity", "language"}
    | {"display_name", "displayName", "release_date", "creator_organization_name"}  # HELM's model metadata
)


def _is_card(keys: Iterable[str]) -> bool:
    return len(_CARD_KEYS.intersection(keys)) >= 2


# An entry whose `*_spec: {class_name: ...}` names the class that serves it (Stanford HELM's model
# deployments and tokenizers): its model is loaded from the hub only when that class is a hub
# loader's; an API client's (`OpenAIClient`, `VertexAIChatClient`, `TogetherClient`) sends the name
# to a provider, which loads nothing here.
_HUB_CLASS = re.compile(r"hugging_?face|transformers|diffusers", re.IGNORECASE)


def _calls_an_api(values: dict[str, yamlfile.Node]) -> bool:
    """Whether an entry's settings are a client's (an API's address or key, a hosted provider's
    `provider_id:`): the model it names is the one that API serves."""
    if API_KEY_KEYS.intersection(values) or is_api_provider(yamlfile.text_of(values.get("provider_id")) or ""):
        return True
    return any(
        (url := yamlfile.text_of(values[key]) or "").startswith(("http://", "https://", "${")) and not URL_MARKERS.search(url)
        for key in API_URL_KEYS.intersection(values)
    )


# ... and an API client's class by the provider it names: an entry's `args:` go to the class, and
# a class that is neither (HELM's `OpenFlamingoClient`) loads its `tokenizer_name:` from the hub.
_API_CLIENT_CLASS = re.compile(
    r"openai|anthropic|together|openrouter|vertex|bedrock|mistralai|cohere|ai21|alephalpha|gemini|genai|palmyra|reka|grok|"
    r"ibm|azure|nvidia|groq|fireworks|deepseek|perplexity|litellm",
    re.IGNORECASE,
)


# What a request to a served model holds beside its `model` (an example payload in a config)
_REQUEST_KEYS = frozenset({"input", "inputs", "messages", "prompt"})


def _api_client_spec(node: yamlfile.Node, key: str) -> bool:
    """A `*_spec: {class_name: ...}` naming an API client's class: its `args:` (HELM's
    `OpenRouterClient` given `model_name: mistralai/...`) are what the client sends to the API."""
    served_by = yamlfile.text_of(yamlfile.get(node, "class_name")) if key.endswith("_spec") else None
    return served_by is not None and _API_CLIENT_CLASS.search(served_by) is not None


def _loaded_elsewhere(items: list[tuple[str, yamlfile.Node, yamlfile.Node]], values: dict[str, yamlfile.Node]) -> Callable[[str], bool]:
    """Which settings of one entry name what something other than this program loads: every one when
    an API client's class serves the entry; in an entry a hub class serves, the names of the tool's
    own registry (HELM resolves `tokenizer_name` through its tokenizer entries, and `model_name`
    through the args' `pretrained_model_name_or_path` when they give one); beside an API's address or
    key, the model (the server's) but not the tokenizer (loaded here to count tokens)."""
    spec = next((value for name, _, value in items if name.endswith("_spec") and yamlfile.get(value, "class_name") is not None), None)
    served_by = yamlfile.text_of(yamlfile.get(spec, "class_name")) if spec is not None else None
    if served_by is not None and not _HUB_CLASS.search(served_by):
        return lambda name: True
    registry: set[str] = set()
    if served_by is not None:
        args_name = any(setting_key(key) in REFERENCE_KEYS for key, _, _ in yamlfile.items(yamlfile.get(spec, "args")))
        registry = {"tokenizer_name", *(("model_name", "name") if args_name else ())}
    api_model = _calls_an_api(values)
    return lambda name: name in registry or (api_model and "tokenizer" not in name)


# Files that describe a saved model, dataset or run (what was used), not what is loaded.
_METADATA_FILES = frozenset(
    {
        "dataset_info.json",
        "dataset_infos.json",
        "dataset_dict.json",
        "state.json",
        "trainer_state.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "generation_config.json",
        "preprocessor_config.json",
        "processor_config.json",
        "model_index.json",
        "tokenizer.json",
        "vocab.json",
        "package.json",
        "package-lock.json",
    }
)


# lm-eval task files and templates without an extension (`_default_template_yaml`, `flores`):
# YAML whose top level has `task:` or `dataset_path:`.
_TASK_FILE = re.compile(r"^(?:task|dataset_path)[ \t]*:", re.MULTILINE)
_YAML_KEY_LINE = re.compile(rb"^[A-Za-z_][\w-]*[ \t]*:", re.MULTILINE)
_INCLUDE_LINE = re.compile(r"^include[ \t]*:", re.MULTILINE)
_PROBE_BYTES = 4096
_MAX_EXTENSIONLESS = 256 * 1024
# Recorded exchanges (VCR cassettes, recorded API responses): top-level keys of one.
_RECORDING_KEYS = frozenset({"response", "responses"})
# What a finished run wrote down (peft's method_comparison results, lm-eval's results JSON): the
# outcome under one of these keys beside when or how long it ran. The model named in it was
# already loaded; nothing reads the record to load it again.
_RUN_RECORD_KEYS = frozenset({"run_info", "train_info", "results", "metrics", "eval_results", "evaluation_results"})
# ... or where it ran (h2ogpt's benchmark records: `git_sha`, `hostname` beside `date` and the times)
_RUN_ORIGIN_KEYS = frozenset({"git_sha", "git_commit", "hostname", "host_name"})
_RUN_RECORD_STAMPS = frozenset(
    {"created_at", "date", "timestamp", "total_time", "start_time", "end_time", "git_hash", "total_evaluation_time_seconds"}
)
# A model's storage URI beside its name (KServe `model: {uri: hf://ns/name, name: ns/name}`): one reference,
# and none when the URI points elsewhere (`uri: pvc://models`, `name: ns/name` is the served name).
_URI_KEYS = frozenset({"uri", "storage_uri", "storageuri", "model_uri"})


def _extensionless(path: str) -> bool:
    return "." not in path.rsplit("/", 1)[-1]


def matches(path: str) -> bool:
    """YAML and JSON files, and extensionless YAML named so (`_default_template_yaml`); other
    extensionless task files (`flores`) are read through the `include:` of a task that uses them."""
    if is_recorded_data(path):
        return False
    name = path.rsplit("/", 1)[-1]
    if _extensionless(path):
        return name.endswith(("yaml", "yml"))
    return path.endswith((".yaml", ".yml", ".json")) and name not in _METADATA_FILES


def _is_task_file(source: SourceFile) -> bool:
    """An extensionless file is read only when it is YAML with `task:`/`dataset_path:` at the top."""
    try:
        if source.size() > _MAX_EXTENSIONLESS:
            return False
        head = source.read_bytes(_PROBE_BYTES)
    except OSError:
        return False
    if b"\0" in head or _YAML_KEY_LINE.search(head) is None:
        return False
    return _TASK_FILE.search(source.text) is not None


def _stamped(root: yamlfile.Node) -> bool:
    """A run's time stamp among the keys of `root` or of a mapping right under it."""
    for key, _, value in yamlfile.items(root):
        if key in _RUN_RECORD_STAMPS:
            return True
        if yamlfile.is_mapping(value) and any(inner in _RUN_RECORD_STAMPS for inner, _, _ in yamlfile.items(value)):
            return True
    return False


def _is_recording(root: yamlfile.Node) -> bool:
    """A VCR cassette or recorded response (`interactions:`, or `request:` beside `response:`),
    an API answer kept as is, a request to a served model, or a finished run's record."""
    if yamlfile.is_sequence(root):
        first = yamlfile.elements(root)[:1]
        return bool(first) and _is_recording(first[0])
    if not yamlfile.is_mapping(root):
        return False
    keys = {key for key, _, _ in yamlfile.items(root)}
    if keys & {"interactions", "http_interactions"} or ("request" in keys and keys & _RECORDING_KEYS):
        return True
    if (keys & _RUN_RECORD_KEYS or keys & _RUN_ORIGIN_KEYS) and _stamped(root):
        return True
    # an API's answer kept as is: `{"object": "chat.completion", "model": ..., "choices": [...]}`
    if {"object", "model"} <= keys and bool(keys & {"choices", "data", "usage"}):
        return True
    # a request to a served model (`{"model": ..., "prompt": ...}`): `model` picks what the server
    # already serves; nothing is downloaded for it
    return (
        "model" in keys
        and bool(keys & {"prompt", "messages", "input"})
        and bool(keys & {"max_tokens", "temperature", "stream", "messages", "prompt"})
    )


class _Config:
    def __init__(self, source: SourceFile, judge: Judge, context: ScanContext | None = None):
        self.source = source
        self.judge = judge
        self.context = context
        self._includes: dict[str, bool] = {}
        self._script: ShellScan | None = None
        self.problems: list[tuple[Problem, yamlfile.Node]] = []
        self.seen: set[int] = set()
        self.is_workflow = workflow.matches(source.path)
        self.depth = 0  # 1 inside a config embedded in a block scalar

    @property
    def script(self) -> ShellScan:
        """The file's shell and what was found, made when the first is found: most config files
        have neither, and making one searches the whole text."""
        if self._script is None:
            self._script = ShellScan(self.judge, self.source.text)
        return self._script

    def findings(self) -> list[Finding | Note]:
        return [] if self._script is None else self._script.findings()

    def place(self, node: yamlfile.Node):
        return placer(self.source.path, yamlfile.scalar_text(self.source, node)[1])

    def includes_dataset_path(self, include: str, depth: int = 0) -> bool:
        """lm-eval `include: other_yaml`: does the included file (or one it includes) set `dataset_path`?"""
        if self.context is None or depth > 3 or "{" in include or "$" in include:
            return False
        if include not in self._includes:
            self._includes[include] = False
            try:
                text = self.context.source(include, relative_to=self.source).text
            except Exception:  # a missing or unreadable include: nothing to learn from it
                return False
            found = re.search(r"^dataset_path[ \t]*:", text, re.MULTILINE) is not None
            nested = re.search(r"^include[ \t]*:[ \t]*['\"]?([^'\"\s#]+)", text, re.MULTILINE)
            self._includes[include] = found or (nested is not None and self.includes_dataset_path(nested.group(1), depth + 1))
        return self._includes[include]

    def dataset_config(self, values: dict[str, yamlfile.Node]) -> bool:
        """`dataset_name:` is the config (subset) of `dataset_path:` in an lm-eval task, not a repository:
        beside `dataset_path:` or `task:`, or with an `include:` of a file that sets `dataset_path:`."""
        if "dataset_path" in values or "task" in values:
            return True
        include = yamlfile.text_of(values.get("include"))
        return include is not None and self.includes_dataset_path(include)

    def report(self, problems: list[Problem], node: yamlfile.Node) -> None:
        if problems:
            place = self.place(node)
            self.script.found.extend((problem, place) for problem in problems)

    def document(self, root: yamlfile.Node) -> None:
        if kubernetes.is_schema(root):
            return
        if self.is_workflow:
            self.workflow_steps(root)
        # (node, the key it is under, whether an API client's spec holds it: its settings go to the API)
        stack: list[tuple[yamlfile.Node, str, bool]] = [(root, "", False)]
        while stack:
            node, parent_key, sent_to_api = stack.pop()
            if id(node) in self.seen:
                continue
            self.seen.add(id(node))
            if yamlfile.is_mapping(node):
                items = [(setting_key(key), key_node, value) for key, key_node, value in yamlfile.items(node)]
                self.mapping(items, parent_key, sent_to_api)
                card = _is_card(name for name, _, _ in items)
                sent_to_api = sent_to_api or _api_client_spec(node, parent_key)
                stack.extend(
                    (value, "" if card and name == "base_model" else name, sent_to_api)
                    for name, _, value in items
                    if not yamlfile.is_scalar(value)
                )
            elif yamlfile.is_sequence(node):
                if parent_key in _SCRIPT_LISTS:
                    for element in yamlfile.elements(node):
                        if yamlfile.text_of(element) is not None:
                            self.shell_scalar(element)
                elif parent_key in _SHELL_KEYS:
                    self.argv_list(yamlfile.elements(node))
                for element in yamlfile.elements(node):
                    if yamlfile.is_scalar(element) and parent_key in _PARENTS:  # `models: [ns/name, ...]`
                        spec = ("dataset" if "data" in parent_key else "model", False)
                        if self.reference(yamlfile.text_of(element) or "", spec, element, {}, parent_key) is None:
                            self.scalar(parent_key, element)
                    elif yamlfile.is_scalar(element):
                        self.scalar(parent_key, element)
                    else:
                        stack.append((element, parent_key, sent_to_api))

    def workflow_steps(self, root: yamlfile.Node) -> None:
        shell_default = workflow.default_shell(root)
        for _, _, job in yamlfile.items(yamlfile.get(root, "jobs")):
            default = workflow.default_shell(job) or shell_default
            windows = workflow.on_windows(job)
            for step in yamlfile.elements(yamlfile.get(job, "steps")):
                run = workflow.run_script(self.source, step, default, windows)
                if run is not None:
                    text, locate = run
                    self.script.add(text, placer(self.source.path, locate))
        for step in yamlfile.elements(yamlfile.get(yamlfile.get(root, "runs"), "steps")):
            run = workflow.run_script(self.source, step, None, False)
            if run is not None:
                self.script.add(run[0], placer(self.source.path, run[1]))

    def mapping(self, items: list[tuple[str, yamlfile.Node, yamlfile.Node]], parent_key: str, sent_to_api: bool = False) -> None:
        values = {name: value for name, _, value in items}
        pinned: bool | None = None
        references = local_models = 0
        # a model whose `uri:` says where it comes from (hf://, pvc://, s3://): its `name:` is what it
        # is served as, and only the URI is judged
        beside_uri = any(name in _URI_KEYS and "://" in (yamlfile.text_of(value) or "") for name, _, value in items)
        # a file with its sha256 beside its `uri:` (LocalAI's gallery): the downloader checks the
        # bytes, so a movable revision cannot change what is loaded
        verified = any(
            name in _CHECKSUM_KEYS and SHA256_HEX.fullmatch((yamlfile.text_of(value) or "").removeprefix("sha256:"))
            for name, _, value in items
        )
        # an example request to the served model (truss's `model_metadata.example_model_input:
        # {model: ..., input: [...]}`): the server already serves what its `model` names
        example_request = "example" in parent_key and "model" in values and not _REQUEST_KEYS.isdisjoint(values)
        loaded_elsewhere = (lambda name: True) if sent_to_api or example_request else _loaded_elsewhere(items, values)
        for name, _key_node, value in items:
            text = yamlfile.text_of(value)
            if text is None:
                continue
            if name == "run" and self.is_workflow:
                continue  # read by workflow_steps with the step's shell
            if name in _SHELL_KEYS:
                self.shell_scalar(value)
                continue
            if (name in _EMBEDDED_CONFIG_KEYS or name.endswith((".yaml", ".yml"))) and self.embedded_config(value):
                continue
            if verified:
                continue
            spec = None if loaded_elsewhere(name) else self.setting_spec(name, values, parent_key, beside_uri)
            if spec is not None:
                reference = self.reference(text, spec, value, values, name)
                if reference is not None:
                    references += 1
                    pinned = reference.pinned if references == 1 else (pinned and reference.pinned)
                    continue
                local_models += self.judge.is_local_path(text)
            self.scalar(name, value, text)
        trust = values.get("trust_remote_code")
        if yamlfile.is_scalar(trust) and is_truthy(yamlfile.text_of(trust) or "") and (references or not local_models):
            if not references:
                revision = next((yamlfile.text_of(values[key]) for key in REVISION_KEYS if key in values), None)
                pinned = Reference("", 0, revision=revision).pinned
            key_node = next(key_node for name, key_node, _ in items if name == "trust_remote_code")
            self.report(self.judge.trust_remote_code(0, pinned, "trust_remote_code: true", named=references > 0), key_node)

    def setting_spec(self, name: str, values: dict[str, yamlfile.Node], parent_key: str, beside_uri: bool) -> tuple[str, bool] | None:
        """(kind, a bare name counts) when the setting `name` of an entry names what is loaded, else None."""
        card = _is_card(values)
        if name in _CHILD_KEYS and parent_key in _PARENTS:
            if beside_uri and name not in _URI_KEYS:
                return None  # the name of the model its `uri:` loads: reported once, at the URI
            if card:
                return None  # a catalog's card of the model (description, provider, licence): it describes, loads nothing
            return ("dataset" if "data" in parent_key else "model", False)
        if name == "base_model" and card:
            return None  # the card's lineage (the hub's `base_model` metadata): what it was made from, not loaded
        if name == "dataset_name" and (parent_key == "dataset_kwargs" or self.dataset_config(values)):
            return None
        return REFERENCE_KEYS.get(name)

    def embedded_config(self, node: yamlfile.Node) -> bool:
        """A YAML config held in a literal block scalar (LocalAI's gallery `config_file: |`, a
        ConfigMap's `config.yaml: |`), read as its consumer reads it: as YAML of its own, whose
        findings are placed on the lines they sit on. False when it is not one."""
        if getattr(node, "style", None) != "|" or self.depth > 1:
            return False
        text, _ = yamlfile.scalar_text(self.source, node)
        first_line, _ = yamlfile.position(node)
        block = self.source.lines[first_line : node.end_mark.line + (1 if node.end_mark.column else 0)]
        indent = min((len(raw) - len(raw.lstrip(" ")) for raw in block if raw.strip()), default=0)  # as scalar_text dedents
        try:
            documents = yamlfile.compose_text_at(text, first_line)
        except ScanError:
            return False  # not YAML: a script or prose, read as text
        if not any(yamlfile.is_mapping(document) for document in documents):
            return False
        lines = "\n" * first_line + text
        inner = _Config(SourceFile.from_text(self.source.path, lines), self.judge, self.context)
        inner.depth = self.depth + 1
        for document in documents:
            inner.document(document)
        self.seen.add(id(node))
        self.script.placed.extend(
            dataclasses.replace(item, column=item.column + indent) if isinstance(item, Finding) and item.column else item
            for item in inner.findings()
        )
        return True

    def shell_scalar(self, node: yamlfile.Node) -> None:
        scalar, locate = yamlfile.scalar_text(self.source, node)
        self.seen.add(id(node))
        self.script.add(workflow.mask_expressions(scalar), placer(self.source.path, locate))

    def argv_list(self, elements: list[yamlfile.Node]) -> None:
        """`args: ["--model", "ns/name", "--trust-remote-code"]`: one command, each word its own scalar."""
        scalars = [(element, text) for element in elements if (text := yamlfile.text_of(element)) is not None]
        if not scalars:
            return
        places = [placer(self.source.path, yamlfile.scalar_text(self.source, element)[1]) for element, _ in scalars]
        self.script.add_arguments([text for _, text in scalars], places)

    def reference(self, text: str, spec: tuple[str, bool], node: yamlfile.Node, siblings: dict, key: str) -> Reference | None:
        if "${" in text or "{{" in text or self.judge.is_local(text):
            return None
        repo_id = repo_id_of(text, bare=spec[1])
        if repo_id is None or is_api_model(repo_id, spec[0]):
            return None
        revision_node = sibling_revision(siblings, key)
        revision = yamlfile.text_of(revision_node) if revision_node is not None else None
        known = revision is None or ("${" not in revision and "{{" not in revision)
        trust = siblings.get("trust_remote_code")
        runs_code = yamlfile.is_scalar(trust) and is_truthy(yamlfile.text_of(trust) or "")
        reference = Reference(repo_id, 0, spec[0], revision, known, where=f"'{key}'", runs_code=runs_code, remote_code=runs_code)
        self.report(self.judge.reference(reference), node)
        return reference

    def scalar(self, key: str, node: yamlfile.Node, text: str | None = None) -> None:
        """Hub URLs in a scalar's `text` (read from the node when not given)."""
        if text is None:
            text = yamlfile.text_of(node)
        if not text or id(node) in self.seen:
            return
        self.seen.add(id(node))
        if "\n" in text:  # a config or script in a block scalar (LocalAI's `config_file: |`): its comments load nothing
            text = _COMMENT_LINE.sub(lambda line: " " * len(line.group()), text)
        problems = self.judge.urls(text)
        if problems:
            _, locate = yamlfile.scalar_text(self.source, node)
            self.script.found.extend((problem, placer(self.source.path, locate)) for problem in problems)


# Keys whose block scalar is a YAML config another program reads (LocalAI's gallery entries)
_EMBEDDED_CONFIG_KEYS = frozenset({"config_file", "config_yaml", "values_yaml"})
_COMMENT_LINE = re.compile(r"^[ \t]*#.*$", re.MULTILINE)
_CHECKSUM_KEYS = frozenset({"sha256", "sha256sum", "checksum", "digest", "hash"})


def sibling_revision(siblings: dict[str, yamlfile.Node], key: str) -> yamlfile.Node | None:
    """The value of the setting beside `key` that holds its revision (`revision:`, `model_revision:`)."""
    return next((siblings[name] for name in revision_keys_for(key) if name in siblings), None)


def scan(source: SourceFile, context: ScanContext) -> Iterator[Finding | Note]:
    if _extensionless(source.path) and not _is_task_file(source):
        return
    if not may_refer(source.text) and ("include" not in source.text or not _INCLUDE_LINE.search(source.text)):
        return
    config = _Config(source, Judge(context, str(source.abspath.parent), source.path), context)
    included: list[Finding | Note] = []
    _, documents, error = templated.load(source)  # a Helm/Go/Jinja template is read as the other hooks read it
    for root in documents:
        if _is_recording(root):
            return  # what a service answered once, not what the project loads
        config.document(root)
        included += _included_task(source, root, context)
    yield from config.findings() + included
    if error:
        raise InvalidText(error)


def _included_task(source: SourceFile, root: yamlfile.Node, context: ScanContext) -> list[Finding | Note]:
    """lm-eval `include: _template` of an extensionless task file, read as YAML (its findings are
    placed in it; the engine keeps one of each when several tasks include the same template)."""
    include = yamlfile.text_of(yamlfile.get(root, "include")) if yamlfile.is_mapping(root) else None
    if include is None or not _extensionless(include) or include.endswith(("yaml", "yml")) or "{" in include:
        return []  # a `.yaml` (or `_yaml`) include is scanned as a file of its own
    try:
        target = context.source(include, relative_to=source)
        if not _is_task_file(target):
            return []
        return context.once("hub-included-task", target, lambda template: list(scan(template, context)))
    except Exception:  # a missing, unreadable or broken include is the including tool's error, not ours
        return []


SCANNER = Scanner("configs", matches=matches, scan=scan)
