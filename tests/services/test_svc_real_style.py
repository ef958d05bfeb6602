"""Whole deployment files as projects write them: every exposed service, no loopback-only one."""

from __future__ import annotations

MLFLOW_STACK = """\
version: "3.8"
services:
  postgres:
    image: postgres:15
    environment:
      POSTGRES_USER: mlflow
      POSTGRES_PASSWORD: mlflow
  minio:
    image: minio/minio:latest
    command: server /data --console-address ":9001"
    environment:
      MINIO_ROOT_USER: ${MINIO_ROOT_USER:-minioadmin}
      MINIO_ROOT_PASSWORD: ${MINIO_ROOT_PASSWORD:-minioadmin}
    ports:
      - "127.0.0.1:9000:9000"
      - "127.0.0.1:9001:9001"
  mlflow:
    build:
      context: ./mlflow
    depends_on: [postgres, minio]
    environment:
      MLFLOW_S3_ENDPOINT_URL: http://minio:9000
      AWS_ACCESS_KEY_ID: minioadmin
      AWS_SECRET_ACCESS_KEY: minioadmin
    command: >
      mlflow server
      --backend-store-uri postgresql://mlflow:mlflow@postgres/mlflow
      --default-artifact-root s3://mlflow/
      --host 0.0.0.0
    ports:
      - "5000:5000"
"""

OPEN_WEBUI = """\
services:
  ollama:
    image: ollama/ollama:${OLLAMA_DOCKER_TAG-latest}
    volumes:
      - ollama:/root/.ollama
    restart: unless-stopped
  open-webui:
    image: ghcr.io/open-webui/open-webui:main
    depends_on: [ollama]
    ports:
      - ${OPEN_WEBUI_PORT-3000}:8080
    environment:
      - 'OLLAMA_BASE_URL=http://ollama:11434'
volumes:
  ollama: {}
"""

TRITON = """\
FROM nvcr.io/nvidia/tritonserver:24.01-py3
COPY model_repository /models
EXPOSE 8000 8001 8002
CMD ["tritonserver", "--model-repository=/models", "--model-control-mode=explicit"]
"""

VLLM_CLUSTER_IP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: vllm-server, namespace: llm}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: vllm}}
  template:
    metadata: {labels: {app.kubernetes.io/name: vllm}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.5.4
          command: ["python3", "-m", "vllm.entrypoints.openai.api_server"]
          args: ["--model=meta-llama/Meta-Llama-3-8B-Instruct", "--host=0.0.0.0"]
          ports: [{containerPort: 8000}]
---
apiVersion: v1
kind: Service
metadata: {name: vllm-server, namespace: llm}
spec:
  type: ClusterIP
  selector: {app.kubernetes.io/name: vllm}
  ports: [{name: http, port: 80, targetPort: 8000}]
"""


def test_mlflow_stack(scan_tree):
    scan = scan_tree({"docker-compose.yml": MLFLOW_STACK}, select="services")
    # the default password is reported at the MinIO server, not at MLflow, its client
    assert scan.hits == [("SVC003", "docker-compose.yml", 13, 28), ("SVC001", "docker-compose.yml", 31, 10)]


def test_ollama_behind_open_webui_is_not_published(scan_tree):
    scan = scan_tree({"docker-compose.yaml": OPEN_WEBUI}, select="services")
    assert (scan.hits, scan.errors) == ([], [])


def test_triton_image_exposes_http_and_grpc_but_not_metrics(scan_tree):
    scan = scan_tree({"Dockerfile": TRITON}, select="services")
    assert scan.hits == [("SVC001", "Dockerfile", 3, 8), ("SVC001", "Dockerfile", 3, 13)]


def test_cluster_ip_inference_server_is_not_exposed(scan_tree):
    scan = scan_tree({"k8s/vllm.yaml": VLLM_CLUSTER_IP}, select="services")
    assert (scan.hits, scan.errors) == ([], [])
