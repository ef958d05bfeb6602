"""GitHub workflows and actions: `uses:` at a commit, images by digest, `run:` commands."""

from __future__ import annotations

import pytest

from mlgate.pins import workflows
from realcorpus import corpus_text

SHA = "0123456789abcdef0123456789abcdef01234567"
DIGEST = "sha256:" + "ab" * 32
WF = ".github/workflows/ci.yml"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".github/workflows/ci.yml", True),
        (".github/workflows/release.yaml", True),
        ("sub/project/.github/workflows/ci.yml", True),
        (".github/actions/setup/action.yml", True),
        ("action.yaml", True),
        (".github/workflows/README.md", False),
        (".github/dependabot.yml", False),
        ("workflows/ci.yml", False),
    ],
)
def test_matches(path, expected):
    assert workflows.matches(path) is expected


def test_uses_must_be_a_full_commit(scan_tree):
    text = f"""on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@{SHA} # v5
      - uses: "actions/cache@v4"
      - uses: ./.github/actions/local
      - uses: docker://alpine:3.19
      - uses: docker://alpine@{DIGEST}
      - uses: github/codeql-action/init@0123456
      - uses: some/action
  call:
    uses: org/shared/.github/workflows/build.yml@main
  local:
    uses: ./.github/workflows/other.yml
"""
    scan = scan_tree({WF: text}, select="pins")
    assert scan.hits == [
        ("PIN020", WF, 6, 15),
        ("PIN020", WF, 8, 16),
        ("PIN010", WF, 10, 24),
        ("PIN020", WF, 12, 15),
        ("PIN020", WF, 13, 15),
        ("PIN020", WF, 15, 11),
    ]
    assert scan.messages("PIN020")[0] == (
        "action actions/checkout is used at 'v4', a tag or branch its owner (or whoever takes over the account) can move"
    )
    assert scan.messages("PIN020")[-1].startswith("reusable workflow org/shared/.github/workflows/build.yml is used at 'main'")


def test_allowed_action_owners(scan_tree):
    text = "jobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n      - uses: other/tool@v1\n"
    scan = scan_tree({WF: text}, select="pins", options={"pins": {"allowed-action-owners": ["Actions"]}})
    assert scan.hits == [("PIN020", WF, 5, 15)]


def test_container_and_service_images(scan_tree):
    text = f"""jobs:
  a:
    container: python:3.11
    services:
      db:
        image: postgres:16
      cache:
        image: redis@{DIGEST}
  b:
    container:
      image: ${{{{ inputs.image }}}}
  c:
    container:
      image: ghcr.io/org/builder
"""
    assert scan_tree({WF: text}, select="pins").hits == [
        ("PIN010", WF, 3, 16),
        ("PIN010", WF, 6, 16),
        ("PIN010", WF, 14, 14),
    ]


def test_matrix_images_are_resolved(scan_tree):
    text = f"""jobs:
  a:
    strategy:
      matrix:
        config:
          - image: org/cpu
          - image: org/gpu@{DIGEST}
    container:
      image: ${{{{ matrix.config.image }}}}
  b:
    strategy:
      matrix:
        py: ["3.10", "3.11"]
    container:
      image: org/builder:py${{{{ matrix.py }}}}
  c:
    strategy:
      matrix: ${{{{ fromJSON(needs.prepare.outputs.matrix) }}}}
    container:
      image: ${{{{ matrix.container }}}}
"""
    scan = scan_tree({WF: text}, select="pins")
    assert scan.hits == [("PIN010", WF, 6, 20), ("PIN010", WF, 15, 14)]
    assert scan.messages("PIN010")[1].endswith("(with matrix.py = 3.10)")


def test_run_blocks_are_analysed_at_their_file_positions(scan_tree):
    text = """jobs:
  a:
    runs-on: ubuntu-latest
    env:
      PIP_EXTRA_INDEX_URL: https://pypi.example/simple
    steps:
      - run: pip install torch
      - name: deps
        run: |
          python -m pip install -U pip
          pip install torch==${{ matrix.torch }} \\
            "numpy<2"
          curl -fsSL https://get.example/i.sh | sudo -E bash -
      - shell: python
        run: |
          import subprocess
          subprocess.run("pip install x", shell=True)  # python, not shell
      - shell: bash -l {0}
        run: pip install scipy
      - run: >
          pip install
          pandas
"""
    assert scan_tree({WF: text}, select="pins").hits == [
        ("PIN004", WF, 5, 7),
        ("PIN001", WF, 7, 26),
        ("PIN001", WF, 10, 36),
        ("PIN001", WF, 12, 14),
        ("PIN011", WF, 13, 11),
        ("PIN001", WF, 19, 26),
        ("PIN001", WF, 22, 11),
    ]


def test_non_posix_shells_are_skipped(scan_tree):
    text = """defaults:
  run:
    shell: pwsh
jobs:
  pwsh:
    steps:
      - run: pip install a
  job-bash:
    defaults:
      run:
        shell: bash
    steps:
      - run: pip install d
"""
    windows = """jobs:
  windows:
    runs-on: [self-hosted, Windows]
    steps:
      - run: pip install b
      - shell: bash
        run: pip install c
  linux:
    runs-on: ubuntu-latest
    steps:
      - run: pip install e
"""
    scan = scan_tree({WF: text, ".github/workflows/win.yml": windows}, select="pins")
    assert scan.hits == [
        ("PIN001", WF, 13, 26),
        ("PIN001", ".github/workflows/win.yml", 7, 26),
        ("PIN001", ".github/workflows/win.yml", 11, 26),
    ]


def test_clone_and_checkout_in_later_step_of_the_same_job(scan_tree):
    text = f"""jobs:
  a:
    steps:
      - run: git clone https://github.com/o/r.git
      - run: cd r && git checkout {SHA}
  b:
    steps:
      - run: git clone https://github.com/o/s.git
  c:
    steps:
      - run: cd s && git checkout {SHA}
"""
    assert scan_tree({WF: text}, select="pins").hits == [("PIN002", WF, 8, 24)]


def test_composite_and_docker_actions(scan_tree):
    composite = """name: setup
runs:
  using: composite
  steps:
    - uses: actions/setup-python@v5
    - shell: bash
      run: |
        pip install uv
"""
    docker = "runs:\n  using: docker\n  image: docker://ghcr.io/org/tool:1.0\n"
    local = "runs:\n  using: docker\n  image: Dockerfile\n"
    scan = scan_tree({"a/action.yml": composite, "b/action.yaml": docker, "c/action.yml": local}, select="pins")
    assert scan.hits == [
        ("PIN020", "a/action.yml", 5, 13),
        ("PIN001", "a/action.yml", 8, 21),
        ("PIN010", "b/action.yaml", 3, 19),
    ]


def test_aliases_are_visited_once(scan_tree):
    anchor = "x: &steps\n  - run: pip install torch\n  - uses: actions/checkout@v4\n"
    jobs = "".join(f"  j{i}:\n    steps: *steps\n" for i in range(2000))
    scan = scan_tree({WF: anchor + "jobs:\n" + jobs}, select="pins")
    assert scan.hits == [("PIN001", WF, 2, 22), ("PIN020", WF, 3, 11)]


def test_invalid_yaml_is_an_error_entry(scan_tree):
    scan = scan_tree({WF: "jobs: [unclosed\n"}, select="pins")
    assert scan.hits == []
    assert [path for path, _ in scan.errors] == [WF]


def test_corpus_detectron2_workflow(scan_tree):
    text = corpus_text("facebookresearch__detectron2/.github/workflows/workflow.yml")
    scan = scan_tree({WF: text}, select="pins")
    not_actions = [hit for hit in scan.hits if hit[0] != "PIN020"]
    assert not_actions == [
        ("PIN001", WF, 23, 43),  # python -m pip install --upgrade pip
        ("PIN001", WF, 69, 36),  # python -m pip install -U pip
        ("PIN001", WF, 70, 33),  # wheel
        ("PIN001", WF, 70, 39),  # ninja
        ("PIN001", WF, 70, 45),  # opencv-python-headless
        ("PIN001", WF, 70, 68),  # onnx
        ("PIN001", WF, 70, 73),  # pytest-xdist
        ("PIN002", WF, 73, 37),  # 'git+https://github.com/facebookresearch/iopath'
        ("PIN002", WF, 74, 37),  # 'git+https://github.com/facebookresearch/fvcore'
        ("PIN011", WF, 75, 11),  # wget .../collect_env.py && python collect_env.py
    ]
    # torch==${{matrix.torch}} (line 71) is pinned by the matrix; local actions are skipped.
    assert len([hit for hit in scan.hits if hit[0] == "PIN020"]) == 13


def test_corpus_pinned_workflow_reports_nothing(scan_tree):
    text = corpus_text("Lightning-AI__pytorch-lightning/.github/workflows/call-clear-cache.yml")
    assert scan_tree({WF: text}, select="pins").hits == []


def test_folded_run_blocks_are_read_like_literal_ones(scan_tree):
    text = """on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: >-
          pip install
          torch
      - run: >
          pip install numpy==1.26.4

          pip install scipy
      - run: |-
          pip install
          echo pandas
"""
    scan = scan_tree({WF: text}, select="pins")
    # `pip install\\npandas` in a literal block is two commands: pip installs nothing named there
    assert scan.hits == [("PIN001", WF, 8, 11), ("PIN001", WF, 12, 23)]


def test_uses_as_a_block_scalar_is_read_without_its_newline(scan_tree):
    text = f"""on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: |
          actions/checkout@{SHA}
      - uses: >-
          actions/setup-python@v5
"""
    assert scan_tree({WF: text}, select="pins").hits == [("PIN020", WF, 9, 11)]
