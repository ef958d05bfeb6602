"""The hub hook judges by data flow: a value is a reference when it reaches a loader (issue 15).

Python settings (argparse and dataclass defaults, parameters, keywords, dict entries) count when
their name reaches a loader in the same code, or are well-known model settings of a settings
class; lm-eval `dataset_name:` is a config of `dataset_path:`; recorded data is not read.
"""

from __future__ import annotations

import pytest

from mlgate import files
from mlgate.files import SourceFile
from mlgate.hook import ScanContext
from mlgate.hub import configs
from mlgate.hub.references import REFERENCE_KEYS, Judge

SHA = "0123456789abcdef0123456789abcdef01234567"

# --- Python: settings count when they reach a loader ----------------------------------------------


def test_argparse_default_that_reaches_a_loader(hub_scan):
    source = (
        "import argparse\n"
        "from transformers import AutoModel\n"
        "parser = argparse.ArgumentParser()\n"
        "parser.add_argument('--model_name_or_path', default='acme-ai/arg')\n"
        "parser.add_argument('--hub_model_id', default='acme-ai/pushed')\n"
        "args = parser.parse_args()\n"
        "AutoModel.from_pretrained(args.model_name_or_path)\n"
    )
    assert hub_scan({"train.py": source}).hits == [("HUB001", "train.py", 4, 53)]


def test_argparse_default_that_reaches_no_loader(hub_scan):
    source = (
        "import argparse\n"
        "parser = argparse.ArgumentParser()\n"
        "parser.add_argument('--model_name_or_path', default='acme-ai/arg')\n"
        "args = parser.parse_args()\n"
        "print(args.model_name_or_path)\n"
    )
    assert hub_scan({"report.py": source}).hits == []


def test_an_output_folder_the_program_writes_and_loads_back_is_no_reference(hub_scan):
    """diffusers' training examples: `--output_dir` defaults to `controlnet-model`, the script saves
    there and then loads `from_pretrained(args.output_dir)`: its own output, not a hub repository."""
    source = (
        "import argparse\n"
        "from diffusers import ControlNetModel\n"
        "parser = argparse.ArgumentParser()\n"
        "parser.add_argument('--output_dir', default='controlnet-model')\n"
        "parser.add_argument('--controlnet_model_name_or_path', default='acme-ai/controlnet')\n"
        "args = parser.parse_args()\n"
        "net = ControlNetModel.from_pretrained(args.controlnet_model_name_or_path)\n"
        "net.save_pretrained(args.output_dir)\n"
        "net = ControlNetModel.from_pretrained(args.output_dir)\n"
        "def load(cache_dir='acme-ai/cache'):\n"
        "    return ControlNetModel.from_pretrained(cache_dir)\n"
    )
    assert hub_scan({"train.py": source}).hits == [("HUB001", "train.py", 5, 64)]


def test_dataclass_field_of_a_settings_class(hub_scan):
    source = (
        "from dataclasses import dataclass, field\n"
        "@dataclass\n"
        "class ScriptArguments:\n"
        "    model_name_or_path: str = 'acme-ai/script'\n"
        "    dataset_name: str = field(default='acme-ai/data')\n"
        "    output_dir: str = 'acme-ai/out'\n"
    )
    assert hub_scan({"args.py": source}).hits == [("HUB001", "args.py", 4, 31), ("HUB001", "args.py", 5, 39)]


def test_field_of_an_ordinary_class_counts_only_when_it_reaches_a_loader(hub_scan):
    source = (
        "from transformers import AutoModel\n"
        "class Embedder:\n"
        "    model_name = 'acme-ai/embedder'\n"
        "    def load(self):\n"
        "        return AutoModel.from_pretrained(self.model_name)\n"
        "class Card:\n"
        "    base_model = 'acme-ai/described'\n"
    )
    assert hub_scan({"embed.py": source}).hits == [("HUB001", "embed.py", 3, 18)]


def test_kwargs_get_default_reaches_a_loader(hub_scan):
    source = (
        "from transformers import AutoTokenizer\n"
        "def build(**kwargs):\n"
        "    name = kwargs.get('tokenizer', 'acme-ai/tok')\n"
        "    return AutoTokenizer.from_pretrained(name)\n"
        "def other(**kwargs):\n"
        "    return kwargs.get('label', 'acme-ai/label')\n"
    )
    assert hub_scan({"tok.py": source}).hits == [("HUB001", "tok.py", 4, 42)]


def test_a_settings_class_beside_a_provider_or_an_api_names_the_apis_model(hub_scan):
    # NeMo Data Designer: `ModelConfig(provider="nvidiabuild", model="openai/gpt-oss-20b")` is
    # served by build.nvidia.com; beside an API's address the tokenizer is still loaded here
    source = (
        "from data_designer.essentials import ModelConfig\n"
        "a = ModelConfig(provider='nvidiabuild', alias='gen', model='openai/gpt-oss-20b')\n"
        "b = ModelConfig(model_name='acme-ai/llm', base_url=URL, tokenizer_name='acme-ai/tok')\n"
        "c = ModelConfig(model_name='acme-ai/local')\n"
    )
    assert hub_scan({"gen.py": source}).hits == [("HUB001", "gen.py", 3, 72), ("HUB001", "gen.py", 4, 28)]


def test_keywords_of_functions_that_load_nothing(hub_scan):
    source = (
        "from datasets import load_dataset\n"
        "ds = load_dataset(args.dataset_name)\n"
        "ds.push_to_hub(dataset_name='acme-ai/pushed')\n"
        "create_model_card(base_model='acme-ai/card', model_name='acme-ai/me')\n"
        "logger.info('done', model='acme-ai/logged')\n"
        "meta = {'base_model': 'acme-ai/meta'}\n"
    )
    assert hub_scan({"push.py": source}).hits == []


def test_keyword_of_a_local_function_whose_parameter_reaches_a_loader(hub_scan):
    source = (
        "from transformers import AutoModel\n"
        "def load(model_name='acme-ai/default'):\n"
        "    return AutoModel.from_pretrained(model_name)\n"
        "load(model_name='acme-ai/called')\n"
        "ModelConfig(model_name_or_path='acme-ai/config')\n"
    )
    assert hub_scan({"load.py": source}).hits == [
        ("HUB001", "load.py", 2, 21),
        ("HUB001", "load.py", 4, 17),
        ("HUB001", "load.py", 5, 32),
    ]


def test_a_parameter_default_counts_when_that_functions_parameter_reaches_a_loader(hub_scan):
    # generative-models: one embedder's `version` reaches from_pretrained, another's is an open_clip tag
    source = (
        "import open_clip\n"
        "from transformers import T5EncoderModel\n"
        "class T5Embedder:\n"
        "    def __init__(self, version='acme-ai/t5'):\n"
        "        self.model = T5EncoderModel.from_pretrained(version)\n"
        "class OpenCLIPEmbedder:\n"
        "    def __init__(self, arch='ViT-H-14', version='laion2b_s32b_b79k'):\n"
        "        self.model = open_clip.create_model_and_transforms(arch, pretrained=version)\n"
        "class Loader:\n"
        "    def __init__(self, model_name='acme-ai/attr'):\n"
        "        self.model_name = model_name\n"
        "    def load(self):\n"
        "        return T5EncoderModel.from_pretrained(self.model_name)\n"
        "class MambaLM(HFLM):\n"  # lm-eval: handed on to the base class, which loads it
        "    def __init__(self, pretrained='acme-ai/mamba'):\n"
        "        super().__init__(pretrained=pretrained)\n"
        "    def _create_model(self, pretrained):\n"
        "        return T5EncoderModel.from_pretrained(pretrained)\n"
    )
    assert hub_scan({"enc.py": source}).hits == [("HUB001", "enc.py", 4, 32), ("HUB001", "enc.py", 10, 35), ("HUB001", "enc.py", 15, 35)]


def test_a_parameter_default_kept_in_an_attribute_of_another_name_reaches_the_loader_that_reads_it(hub_scan):
    # haystack's SASEvaluator, lmms-eval's models: `self._model = model`, loaded later by another method
    source = (
        "from sentence_transformers import SentenceTransformer\n"
        "from transformers import AutoModel\n"
        "class Evaluator:\n"
        "    def __init__(self, model='acme-ai/sts', device=None, label='acme-ai/label'):\n"
        "        self._model = model\n"
        "        self._label = label\n"  # kept, never loaded
        "        self._device = device\n"
        "    def warm_up(self):\n"
        "        return SentenceTransformer(self._model, device=self._device)\n"
        "class Chat:\n"
        "    def __init__(self, pretrained='acme-ai/chat'):\n"
        "        self.path = pretrained\n"
        "        self.other = 'acme-ai/not-a-parameter'\n"  # judged as the literal it is: a setting nothing loads
        "    def load(self):\n"
        "        return AutoModel.from_pretrained(self.path)\n"
    )
    assert hub_scan({"evaluator.py": source}).hits == [("HUB001", "evaluator.py", 4, 30), ("HUB001", "evaluator.py", 11, 35)]


def test_dict_entry_counts_when_its_key_reaches_a_loader(hub_scan):
    source = (
        "from transformers import AutoModel\n"
        "cfg = {'base_model': 'acme-ai/base', 'wandb_project': 'acme-ai/proj'}\n"
        "other = {'base_model': 'acme-ai/other'}\n"
        "def run(cfg):\n"
        "    return AutoModel.from_pretrained(cfg['base_model'])\n"
    )
    assert hub_scan({"cfg.py": source}).hits == [("HUB001", "cfg.py", 2, 22), ("HUB001", "cfg.py", 3, 24)]


def test_argv_lists_of_the_hub_cli(hub_scan):
    source = (
        "import subprocess\n"
        "subprocess.run(['huggingface-cli', 'download', 'acme-ai/cli'])\n"
        f"subprocess.run(['hf', 'download', 'acme-ai/pinned', '--revision', '{SHA}'])\n"
        "subprocess.run(['echo', 'acme-ai/echoed'])\n"
    )
    assert hub_scan({"dl.py": source}).hits == [("HUB001", "dl.py", 2, 49)]


def test_load_dataset_config_is_not_a_repository(hub_scan):
    source = (
        "from datasets import load_dataset\n"
        "a = load_dataset('glue', 'mrpc')\n"
        "b = load_dataset('acme-ai/data', name='subset')\n"
        "c = load_dataset('json', data_files='x.json')\n"
    )
    assert hub_scan({"data.py": source}).hits == [("HUB001", "data.py", 2, 18), ("HUB001", "data.py", 3, 18)]


def test_trl_trainer_loads_its_model_string(hub_scan):
    source = "from trl import SFTTrainer\ntrainer = SFTTrainer(model='acme-ai/policy', train_dataset=ds)\n"
    assert hub_scan({"sft.py": source}).hits == [("HUB001", "sft.py", 2, 28)]


def test_tiny_test_fixtures_in_tests_are_not_reported(hub_scan):
    source = (
        "from transformers import AutoModel\n"
        "a = AutoModel.from_pretrained('trl-internal-testing/tiny-Qwen2ForCausalLM')\n"
        "b = AutoModel.from_pretrained('acme-ai/tiny-bert')\n"
        "c = AutoModel.from_pretrained('acme-ai/real-model')\n"
    )
    # tiny fixtures are left alone even when tests are reported (`report-tests`); real models then are
    assert hub_scan({"tests/test_model.py": source}, **{"report-tests": True}).hits == [("HUB001", "tests/test_model.py", 4, 31)]
    assert hub_scan({"tests/test_model.py": source}).hits == []


def test_tiny_fixtures_outside_tests_are_reported(hub_scan):
    source = "from transformers import AutoModel\na = AutoModel.from_pretrained('trl-internal-testing/tiny-Qwen2ForCausalLM')\n"
    assert hub_scan({"src/model.py": source}).hits == [("HUB001", "src/model.py", 2, 31)]


# --- YAML: lm-eval task configs -----------------------------------------------------------------------


def test_lm_eval_dataset_name_beside_dataset_path_is_a_config(hub_scan):
    text = "task: boolq\ndataset_path: acme-ai/glue\ndataset_name: boolq\noutput_type: multiple_choice\n"
    assert hub_scan({"tasks/boolq.yaml": text}).hits == [("HUB001", "tasks/boolq.yaml", 2, 15)]


def test_dataset_name_is_a_config_through_include(hub_scan):
    template = "dataset_path: acme-ai/bench\noutput_type: generate_until\n"
    task = "include: _default_template_yaml\ndataset_name: subset_a\n"
    scan = hub_scan({"tasks/_default_template_yaml": template, "tasks/a.yaml": task})
    assert scan.hits == [("HUB001", "tasks/_default_template_yaml", 1, 15)]


def test_dataset_name_of_a_training_script_config_is_a_repository(hub_scan):
    text = "dataset_name: acme-ai/corpus\ndataset_config_name: wiki\nmodel_name_or_path: gpt2\n"
    assert hub_scan({"run.yaml": text}).hits == [("HUB001", "run.yaml", 1, 15), ("HUB001", "run.yaml", 3, 21)]


def test_extensionless_task_file_read_through_include(hub_scan):
    shared = "dataset_path: acme-ai/flores\ntrust_remote_code: true\n"
    task = "include: flores\ntask: flores_en\ndataset_name: en\n"
    scan = hub_scan({"tasks/flores": shared, "tasks/flores_en.yaml": task})
    assert scan.hits == [("HUB002", "tasks/flores", 2, 1)]  # critical, unpinned: no HUB001 again for the same load


def test_extensionless_file_that_is_not_a_task_is_not_read(hub_scan):
    scan = hub_scan(
        {
            "tasks/notes_yaml": "model_name_or_path: acme-ai/m\n",
            "tasks/a.yaml": "include: notes\ntask: a\n",
            "tasks/notes": "model_name_or_path: acme-ai/n\n",
        }
    )
    assert scan.hits == []


# --- recorded data ----------------------------------------------------------------------------------

RESPONSE = '{"id": "cmpl-1", "object": "chat.completion", "model": "acme-ai/served", "choices": []}\n'
CONFIG = "model_name_or_path: acme-ai/served\n"


@pytest.mark.parametrize(
    "path", ["tests/__snapshots__/serve.json", "tests/cassettes/chat.yaml", "tests/fixtures/openai/responses/chat.json"]
)
def test_recorded_data_is_not_scanned_by_path(hub_scan, path):
    assert hub_scan({path: CONFIG}).hits == []


def test_recorded_data_is_not_scanned_by_content(hub_scan):
    cassette = "interactions:\n- request:\n    body: '{\"model\": \"acme-ai/x\"}'\n  response:\n    body: {string: 'hf://acme-ai/y'}\n"
    assert hub_scan({"rec/chat.yaml": cassette, "rec/answer.json": RESPONSE}).hits == []


RUN_RECORD = """{
  "run_info": {
    "created_at": "2026-07-15T11:10:22+00:00",
    "train_config": {"model_id": "acme-ai/base"}
  },
  "train_info": {"train_time": 1306.2, "status": "success"}
}
"""
EVAL_RECORD = "results:\n  arc: {acc: 0.5}\nconfig:\n  model_name_or_path: acme-ai/evaluated\ndate: 1717000000.0\n"


BENCHMARK_RECORDS = (
    '[{"backend": "transformers", "base_model": "acme-ai/chat-7b", "date": "08/18/2023 10:46:19",\n'
    '  "git_sha": "55d3b55b", "hostname": "rig", "generate_time": 14.5}]\n'
)


def test_a_finished_runs_record_is_not_configuration(hub_scan):
    """peft's method_comparison results, lm-eval's results files, h2ogpt's benchmark records (where
    and when each ran): what a run loaded, written after."""
    files = {"bench/results/lora.json": RUN_RECORD, "out/eval.yaml": EVAL_RECORD, "benchmarks/gpu.json": BENCHMARK_RECORDS}
    assert hub_scan(files).hits == []
    # a host without a time stamp is a setting of a config
    assert hub_scan({"serve.json": '{"hostname": "0.0.0.0", "base_model": "acme-ai/chat-7b"}\n'}).hits == [("HUB001", "serve.json", 1, 40)]


def test_a_config_with_metrics_but_no_run_stamp_is_scanned(hub_scan):
    text = "metrics: [accuracy]\nmodel_name_or_path: acme-ai/trained\n"
    assert hub_scan({"train.yaml": text}).hits == [("HUB001", "train.yaml", 2, 21)]


def test_a_config_beside_recordings_is_scanned(hub_scan):
    assert hub_scan({"tests/serve.yaml": CONFIG}, **{"report-tests": True}).hits == [("HUB001", "tests/serve.yaml", 1, 21)]


# --- KServe storage URIs ----------------------------------------------------------------------------


def test_kserve_hf_uri_with_revision(hub_scan):
    text = (
        "spec:\n"
        "  predictor:\n"
        "    model:\n"
        f"      storageUri: hf://acme-ai/pinned:{SHA}\n"
        "---\n"
        "spec:\n"
        "  model:\n"
        "    storageUri: hf://acme-ai/moving:v1\n"
        "---\n"
        "spec:\n"
        "  model:\n"
        "    storageUri: hf://example.com/model\n"
    )
    scan = hub_scan({"isvc.yaml": text})
    assert scan.hits == [("HUB001", "isvc.yaml", 8, 17)]
    assert "at 'v1'" in scan.messages("HUB001")[0]


def test_model_name_beside_its_uri_is_reported_once(hub_scan):
    text = "spec:\n  model:\n    uri: hf://acme-ai/llm\n    name: acme-ai/llm\n"
    assert hub_scan({"llmisvc.yaml": text}).hits == [("HUB001", "llmisvc.yaml", 3, 10)]


def test_model_name_beside_a_uri_elsewhere_is_the_served_name(hub_scan):
    """KServe LLMInferenceService: `uri: pvc://...` is where the weights come from; `name:` is what it serves as."""
    text = "spec:\n  model:\n    uri: pvc://llm-test-pvc\n    name: deepseek-ai/DeepSeek-R1-0528\n"
    assert hub_scan({"llmisvc.yaml": text}).hits == []


def test_model_name_without_a_uri_is_reported(hub_scan):
    assert hub_scan({"serve.yaml": "model:\n  name: acme-ai/llm\n  source: huggingface\n"}).hits == [("HUB001", "serve.yaml", 2, 9)]


def test_a_catalogs_card_of_a_model_loads_nothing(hub_scan):
    """Kubeflow's model catalog: entries describe models for a UI (description, provider, licence)."""
    catalog = (
        "source: Organization AI\n"
        "models:\n"
        "  - name: acme-ai/neural-7b-instruct\n"
        "    provider: Acme AI Labs\n"
        "    description: A 7B model.\n"
        "    license: apache-2.0\n"
        "  - name: acme-ai/llm\n"
        "    source: huggingface\n"
        "    description: served as is\n"
        "    base_model: acme-ai/llm-base\n"  # no card here: a setting
        # kaito's generated catalog: the hub's card metadata, `baseModel` its lineage
        "  - name: acme-ai/neural-7b-it\n"
        "    description: https://huggingface.co/acme-ai/neural-7b-it\n"
        "    license: apache-2.0\n"
        "    baseModel:\n"
        "    - acme-ai/neural-7b\n"
        "  - name: acme-ai/neural-3b-it\n"
        "    license: mit\n"
        "    pipelineTag: text-generation\n"
        "    provider: Acme AI Labs\n"
        "    base_model: acme-ai/neural-3b\n"
    )
    assert hub_scan({"catalog.yaml": catalog}).hits == [("HUB001", "catalog.yaml", 7, 11), ("HUB001", "catalog.yaml", 10, 17)]


HELM_DEPLOYMENTS = """\
model_deployments:
  - name: together/acme-7b
    model_name: acme-ai/neural-7b
    tokenizer_name: acme-ai/neural-7b
    client_spec:
      class_name: "helm.clients.together_client.TogetherClient"
  - name: huggingface/acme-7b
    model_name: acme-ai/neural-7b
    tokenizer_name: acme-ai/neural-7b
    client_spec:
      class_name: "helm.clients.huggingface_client.HuggingFaceClient"
      args:
        pretrained_model_name_or_path: acme-ai/neural-7b-hf
  - name: huggingface/acme-3b
    model_name: acme-ai/neural-3b
    client_spec:
      class_name: "helm.clients.huggingface_client.HuggingFaceClient"
  - name: openrouter/acme-medium
    model_name: acme-ai/neural-medium
    client_spec:
      class_name: "helm.clients.openrouter_client.OpenRouterClient"
      args:
        model_name: acme-ai/neural-medium
        tokenizer:
          pretrained_model_name_or_path: acme-ai/neural-tokenizer
  - name: flamingo/acme-9b
    model_name: flamingo/acme-9b
    client_spec:
      class_name: "helm.clients.vision_language.open_flamingo_client.OpenFlamingoClient"
      args:
        tokenizer_name: acme-ai/neural-lm
  - name: huggingface/acme-1b
    model_name: acme-ai/neural-1b
    client_spec:
      class_name: "helm.clients.huggingface_client.HuggingFaceClient"
      args:
        pretrained_model_name_or_path: acme-ai/neural-1b-hf
models:
  - name: acme-ai/neural-7b
    display_name: Neural (7B)
    description: A 7B model.
    release_date: 2024-01-01
"""


def test_an_entry_served_by_an_api_client_or_described_loads_nothing(hub_scan):
    """Stanford HELM: a deployment whose `client_spec` class is an API client sends the name to a
    provider; one served by a Hugging Face class loads its args' `pretrained_model_name_or_path`,
    else its `model_name` (a `tokenizer_name` is a name of HELM's tokenizer registry); model
    metadata describes (a card). An API client's `args:` are what it sends to the API, however
    deep (OpenRouter given `model_name: mistralai/...`); a class that is neither loads what its
    args name (OpenFlamingo's `tokenizer_name`)."""
    assert hub_scan({"src/config/model_deployments.yaml": HELM_DEPLOYMENTS}).rule_lines == [
        ("HUB001", "src/config/model_deployments.yaml", 13),
        ("HUB001", "src/config/model_deployments.yaml", 15),
        ("HUB001", "src/config/model_deployments.yaml", 31),
        ("HUB001", "src/config/model_deployments.yaml", 37),
    ]


# --- speed: the config scanner's cost is linear in the file -------------------------------------------


def _big_manifest(size: int) -> str:
    block = "- name: job{i}\n  command: |\n    echo {i}\n    python train.py --model_name_or_path acme-ai/m{i}\n  image: hf://acme-ai/model:v1\n"
    parts, total, i = [], 0, 0
    while total < size:
        part = block.format(i=i)
        parts.append(part)
        total += len(part)
        i += 1
    return "items:\n" + "".join(parts)


def test_config_scanner_work_per_byte_is_bounded(tmp_path, monkeypatch):
    """On a 1 MB manifest full of findings and block scalars: the file is split into lines at most
    once, and the text handed to the URL search is at most the file's size (no whole-text search per node:
    that was 32,000 characters searched per byte of a 4 MB bundle)."""
    text = _big_manifest(1024 * 1024)
    path = tmp_path / "bundle.yaml"
    path.write_text(text)
    counts = {"splits": 0, "url_chars": 0}
    original_lines = files.SourceFile.lines
    original_urls = Judge.urls

    def counted_lines(self):
        counts["splits"] += self._lines is None  # a split, not a read of the lines split before
        return original_lines.fget(self)

    def counted_urls(self, value, offset=0, clone=False):
        counts["url_chars"] += len(value)
        return original_urls(self, value, offset, clone)

    monkeypatch.setattr(files.SourceFile, "lines", property(counted_lines))
    monkeypatch.setattr(Judge, "urls", counted_urls)
    found = list(configs.scan(SourceFile(path="bundle.yaml", abspath=path), ScanContext()))
    assert len(found) > 2_500  # every job: its --model_name_or_path and its image
    assert counts["splits"] <= 1
    assert counts["url_chars"] / len(text) < 1.0


def test_placeholder_ids_written_to_show_a_format_are_not_references(hub_scan):
    code = (
        "from transformers import AutoModel\n"
        "def check(uri):\n"
        "    raise RuntimeError(\"Expected 'hf://owner/model[:revision]', got %s\" % uri)\n"
        "AutoModel.from_pretrained('your-org/your-model')\n"
        "AutoModel.from_pretrained('acme-ai/model')\n"
    )
    assert hub_scan({"storage.py": code}).hits == [("HUB001", "storage.py", 5, 27)]


def test_made_up_test_namespaces_in_tests_are_fixtures(hub_scan):
    code = "from transformers import AutoModel\nAutoModel.from_pretrained('test-org/test-model-for-cache')\n"
    scan = hub_scan({"tests/test_cache.py": code, "src/cache.py": code})
    assert scan.hits == [("HUB001", "src/cache.py", 2, 27)]


def test_a_request_payload_to_a_served_model_is_not_configuration(hub_scan):
    payload = '{\n  "model": "facebook/opt-125m",\n  "prompt": "Hello",\n  "max_tokens": 10\n}\n'
    config = '{\n  "model": "facebook/opt-125m",\n  "tokenizer": "facebook/opt-125m"\n}\n'
    assert {hit[:3] for hit in hub_scan({"smoke/input.json": payload, "serve/config.json": config}).hits} == {
        ("HUB001", "serve/config.json", 2),
        ("HUB001", "serve/config.json", 3),
    }


@pytest.mark.parametrize(
    ("text", "refers"),
    [
        ("MODEL_NAME_OR_PATH: acme-ai/m\n", True),
        ('{"Model": "acme-ai/m"}', True),
        ('{"a": 1, "dataset": "acme/d"}', True),
        ("- model: acme/m\n", True),
        ("modelNameOrPath: acme/m\n", True),
        ("model_name_or_path:\n  acme/m\nlr: 1\n", True),
        ("models:\n  - acme/m\n", True),  # a list of names under a parent key
        ("datasets: [acme/d, acme/e]\n", True),
        ("models:\n  - name: job\n", False),  # a list of entries: read where a key of theirs is a reference key
        ("labels:\n  - acme/m\n", False),
        ("  defaultBaseModel: acme/m\n", False),  # not a key any loader reads
        ("model-name-or-path: acme/m\n", True),
        ("İ\nMODEL_ID: acme/m\n", True),  # text whose lowercase is longer
        ("weights: https://huggingface.co/x\n", True),
        ("run: python -m x --Model y\n", True),
        ("file: a.safetensors\n", True),
        ("name: job\nimage: python:3.11\n", False),
        ("tokenizer:\n  kind: bpe\n", False),
        ("nodeSelector:\n  kserve/localmodel: worker\n", False),  # a key that only ends like one
        ("description: the model: it is served\n", False),
        ("", False),
    ],
)
def test_the_quick_prefilter_reads_keys_as_keys(text, refers):
    assert configs.may_refer(text) is refers


def test_every_reference_key_holds_a_stem_the_prefilter_looks_for():
    assert all(configs._KEY_STEMS.search(key.lower()) for key in REFERENCE_KEYS)


def test_the_quick_prefilter_is_linear_on_a_crd_sized_text():
    crd = "    properties:\n      modelFormat:\n        description: the model format\n        type: string\n" * 40_000
    assert not configs.may_refer(crd) and configs.may_refer(crd + "storage:\n  model: acme/m\n")


# --- tests: unpinned loads that run no code are a test's own business ------------------------------

TEST_LOADS = """\
from datasets import load_dataset
from huggingface_hub import hf_hub_download
from transformers import AutoModel, AutoProcessor

processor = AutoProcessor.from_pretrained("HuggingFaceTB/SmolVLM-256M-Instruct")
dataset = load_dataset("trl-lib/Capybara")
config = hf_hub_download("acme-ai/detector", filename="config.json")
remote = AutoModel.from_pretrained("acme-ai/custom", trust_remote_code=True)
pickled = hf_hub_download("acme-ai/detector", "model.pkl")
weights = "https://huggingface.co/acme-ai/detector/resolve/main/pytorch_model.bin"
card = "https://huggingface.co/acme-ai/detector/resolve/main/tokenizer.json"
"""


def test_unpinned_loads_in_tests_are_reported_only_when_they_run_code(hub_scan):
    scan = hub_scan({"tests/test_loads.py": TEST_LOADS, "src/loads.py": TEST_LOADS})
    assert scan.hits == [
        ("HUB001", "src/loads.py", 5, 43),
        ("HUB001", "src/loads.py", 6, 24),
        ("HUB001", "src/loads.py", 7, 26),
        ("HUB002", "src/loads.py", 8, 54),
        ("HUB001", "src/loads.py", 9, 27),
        ("HUB001", "src/loads.py", 10, 12),
        ("HUB001", "src/loads.py", 11, 9),
        # in a test: trust_remote_code, a pickle fetched to be loaded, a pickled weights URL
        ("HUB002", "tests/test_loads.py", 8, 54),
        ("HUB001", "tests/test_loads.py", 9, 27),
        ("HUB001", "tests/test_loads.py", 10, 12),
    ]


TRUST_SETTINGS = """\
from transformers import AutoModel
from myproject.security import evaluate_consent

decision = evaluate_consent(["./local"], trust_remote_code=True)
config = SimpleNamespace(model_init_kwargs={"token": "x", "trust_remote_code": True})
model = AutoModel.from_pretrained(checkpoint, trust_remote_code=True)
remote = AutoModel.from_pretrained("acme-ai/custom", trust_remote_code=True)
handle = launcher("acme-ai/custom", trust_remote_code=True)
cfg = DictDefault({"base_model": "acme-ai/custom", "trust_remote_code": True})
"""

TRUST_COMMANDS = """\
vllm serve "$MODEL" --trust-remote-code
vllm serve acme-ai/custom --trust-remote-code
lm_eval --model hf --model_args pretrained=acme-ai/custom,trust_remote_code=True
lm_eval --model hf --model_args pretrained=$M,trust_remote_code=True
"""

TRUST_CONFIG = """\
model_args:
  trust_remote_code: true
model:
  name_or_path: acme-ai/custom
  trust_remote_code: true
"""


def test_trust_remote_code_in_a_test_is_reported_beside_a_hub_repository_only(hub_scan):
    """A test's flag with no repository named (a consent check under test, a mock's settings, a
    fixture passed in) runs no one's code; beside a hub id it does. Outside tests every flag counts."""
    files = {}
    for folder in ("src", "tests"):
        files |= {f"{folder}/gate.py": TRUST_SETTINGS, f"{folder}/eval.sh": TRUST_COMMANDS, f"{folder}/train.yaml": TRUST_CONFIG}
    everywhere = [
        ("eval.sh", 1), ("eval.sh", 2), ("eval.sh", 3), ("eval.sh", 4),
        ("gate.py", 4), ("gate.py", 5), ("gate.py", 6), ("gate.py", 7), ("gate.py", 8), ("gate.py", 9),
        ("train.yaml", 2), ("train.yaml", 5),
    ]  # fmt: skip
    in_tests = [("eval.sh", 2), ("eval.sh", 3), ("gate.py", 7), ("gate.py", 8), ("gate.py", 9), ("train.yaml", 5)]
    expected = [("HUB002", f"src/{name}", line) for name, line in everywhere]
    assert hub_scan(files).rule_lines == expected + [("HUB002", f"tests/{name}", line) for name, line in in_tests]
    reported = hub_scan(files, **{"report-tests": True}).rule_lines
    assert reported == expected + [("HUB002", f"tests/{name}", line) for name, line in everywhere]


def test_pictures_recordings_and_documents_on_the_hub_are_not_references(hub_scan):
    """diffusers' docstring examples: `load_image("https://hf.co/datasets/huggingface/documentation-images/resolve/main/x.png")`;
    a help text linking a model's LICENSE.md or LICENSE. A movable revision changes what people see, not what runs."""
    source = (
        "from diffusers.utils import load_image\n"
        'image = load_image("https://hf.co/datasets/huggingface/documentation-images/resolve/main/diffusers/corgi.png")\n'
        'LICENSE = "see [here](https://huggingface.co/black-forest-labs/FLUX.1-dev/blob/main/LICENSE.md)."\n'
        'audio = "https://huggingface.co/datasets/acme/sounds/resolve/main/a.wav?download=true"\n'
        'weights = "https://huggingface.co/acme-ai/detector/resolve/main/model.safetensors"\n'  # line 5: weights
        'TERMS = "[here](https://huggingface.co/THUDM/CogVideoX-5b/blob/main/LICENSE) and README.txt, NOTICE"\n'
        'readme = "https://huggingface.co/acme/m/raw/main/README"\n'
    )
    assert hub_scan({"src/pipeline.py": source}).hits == [("HUB001", "src/pipeline.py", 5, 12)]


def test_report_tests_reports_every_unpinned_load_in_tests(hub_scan):
    scan = hub_scan({"tests/test_loads.py": TEST_LOADS}, **{"report-tests": True})
    assert scan.rule_lines == [
        ("HUB001", "tests/test_loads.py", 5),
        ("HUB001", "tests/test_loads.py", 6),
        ("HUB001", "tests/test_loads.py", 7),
        ("HUB002", "tests/test_loads.py", 8),
        ("HUB001", "tests/test_loads.py", 9),
        ("HUB001", "tests/test_loads.py", 10),
        ("HUB001", "tests/test_loads.py", 11),
    ]


def test_tests_that_run_hub_code_from_scripts_and_configs_are_reported(hub_scan):
    script = (
        "#!/bin/bash\n"
        'MODEL="facebook/opt-125m"\n'
        "vllm serve acme-ai/chat --port 8000\n"
        "vllm serve acme-ai/custom --trust-remote-code\n"
        "lm_eval --model hf --model_args pretrained=acme-ai/eval,trust_remote_code=True --tasks x\n"
        'torch_hub=1 python -c \'import torch; torch.hub.load("acme-ai/repo", "m")\'\n'
    )
    config = "model_name_or_path: acme-ai/plain\n---\nmodel_name_or_path: acme-ai/custom\ntrust_remote_code: true\n"
    scan = hub_scan({"tests/e2e/run-routing-test.sh": script, "tests/configs/train.yaml": config})
    assert scan.hits == [
        ("HUB002", "tests/configs/train.yaml", 4, 1),
        ("HUB002", "tests/e2e/run-routing-test.sh", 4, 27),
        ("HUB002", "tests/e2e/run-routing-test.sh", 5, 57),
        ("HUB003", "tests/e2e/run-routing-test.sh", 6, 53),
    ]


SCOPES = """\
from transformers import AutoModel, AutoTokenizer
model_id = "acme-ai/module-level"


class Local:
    def __init__(self, model_id=None):
        if model_id is None:
            model_id = "acme-ai/default"
        self.model = AutoModel.from_pretrained(model_id)


class Remote:
    def __init__(self, model_id: str):
        self.tok = AutoTokenizer.from_pretrained(model_id)


def helper(model_id):
    return model_id


tokenizer = AutoTokenizer.from_pretrained(model_id)
square = lambda model_id: AutoModel.from_pretrained(model_id)
"""


def test_a_name_is_read_in_its_own_function(hub_scan):
    """smolagents: `model_id = "org/default"` inside one class's __init__ is not the value of another
    class's `model_id` parameter, nor of the module's own `model_id` (the first after it was taken)."""
    scan = hub_scan({"src/scope.py": SCOPES})
    assert scan.hits == [("HUB001", "src/scope.py", 9, 48), ("HUB001", "src/scope.py", 21, 43)]
    assert [message.split("'")[1] for message in scan.messages("HUB001")] == ["acme-ai/default", "acme-ai/module-level"]


CONSENT = """\
def evaluate_consent(targets, trust_remote_code: bool, subject=None):
    if not trust_remote_code or subject is None:
        return "disabled"
    assert trust_remote_code
    return "ok" if trust_remote_code else "no"
"""

LOADERS = """\
from transformers import AutoModel
def load_model(name, trust_remote_code=False):
    return AutoModel.from_pretrained(name, trust_remote_code=trust_remote_code)
class Remembers:
    def __init__(self, trust_remote_code=False):
        self.trust_remote_code = trust_remote_code
"""

WORKER = """\
from .security import evaluate_consent
from app.loaders import load_model, Remembers
from app.missing import unknown
def check(flag, trust_remote_code=False):
    if trust_remote_code: return 1
def run(targets):
    evaluate_consent(targets, trust_remote_code=True)
    load_model(targets[0], trust_remote_code=True)
    unknown(targets, trust_remote_code=True)
    check(1, trust_remote_code=True)
    Remembers(trust_remote_code=True)
"""


def test_a_project_function_that_only_tests_the_flag_loads_nothing(hub_scan):
    """unsloth's consent check, `evaluate_remote_code_consent_for_targets(..., trust_remote_code=True)`,
    found through a relative import and a package's re-export; the project's loaders, classes that keep the flag and
    functions mlgate cannot find are still reported."""
    files = {
        "src/app/security/__init__.py": "from .consent import evaluate_consent\n",
        "src/app/security/consent.py": CONSENT,
        "src/app/loaders.py": LOADERS,
        "src/app/worker.py": WORKER,
    }
    assert [hit for hit in hub_scan(files).rule_lines if hit[0] == "HUB002"] == [
        ("HUB002", "src/app/worker.py", 8),
        ("HUB002", "src/app/worker.py", 9),
        ("HUB002", "src/app/worker.py", 11),
    ]


def test_a_serving_cli_given_a_local_model_trusts_local_code(hub_scan):
    """lmdeploy's CI: `lmdeploy serve api_server /nvme/qa_test_models/Org/Model --trust-remote-code`
    runs the code in that folder, not a hub repository's; a hub id there is a reference."""
    script = (
        "lmdeploy serve api_server /nvme/qa_test_models/OpenGVLab/InternVL3-38B --tp 2 --trust-remote-code\n"
        "lmdeploy serve api_server acme-ai/custom --trust-remote-code\n"
        "lmdeploy chat acme-ai/chat\n"
        "vllm serve ./checkpoints/last --trust-remote-code\n"
        "python serve.py --trust-remote-code\n"
    )
    assert hub_scan({"ci/e2e.sh": script}).rule_lines == [
        ("HUB002", "ci/e2e.sh", 2),
        ("HUB001", "ci/e2e.sh", 3),
        ("HUB002", "ci/e2e.sh", 5),
    ]


def test_hf_repo_is_pinned_by_its_hf_revision(hub_scan):
    """lighteval's task configs: `hf_repo=` beside `hf_revision=` (the field it reads for the dataset's revision)."""
    source = (
        "from lighteval.tasks.lighteval_task import LightevalTaskConfig\n"
        'pinned = LightevalTaskConfig(name="a", hf_repo="acme-ai/bench", hf_revision="3373e0b32277875b8db2aa555a333b78a08477ea")\n'
        'moving = LightevalTaskConfig(name="b", hf_repo="acme-ai/bench", hf_revision="main")\n'
        'unset = LightevalTaskConfig(name="c", hf_repo="acme-ai/bench")\n'
    )
    scan = hub_scan({"src/tasks.py": source})
    assert scan.rule_lines == [("HUB001", "src/tasks.py", 3), ("HUB001", "src/tasks.py", 4)]
    assert "at 'main'" in scan.messages("HUB001")[0]
    assert scan.messages("HUB001")[1].startswith("hub model 'acme-ai/bench'")
    scan = hub_scan({"src/tasks.py": source.replace('name="c",', 'name="c", hf_subset="default",')})
    assert scan.messages("HUB001")[1].startswith("hub dataset 'acme-ai/bench'")  # beside a subset: a dataset


API_CLIENTS = """\
qa_generator:
  _target_: nemo_retriever_sdg.SimpleQAGenerator
  model: acme-ai/mixtral-8x22b-instruct
  base_url: https://integrate.api.nvidia.com/v1
critic:
  model: acme-ai/llama-70b-instruct
  tokenizer: acme-ai/llama-70b-instruct
  api_key_env: NVIDIA_API_KEY
trainer:
  model: acme-ai/llama-8b
  base_url: https://huggingface.co/acme-ai/llama-8b
"""


def test_a_model_an_api_serves_and_what_a_run_wrote_are_not_loads(hub_scan):
    """NVIDIA's examples: a client's `model:` beside its `base_url:` or `api_key:` names what the API
    serves; `example_eval_output/workflow_output.json` and `.hydra/` records are what a run wrote."""
    recorded = '{"model_name": "acme-ai/llama-8b", "output": "..."}\n'
    files = {
        "conf/config.yaml": API_CLIENTS,
        "example_eval_output/workflow_output.json": recorded,
        "outputs/2024-01-01/.hydra/config.yaml": "model_name_or_path: acme-ai/llama-8b\n",
        "configs/train.json": recorded,
    }
    assert hub_scan(files).rule_lines == [
        ("HUB001", "conf/config.yaml", 7),  # the tokenizer a client loads here to count tokens
        ("HUB001", "conf/config.yaml", 10),
        ("HUB001", "configs/train.json", 1),
    ]


def test_names_without_a_namespace_are_the_hubs_canonical_ones_only(hub_scan):
    """The hub's names without a namespace are its legacy lower-case ones (`bert-base-cased`);
    sentence-transformers looks bare names up under `sentence-transformers/`; `gpt-4` is an API's;
    `Qwen3-VL-4B-Instruct-trl-sft` (mixed case, no namespace) is a folder a notebook wrote."""
    source = (
        "from sentence_transformers import SentenceTransformer\n"
        "from transformers import AutoModel, AutoTokenizer\n"
        'embedder = SentenceTransformer("all-MiniLM-L6-v2")\n'
        'trained = AutoModel.from_pretrained("Qwen3-VL-4B-Instruct-trl-sft")\n'
        'canonical = AutoModel.from_pretrained("bert-base-cased")\n'
        "def load(tokenizer_model: str = 'gpt-4'):\n"
        "    return AutoTokenizer.from_pretrained(tokenizer_model)\n"
    )
    scan = hub_scan({"src/app.py": source})
    assert scan.rule_lines == [("HUB001", "src/app.py", 3), ("HUB001", "src/app.py", 5)]
    assert scan.messages("HUB001")[0].startswith("hub model 'sentence-transformers/all-MiniLM-L6-v2'")


def test_a_variable_a_loader_already_read_is_not_judged_again_as_a_setting(hub_scan):
    # verl: the record a preprocessing script writes names the dataset it loaded
    source = (
        "import datasets\n"
        "data_source = 'acme-ai/hellaswag'\n"
        "dataset = datasets.load_dataset(data_source)\n"
        "record = {'data_source': data_source, 'split': 'train'}\n"
        "other = {'data_source': 'acme-ai/other'}\n"
        "BASE = 'acme-ai/base'\n"
        "tok = datasets.load_dataset(BASE)\n"
        "def load(path=BASE):\n"  # a default read by another load: a load site of its own
        "    return datasets.load_dataset(path)\n"
    )
    assert hub_scan({"prep.py": source}).hits == [
        ("HUB001", "prep.py", 3, 33),
        ("HUB001", "prep.py", 5, 25),
        ("HUB001", "prep.py", 7, 29),
        ("HUB001", "prep.py", 8, 15),
    ]


def test_a_repository_handed_to_the_projects_own_loader_in_another_module_is_followed(hub_scan):
    # torchtune: `alpaca_dataset(source="ns/name")` passes `source=source` to `SFTDataset` (another
    # module), whose `__init__` calls `load_dataset(source)`; `partial(...)` names one; a relative
    # import and a second wrapper in between are followed too
    files = {
        "pkg/__init__.py": "",
        "pkg/datasets/__init__.py": "",
        "pkg/datasets/_sft.py": (
            "from datasets import load_dataset\n"
            "class SFTDataset:\n"
            "    def __init__(self, *, source, split='train', note=''):\n"
            "        self._data = load_dataset(source, split=split)\n"
            "        print(note)\n"
        ),
        "pkg/datasets/_text.py": (
            "from ._sft import SFTDataset\ndef text_dataset(source, split='train'):\n    return SFTDataset(source=source, split=split)\n"
        ),
        "pkg/datasets/_alpaca.py": (
            "from functools import partial\n"
            "from pkg.datasets._sft import SFTDataset\n"
            "from ._text import text_dataset\n"
            "def alpaca_dataset(*, source: str = 'acme-ai/alpaca', note: str = 'acme-ai/not-loaded'):\n"
            "    return SFTDataset(source=source, note=note)\n"
            "alpaca_cleaned_dataset = partial(alpaca_dataset, source='acme-ai/alpaca-cleaned')\n"
            "def wiki_dataset(source: str = 'acme-ai/wiki'):\n"
            "    return text_dataset(source=source)\n"
            "def local_dataset(source: str = 'data/train.json'):\n"  # a path, not a hub id
            "    return SFTDataset(source=source)\n"
        ),
    }
    assert hub_scan(files).hits == [
        ("HUB001", "pkg/datasets/_alpaca.py", 4, 37),
        ("HUB001", "pkg/datasets/_alpaca.py", 6, 57),
        ("HUB001", "pkg/datasets/_alpaca.py", 7, 32),
    ]
