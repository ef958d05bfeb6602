"""The hub hook on notebooks, YAML/JSON configs, workflows, shell scripts and Dockerfiles."""

from __future__ import annotations

import json

SHA = "0123456789abcdef0123456789abcdef01234567"


def notebook(*cells: list[str]) -> str:
    document = {
        "cells": [{"cell_type": "code", "metadata": {}, "source": lines, "outputs": [], "execution_count": None} for lines in cells],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1) + "\n"


# --- notebooks ------------------------------------------------------------------------------------


def test_notebook_cells_share_imports_and_constants(hub_scan):
    text = notebook(
        ["%pip install transformers\n", "from transformers import AutoModel as AM\n", "MODEL = 'acme/llm'\n"],
        ["# load\n", "m = AM.from_pretrained(MODEL, trust_remote_code=True)\n"],
        [f"ok = AM.from_pretrained('acme/pinned', revision='{SHA}')\n"],
    )
    scan = hub_scan({"nb.ipynb": text})
    # cell 2, line 2 sits on file line 19 (columns are those of the cell line); the message names both
    assert scan.hits == [("HUB002", "nb.ipynb", 19, 31)]  # critical, unpinned: no HUB001 again for the same load
    assert scan.messages("HUB002")[0].endswith("(cell 2, line 2)")


def test_notebook_shell_lines_and_cells(hub_scan):
    text = notebook(
        ["!huggingface-cli download acme/gguf model.gguf\n", "x = 1\n"],
        ["%%bash\n", "git clone https://huggingface.co/acme/repo\n"],
        ["%%capture\n", "from datasets import load_dataset\n", "ds = load_dataset('acme/data')\n"],
    )
    scan = hub_scan({"nb.ipynb": text})
    assert scan.hits == [("HUB001", "nb.ipynb", 7, 27), ("HUB001", "nb.ipynb", 18, 11), ("HUB001", "nb.ipynb", 29, 19)]


def test_notebook_with_ipython_only_syntax_is_not_an_error(hub_scan):
    text = notebook(["model?\n"], ["from transformers import AutoModel\n", "AutoModel.from_pretrained('acme/m')\n"])
    assert hub_scan({"nb.ipynb": text}).hits == [("HUB001", "nb.ipynb", 17, 27)]


def test_notebook_writefile_python_cells_are_read(hub_scan):
    text = notebook(
        ["%%writefile train.py\n", "from transformers import AutoModel\n", "AutoModel.from_pretrained('acme/w')\n"],
        ["%%writefile notes.md\n", "AutoModel.from_pretrained('acme/md')\n"],
    )
    assert hub_scan({"nb.ipynb": text}).hits == [("HUB001", "nb.ipynb", 9, 27)]


def test_broken_notebook_is_an_error_not_a_crash(scan_tree):
    scan = scan_tree({"nb.ipynb": "{ not json from_pretrained"}, select="hub")
    assert scan.hits == [] and scan.errors and scan.errors[0][0] == "nb.ipynb"


# --- YAML / JSON configs ----------------------------------------------------------------------------


def test_training_config_keys_revisions_and_trust(hub_scan):
    config = (
        "model_name_or_path: bert-base-uncased\n"
        "tokenizer_name: acme/tok\n"
        f"tokenizer_revision: {SHA}\n"
        "base_model: ./checkpoints/base\n"
        "trust_remote_code: true\n"
        "datasets:\n"
        "  - path: acme/alpaca\n"
        "    type: alpaca\n"
        "model: gpt-4\n"
        "llm:\n"
        "  model: openai/gpt-4o\n"
        "  url: https://huggingface.co/datasets/acme/ds/resolve/v1.0/data.parquet\n"
        "output_dir: acme/out\n"
    )
    scan = hub_scan({"configs/train.yaml": config})
    assert scan.hits == [
        ("HUB002", "configs/train.yaml", 5, 1),
        ("HUB001", "configs/train.yaml", 7, 11),
        ("HUB001", "configs/train.yaml", 12, 8),
    ]
    assert str(scan.findings[0].severity) == "critical"


def test_openai_open_weight_models_are_the_hubs(hub_scan):
    # `openai/gpt-4o` is an API's model; `openai/gpt-oss-20b` is open weights on the hub (axolotl)
    config = "base_model: openai/gpt-oss-20b\njudge:\n  model: openai/gpt-4o-mini\n"
    assert hub_scan({"gpt-oss.yaml": config}).hits == [("HUB001", "gpt-oss.yaml", 1, 13)]


def test_pinned_config_is_clean_and_trust_is_high(hub_scan):
    config = f"base_model: acme/llm\nrevision: {SHA}\ntrust_remote_code: true\n"
    scan = hub_scan({"axolotl.yml": config})
    assert scan.hits == [("HUB002", "axolotl.yml", 3, 1)]
    assert str(scan.findings[0].severity) == "high"


def test_json_config(hub_scan):
    config = '{\n  "base_model_name_or_path": "acme/base",\n  "revision": null,\n  "peft_type": "LORA"\n}\n'
    pinned = f'{{"base_model_name_or_path": "acme/base", "revision": "{SHA}"}}\n'
    scan = hub_scan({"adapter/adapter_config.json": config, "pinned/adapter_config.json": pinned, "data/big.json": '{"text": "model"}\n'})
    assert scan.hits == [("HUB001", "adapter/adapter_config.json", 2, 31)]


def test_a_template_config_is_read_as_the_other_hooks_read_it(hub_scan):
    # a Helm `files/` template rendered with `tpl`: not YAML as written, read with its actions blanked
    template = "{{- if .Values.enabled }}\nmodel_name_or_path: acme/llm\nname: {{ .Values.name }}\n{{- end }}\n"
    scan = hub_scan({"chart/files/train.yaml": template, "chart/files/clean.yaml": template.replace("acme/llm", "./local")})
    assert scan.hits == [("HUB001", "chart/files/train.yaml", 2, 21)]
    assert scan.errors == []


def test_compose_and_k8s_commands(hub_scan):
    compose = (
        "services:\n"
        "  tgi:\n"
        "    image: ghcr.io/huggingface/text-generation-inference:2.0\n"
        "    command: --model-id acme/llm --revision main\n"
        "    environment:\n"
        "      MODEL_ID: acme/other\n"
    )
    scan = hub_scan({"docker-compose.yml": compose})
    assert scan.hits == [("HUB001", "docker-compose.yml", 4, 25), ("HUB001", "docker-compose.yml", 6, 17)]


def test_workflow_run_blocks(hub_scan):
    workflow = (
        "on: push\n"
        "jobs:\n"
        "  t:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: |\n"
        "          huggingface-cli download acme/gguf m.gguf --local-dir models\n"
        f"          hf download acme/pinned --revision {SHA}\n"
        "          vllm serve acme/llm --trust-remote-code\n"
        "          python train.py --model_name_or_path ${{ matrix.model }}\n"
        "          wget https://example.com/model.safetensors\n"
        "      - shell: pwsh\n"
        "        run: huggingface-cli download acme/windows\n"
    )
    scan = hub_scan({".github/workflows/ci.yml": workflow})
    assert scan.hits == [
        ("HUB001", ".github/workflows/ci.yml", 7, 36),
        ("HUB002", ".github/workflows/ci.yml", 9, 31),
        ("HUB005", ".github/workflows/ci.yml", 11, 16),
    ]


# --- shell scripts and Dockerfiles ---------------------------------------------------------------------


def test_shell_script(hub_scan):
    script = (
        "#!/bin/bash\n"
        "export MODEL_NAME=acme/llm\n"
        "git clone https://huggingface.co/acme/repo && cd repo\n"
        "git clone https://huggingface.co/acme/pinned\n"
        f"git -C pinned checkout {SHA}\n"
        "curl -LO https://huggingface.co/acme/x/resolve/main/model.safetensors\n"
        f"curl -LO https://huggingface.co/acme/x/resolve/{SHA}/model.safetensors\n"
        "accelerate launch train.py --model_name_or_path=acme/base --model_revision main\n"
        "lm_eval --model hf --model_args pretrained=acme/eval,trust_remote_code=True\n"
        "python run.py --model_name_or_path ./local/ckpt --tokenizer_name gpt2\n"
        "wget https://example.com/w.pth && sha256sum -c w.sha256\n"
    )
    scan = hub_scan({"scripts/train.sh": script})
    assert scan.hits == [
        ("HUB001", "scripts/train.sh", 2, 19),
        ("HUB001", "scripts/train.sh", 3, 11),
        ("HUB001", "scripts/train.sh", 6, 10),
        ("HUB001", "scripts/train.sh", 8, 49),
        ("HUB002", "scripts/train.sh", 9, 54),
        ("HUB001", "scripts/train.sh", 10, 66),
    ]


def test_dockerfile(hub_scan):
    dockerfile = (
        "FROM python:3.11\n"
        "ENV MODEL_ID=acme/llm\n"
        "RUN --mount=type=cache,target=/root/.cache \\\n"
        "    curl -L -o /m.bin http://huggingface.co/acme/m/resolve/main/pytorch_model.bin\n"
        "ADD https://huggingface.co/acme/a/resolve/main/a.safetensors /models/\n"
        'CMD ["--model-id", "acme/served", "--revision", "main"]\n'
        f'ENTRYPOINT ["text-generation-launcher", "--model-id", "acme/ok", "--revision", "{SHA}"]\n'
    )
    scan = hub_scan({"docker/Dockerfile": dockerfile})
    assert scan.hits == [
        ("HUB001", "docker/Dockerfile", 2, 14),
        ("HUB001", "docker/Dockerfile", 4, 23),
        ("HUB004", "docker/Dockerfile", 4, 23),
        ("HUB001", "docker/Dockerfile", 5, 5),
        ("HUB001", "docker/Dockerfile", 6, 21),
    ]


def test_files_without_hub_references_are_clean(hub_scan):
    files = {
        "src/util.py": "import os\nprint(os.getcwd())\n",
        "scripts/build.sh": "#!/bin/sh\nmake all\n",
        "Dockerfile": "FROM python:3.11\nRUN pip install -r requirements.txt\n",
        "config.yaml": "lr: 0.1\nmodel: resnet50\n",
    }
    assert hub_scan(files).hits == []


def test_nested_model_keys_and_argument_lists(hub_scan):
    manifest = (
        "spec:\n"
        "  containers:\n"
        "    - name: vllm\n"
        '      args: ["--model", "acme/llm", "--trust-remote-code"]\n'
        "      command:\n"
        "        - python3\n"
        "        - -m\n"
        "        - vllm.entrypoints.openai.api_server\n"
        "        - --model=acme/other\n"
        "model:\n"
        "  name: acme/nested\n"
        "merge:\n"
        "  models:\n"
        "    - model: acme/merge-a\n"
        f"      revision: {SHA}\n"
    )
    scan = hub_scan({"deploy/k8s.yaml": manifest})
    assert scan.hits == [
        ("HUB002", "deploy/k8s.yaml", 4, 38),
        ("HUB001", "deploy/k8s.yaml", 9, 19),
        ("HUB001", "deploy/k8s.yaml", 11, 9),
    ]


def test_trust_remote_code_beside_a_local_model_is_not_reported(hub_scan):
    files = {
        "local.yaml": "model_name_or_path: ./outputs/merged\ntrust_remote_code: true\n",
        "serve.sh": "vllm serve ./models/merged --model ./models/merged --trust-remote-code\npython serve.py --model_name_or_path /srv/model --trust_remote_code\n",
    }
    assert hub_scan(files).hits == []


def test_trust_remote_code_for_a_model_given_by_a_variable_says_where_its_pin_is(hub_scan):
    # OME's serving runtimes: the model is what `$(MODEL_PATH)` holds, downloaded by another object
    script = (
        "python3 -m sglang.launch_server --model-path $MODEL_PATH --trust-remote-code\n"
        "python3 -m sglang.launch_server --model-path acme/llm --trust-remote-code\n"
    )
    runtime = (
        "apiVersion: ome.io/v1beta1\n"
        "kind: ClusterServingRuntime\n"
        "spec:\n"
        "  containers:\n"
        "    - name: ome-container\n"
        "      command: [python3, -m, sglang.launch_server, --model-path, $(MODEL_PATH), --trust-remote-code]\n"
    )
    scan = hub_scan({"serve.sh": script, "runtime.yaml": runtime})
    assert scan.hits == [("HUB002", "runtime.yaml", 6, 81), ("HUB002", "serve.sh", 1, 58), ("HUB002", "serve.sh", 2, 55)]
    assert [message.split(", ", 1)[1].split(":")[0] for message in scan.messages("HUB002")] == [
        "and its revision comes from elsewhere (a variable or a caller), so nothing here pins it",
        "and its revision comes from elsewhere (a variable or a caller), so nothing here pins it",
        "and the revision is not pinned",
    ]


def test_inline_python_lfs_clones_and_llama_cpp(hub_scan):
    script = (
        "python -c \"from sentence_transformers import SentenceTransformer; SentenceTransformer('all-MiniLM-L6-v2')\"\n"
        'python3 -c "\n'
        "from transformers import AutoModel\n"
        "AutoModel.from_pretrained('acme/x', trust_remote_code=True)\n"
        '"\n'
        "git lfs clone https://huggingface.co/acme/lfs\n"
        "llama-server -hf acme/Llama-GGUF:Q4_K_M\n"
        "llama-cli --hf-repo acme/gguf --hf-file m.gguf\n"
        "python train.py -c config.yaml\n"
    )
    scan = hub_scan({"download.sh": script})
    assert scan.hits == [
        ("HUB001", "download.sh", 1, 87),
        ("HUB002", "download.sh", 4, 37),
        ("HUB001", "download.sh", 6, 15),
        ("HUB001", "download.sh", 7, 18),
        ("HUB001", "download.sh", 8, 21),
    ]


def test_dockerfile_run_python_inline(hub_scan):
    dockerfile = "FROM python:3.11\nRUN python -c \"from transformers import pipeline; pipeline('ner', model='dslim/bert-base-NER')\"\n"
    assert hub_scan({"Dockerfile": dockerfile}).hits == [("HUB001", "Dockerfile", 2, 73)]


def test_metadata_files_api_models_and_model_lists(hub_scan):
    files = {
        "data/dataset_info.json": '{"dataset_name": "imdb", "config_name": "default"}\n',
        "llm.yaml": "model: deepseek/deepseek-chat\nclip_model: ViT-B/32\nmodels:\n  - acme/listed\n  - gpt-4\n",
        # Stanford HELM's names of Together AI's API and OpenAI's GPT-3 models; OpenAI's open weights are the hub's
        "helm.yaml": "models:\n  - together/gpt-j-6b\n  - openai/ada\n  - openai/curie\n  - openai/code-cushman-001\n  - openai/whisper-large-v3\n",
        # NIM's names of Meta's models (the hub's are `meta-llama/...`)
        "overrides.yaml": "llmModel: meta/llama-3.1-8b-instruct\nmodel: meta-llama/Llama-3.1-8B-Instruct\n",
    }
    assert hub_scan(files).hits == [("HUB001", "helm.yaml", 6, 5), ("HUB001", "llm.yaml", 4, 5), ("HUB001", "overrides.yaml", 2, 8)]


def test_gitlab_script_lines(hub_scan):
    ci = "download:\n  script:\n    - pip install -U huggingface_hub\n    - huggingface-cli download acme/ci-model\n"
    assert hub_scan({".gitlab-ci.yml": ci}).hits == [("HUB001", ".gitlab-ci.yml", 4, 32)]


def test_mirror_urls_and_weight_downloads_in_workflows(hub_scan):
    workflow = (
        "on: push\n"
        "jobs:\n"
        "  t:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: curl -LO https://example.com/w.pth\n"
        "      - run: wget https://hf-mirror.com/acme/m/resolve/main/w.bin\n"
    )
    scan = hub_scan({".github/workflows/fetch.yml": workflow})
    assert scan.hits == [("HUB005", ".github/workflows/fetch.yml", 6, 23), ("HUB001", ".github/workflows/fetch.yml", 7, 19)]


def test_a_file_with_its_sha256_beside_its_uri_is_pinned_by_content(hub_scan):
    # LocalAI's gallery: the downloader checks each file's sha256, so `resolve/main` cannot change what loads
    gallery = (
        "- name: medgemma\n"
        "  files:\n"
        "    - filename: m.gguf\n"
        "      sha256: 2c3a1ef89aff548eea009ad74debcedfb69f0aa46fa8dc5e0f0175d5cea28578\n"
        "      uri: https://huggingface.co/bartowski/medgemma-GGUF/resolve/main/m.gguf\n"
        "    - filename: vae.safetensors\n"
        "      uri: https://huggingface.co/acme/wan/resolve/main/vae.safetensors\n"  # line 7: no checksum
        "    - filename: short.gguf\n"
        "      sha256: 2c3a1ef8\n"  # not a sha256: not a pin
        "      uri: https://huggingface.co/acme/short/resolve/main/short.gguf\n"  # line 10
    )
    assert hub_scan({"gallery/index.yaml": gallery}).hits == [
        ("HUB001", "gallery/index.yaml", 7, 12),
        ("HUB001", "gallery/index.yaml", 10, 12),
    ]


def test_comments_of_a_config_in_a_block_scalar_load_nothing(hub_scan):
    config = (
        "config_file: |-\n"
        "    name: pocket-tts\n"
        '    # a voice can be a hub URL (e.g. "hf://kyutai/tts-voices/alba/casual.wav")\n'
        "    voice: hf://acme/voices/casual.wav\n"  # line 4: what the config loads
    )
    assert hub_scan({"gallery/tts.yaml": config}).hits == [("HUB001", "gallery/tts.yaml", 4, 12)]


def test_a_yaml_config_embedded_in_a_block_scalar_is_read_as_yaml(hub_scan):
    """LocalAI's gallery entries hold the backend's config in `config_file: |`; a ConfigMap holds a
    job's config in `config.yaml: |`. Each is YAML to the program that reads it."""
    gallery = (
        "---\n"
        "name: qwen-image\n"
        "config_file: |\n"
        "    backend: diffusers\n"
        "    parameters:\n"
        "      model: acme-ai/image\n"
        "    trust_remote_code: true\n"
    )
    configmap = (
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "data:\n"
        "  config.yaml: |\n"
        "    model_name_or_path: acme-ai/llm\n"
        "  notes.yaml: |\n"
        "    just prose: with a colon, then [ unbalanced\n"
    )
    scan = hub_scan({"gallery/qwen-image.yaml": gallery, "k8s/job-config.yaml": configmap})
    assert scan.hits == [
        ("HUB001", "gallery/qwen-image.yaml", 6, 14),
        ("HUB002", "gallery/qwen-image.yaml", 7, 5),
        ("HUB001", "k8s/job-config.yaml", 5, 25),
    ]


def test_a_registry_entry_served_by_a_remote_provider_names_the_apis_model(hub_scan):
    """llama-stack's run.yaml: `provider_id: nvidia` (a hosted API) serves the model it names; an
    inline provider (`sentence-transformers`, `huggingface`) loads it here, from the hub."""
    run = (
        "models:\n"
        "- model_id: meta/llama-3.1-70b-instruct\n"
        "  provider_id: nvidia\n"
        "- model_id: acme-ai/llama-70b\n"
        "  provider_id: remote::groq\n"
        "- model_id: acme-ai/embedder\n"
        "  provider_id: sentence-transformers\n"
    )
    assert hub_scan({"distributions/run.yaml": run}).hits == [("HUB001", "distributions/run.yaml", 6, 13)]


def test_a_json_schema_describes_settings_and_loads_nothing(hub_scan):
    # truss's `config.schema.json`: its descriptions show the URI format with examples
    schema = (
        '{\n  "$defs": {\n    "WeightsSource": {\n'
        '      "description": "Uses a source URI: hf:// (e.g. \\"hf://acme-ai/llama@main\\")",\n'
        '      "properties": {"source": {"type": "string", "examples": ["hf://acme-ai/llama"]}}\n'
        '    }\n  },\n  "properties": {"weights": {"$ref": "#/$defs/WeightsSource"}}\n}\n'
    )
    meta = '{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "default": {"model": "acme-ai/m"}}\n'
    # a settings file that names the schema it follows is settings
    settings = '{"$schema": "https://json.schemastore.org/acme.json", "type": "serve", "model": "acme-ai/served"}\n'
    scan = hub_scan({"config.schema.json": schema, "meta.json": meta, "serve.json": settings})
    assert scan.hits == [("HUB001", "serve.json", 1, 82)]


def test_an_example_request_in_a_config_names_what_the_server_serves(hub_scan):
    # truss: `model_metadata.example_model_input` is a request shown to users of the deployed model
    config = (
        "model_metadata:\n"
        "  example_model_input: {model: acme-ai/served, input: [[14990, 1052]]}\n"
        "  example_settings: {model: acme-ai/loaded}\n"  # no request: a setting like any other
        "model_name: acme-ai/weights\n"
    )
    assert hub_scan({"config.yaml": config}).hits == [("HUB001", "config.yaml", 3, 29), ("HUB001", "config.yaml", 4, 13)]


def test_mlc_llm_writes_the_hf_scheme_in_capitals(hub_scan):
    # MLC LLM: `HF://ns/name` is cloned at its default branch; its packaging config lists them too
    engine = 'from mlc_llm import MLCEngine\nmodel = "HF://acme-ai/Llama-3-8B-q4f16_1-MLC"\nengine = MLCEngine(model)\n'
    package = '{"model_list": [{"model": "HF://acme-ai/phi-2-q4f16_1-MLC", "model_id": "phi"}, {"model": "./dist/local-MLC"}]}\n'
    scan = hub_scan({"sample.py": engine, "mlc-package-config.json": package})
    assert scan.hits == [("HUB001", "mlc-package-config.json", 1, 28), ("HUB001", "sample.py", 2, 10)]
    assert "MLC LLM clones its default branch" in scan.messages("HUB001")[0]
