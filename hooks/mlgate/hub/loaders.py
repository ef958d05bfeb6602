"""Which Python calls load something from a hub, and where their arguments are.

Calls are matched on their fully qualified name after import aliases are resolved
(`tf.AutoModel.from_pretrained` -> `transformers.AutoModel.from_pretrained`). A `Loader` says
which argument names the repository (position and keywords), which keyword is the revision,
and whether a bare name (`gpt2`) is a hub id there or must be `ns/name` to count.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from mlgate.downloads import FETCHERS, HUB_DOWNLOADS, WEIGHT_URL_LOADERS

# Packages whose `from_pretrained` (and friends) load from the Hugging Face Hub.
HUB_PACKAGES = frozenset(
    """
    transformers diffusers peft sentence_transformers setfit timm open_clip huggingface_hub datasets
    optimum trl llama_cpp vllm accelerate auto_gptq awq unsloth gliner span_marker ctransformers
    mlx_lm mlx_vlm sglang lmdeploy modelscope flair keras_hub keras_nlp tokenizers adapters
    FlagEmbedding InstructorEmbedding colpali_engine transformers_neuronx optimum_neuron petals
    """.split()
)
# `datasets.load_dataset("json", ...)`: builders shipped with the library, not hub repositories.
PACKAGED_BUILDERS = frozenset(
    "json csv parquet text imagefolder audiofolder videofolder arrow pandas sql webdataset generator spark xml cache numpy tsv pdffolder niftifolder".split()
)


@dataclass(frozen=True)
class Loader:
    kind: str  # "model", "dataset", "torch hub", "weights url", "fetch"
    position: int | None  # positional index of the repository (or URL) argument
    keywords: tuple[str, ...]
    revision: tuple[str, ...] = ("revision",)
    revision_position: int | None = None  # positional index of the revision argument, when it can be given so
    bare: bool = True  # a bare name is a hub id here (else only ns/name counts)
    checksum: tuple[str, ...] = ()  # keywords that verify a download


_FROM_PRETRAINED = Loader("model", 0, ("pretrained_model_name_or_path", "model_id", "repo_id", "model_name_or_path", "model_name"))
_FROM_PRETRAINED_UNKNOWN = Loader("model", 0, _FROM_PRETRAINED.keywords, bare=False)
_FROM_MODEL_ID = Loader("model", None, ("model_id",))
_PEFT_ADAPTER = Loader("model", 1, ("model_id",))
_ADAPTER_METHOD = Loader(
    "model", 0, ("pretrained_model_name_or_path_or_dict", "pretrained_model_name_or_path", "peft_model_id"), bare=False
)
_HUB_DOWNLOAD = Loader("model", 0, ("repo_id", "model_id"))
# huggingface_hub's takes its revision by keyword only; modelscope's `snapshot_download(model_id, revision)`
# also by position (`snapshot_download('ns/name', 'v1.0.5')`)
_SNAPSHOT_DOWNLOAD = Loader("model", 0, ("repo_id", "model_id"), revision_position=1)
_DATASET = Loader("dataset", 0, ("path",))
_TORCH_HUB = Loader("torch hub", 0, ("repo_or_dir", "github"))
_WEIGHTS_URL = Loader("weights url", 0, ("url",), checksum=("check_hash", "hash_prefix"))
_KERAS_GET_FILE = Loader("weights url", 1, ("origin",), checksum=("file_hash", "md5_hash"))
_FETCH = Loader("fetch", 0, ("url",))
_MODEL_FIRST = Loader("model", 0, ("model_name_or_path", "model", "model_name"))
_PIPELINE = Loader("model", 1, ("model",))
# TRL's trainers load a model given as a string (`SFTTrainer(model="ns/name")`) with `from_pretrained`.
_TRL_TRAINER = Loader("model", 0, ("model",), revision=())

_ADAPTER_METHODS = frozenset({"load_lora_weights", "load_textual_inversion", "load_ip_adapter", "load_adapter"})
_SENTENCE_TRANSFORMERS = frozenset({"SentenceTransformer", "CrossEncoder", "SparseEncoder"})
_VLLM = frozenset({"LLM", "EngineArgs", "AsyncEngineArgs"})


@functools.lru_cache(maxsize=8192)
def loader_for(qualified: str) -> Loader | None:
    """The loader a call to `qualified` (dotted, aliases resolved) is, or None (asked of every call:
    the same few thousand names again and again)."""
    parts = qualified.split(".")
    root, last = parts[0], parts[-1]
    if last == "from_pretrained":
        if any(part.startswith(("PeftModel", "PeftMixedModel")) for part in parts[:-1]):
            return _PEFT_ADAPTER
        return _FROM_PRETRAINED if root in HUB_PACKAGES else _FROM_PRETRAINED_UNKNOWN
    if last == "from_model_id":  # LangChain's HuggingFacePipeline / HuggingFaceEndpoint
        return _FROM_MODEL_ID
    if last in _ADAPTER_METHODS:
        return _ADAPTER_METHOD
    if last in HUB_DOWNLOADS:  # huggingface_hub, modelscope, or a method of an HfApi object
        return _SNAPSHOT_DOWNLOAD if last == "snapshot_download" else _HUB_DOWNLOAD
    if root == "datasets" and last in ("load_dataset", "load_dataset_builder"):
        return _DATASET
    if root == "torch" and "hub" in parts and last in ("load", "list", "help"):
        return _TORCH_HUB
    if last in WEIGHT_URL_LOADERS:
        return _WEIGHTS_URL
    if last == "get_file" and root in ("keras", "tensorflow", "tf"):
        return _KERAS_GET_FILE
    if last in FETCHERS.get(root, ()):
        return _FETCH
    if root == "sentence_transformers" and last in _SENTENCE_TRANSFORMERS:
        return _MODEL_FIRST
    if root == "vllm" and last in _VLLM:
        return _MODEL_FIRST
    if root == "transformers" and last == "pipeline":
        return _PIPELINE
    if root == "trl" and last.endswith("Trainer"):
        return _TRL_TRAINER
    return None
