"""The hub hook on Python files: every loader family, alias form, rule; exact positions."""

from __future__ import annotations

import pytest

SHA = "0123456789abcdef0123456789abcdef01234567"


# --- loader families: positive (unpinned) and negative (pinned at a full SHA) ------------------

LOADERS = [
    ("from transformers import AutoModel\nm = AutoModel.from_pretrained({ref}{rev})\n", 2, 31),
    ("from diffusers import DiffusionPipeline\np = DiffusionPipeline.from_pretrained({ref}{rev})\n", 2, 39),
    ("from peft import PeftModel\nm = PeftModel.from_pretrained(base, {ref}{rev})\n", 2, 37),
    ("from sentence_transformers import SentenceTransformer\nm = SentenceTransformer({ref}{rev})\n", 2, 25),
    ("from setfit import SetFitModel\nm = SetFitModel.from_pretrained({ref}{rev})\n", 2, 33),
    ("from transformers import pipeline\np = pipeline('text-generation', model={ref}{rev})\n", 2, 39),
    ("from huggingface_hub import hf_hub_download\nf = hf_hub_download({ref}, 'model.safetensors'{rev})\n", 2, 21),
    ("import huggingface_hub\nd = huggingface_hub.snapshot_download(repo_id={ref}{rev})\n", 2, 47),
    ("from huggingface_hub import HfApi\nd = HfApi().snapshot_download({ref}{rev})\n", 2, 31),
    ("import datasets\nds = datasets.load_dataset({ref}{rev})\n", 2, 28),
    ("from llama_cpp import Llama\nm = Llama.from_pretrained(repo_id={ref}, filename='*.gguf'{rev})\n", 2, 35),
    ("from vllm import LLM\nm = LLM(model={ref}{rev})\n", 2, 15),
    ("import open_clip\nm = open_clip.CLIPModel.from_pretrained({ref}{rev})\n", 2, 41),
]


@pytest.mark.parametrize(("template", "line", "column"), LOADERS)
def test_loader_without_revision_is_reported(hub_scan, template, line, column):
    scan = hub_scan({"train.py": template.format(ref="'acme-ai/model-x'", rev="")})
    assert scan.hits == [("HUB001", "train.py", line, column)]


@pytest.mark.parametrize(("template", "line", "column"), LOADERS)
def test_loader_at_a_branch_is_reported(hub_scan, template, line, column):
    scan = hub_scan({"train.py": template.format(ref="'acme-ai/model-x'", rev=", revision='main'")})
    assert scan.hits == [("HUB001", "train.py", line, column)]
    assert "'main'" in scan.messages("HUB001")[0]


@pytest.mark.parametrize(("template", "line", "column"), LOADERS)
def test_loader_at_a_full_sha_is_clean(hub_scan, template, line, column):
    scan = hub_scan({"train.py": template.format(ref="'acme-ai/model-x'", rev=f", revision='{SHA}'")})
    assert scan.hits == []


def test_dataset_repo_type_and_bare_canonical_names(hub_scan):
    source = (
        "from huggingface_hub import hf_hub_download\n"
        "from datasets import load_dataset\n"
        "hf_hub_download('acme/ds', 'a.csv', repo_type='dataset')\n"
        "load_dataset('imdb')\n"
        "load_dataset('json', data_files='train.json')\n"
        "load_dataset('parquet', data_files='hf://datasets/acme/ds@main/x.parquet')\n"
    )
    scan = hub_scan({"data.py": source})
    assert scan.hits == [("HUB001", "data.py", 3, 17), ("HUB001", "data.py", 4, 14), ("HUB001", "data.py", 6, 37)]
    assert scan.messages("HUB001")[0].startswith("hub dataset 'acme/ds'")


def test_modelscope_snapshot_download_takes_its_revision_by_position(hub_scan):
    source = (
        "from modelscope import snapshot_download\n"
        "a = snapshot_download('acme/a', 'v1.0.5')\n"
        f"b = snapshot_download('acme/b', '{SHA}')\n"
        "c = snapshot_download('acme/c', *rest)\n"
    )
    scan = hub_scan({"dl.py": source})
    assert scan.hits == [("HUB001", "dl.py", 2, 23)]
    assert "at 'v1.0.5', a branch or tag that can be moved" in scan.messages("HUB001")[0]


def test_a_dataset_under_an_api_providers_name_is_the_hubs(hub_scan):
    # `anthropic/...` names an API's model in LiteLLM strings, but APIs serve no datasets
    source = (
        "from datasets import load_dataset\n"
        "from litellm import completion\n"
        "ds = load_dataset('Anthropic/hh-rlhf', data_dir='helpful-base')\n"
        "completion(model='anthropic/claude-3-opus')\n"
    )
    scan = hub_scan({"data.py": source})
    assert scan.hits == [("HUB001", "data.py", 3, 19)]
    assert scan.messages("HUB001") == [
        "hub dataset 'Anthropic/hh-rlhf' is loaded by datasets.load_dataset without a revision, so it gets whatever the "
        "default branch holds when it runs; pin revision to a full commit SHA"
    ]


# --- alias forms and static values ------------------------------------------------------------


def test_aliases_constants_and_kwargs_dicts_are_resolved(hub_scan):
    source = (
        "import transformers as tf\n"
        "from transformers import AutoModelForCausalLM as AM\n"
        "MODEL = 'acme-ai/llm'\n"
        "PINNED = 'acme-ai/pinned'\n"
        f"REV = '{SHA}'\n"
        "kwargs = dict(revision=REV)\n"
        "loose = {'revision': 'v1.0'}\n"
        "a = AM.from_pretrained(MODEL)\n"
        "b = tf.AutoTokenizer.from_pretrained(PINNED, **kwargs)\n"
        "c = tf.AutoConfig.from_pretrained('acme-ai/' + 'cfg', **loose)\n"
    )
    scan = hub_scan({"m.py": source})
    assert scan.hits == [("HUB001", "m.py", 8, 24), ("HUB001", "m.py", 10, 35)]
    assert "'v1.0'" in scan.messages("HUB001")[1]


def test_unresolvable_values_and_local_paths_are_not_findings(hub_scan):
    source = (
        "import os, sys\n"
        "from transformers import AutoModel\n"
        "AutoModel.from_pretrained(sys.argv[1])\n"
        "AutoModel.from_pretrained(os.environ['MODEL'])\n"
        "AutoModel.from_pretrained('./checkpoints/best')\n"
        "AutoModel.from_pretrained('/models/llama')\n"
        "AutoModel.from_pretrained('outputs/run1')\n"
        "AutoModel.from_pretrained('acme/x', revision=sys.argv[2])\n"
        "AutoModel.from_pretrained('acme/x', **unknown_kwargs)\n"
        "def f(name):\n"
        "    return AutoModel.from_pretrained(name)\n"
    )
    scan = hub_scan({"m.py": source, "outputs/run1/config.json": "{}"})
    assert scan.hits == []


def test_unresolved_references_are_low_notes_when_asked(hub_scan):
    source = "import sys\nfrom transformers import AutoModel\nAutoModel.from_pretrained(sys.argv[1])\n"
    scan = hub_scan({"m.py": source}, **{"report-unresolved": True})
    assert scan.hits == [("HUB008", "m.py", 3, 27)]
    assert str(scan.findings[0].severity) == "low"


def test_os_getenv_default_and_settings_outside_loaders(hub_scan):
    source = (
        "import os, argparse\n"
        "from dataclasses import dataclass, field\n"
        "from transformers import AutoModel\n"
        "model_id = os.getenv('MODEL_ID', 'acme-ai/from-env')\n"
        "AutoModel.from_pretrained(model_id)\n"
        "parser = argparse.ArgumentParser()\n"
        "parser.add_argument('--model_name_or_path', default='acme-ai/arg')\n"
        "@dataclass\n"
        "class Args:\n"
        "    base_model: str = field(default='acme-ai/field')\n"
        "def load(model_name='acme-ai/param'):\n"
        "    pass\n"
        "EMBEDDING_MODEL = 'acme-ai/embed'\n"
        "client = Chat(model='openai/gpt-4o')\n"
        "other = 'data/train'\n"
    )
    scan = hub_scan({"m.py": source})
    # the env default reaches a loader; `Args` is a settings class; the argparse default, the
    # parameter default and the constant reach no loader (tests/hub/test_data_flow.py)
    assert scan.hits == [("HUB001", "m.py", 5, 27), ("HUB001", "m.py", 10, 37)]


# --- trust_remote_code ------------------------------------------------------------------------


def test_trust_remote_code_is_critical_unless_pinned(hub_scan):
    source = (
        "from transformers import AutoModel\n"
        "TRUST = True\n"
        "a = AutoModel.from_pretrained('acme/a', trust_remote_code=True)\n"
        f"b = AutoModel.from_pretrained('acme/b', revision='{SHA}', trust_remote_code=TRUST)\n"
        "c = AutoModel.from_pretrained('acme/c', trust_remote_code=False)\n"
        "cfg = {'trust_remote_code': True}\n"
    )
    scan = hub_scan({"m.py": source})
    assert scan.hits == [
        ("HUB002", "m.py", 3, 41),
        ("HUB002", "m.py", 4, 94),
        ("HUB001", "m.py", 5, 31),
        ("HUB002", "m.py", 6, 8),
    ]
    assert [str(f.severity) for f in scan.findings if f.rule.code == "HUB002"] == ["critical", "high", "critical"]


# --- torch.hub and weights by URL -------------------------------------------------------------


def test_torch_hub(hub_scan):
    source = (
        "import torch\n"
        "from torch import hub as th\n"
        "torch.hub.load('pytorch/vision', 'resnet50')\n"
        "th.load('facebookresearch/dino:main', 'dino_vits16', trust_repo=True)\n"
        f"torch.hub.load('ultralytics/yolov5:{SHA}', 'yolov5s', trust_repo=True)\n"
        "torch.hub.load('./hubconf_dir', 'm', source='local')\n"
        "torch.hub.list('pytorch/vision:v0.10.0')\n"
    )
    scan = hub_scan({"m.py": source})
    assert scan.hits == [
        ("HUB003", "m.py", 3, 16),
        ("HUB003", "m.py", 4, 9),
        ("HUB002", "m.py", 4, 54),
        ("HUB002", "m.py", 5, 90),
        ("HUB003", "m.py", 7, 16),
    ]
    assert [str(f.severity) for f in scan.findings if f.rule.code == "HUB002"] == ["critical", "high"]


def test_weights_by_url(hub_scan):
    source = (
        "import torch, requests, urllib.request\n"
        "from torch.hub import load_state_dict_from_url\n"
        "load_state_dict_from_url('https://example.com/resnet-abc123.pth')\n"
        "load_state_dict_from_url('https://example.com/resnet-abc123.pth', check_hash=True)\n"
        "torch.hub.download_url_to_file('http://example.com/w.bin', 'w.bin')\n"
        "requests.get('https://example.com/model.safetensors')\n"
        "requests.get('https://example.com/index.html')\n"
        "urllib.request.urlretrieve('https://example.com/ckpt.ckpt', 'ckpt.ckpt')\n"
        "urllib.request.urlretrieve('https://example.com/charades/dataset/videos.zip', 'v.zip')\n"
        # a software release, not a model, a dataset or code to load: the image build's business
        "urllib.request.urlretrieve('https://download.open-mpi.org/release/open-mpi/v5.0/openmpi-5.0.1.tar.gz', 'o.tgz')\n"
    )
    scan = hub_scan({"m.py": source})
    assert scan.hits == [
        ("HUB005", "m.py", 3, 26),
        ("HUB004", "m.py", 5, 32),
        ("HUB005", "m.py", 6, 14),
        ("HUB005", "m.py", 8, 28),
        ("HUB005", "m.py", 9, 28),
    ]
    assert scan.messages("HUB005")[0].endswith("controls the weights")
    assert scan.messages("HUB005")[-1].endswith("controls what the archive holds")  # a dataset, weights or code


def test_a_sha256_compare_in_the_file_verifies_downloads(hub_scan):
    source = (
        "import hashlib, requests\n"
        "data = requests.get('https://example.com/model.safetensors').content\n"
        "assert hashlib.sha256(data).hexdigest() == EXPECTED\n"
    )
    assert hub_scan({"m.py": source}).hits == []


# --- hub URLs in strings ------------------------------------------------------------------------


def test_hub_urls_hf_paths_and_hf_hub_names_in_strings(hub_scan):
    source = (
        '"""See https://huggingface.co/acme/x/resolve/main/a.bin (a docstring: not a load)."""\n'
        "import keras, timm\n"
        "A = 'https://huggingface.co/acme/x/resolve/main/model.safetensors'\n"
        f"B = 'https://huggingface.co/acme/x/resolve/{SHA}/model.safetensors'\n"
        "C = 'http://hf.co/acme/x/resolve/main/model.bin'\n"
        "m = keras.saving.load_model('hf://acme/keras-model')\n"
        "t = timm.create_model('hf-hub:acme/vit@v2', pretrained=True)\n"
        "u = f'https://huggingface.co/{repo}/resolve/main/{name}'\n"
        "page = 'https://huggingface.co/acme/x'\n"
    )
    scan = hub_scan({"m.py": source})
    assert scan.hits == [
        ("HUB001", "m.py", 3, 6),
        ("HUB001", "m.py", 5, 6),
        ("HUB004", "m.py", 5, 6),
        ("HUB001", "m.py", 6, 30),
        ("HUB001", "m.py", 7, 24),
        ("HUB001", "m.py", 8, 5),
    ]


def test_hub_urls_of_legacy_repositories_without_a_namespace(hub_scan):
    source = (
        "A = 'https://huggingface.co/bert-base-uncased/resolve/main/pytorch_model.bin'\n"
        f"B = 'https://huggingface.co/gpt2/resolve/{SHA}/model.safetensors'\n"
        "C = 'http://huggingface.co/gpt2/raw/v1/config.json'\n"
        "D = 'https://huggingface.co/datasets/resolve/main/x.json'\n"
    )
    scan = hub_scan({"m.py": source})
    assert scan.hits == [("HUB001", "m.py", 1, 6), ("HUB001", "m.py", 3, 6), ("HUB004", "m.py", 3, 6)]
    assert scan.messages("HUB001")[0].startswith(
        "https://huggingface.co/bert-base-uncased/resolve/main resolves hub model 'bert-base-uncased' at 'main'"
    )


# --- namespaces -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "imitated"),
    [
        ("meta-Ilama", "meta-llama"),
        ("rnicrosoft", "microsoft"),
        ("g00gle", "google"),
        ("mistralal", "mistralai"),
        ("stabilityai1", "stabilityai"),
        ("deepseek_ai", "deepseek-ai"),
    ],
)
def test_look_alike_namespaces(hub_scan, namespace, imitated):
    source = f"from transformers import AutoModel\nAutoModel.from_pretrained('{namespace}/m', revision='{SHA}')\n"
    scan = hub_scan({"m.py": source})
    assert scan.hits == [("HUB006", "m.py", 2, 27)]
    assert f"'{imitated}'" in scan.messages("HUB006")[0]


@pytest.mark.parametrize("namespace", ["meta-llama", "Qwen", "qwen", "BAAI", "acme-ai", "TheBloke", "timm"])
def test_real_and_unrelated_namespaces_are_not_look_alikes(hub_scan, namespace):
    source = f"from transformers import AutoModel\nAutoModel.from_pretrained('{namespace}/m', revision='{SHA}')\n"
    assert hub_scan({"m.py": source}).hits == []


def test_trust_remote_code_with_a_revision_passed_in_says_the_caller_decides(hub_scan):
    # FastChat's model adapters: `from_pretrained(model_path, trust_remote_code=True, revision=revision)`
    source = (
        "from transformers import AutoModel\n"
        "def load(model_path, revision):\n"
        "    return AutoModel.from_pretrained(model_path, trust_remote_code=True, revision=revision)\n"
    )
    scan = hub_scan({"adapter.py": source})
    assert scan.hits == [("HUB002", "adapter.py", 3, 50)]
    assert str(scan.findings[0].severity) == "high"  # the caller may pin it (mteb's registry does): not certain enough for critical
    assert "its revision comes from elsewhere (a variable or a caller)" in scan.findings[0].message


def test_trust_remote_code_handed_on_in_settings_takes_the_revision_beside_them(hub_scan):
    # mteb's model registry: the flag is one of the loader's settings, the model and its commit sit beside them
    source = (
        "from mteb.models import ModelMeta\n"
        "shared_kwargs = dict(trust_remote_code=True, prompts=None)\n"
        "pinned = ModelMeta(\n"
        "    loader_kwargs=dict(trust_remote_code=True),\n"
        "    name='acme-ai/embed',\n"
        f"    revision='{SHA}',\n"
        ")\n"
        f"pinned_too = ModelMeta(loader_kwargs=shared_kwargs, name='acme-ai/embed-2', revision='{SHA}')\n"
        "movable = ModelMeta(loader_kwargs={'trust_remote_code': True}, name='acme-ai/embed-3', revision='main')\n"
        "bare = ModelMeta(loader_kwargs=dict(trust_remote_code=True), name='acme-ai/embed-4')\n"
    )
    scan = hub_scan({"registry.py": source})
    assert scan.hits == [
        ("HUB002", "registry.py", 2, 22),
        ("HUB002", "registry.py", 4, 24),
        ("HUB002", "registry.py", 9, 36),
        ("HUB002", "registry.py", 10, 37),
    ]
    assert [str(finding.severity) for finding in scan.findings] == ["high", "high", "critical", "critical"]


def test_trust_remote_code_on_a_folder_the_project_saved_or_downloaded_is_its_own_code(hub_scan):
    # llm-foundry: `from_pretrained(original_save_dir, trust_remote_code=True)` loads what it saved;
    # a value named as a folder, or built with os.path.join, is a folder on this machine
    source = (
        "import os\n"
        "from transformers import AutoConfig, AutoModel, AutoTokenizer\n"
        "def load(original_save_dir, model_name, ckpt):\n"
        "    AutoModel.from_pretrained(original_save_dir, trust_remote_code=True)\n"
        "    AutoConfig.from_pretrained(self.tokenizer_dir, trust_remote_code=True)\n"
        "    AutoTokenizer.from_pretrained(os.path.join(ckpt, 'tok'), trust_remote_code=True)\n"
        "    return AutoModel.from_pretrained(model_name, trust_remote_code=True)\n"
    )
    assert hub_scan({"load.py": source}).hits == [("HUB002", "load.py", 7, 50)]


def test_trusted_namespaces_are_not_look_alikes(hub_scan):
    source = f"from transformers import AutoModel\nAutoModel.from_pretrained('g00gle/m', revision='{SHA}')\n"
    assert hub_scan({"m.py": source}, **{"trusted-namespaces": ["g00gle"]}).hits == []


def test_allowed_namespaces(hub_scan):
    source = (
        "from transformers import AutoModel\n"
        f"AutoModel.from_pretrained('acme/m', revision='{SHA}')\n"
        f"AutoModel.from_pretrained('Meta-Llama/m', revision='{SHA}')\n"
    )
    scan = hub_scan({"m.py": source}, **{"allowed-namespaces": ["meta-llama"]})
    assert scan.hits == [("HUB007", "m.py", 2, 27)]


def test_inline_suppression(hub_scan):
    source = "from transformers import AutoModel\nAutoModel.from_pretrained('acme/m')  # mlgate: ignore[HUB001]\n"
    assert hub_scan({"m.py": source}).hits == []


def test_syntax_errors_are_errors_not_crashes(scan_tree):
    # a file the prefilter lets through must parse; others are never parsed (nor reported)
    scan = scan_tree({"bad.py": "AutoModel.from_pretrained(\n", "plain.py": "print(\n"}, select="hub")
    assert scan.hits == []
    assert scan.errors == [("bad.py", "not valid Python (line 1: '(' was never closed); not scanned")]


def test_non_ascii_columns_count_characters(hub_scan):
    source = "from transformers import AutoModel\nnom = 'é'; m = AutoModel.from_pretrained('acme/m')\n"
    assert hub_scan({"m.py": source}).hits == [("HUB001", "m.py", 2, 42)]


def test_f_strings_of_constants_langchain_and_local_folders(hub_scan):
    source = (
        "from transformers import AutoModel\n"
        "from langchain_huggingface import HuggingFacePipeline\n"
        "ORG, NAME = 'acme', 'x'\n"
        "BASE = 'acme'\n"
        "AutoModel.from_pretrained(f'{BASE}/model')\n"
        "AutoModel.from_pretrained(f'{ORG}/{NAME}')\n"
        "HuggingFacePipeline.from_model_id(model_id='acme/chat', task='text-generation')\n"
        "AutoModel.from_pretrained('outputs/checkpoint-500')\n"
        "AutoModel.from_pretrained('models/bert-finetuned')\n"
    )
    scan = hub_scan({"m.py": source})
    assert scan.hits == [("HUB001", "m.py", 5, 27), ("HUB001", "m.py", 7, 44)]


def test_trust_remote_code_of_a_local_model_is_the_projects_own_code(hub_scan):
    source = (
        "from transformers import AutoModel\n"
        "AutoModel.from_pretrained('./checkpoints/custom', trust_remote_code=True)\n"
        "AutoModel.from_pretrained(args.model, trust_remote_code=True)\n"
    )
    scan = hub_scan({"m.py": source})
    assert scan.hits == [("HUB002", "m.py", 3, 39)]


def test_commands_run_from_python(hub_scan):
    source = (
        "import os, subprocess\n"
        "os.system('hf download acme/sys')\n"
        "subprocess.run(['git', 'clone', 'https://huggingface.co/acme/sub'], check=True)\n"
        "subprocess.run(f'hf download {repo}', shell=True)\n"
        f"subprocess.check_call(['huggingface-cli', 'download', 'acme/ok', '--revision', '{SHA}'])\n"
    )
    scan = hub_scan({"m.py": source})
    assert scan.hits == [("HUB001", "m.py", 2, 24), ("HUB001", "m.py", 3, 34)]


def test_single_file_blob_urls_are_downloads(hub_scan):
    source = (
        "from diffusers import StableDiffusionPipeline\n"
        "pipe = StableDiffusionPipeline.from_single_file('https://huggingface.co/acme/sd/blob/main/sd.safetensors')\n"
        "docs = 'https://huggingface.co/acme/sd/tree/main'\n"
    )
    assert hub_scan({"m.py": source}).hits == [("HUB001", "m.py", 2, 50)]
