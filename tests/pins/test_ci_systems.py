"""CI files of other systems (Buildkite, GitLab CI, CircleCI, Azure Pipelines, Lightning): commands and images."""

from __future__ import annotations

import pytest

from mlgate.pins import ci_systems

GITLAB = """\
image: python:3.11
services:
  - postgres:15
  - name: redis@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
test:
  image:
    name: $CI_REGISTRY_IMAGE:latest
  before_script:
    - pip install torch
  script:
    - pip install numpy==1.26.4
    - |
      curl -sSL https://example.com/x.sh | sh
  after_script: [pip install -r requirements.txt]
"""
CIRCLECI = """\
version: 2.1
jobs:
  test:
    docker:
      - image: cimg/python:3.11
    steps:
      - checkout
      - run: pip install torch
      - run:
          name: deps
          command: >-
            pip install
            transformers
"""
AZURE = """\
pool:
  vmImage: ubuntu-latest
resources:
  containers:
    - container: py
      image: python:3.11
steps:
  - script: pip install torch
  - bash: |
      pip install numpy
  - task: Bash@3
    inputs:
      targetType: inline
      script: pip install scipy
  - task: PowerShell@2
    inputs:
      script: pip install pandas
"""
LIGHTNING = """\
trigger:
  push: {}
image: pytorchlightning/pytorch_lightning:base-cuda-py3.10
run: |
  pip install lightning
"""
BUILDKITE = """\
steps:
  - label: test
    command: pip install torch
    plugins:
      - docker#v5.9.0:
          image: python:3.11
  - commands:
      - pip install a==1.0
      - git clone https://github.com/x/y
"""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".buildkite/pipeline.yml", True),
        ("sub/.buildkite/release.yaml", True),
        (".gitlab-ci.yml", True),
        (".circleci/config.yml", True),
        ("azure-pipelines.yml", True),
        (".azure-pipelines/build.yml", True),
        (".lightning/workflows/gpu.yaml", True),
        (".buildkite/setup-env.sh", False),
        ("gitlab-ci.yml", False),
        (".circleci/other.yml", False),
        ("pipelines/azure.yml", False),
        (".lightning/other.yml", False),
        ("a/b/.circleci/config.yaml", True),  # under any folder, as fnmatch's `*` reads `/`
        (".buildkite/x.yml/notes.txt", False),  # the piece without the pattern: not a CI file
        ("ci/.gitlab-ci.yml.orig", False),
        ("docs/azure-pipelines.md", False),
    ],
)
def test_matches(path, expected):
    assert ci_systems.matches(path) is expected


def test_gitlab_scripts_and_images(scan_tree):
    scan = scan_tree({".gitlab-ci.yml": GITLAB}, select="pins")
    assert scan.hits == [
        ("PIN010", ".gitlab-ci.yml", 1, 8),
        ("PIN010", ".gitlab-ci.yml", 3, 5),
        ("PIN001", ".gitlab-ci.yml", 9, 19),
        ("PIN011", ".gitlab-ci.yml", 13, 7),
    ]
    # pinned (numpy==, a service by digest), a variable image, a requirements file: nothing


def test_circleci_run_steps_and_docker_images(scan_tree):
    scan = scan_tree({".circleci/config.yml": CIRCLECI}, select="pins")
    assert scan.hits == [
        ("PIN010", ".circleci/config.yml", 5, 16),
        ("PIN001", ".circleci/config.yml", 8, 26),
        ("PIN001", ".circleci/config.yml", 13, 13),
    ]


def test_azure_scripts_shell_tasks_and_container_images(scan_tree):
    scan = scan_tree({"azure-pipelines.yml": AZURE}, select="pins")
    # `vmImage` is a hosted agent, not a container; a PowerShell task's script is not shell
    assert scan.hits == [
        ("PIN010", "azure-pipelines.yml", 6, 14),
        ("PIN001", "azure-pipelines.yml", 8, 25),
        ("PIN001", "azure-pipelines.yml", 10, 19),
        ("PIN001", "azure-pipelines.yml", 14, 27),
    ]


def test_lightning_workflow(scan_tree):
    scan = scan_tree({".lightning/workflows/ci.yml": LIGHTNING}, select="pins")
    assert scan.hits == [("PIN010", ".lightning/workflows/ci.yml", 3, 8), ("PIN001", ".lightning/workflows/ci.yml", 5, 15)]


def test_buildkite_command_commands_and_plugin_images(scan_tree):
    scan = scan_tree({".buildkite/pipeline.yml": BUILDKITE}, select="pins")
    assert scan.hits == [
        ("PIN001", ".buildkite/pipeline.yml", 3, 26),
        ("PIN010", ".buildkite/pipeline.yml", 6, 18),
        ("PIN002", ".buildkite/pipeline.yml", 9, 19),
    ]


def test_pinned_ci_files_are_clean(scan_tree):
    sha = "0123456789abcdef0123456789abcdef01234567"
    digest = "sha256:" + "ab" * 32
    files = {
        ".gitlab-ci.yml": f"image: python:3.11@{digest}\ntest:\n  script:\n    - pip install torch==2.1.0\n",
        ".buildkite/pipeline.yml": f"steps:\n  - commands:\n      - git clone https://github.com/x/y && cd y && git checkout {sha}\n",
        ".circleci/config.yml": "jobs:\n  t:\n    machine:\n      image: ubuntu-2204:current\n    steps:\n      - run: echo pip install\n",
        "azure-pipelines.yml": "pool:\n  vmImage: ubuntu-latest\nsteps:\n  - pwsh: pip install torch\n",
        # a file of the same name outside the CI folders is not read
        "docs/pipeline.yml": "steps:\n  - command: pip install torch\n",
    }
    scan = scan_tree(files, select="pins")
    assert (scan.hits, scan.errors) == ([], [])


def test_gitlab_anchored_script_lists_are_flattened(scan_tree):
    text = ".setup: &setup\n  - pip install torch\ntest:\n  script:\n    - *setup\n    - pip install numpy\nother:\n  script: *setup\n"
    scan = scan_tree({".gitlab-ci.yml": text}, select="pins")
    assert scan.hits == [("PIN001", ".gitlab-ci.yml", 2, 17), ("PIN001", ".gitlab-ci.yml", 6, 19)]  # the anchor once
