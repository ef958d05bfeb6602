"""Dockerfiles: the service CMD/ENTRYPOINT (or the base image) starts, its binding and EXPOSE."""

from __future__ import annotations

import pytest


def test_explicit_bind_is_reported_at_the_address(scan_tree):
    dockerfile = """\
FROM python:3.11-slim
RUN pip install mlflow==2.9.2
EXPOSE 5000
CMD ["mlflow", "server", "--host", "0.0.0.0", "--port", "5000"]
"""
    scan = scan_tree({"Dockerfile": dockerfile}, select="services")
    assert scan.hits == [("SVC001", "Dockerfile", 4, 37)]
    assert "MLflow (tracking server and model registry, port 5000)" in scan.findings[0].message


def test_default_binding_is_reported_at_expose(scan_tree):
    dockerfile = """\
FROM vllm/vllm-openai:v0.6.0
EXPOSE 8000
ENTRYPOINT ["python3", "-m", "vllm.entrypoints.openai.api_server"]
CMD ["--model", "mistralai/Mistral-7B-v0.1"]
"""
    scan = scan_tree({"docker/Dockerfile.vllm": dockerfile}, select="services")
    assert scan.hits == [("SVC001", "docker/Dockerfile.vllm", 2, 8)]


def test_streamlit_and_gradio_spaces_images(scan_tree):
    streamlit = """\
FROM python:3.11
EXPOSE 8501
ENTRYPOINT ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
"""
    gradio = """\
FROM python:3.11
ENV GRADIO_SERVER_NAME="0.0.0.0" \\
    GRADIO_SERVER_PORT=7860
EXPOSE 7860
CMD ["python", "app.py"]
"""
    scan = scan_tree({"streamlit/Dockerfile": streamlit, "gradio/Dockerfile": gradio}, select="services")
    assert scan.hits == [("SVC001", "gradio/Dockerfile", 2, 25), ("SVC001", "streamlit/Dockerfile", 3, 83)]


NOT_EXPOSED = {
    "loopback": "FROM python:3.11\nEXPOSE 5000\nCMD mlflow server --host 127.0.0.1\n",
    "default loopback": 'FROM python:3.11\nEXPOSE 5000\nCMD ["mlflow", "server"]\n',
    "no expose": 'FROM vllm/vllm-openai:v0.6.0\nCMD ["--model", "x"]\n',
    "api key": 'FROM vllm/vllm-openai:v0.6.0\nEXPOSE 8000\nCMD ["--model", "x", "--api-key", "k"]\n',
    "jupyter token": "FROM jupyter/base-notebook\nEXPOSE 8888\n",
    "unknown program": "FROM python:3.11\nEXPOSE 8000\nCMD uvicorn app:app --host 0.0.0.0\n",
    "earlier stage": 'FROM ollama/ollama AS models\nEXPOSE 11434\nFROM python:3.11\nCMD ["python", "app.py"]\n',
}


@pytest.mark.parametrize("dockerfile", NOT_EXPOSED.values(), ids=NOT_EXPOSED.keys())
def test_not_exposed(scan_tree, dockerfile):
    scan = scan_tree({"Dockerfile": dockerfile}, select="services")
    assert (scan.hits, scan.errors) == ([], [])


def test_shell_form_and_jupyter_config_written_by_run(scan_tree):
    dockerfile = """\
FROM jupyter/base-notebook
RUN echo "c.ServerApp.token = ''" >> /home/jovyan/.jupyter/jupyter_server_config.py
EXPOSE 8888
"""
    ray = """\
FROM rayproject/ray:2.9.0
EXPOSE 8265
CMD ray start --head --dashboard-host=0.0.0.0 \\
    --block
"""
    scan = scan_tree({"Dockerfile": dockerfile, "ray/Dockerfile": ray}, select="services")
    assert scan.hits == [("SVC002", "Dockerfile", 2, 32), ("SVC001", "ray/Dockerfile", 3, 39)]


def test_default_credentials_in_env(scan_tree):
    dockerfile = "FROM minio/minio\nENV MINIO_ROOT_USER=minioadmin MINIO_ROOT_PASSWORD=minioadmin\nEXPOSE 9000\n"
    assert scan_tree({"Dockerfile": dockerfile}, select="services").hits == [("SVC003", "Dockerfile", 2, 52)]


def test_a_port_alone_does_not_identify_a_service(scan_tree):
    # kuberay's dashboard/Dockerfile: a Next.js server on 3000, TGI's port and `PORT` variable, but no TGI
    nextjs = """\
FROM node:20-alpine AS runner
WORKDIR /app
USER nextjs
EXPOSE 3000
ENV PORT=3000
ENV HOSTNAME="0.0.0.0"
CMD ["node", "server.js"]
"""
    tgi = "FROM ghcr.io/huggingface/text-generation-inference:2.0\nEXPOSE 3000\nENV PORT=3000\n"
    scan = scan_tree({"dashboard/Dockerfile": nextjs, "tgi/Dockerfile": tgi}, select="services")
    assert scan.hits == [("SVC001", "tgi/Dockerfile", 2, 8)]
    assert "Text Generation Inference (generation API, port 3000)" in scan.findings[0].message


def test_a_service_named_variable_still_identifies_it(scan_tree):
    gradio = 'FROM python:3.11-slim\nENV GRADIO_SERVER_NAME="0.0.0.0"\nCMD ["python", "app.py"]\n'
    scan = scan_tree({"Dockerfile": gradio}, select="services")
    assert scan.rule_lines == [("SVC001", "Dockerfile", 2)]


def test_torchserve_image_reports_the_management_port_only(scan_tree):
    dockerfile = """\
FROM pytorch/torchserve:0.8.2-cpu
COPY config.properties /home/model-server/
EXPOSE 8080 8081 8082
CMD ["torchserve", "--start", "--ts-config", "/home/model-server/config.properties"]
"""
    inference_only = dockerfile.replace("EXPOSE 8080 8081 8082", "EXPOSE 8080 7070")
    scan = scan_tree({"ts/Dockerfile": dockerfile, "inference/Dockerfile": inference_only}, select="services")
    assert scan.hits == [("SVC001", "ts/Dockerfile", 3, 13)]
    assert "TorchServe (management API, port 8081)" in scan.findings[0].message
