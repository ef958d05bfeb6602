"""docker-compose files: images pulled by tag (PIN010)."""

from __future__ import annotations

import pytest

from mlgate import compose

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("docker-compose.yml", True),
        ("deploy/compose.yaml", True),
        ("docker-compose.gpu.yml", True),
        ("compose-dev.yaml", True),
        ("Docker-Compose.YML", True),
        ("composer.json", False),
        ("compose.yaml.bak", False),
        ("config.yaml", False),
    ],
)
def test_matches(path, expected):
    assert compose.matches(path) is expected


def test_images_by_tag_are_reported_at_the_image(scan_tree):
    text = (
        "services:\n"
        "  ray:\n"
        "    image: rayproject/ray:2.9.0-gpu\n"  # line 3
        "  ollama:\n"
        "    image: 'ollama/ollama'\n"  # line 5: quoted, no tag
        "  mlflow:\n"
        f"    image: ghcr.io/mlflow/mlflow:v2.9.2@{DIGEST}\n"  # pinned
        "  trainer:\n"
        "    image: ${TRAINER_IMAGE}\n"  # a variable: not judged
        "  app:\n"
        "    build: .\n"
        "    image: myorg/app:dev\n"  # built here and tagged, not pulled
        "  redis:\n"
        "    image: redis\n"  # line 14
    )
    scan = scan_tree({"docker-compose.yml": text}, select="pins")
    assert scan.errors == []
    assert scan.hits == [
        ("PIN010", "docker-compose.yml", 3, 12),
        ("PIN010", "docker-compose.yml", 5, 13),
        ("PIN010", "docker-compose.yml", 14, 12),
    ]
    assert scan.messages("PIN010")[0] == (
        "image rayproject/ray:2.9.0-gpu is referenced by the tag '2.9.0-gpu', which its publisher "
        "(or whoever takes over the repository) can move"
    )


def test_pinned_images_and_other_yaml_files_are_not_reported(scan_tree):
    pinned = f"services:\n  vllm:\n    image: vllm/vllm-openai:v0.6.0@{DIGEST}\n"
    not_compose = "services:\n  api:\n    image: python:3.11\n"  # a config that happens to look alike
    scan = scan_tree({"compose.yaml": pinned, "config/settings.yaml": not_compose}, select="pins")
    assert (scan.hits, scan.errors) == ([], [])


def test_inline_suppression(scan_tree):
    text = "services:\n  db:\n    # mlgate: ignore[PIN010]\n    image: postgres:16\n"
    scan = scan_tree({"compose.yml": text}, select="pins")
    assert scan.hits == []
