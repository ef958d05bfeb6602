"""Shell scripts and GitHub workflow `run:` steps: services bound beyond loopback."""

from __future__ import annotations

SCRIPT = """\
#!/bin/bash
export OLLAMA_HOST=0.0.0.0:11434
ollama serve &
ray start --head --dashboard-host=0.0.0.0 --port=6379
tensorboard --logdir runs --bind_all &
mlflow ui --host 127.0.0.1
nohup jupyter lab --ip=0.0.0.0 --NotebookApp.token='' --no-browser &
vllm serve meta-llama/Llama-3-8B --host 0.0.0.0 --api-key "$KEY"
jupyter lab --ip=0.0.0.0
python -m vllm.entrypoints.openai.api_server --model x --host 0.0.0.0
sudo -E docker run -d minio/minio server /data
bash -c "mlflow server -h 0.0.0.0 -p 5001"
"""


def test_script(scan_tree):
    scan = scan_tree({"scripts/serve.sh": SCRIPT}, select="services")
    assert scan.hits == [
        ("SVC001", "scripts/serve.sh", 2, 20),
        ("SVC001", "scripts/serve.sh", 4, 35),
        ("SVC001", "scripts/serve.sh", 5, 27),
        ("SVC002", "scripts/serve.sh", 7, 52),
        ("SVC001", "scripts/serve.sh", 10, 63),
        ("SVC001", "scripts/serve.sh", 12, 27),
    ]
    assert "port 5001" in scan.findings[-1].message


def test_defaults_on_a_machine_are_not_findings(scan_tree):
    script = "vllm serve m\nstreamlit run app.py\nray start --head\nmlflow server\nOLLAMA_HOST=127.0.0.1 ollama serve\njupyter lab --NotebookApp.token=''\n"
    scan = scan_tree({"run.sh": script, "bin/start": "#!/bin/sh\nray start --head --dashboard-host 127.0.0.1\n"}, select="services")
    assert (scan.hits, scan.errors) == ([], [])


def test_extensionless_script_needs_a_shebang(scan_tree):
    scan = scan_tree(
        {
            "bin/serve": "#!/usr/bin/env bash\nollama serve\nOLLAMA_HOST=0.0.0.0 ollama serve\n",
            "bin/data": "ray start --head --dashboard-host=0.0.0.0\n",
        },
        select="services",
    )
    assert scan.hits == [("SVC001", "bin/serve", 3, 13)]


def test_workflow_run_steps(scan_tree):
    workflow = """\
on: push
env:
  GRADIO_SERVER_NAME: 0.0.0.0
jobs:
  demo:
    runs-on: ubuntu-latest
    steps:
      - run: |
          streamlit run app.py --server.address 0.0.0.0 &
          gradio app.py &
      - run: ray start --head --dashboard-host ${{ env.HOST }}
      - shell: pwsh
        run: tensorboard --logdir runs --bind_all
"""
    scan = scan_tree({".github/workflows/demo.yml": workflow}, select="services")
    assert scan.hits == [("SVC001", ".github/workflows/demo.yml", 3, 23), ("SVC001", ".github/workflows/demo.yml", 9, 49)]


def test_docker_run_publishes_containers(scan_tree):
    script = """\
docker run --gpus all --shm-size 1g -p 8080:80 -v $volume:/data ghcr.io/huggingface/text-generation-inference:2.0 --model-id $model
docker run -d -p 127.0.0.1:8265:8265 rayproject/ray:2.9.0
docker run -it --rm -p 8888:8888 quay.io/jupyter/base-notebook start-notebook.py --IdentityProvider.token=''
docker run -d --network host ollama/ollama
docker run -p 9000:9000 minio/minio server /data
docker run -p 9000:9000 -e "MINIO_ROOT_PASSWORD=minioadmin" minio/minio server /data
podman run -p 8000:8000 vllm/vllm-openai --model x --api-key abc
docker container run -p 8888:8888 quay.io/jupyter/base-notebook
docker run -p 6379:6379 -d redis:7 redis-server --requirepass "$PASS"
docker run --env-file .env -p 9001:9001 minio/minio server /data --console-address :9001
"""
    scan = scan_tree({"run.sh": script}, select="services")
    assert scan.hits == [
        ("SVC001", "run.sh", 1, 40),
        ("SVC002", "run.sh", 3, 107),
        ("SVC001", "run.sh", 4, 25),
        ("SVC003", "run.sh", 5, 25),
        ("SVC003", "run.sh", 6, 49),
    ]


def test_open_webui_started_with_auth_off_on_every_interface(scan_tree):
    script = "export WEBUI_AUTH=False\nopen-webui serve --host 0.0.0.0 --port 8080\n"
    scan = scan_tree({"run.sh": script}, select="services")
    assert [(code, path, line) for code, path, line, _ in scan.hits] == [("SVC002", "run.sh", 1)]


def test_open_webui_with_auth_off_on_loopback_is_not_a_finding(scan_tree):
    script = "export WEBUI_AUTH=False\nopen-webui serve --host 127.0.0.1 --port 8080\n"
    assert scan_tree({"run.sh": script}, select="services").hits == []
