"""Calls that fetch a file from a hub or a URL, by qualified name (aliases resolved).

Shared by `hub` (a hub download is a loader whose repository can be swapped; a URL fetch, a
weight URL to check for a checksum) and `models` (a file loaded from what such a call returned
came from whoever controls that hub repository or URL).
"""

from __future__ import annotations

import re

# Functions (of huggingface_hub, modelscope, or methods of an HfApi object) that download from a hub repository.
HUB_DOWNLOADS = frozenset({"hf_hub_download", "snapshot_download", "hf_hub_url"})
# Functions (torch.hub, torchvision, timm...) that download weights from a URL.
WEIGHT_URL_LOADERS = frozenset({"load_state_dict_from_url", "load_url", "download_url_to_file"})
# HTTP clients and downloaders, by package: function names that fetch a URL.
FETCHERS = {
    "requests": frozenset({"get", "request"}),
    "httpx": frozenset({"get", "stream"}),
    "urllib": frozenset({"urlretrieve", "urlopen"}),
    "wget": frozenset({"download"}),
}
# Functions that return the local path of a downloaded file: hub or URL (transformers' and
# allennlp's `cached_path`, keras' `get_file`, `urlretrieve`'s (path, headers)).
_PATH_RETURNING = frozenset({"hf_hub_download", "snapshot_download", "cached_path", "cached_file", "download_url_to_file", "get_file"})


def download_kind(qualified: str) -> str | None:
    """'hub' when a call to `qualified` downloads from a hub repository, 'url' when from a URL, else None.

    Only calls whose result (or whose written file) is the downloaded content: `hf_hub_url`
    only builds a URL, `load_state_dict_from_url` loads what it downloads itself."""
    parts = qualified.replace("()", "").split(".")
    root, last = parts[0], parts[-1]
    if last in ("hf_hub_download", "snapshot_download", "cached_file"):
        return "hub"
    if last in _PATH_RETURNING or (root == "urllib" and last == "urlretrieve"):
        return "url"
    if last in FETCHERS.get(root, ()) or (root == "urllib" and last == "urlopen"):
        return "url"
    return None


# Names of hub repositories made for tests: tiny or random weights (`tiny-random-gpt2`, `dummy_unet`).
# `tiny-random-gpt2`, `dummy-model`, `llama-tiny`, and repositories named for tests (`diffusers/test-slices`).
_FIXTURE_NAME = re.compile(r"^(?:tiny|dummy|random|tests?)(?:[-_]|$)|[-_](?:tiny|dummy)(?:[-_]|$)", re.IGNORECASE)


def is_test_fixture(repo_id: str) -> bool:
    """`hf-internal-testing/tiny-random-gpt2`, `trl-internal-testing/tiny-Qwen2ForCausalLM`,
    `test-org/model`, `diffusers/test-slices`: a repository of random weights or data made for unit
    tests, or a made-up one (a testing namespace, or a tiny/dummy/test name). Shared by `hub` (HUB001 leaves a test's fixture alone)
    and `models` (a test loading a fixture's pickles is no download of someone else's code)."""
    namespace, _, name = repo_id.rpartition("/")
    lowered = namespace.lower()
    return "testing" in lowered or lowered == "test" or lowered.startswith(("test-", "test_")) or _FIXTURE_NAME.search(name) is not None
