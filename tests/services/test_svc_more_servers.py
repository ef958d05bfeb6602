"""Embedding, LLM and model servers and vector stores of RAG stacks (catalog rows tei, sglang,
llama-cpp, bentoml, mlserver, qdrant, chroma): each reported where it is reachable without its
authentication, and not when the authentication is on or it listens on loopback."""

from __future__ import annotations

import pytest

# key: (image or build, command, published port, the environment that turns authentication on, name, severity)
SERVERS = {
    "tei": ("ghcr.io/huggingface/text-embeddings-inference:cpu-1.5", "", '"8080:80"', "API_KEY: ${KEY}", "Text Embeddings Inference", "medium"),
    "sglang": (
        "lmsysorg/sglang:v0.3.0",
        "python3 -m sglang.launch_server --model-path x/y --host 0.0.0.0",
        '"30000:30000"',
        None,
        "SGLang",
        "medium",
    ),
    "mlserver": ("seldonio/mlserver:1.5.0", "", '"8080:8080"', None, "MLServer", "medium"),
    "qdrant": ("qdrant/qdrant:v1.9.0", "", '"6333:6333"', "QDRANT__SERVICE__API_KEY: ${KEY}", "Qdrant", "high"),
    "chroma": ("chromadb/chroma:0.5.0", "", '"8000:8000"', "CHROMA_SERVER_AUTHN_PROVIDER: chromadb.auth.token_authn.TokenAuthenticationServerProvider", "Chroma", "high"),
}  # fmt: skip


def _compose(image: str, command: str, port: str, environment: str | None) -> str:
    text = f"services:\n  svc:\n    image: {image}\n    ports: [{port}]\n"
    if command:
        text += f"    command: {command}\n"
    if environment:
        text += f"    environment:\n      {environment}\n"
    return text


@pytest.mark.parametrize("key", SERVERS)
def test_each_server_published_without_its_authentication(scan_tree, key):
    image, command, port, _, name, severity = SERVERS[key]
    scan = scan_tree({"docker-compose.yml": _compose(image, command, port, None)}, select="services")
    assert scan.hits == [("SVC001", "docker-compose.yml", 4, 14)]
    assert scan.findings[0].message.startswith(name + " (") and str(scan.findings[0].severity) == severity


@pytest.mark.parametrize("key", SERVERS)
def test_each_server_with_its_authentication_on_or_on_loopback(scan_tree, key):
    image, command, port, environment, _, _ = SERVERS[key]
    loopback = port.replace('"', '"127.0.0.1:', 1)
    files = {"loopback/docker-compose.yml": _compose(image, command, loopback, None)}
    if environment is not None:
        files["auth/docker-compose.yml"] = _compose(image, command, port, environment)
    scan = scan_tree(files, select="services")
    assert scan.hits == []


def test_servers_started_from_scripts(scan_tree):
    script = (
        "#!/bin/sh\n"
        "llama-server -m model.gguf --host 0.0.0.0 --port 8080\n"  # line 2
        'llama-server -m model.gguf --host 0.0.0.0 --api-key "$KEY"\n'
        "llama-server -m model.gguf\n"  # loopback by default
        "bentoml serve service:Svc --host 0.0.0.0\n"  # line 5
        "bentoml serve service:Svc --host 127.0.0.1\n"
        "text-embeddings-router --model-id BAAI/bge-small-en-v1.5 --hostname 0.0.0.0 --api-key $KEY\n"
    )
    scan = scan_tree({"run.sh": script}, select="services")
    assert scan.hits == [("SVC001", "run.sh", 2, 35), ("SVC001", "run.sh", 5, 34)]
    assert scan.messages("SVC001")[1].startswith("BentoML (HTTP API, port 3000)")
