"""SVC003 in test data: a throwaway instance's default credentials are not reported; deployable files are."""

from __future__ import annotations

import pytest

from mlgate.services.report import in_test_data

_MANIFEST = """\
apiVersion: v1
kind: Pod
metadata: {name: minio}
spec:
  containers:
    - name: minio
      image: quay.io/minio/minio:RELEASE.2024-01-01T00-00-00Z
      env:
        - name: MINIO_ROOT_PASSWORD
          value: minioadmin
"""
_COMPOSE = """\
services:
  minio:
    image: minio/minio
    command: server /data
    ports: ["9000:9000"]
    environment:
      MINIO_ROOT_PASSWORD: minioadmin
"""


def test_default_credentials_in_deployable_manifests_are_reported(scan_tree):
    scan = scan_tree(
        {
            "historyserver/config/raycluster.yaml": _MANIFEST,
            "deploy/docker-compose.yml": _COMPOSE,
            "chart/templates/tests/test-connection.yaml": _MANIFEST,  # Helm tests run in the release
            "latest/Dockerfile": "FROM minio/minio\nENV MINIO_ROOT_PASSWORD=minioadmin\n",
        },
        select="services",
    )
    assert [hit for hit in scan.hits if hit[0] == "SVC003"] == [
        ("SVC003", "chart/templates/tests/test-connection.yaml", 10, 18),
        ("SVC003", "deploy/docker-compose.yml", 7, 28),
        ("SVC003", "historyserver/config/raycluster.yaml", 10, 18),
        ("SVC003", "latest/Dockerfile", 2, 25),
    ]


def test_default_credentials_in_test_data_are_not_reported(scan_tree):
    scan = scan_tree(
        {
            "historyserver/test/testdata/raycluster.yaml": _MANIFEST,
            "tests/e2e/docker-compose.yml": _COMPOSE,
            "pkg/fixtures/.env": "MINIO_ROOT_PASSWORD=minioadmin\n",
            "Test/Dockerfile": "FROM minio/minio\nENV MINIO_ROOT_PASSWORD=minioadmin\n",
            "tests/minio.yml": "services:\n  minio:\n    image: minio/minio\n    ports: ['9000:9000']\n",
        },
        select="services",
    )
    assert scan.hits == []


def test_exposure_in_test_data_is_still_reported(scan_tree):
    # only the throwaway credential is left alone: SVC001/SVC002 do not depend on the path
    compose = "services:\n  ollama:\n    image: ollama/ollama\n    ports: ['11434:11434']\n"
    scan = scan_tree({"tests/docker-compose.yml": compose}, select="services")
    assert scan.hits == [("SVC001", "tests/docker-compose.yml", 4, 14)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("test/a.yaml", True),
        ("a/tests/b/c.yaml", True),
        ("x/testdata/c.yaml", True),
        ("x/fixtures/.env", True),
        ("chart/templates/tests/t.yaml", False),
        ("tests.yaml", False),
        ("latest/a.yaml", False),
        ("contest/a.yaml", False),
        ("deploy/test-values.yaml", False),
    ],
)
def test_test_fixture_paths(path, expected):
    assert in_test_data(path) is expected


_FAKE_SERVER = """\
import argparse
import torch
import uvicorn
from fastapi import FastAPI

app = FastAPI()
model = torch.jit.load("model.pt")
parser = argparse.ArgumentParser()
parser.add_argument("--host", default="0.0.0.0")
args = parser.parse_args()
uvicorn.run(app, host=args.host)
"""


def test_a_model_app_in_a_test_folder_is_a_fake_server_elsewhere_it_is_reported(scan_tree):
    # production-stack's `src/tests/perftest/fake-openai-server.py`: a test's stand-in, never deployed.
    scan = scan_tree({"src/tests/perftest/fake_server.py": _FAKE_SERVER, "src/serve.py": _FAKE_SERVER}, select="services")
    assert scan.hits == [("SVC001", "src/serve.py", 9, 40)]
