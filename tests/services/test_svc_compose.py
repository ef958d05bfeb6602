"""docker-compose files: published ports, network_mode host, auth settings and auth proxies."""

from __future__ import annotations

import pytest

RAY = """\
services:
  ray-head:
    image: rayproject/ray:2.9.0
    command: ray start --head --dashboard-host=0.0.0.0 --block
    ports:
      - "8265:8265"
      - "127.0.0.1:10001:10001"
      - 6379:6379
      - 8000:8000
"""


def test_ray_published_ports_on_all_interfaces(scan_tree):
    scan = scan_tree({"docker-compose.yml": RAY}, select="services")
    assert scan.hits == [
        ("SVC001", "docker-compose.yml", 6, 10),
        ("SVC001", "docker-compose.yml", 8, 9),
    ]
    assert scan.errors == []
    [dashboard, gcs] = scan.findings
    assert "Ray (dashboard and Jobs API, port 8265)" in dashboard.message and "CVE-2023-48022" in dashboard.message
    assert str(dashboard.severity) == "critical" and "port 6379" in gcs.message


def test_loopback_ports_and_expose_are_not_findings(scan_tree):
    compose = """\
services:
  ray:
    image: rayproject/ray:2.9.0
    ports: ["127.0.0.1:8265:8265", "[::1]:10001:10001"]
    expose: ["6379"]
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.9.2
    ports:
      - target: 5000
        published: 5000
        host_ip: 127.0.0.1
"""
    scan = scan_tree({"compose.yaml": compose}, select="services")
    assert (scan.hits, scan.errors) == ([], [])


def test_long_syntax_and_variables_in_ports(scan_tree):
    compose = """\
services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.9.2
    ports:
      - target: 5000
        published: 5000
  ollama:
    image: ollama/ollama
    ports: ["${OLLAMA_PORT:-11434}:11434", "${BIND:-127.0.0.1}:11435:11434"]
"""
    scan = scan_tree({"docker-compose.yaml": compose}, select="services")
    assert scan.hits == [
        ("SVC001", "docker-compose.yaml", 6, 20),
        ("SVC001", "docker-compose.yaml", 9, 14),
    ]


def test_command_that_binds_loopback_is_not_exposed(scan_tree):
    compose = """\
services:
  mlflow:
    image: python:3.11
    command: mlflow server --host 127.0.0.1
    ports: ["5000:5000"]
"""
    assert scan_tree({"docker-compose.yml": compose}, select="services").hits == []


AUTH_VARIANTS = {
    "vllm api key in command": """\
services:
  llm:
    image: vllm/vllm-openai:v0.6.0
    command: --model mistralai/Mistral-7B-v0.1 --api-key ${VLLM_API_KEY}
    ports: ["8000:8000"]
""",
    "vllm api key in environment": """\
services:
  llm:
    image: vllm/vllm-openai:v0.6.0
    environment:
      - VLLM_API_KEY=${KEY}
    ports: ["8000:8000"]
""",
    "vllm api key passed through from the host": """\
services:
  llm:
    image: vllm/vllm-openai:v0.6.0
    environment:
      - VLLM_API_KEY
    ports: ["8000:8000"]
""",
    "tgi api key in an env_file": """\
services:
  tgi:
    image: ghcr.io/huggingface/text-generation-inference:2.0
    env_file: .env.tgi
    ports: ["8080:80"]
""",
    "torchserve 0.11 and later require a token": """\
services:
  ts:
    image: pytorch/torchserve:0.12.0-gpu
    ports: ["8080:8080", "8081:8081"]
  ts-latest:
    image: pytorch/torchserve
    ports: ["8181:8081"]
""",
    "mlflow basic auth": """\
services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.9.2
    command: ["mlflow", "server", "--host", "0.0.0.0", "--app-name", "basic-auth"]
    ports: ["5000:5000"]
""",
    "redis requirepass": """\
services:
  redis:
    image: redis:7-alpine
    command: redis-server --requirepass "$REDIS_PASSWORD"
    ports: ["6379:6379"]
""",
    "jupyter keeps its token": """\
services:
  lab:
    image: quay.io/jupyter/scipy-notebook:2024-05-27
    ports: ["8888:8888"]
""",
    "tgi api key": """\
services:
  tgi:
    image: ghcr.io/huggingface/text-generation-inference:2.0
    environment:
      API_KEY: ${TGI_KEY}
    ports: ["8080:80"]
""",
    "label studio without open sign-up": """\
services:
  ls:
    image: heartexlabs/label-studio:1.12.0
    environment:
      LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK: "true"
    ports: ["8080:8080"]
""",
    "minio with its own keys": """\
services:
  minio:
    image: minio/minio
    command: server /data --console-address ":9001"
    environment:
      MINIO_ROOT_USER: ml
      MINIO_ROOT_PASSWORD: ${MINIO_ROOT_PASSWORD}
    ports: ["9000:9000", "9001:9001"]
""",
    "gradio behind traefik basic auth": """\
services:
  demo:
    build: .
    environment:
      GRADIO_SERVER_NAME: 0.0.0.0
    labels:
      - traefik.http.routers.demo.middlewares=demo-auth
      - traefik.http.middlewares.demo-auth.basicauth.users=admin:$$apr1$$x
    ports: ["7860:7860"]
""",
}


@pytest.mark.parametrize("compose", AUTH_VARIANTS.values(), ids=AUTH_VARIANTS.keys())
def test_authenticated_services_are_not_findings(scan_tree, compose):
    scan = scan_tree({"docker-compose.yml": compose}, select="services")
    assert (scan.hits, scan.errors) == ([], [])


def test_service_fronted_by_an_auth_proxy_is_not_a_finding(scan_tree):
    compose = """\
services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.9.2
    command: mlflow server --host 0.0.0.0
    ports: ["5000:5000"]
  oauth2-proxy:
    image: quay.io/oauth2-proxy/oauth2-proxy:v7.6.0
    command: --upstream=http://mlflow:5000 --http-address=0.0.0.0:4180
    ports: ["4180:4180"]
"""
    assert scan_tree({"docker-compose.yml": compose}, select="services").hits == []


def test_a_proxy_that_fronts_another_service_does_not_cover_this_one(scan_tree):
    compose = """\
services:
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.9.2
    ports: ["5000:5000"]
  proxy:
    image: quay.io/oauth2-proxy/oauth2-proxy:v7.6.0
    command: --upstream=http://grafana:3000
"""
    assert scan_tree({"docker-compose.yml": compose}, select="services").hits == [("SVC001", "docker-compose.yml", 4, 14)]


EXPOSED = {
    "ollama": ("ollama/ollama:0.3.0", '"11434:11434"', "Ollama", "high"),
    "vllm": ("vllm/vllm-openai:v0.6.0", '"8000:8000"', "vLLM", "medium"),
    "tgi": ("ghcr.io/huggingface/text-generation-inference:2.0", '"8080:80"', "Text Generation Inference", "medium"),
    "triton": ("nvcr.io/nvidia/tritonserver:24.05-py3", '"8001:8001"', "Triton Inference Server", "high"),
    "label-studio": ("heartexlabs/label-studio:1.12.0", '"8080:8080"', "Label Studio", "high"),
    "redis": ("redis:7", '"6379:6379"', "Redis", "critical"),
    "torchserve": ("pytorch/torchserve:0.8.2-cpu", '"8081:8081"', "TorchServe", "critical"),
}


@pytest.mark.parametrize("key", EXPOSED)
def test_each_service_published_without_auth(scan_tree, key):
    image, port, name, severity = EXPOSED[key]
    compose = f"services:\n  svc:\n    image: {image}\n    ports: [{port}]\n"
    scan = scan_tree({"docker-compose.yml": compose}, select="services")
    assert scan.hits == [("SVC001", "docker-compose.yml", 4, 14)]
    assert scan.findings[0].message.startswith(name + " (") and str(scan.findings[0].severity) == severity


def test_services_recognised_by_their_command(scan_tree):
    compose = """\
services:
  board:
    image: python:3.11
    command: ["tensorboard", "--logdir", "/logs", "--bind_all"]
    ports: ["6006:6006"]
  app:
    build: .
    command: streamlit run app.py
    ports: ["8501:8501"]
  demo:
    build: .
    environment:
      - GRADIO_SERVER_NAME=0.0.0.0
    ports: ["7860:7860"]
  worker:
    image: python:3.11
    command: ["/bin/sh", "-c", "pip install ray && ray start --head --dashboard-host 0.0.0.0 --block"]
    ports: ["8265:8265"]
"""
    scan = scan_tree({"docker-compose.yml": compose}, select="services")
    assert scan.hits == [
        ("SVC001", "docker-compose.yml", 5, 14),
        ("SVC001", "docker-compose.yml", 9, 14),
        ("SVC001", "docker-compose.yml", 14, 14),
        ("SVC001", "docker-compose.yml", 18, 14),
    ]


def test_triton_port_range_reports_each_api_but_not_metrics(scan_tree):
    compose = 'services:\n  triton:\n    image: nvcr.io/nvidia/tritonserver:24.05-py3\n    ports: ["8000-8002:8000-8002"]\n'
    scan = scan_tree({"docker-compose.yml": compose}, select="services")
    assert scan.hits == [("SVC001", "docker-compose.yml", 4, 14), ("SVC001", "docker-compose.yml", 4, 14)]
    assert ["port 8000" in m for m in scan.messages("SVC001")] == [True, False]


def test_network_mode_host(scan_tree):
    compose = """\
services:
  ollama:
    image: ollama/ollama
    network_mode: host
"""
    assert scan_tree({"docker-compose.yml": compose}, select="services").hits == [("SVC001", "docker-compose.yml", 4, 19)]


def test_auth_disabled_is_reported_once_at_the_setting(scan_tree):
    compose = """\
services:
  nb:
    image: jupyter/base-notebook
    command: start-notebook.sh --NotebookApp.token='' --NotebookApp.password=''
    ports: ["8888:8888"]
  ts:
    image: pytorch/torchserve:0.11.0-cpu
    command: torchserve --start --disable-token-auth --ncs
    ports: ["8080:8080", "8081:8081"]
  cache:
    image: redis:7
    command: ["redis-server", "--protected-mode", "no"]
    ports: ["6379:6379"]
  nb-loopback:
    image: jupyter/base-notebook
    command: start-notebook.sh --NotebookApp.token=''
    ports: ["127.0.0.1:8889:8888"]
"""
    scan = scan_tree({"docker-compose.yml": compose}, select="services")
    assert scan.hits == [
        ("SVC002", "docker-compose.yml", 4, 52),
        ("SVC002", "docker-compose.yml", 8, 33),
        ("SVC002", "docker-compose.yml", 12, 52),
    ]
    assert [str(f.severity) for f in scan.findings] == ["critical", "critical", "critical"]


def test_empty_jupyter_token_variable(scan_tree):
    compose = 'services:\n  nb:\n    image: jupyter/base-notebook\n    environment:\n      JUPYTER_TOKEN: ""\n    ports: ["8888:8888"]\n'
    assert scan_tree({"docker-compose.yml": compose}, select="services").hits == [("SVC002", "docker-compose.yml", 5, 23)]


def test_default_credentials(scan_tree):
    compose = """\
services:
  minio:
    image: minio/minio
    command: server /data
    environment:
      MINIO_ROOT_USER: minioadmin
      MINIO_ROOT_PASSWORD: minioadmin
    ports: ["127.0.0.1:9000:9000"]
  minio-open:
    image: bitnami/minio:2024
    ports: ["9001:9001"]
  mlflow:
    image: ghcr.io/mlflow/mlflow:v2.9.2
    environment:
      - AWS_SECRET_ACCESS_KEY=minioadmin
"""
    scan = scan_tree({"docker-compose.yml": compose}, select="services")
    # the MinIO servers accept them; MLflow only holds the same string to connect to MinIO
    assert scan.hits == [("SVC003", "docker-compose.yml", 7, 28), ("SVC003", "docker-compose.yml", 10, 12)]


def test_multi_document_and_bad_yaml(scan_tree):
    scan = scan_tree({"docker-compose.yml": RAY + "---\nservices: {}\n", "compose.override.yml": "services: [\n"}, select="services")
    assert scan.rule_lines == [("SVC001", "docker-compose.yml", 6), ("SVC001", "docker-compose.yml", 8)]
    assert scan.errors == [("compose.override.yml", "invalid YAML at line 2: did not find expected node content")]


def test_custom_image_named_after_a_service_on_its_own_port(scan_tree):
    compose = """\
services:
  mlflow:
    build: ./mlflow
    ports: ["5000:5000"]
  mlflow-ui:
    build: ./ui
    ports: ["8080:8080"]
  tracking:
    image: acme/mlflow-server:1.2
    ports: ["127.0.0.1:5001:5000"]
  ray-head:
    build: ./ray
    command: ./start-head.sh
    ports: ["8265:8265"]
"""
    assert scan_tree({"docker-compose.yml": compose}, select="services").hits == [
        ("SVC001", "docker-compose.yml", 4, 14),
        ("SVC001", "docker-compose.yml", 14, 14),
    ]


def test_compose_file_under_another_name(scan_tree):
    stack = 'version: "3.8"\nservices:\n  redis:\n    image: redis:7\n    ports: ["6379:6379"]\n'
    scan = scan_tree({"deploy/stack.yml": stack, "deploy/other.yml": "services:\n  - a\n"}, select="services")
    assert scan.hits == [("SVC001", "deploy/stack.yml", 5, 14)]


def test_ray_with_mutual_tls_reports_only_its_dashboard(scan_tree):
    compose = """\
services:
  ray-head:
    image: rayproject/ray:2.52.0
    command: ray start --head --dashboard-host=0.0.0.0 --block
    environment:
      RAY_USE_TLS: "1"
      RAY_TLS_SERVER_CERT: /tls/server.crt
      RAY_TLS_SERVER_KEY: /tls/server.key
      RAY_TLS_CA_CERT: /tls/ca.crt
    ports: ["10001:10001", "6379:6379", "8265:8265"]
"""
    without_tls = compose.replace('RAY_USE_TLS: "1"', 'RAY_USE_TLS: "0"')
    scan = scan_tree({"tls/docker-compose.yml": compose, "plain/docker-compose.yml": without_tls}, select="services")
    assert scan.hits == [
        ("SVC001", "plain/docker-compose.yml", 10, 14),
        ("SVC001", "plain/docker-compose.yml", 10, 29),
        ("SVC001", "plain/docker-compose.yml", 10, 42),
        ("SVC001", "tls/docker-compose.yml", 10, 42),
    ]


OPEN_WEBUI = """\
services:
  webui:
    image: ghcr.io/open-webui/open-webui:main
    ports: ["3000:8080"]
    environment:
      WEBUI_AUTH: "{auth}"
"""


def test_open_webui_with_auth_off_is_reported_at_the_switch(scan_tree):
    scan = scan_tree({"docker-compose.yml": OPEN_WEBUI.format(auth="False")}, select="services")
    assert [(code, path, line) for code, path, line, _ in scan.hits] == [("SVC002", "docker-compose.yml", 6)]
    assert "Open WebUI" in scan.findings[0].message


def test_open_webui_with_auth_on_is_not_a_finding(scan_tree):
    scan = scan_tree({"docker-compose.yml": OPEN_WEBUI.format(auth="True")}, select="services")
    assert scan.hits == []


def test_node_ui_with_hostname_on_port_3000_is_not_tgi(scan_tree):
    compose = """\
services:
  ui:
    image: node:20-alpine
    command: node server.js
    ports: ["3000:3000"]
    environment:
      HOSTNAME: 0.0.0.0
      PORT: "3000"
"""
    scan = scan_tree({"docker-compose.yml": compose}, select="services")
    assert scan.hits == []


TRITON = """\
services:
  triton:
    image: nvcr.io/nvidia/tritonserver:24.05-py3
    command: tritonserver --model-repository=/models{mode}
    ports: ["8000:8000"]
"""


def test_triton_with_model_control_open_is_critical(scan_tree):
    scan = scan_tree({"docker-compose.yml": TRITON.format(mode=" --model-control-mode=explicit")}, select="services")
    assert [(code, path, line) for code, path, line, _ in scan.hits] == [("SVC001", "docker-compose.yml", 5)]
    assert str(scan.findings[0].severity) == "critical" and "--model-control-mode" in scan.findings[0].message


def test_triton_without_model_control_stays_high(scan_tree):
    scan = scan_tree({"docker-compose.yml": TRITON.format(mode="")}, select="services")
    assert [(code, path, line) for code, path, line, _ in scan.hits] == [("SVC001", "docker-compose.yml", 5)]
    assert str(scan.findings[0].severity) == "high"
