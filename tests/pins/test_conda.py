"""Conda environment files: MatchSpecs, the nested pip list, channels."""

from __future__ import annotations

import pytest

from realcorpus import CORPUS

ENVIRONMENT = """\
name: demo
channels:
  - pytorch
  - http://conda.example.com/channel
  - https://conda.example.com/secure
dependencies:
  - python=3.11.7
  - numpy==1.26.4
  - pytorch=2.1.0=py3.11_cuda12.1_cudnn8.9.2_0
  - conda-forge::scipy=1.11.4
  - cudatoolkit=11.8
  - "pandas>=2"
  - pip
  - pip:
    - torch==2.1.0
    - transformers>=4.40
    - "-e git+https://github.com/x/y.git@main#egg=y"
    - -e .
    - --extra-index-url https://download.pytorch.org/whl/cu121
    - https://example.com/pkg-1.0-py3-none-any.whl
"""


def test_conda_environment(scan_tree):
    scan = scan_tree({"environment.yml": ENVIRONMENT})
    assert scan.hits == [
        ("PIN005", "environment.yml", 4, 5),
        ("PIN001", "environment.yml", 11, 5),
        ("PIN001", "environment.yml", 12, 6),
        ("PIN001", "environment.yml", 16, 7),
        ("PIN002", "environment.yml", 17, 11),
        ("PIN004", "environment.yml", 19, 25),
        ("PIN003", "environment.yml", 20, 7),
    ]
    assert scan.messages("PIN001")[0] == "conda package 'cudatoolkit' is not pinned to one version ('=11.8' allows others)"


def test_pip_entries_follow_requirements_file_rules(scan_tree):
    text = "dependencies:\n  - pip:\n    - torch==2.1.0 --hash=sha256:aa\n    - numpy==1.26.4\n    - -r requirements-extra.txt\n"
    scan = scan_tree({"envs/environment.yml": text, "envs/requirements-extra.txt": "rich\n"}, paths=["envs/environment.yml"])
    assert scan.hits == [("PIN006", "envs/environment.yml", 4, 7), ("PIN001", "envs/requirements-extra.txt", 1, 1)]


def test_pip_entries_without_hash_under_require_hashes(scan_tree):
    text = "dependencies:\n  - python=3.11.7\n  - pip:\n    - torch==2.1.0\n"
    assert scan_tree({"environment.yml": text}, options={"pins": {"require-hashes": True}}).hits == [("PIN007", "environment.yml", 4, 7)]
    assert scan_tree({"environment.yml": text}).hits == []


def test_pip_include_is_followed_and_a_missing_one_skipped(scan_tree):
    text = "dependencies:\n  - pip:\n    - torch\n    - -r missing.txt\n    - -r requirements.txt\n"
    scan = scan_tree({"environment.yml": text, "requirements.txt": "numpy>=1\n"})
    assert scan.hits == [("PIN001", "environment.yml", 3, 7), ("PIN001", "requirements.txt", 1, 1)]
    assert scan.errors == []


def test_python_and_pip_are_the_toolchain_not_dependencies(scan_tree):
    text = (
        "dependencies:\n"
        "  - python\n"
        "  - conda-forge::python>=3.10,<3.13\n"
        "  - pip >=23\n"
        "  - PIP\n"
        "  - python-dateutil\n"  # line 6: a library named like it
        "  - pipx\n"  # line 7
        "  - pip:\n"
        "    - pip\n"  # line 9: pip installing pip from the index is a requirement like any other
        "    - torch>=2\n"  # line 10
    )
    scan = scan_tree({"environment.yml": text})
    assert scan.hits == [
        ("PIN001", "environment.yml", 6, 5),
        ("PIN001", "environment.yml", 7, 5),
        ("PIN001", "environment.yml", 9, 7),
        ("PIN001", "environment.yml", 10, 7),
    ]


def test_pinned_environment_is_clean(scan_tree):
    text = "channels:\n  - conda-forge\n  - nodefaults\ndependencies:\n  - python=3.11.7\n  - pip:\n    - torch==2.1.0\n"
    scan = scan_tree({"environment.yml": text})
    assert (scan.hits, scan.errors) == ([], [])


@pytest.mark.parametrize(
    "name",
    [
        "environment.yml",
        "environment-gpu.yaml",
        "dev-environment.yml",
        "conda.yml",
        "envs/conda-cuda.yaml",
        "env.yml",
        "env-dev.yaml",
        "env_cuda.yml",
    ],
)
def test_conda_file_names(name, scan_tree):
    assert scan_tree({name: "dependencies:\n  - numpy\n"}).hits == [("PIN001", name, 2, 5)]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("config.yaml", "dependencies:\n  - numpy\n"),
        ("environment.yml", "name: not-conda\nvariables:\n  dependencies: none\n"),
        ("env.yml", "dependencies: numpy\n"),
        # aibrix's Helm template of an Envoy proxy config: a name that only starts with "env"
        ("templates/envoy_config.yaml", "{{- if .Values.x }}\ndata:\n  dependencies:\n  - numpy\n{{- end }}\n"),
        ("environment_test.py.yaml.bak", "dependencies:\n  - numpy\n"),
    ],
)
def test_other_yaml_is_not_a_conda_environment(name, text, scan_tree):
    scan = scan_tree({name: text})
    assert (scan.hits, scan.errors) == ([], [])


def test_invalid_yaml_is_an_error_entry(scan_tree):
    scan = scan_tree({"environment.yml": "dependencies: [\n"})
    assert [path for path, _ in scan.errors] == ["environment.yml"]
    assert scan.errors[0][1].startswith("invalid YAML at line 2")


def test_real_environment(scan_tree):
    text = (CORPUS / "CompVis__stable-diffusion/environment.yaml").read_text()
    scan = scan_tree({"environment.yaml": text})
    assert scan.hits == [  # line 7, `pip=20.3`, is the toolchain
        ("PIN001", "environment.yaml", 8, 5),
        ("PIN001", "environment.yaml", 14, 7),
        ("PIN001", "environment.yaml", 17, 7),
        ("PIN001", "environment.yaml", 22, 7),
        ("PIN001", "environment.yaml", 23, 7),
        ("PIN002", "environment.yaml", 29, 10),
        ("PIN002", "environment.yaml", 30, 10),
    ]
