"""PIN010 judged from the repository: the project's own images and its local builds are not pulled
from someone else, so they are not reported; third-party images at a tag still are."""

from __future__ import annotations

import pytest

from mlgate.pins import local_builds

GIT_CONFIG = '[core]\n\tbare = false\n[remote "origin"]\n\turl = git@github.com:ray-project/kuberay.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n'

VALUES = """\
image:
  repository: rayproject/ray
  tag: 2.52.0
head:
  image: rayproject/ray-llm:2.52.0-py311-cu128
operator:
  image: quay.io/kuberay/operator:nightly
redis:
  image: redis:7
demo:
  image: iamlovingit/bgtest:latest
cache:
  image: lmcache/vllm-openai:latest
"""
THIRD_PARTY = [
    ("PIN010", "kuberay/helm-chart/values.yaml", 9, 10),
    ("PIN010", "kuberay/helm-chart/values.yaml", 11, 10),
    ("PIN010", "kuberay/helm-chart/values.yaml", 13, 10),
]
DOCKERFILE = "FROM rayproject/ray:nightly-gpu AS base\nFROM golang:1.25\n"
WORKFLOW = (
    "on: push\njobs:\n  e2e:\n    runs-on: ubuntu-latest\n    container: rayproject/ray:2.52.0\n"
    "    services:\n      redis:\n        image: redis:7\n    steps:\n      - uses: actions/checkout@v4\n"
)


def _kuberay(git_config: str = GIT_CONFIG) -> dict[str, str]:
    return {
        "kuberay/.git/config": git_config,
        "kuberay/helm-chart/values.yaml": VALUES,
        "kuberay/Dockerfile": DOCKERFILE,
        "kuberay/.github/workflows/e2e.yml": WORKFLOW,
    }


def test_first_party_images_are_not_reported_third_party_ones_are(scan_tree):
    # origin is ray-project/kuberay: `rayproject/...` (the owner, normalised) and `quay.io/kuberay/...`
    # (the repository) are the project's; redis, iamlovingit and lmcache are someone else's.
    scan = scan_tree(_kuberay(), select="pins")
    assert scan.hits == [
        ("PIN010", "kuberay/.github/workflows/e2e.yml", 8, 16),
        ("PIN020", "kuberay/.github/workflows/e2e.yml", 10, 15),
        ("PIN010", "kuberay/Dockerfile", 2, 6),
        *THIRD_PARTY,
    ]


def test_without_a_remote_only_the_folder_name_is_known(scan_tree):
    # No origin: `ray-project` is unknown, so `rayproject/...` is reported; the repository folder
    # is still called kuberay.
    scan = scan_tree(_kuberay(git_config="[core]\n\tbare = false\n"), select="PIN010")
    assert scan.hits == [
        ("PIN010", "kuberay/.github/workflows/e2e.yml", 5, 16),
        ("PIN010", "kuberay/.github/workflows/e2e.yml", 8, 16),
        ("PIN010", "kuberay/Dockerfile", 1, 6),
        ("PIN010", "kuberay/Dockerfile", 2, 6),
        ("PIN010", "kuberay/helm-chart/values.yaml", 3, 8),
        ("PIN010", "kuberay/helm-chart/values.yaml", 5, 10),
        *THIRD_PARTY,
    ]


def test_report_first_party_images_turns_them_back_on(scan_tree):
    scan = scan_tree(_kuberay(), select="PIN010", options={"pins": {"report-first-party-images": True}})
    assert [hit for hit in scan.hits if hit[1].endswith("values.yaml")] == [
        ("PIN010", "kuberay/helm-chart/values.yaml", 3, 8),
        ("PIN010", "kuberay/helm-chart/values.yaml", 5, 10),
        ("PIN010", "kuberay/helm-chart/values.yaml", 7, 10),
        *THIRD_PARTY,
    ]


def test_first_party_namespaces_adds_namespaces(scan_tree):
    scan = scan_tree(_kuberay(), select="PIN010", options={"pins": {"first-party-namespaces": ["LMCache", "docker.io/iamlovingit"]}})
    assert [hit for hit in scan.hits if hit[1].endswith("values.yaml")] == [("PIN010", "kuberay/helm-chart/values.yaml", 9, 10)]


def test_first_party_namespaces_is_a_list_option(scan_tree):
    from mlgate.config import ConfigError

    with pytest.raises(ConfigError, match="first-party-namespaces"):
        scan_tree({".mlgate.yaml": "pins:\n  first-party-namespaces: 3\n"}, select="PIN010")


def test_official_images_and_library_are_never_first_party(scan_tree):
    # A project called `python` or owned by `library` does not own Docker's official images.
    files = {
        "python/.git/config": '[remote "origin"]\n\turl = https://github.com/library/python.git\n',
        "python/Dockerfile": "FROM python:3.12\nFROM docker.io/library/python:3.12\nFROM library/python:3.12\n",
    }
    assert scan_tree(files, select="PIN010").rule_lines == [
        ("PIN010", "python/Dockerfile", 1),
        ("PIN010", "python/Dockerfile", 2),
        ("PIN010", "python/Dockerfile", 3),
    ]


MAKEFILE = """\
COLLECTOR_IMG ?= collector:v0.1.0
ENGINE ?= docker

localimage-collector:
\t${ENGINE} build --platform linux/amd64 \\
\t\t-t $(COLLECTOR_IMG) -f Dockerfile.collector .
"""
MANIFEST = """\
apiVersion: v1
kind: Pod
metadata: {name: collector}
spec:
  containers:
    - name: collector
      image: collector:v0.1.0
    - name: history
      image: historyserver:v0.1.0
    - name: gateway
      image: gateway:v2
    - name: base
      image: python:3.12-slim
    - name: named
      image: acme/collector:v0.1.0
"""


def test_bare_names_the_repository_builds_are_not_reported(scan_tree):
    files = {
        "historyserver/Makefile": MAKEFILE,
        ".buildkite/build.sh": "make localimage-build && kind load docker-image --name e2e historyserver:v0.1.0\n",
        ".github/workflows/image.yml": (
            "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - uses: docker/build-push-action@0123456789abcdef0123456789abcdef01234567\n"
            "        with:\n          load: true\n          tags: |\n            ghcr.io/acme/app:dev\n            gateway:test\n"
        ),
        "historyserver/config/pod.yaml": MANIFEST,
        "historyserver/docker-compose.yml": "services:\n  collector:\n    image: collector:v0.1.0\n  ui:\n    image: ui:v1\n",
        "historyserver/Dockerfile.e2e": "FROM collector:v0.1.0\n",
    }
    scan = scan_tree(files, select="PIN010")
    # A namespaced name (acme/collector) can be pulled from Docker Hub whoever builds it here; an
    # official image (python) is Docker's; `ui` is built nowhere.
    assert scan.hits == [
        ("PIN010", "historyserver/config/pod.yaml", 13, 14),
        ("PIN010", "historyserver/config/pod.yaml", 15, 14),
        ("PIN010", "historyserver/docker-compose.yml", 5, 12),
    ]


def test_a_loaded_image_the_repository_pulls_is_no_build(scan_tree):
    script = "docker pull redis:7\nkind load docker-image redis:7 collector:v1\n"
    pod = MANIFEST.replace("collector:v0.1.0", "collector:v1").replace("gateway:v2", "redis:7")
    scan = scan_tree({"e2e/load.sh": script, "e2e/pod.yaml": pod}, select="PIN010")
    assert scan.rule_lines == [("PIN010", "e2e/pod.yaml", line) for line in (9, 11, 13, 15)]


def test_without_the_build_a_bare_name_is_reported(scan_tree):
    scan = scan_tree({"historyserver/config/pod.yaml": MANIFEST}, select="PIN010")
    assert scan.rule_lines == [("PIN010", "historyserver/config/pod.yaml", line) for line in (7, 9, 11, 13, 15)]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (MAKEFILE, {"collector"}),
        ("IMG ?= controller:latest\ndocker-build:\n\t$(CONTAINER_TOOL) build -t ${IMG} .\n", {"controller"}),
        ('IMAGE="${IMAGE:-trainer:dev}"\ndocker buildx build --tag=$IMAGE --load .\n', {"trainer"}),
        ("podman build -t localhost/app:1 -t app:1 . && docker tag app:1 app-copy:1\n", {"app", "app-copy"}),
        ("kind load docker-image a:1 b:2 --name kind\n", {"a", "b"}),
        # Unknown values, registries and expressions build no bare name we can see.
        ("docker build -t $UNSET .\ndocker build -t ghcr.io/acme/x:1 .\n", set()),
        ("docker tag $IMG-${{ matrix.runtime }} $QUAY-${{ matrix.runtime }}\n", set()),
        ("echo build -t not-a-build:1\n", set()),
    ],
)
def test_names_built_by(text, names):
    assert local_builds.names_built_by(text) == names


def test_names_pulled_by():
    text = "BASE=redis:7\ndocker pull -q $BASE && podman image pull busybox\ndocker pull ghcr.io/acme/x:1\n"
    assert local_builds.names_pulled_by(text) == {"redis", "busybox"}


def test_ko_paths_and_text_that_is_no_image_are_not_judged(scan_tree):
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n"
        "    - name: a\n      image: ko://github.com/kserve/kserve/cmd/manager\n"
        "    - name: b\n      image: '{username}/driver-transformer:latest'\n"
        "    - name: c\n      image: seldonio/mlserver:1.7.1\n"  # line 11
    )
    assert scan_tree({"pod.yaml": text}, select="PIN010").hits == [("PIN010", "pod.yaml", 11, 14)]


# Copy-paste samples: in documentation, examples, samples and benchmarks a release tag is what the
# sample was written for; only a reference that moves (no tag, a channel word) is reported.
SAMPLE_DOCKERFILE = """\
FROM ubuntu:18.04
FROM python:3.9-slim-bullseye AS app
FROM docker/dockerfile:experimental
FROM ubuntu
FROM quay.io/acme/storage-initializer:v0.17-latest
FROM acme/server:latest-gpu
FROM registry.example/acme/model:0.5.0-devel
FROM acme/broken@sha256:abc
"""
SAMPLE_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: switch}
spec:
  containers:
    - name: router
      image: iamlovingit/bgtest:latest
    - name: model
      image: ghcr.io/llm-d/llm-d:v0.2.0
    - name: store
      image: minio/minio:RELEASE.2020-10-18T21-54-12Z
    - name: tool
      image: acme/tool:nightly
"""


@pytest.mark.parametrize("folder", ["docs/samples/graph", "examples", "docs-gb/examples/custom", "tutorials/assets", "benchmarks/load"])
def test_samples_report_only_moving_references(folder, scan_tree):
    scan = scan_tree({f"{folder}/Dockerfile": SAMPLE_DOCKERFILE, f"{folder}/switch.yaml": SAMPLE_POD}, select="PIN010")
    assert scan.hits == [
        ("PIN010", f"{folder}/Dockerfile", 3, 6),
        ("PIN010", f"{folder}/Dockerfile", 4, 6),
        ("PIN010", f"{folder}/Dockerfile", 5, 6),
        ("PIN010", f"{folder}/Dockerfile", 6, 6),
        ("PIN010", f"{folder}/Dockerfile", 8, 6),
        ("PIN010", f"{folder}/switch.yaml", 7, 14),
        ("PIN010", f"{folder}/switch.yaml", 13, 14),
    ]
    assert (
        scan.messages("PIN010")[-1]
        == "image acme/tool:nightly is referenced by the tag 'nightly', which its publisher (or whoever takes over the repository) can move"
    )


def test_outside_samples_release_tags_are_reported(scan_tree):
    scan = scan_tree({"deploy/Dockerfile": SAMPLE_DOCKERFILE, "config/switch.yaml": SAMPLE_POD}, select="PIN010")
    assert scan.rule_lines == [("PIN010", "config/switch.yaml", line) for line in (7, 9, 11, 13)] + [
        ("PIN010", "deploy/Dockerfile", line) for line in range(1, 9)
    ]


def test_a_docs_folder_above_the_repository_does_not_make_it_a_sample(scan_tree):
    # The repository is `docs/kuberay` (it has .git): its Dockerfile is at its root, no sample.
    files = {
        "docs/kuberay/.git/config": GIT_CONFIG,
        "docs/kuberay/Dockerfile": "FROM ubuntu:18.04\n",
        "docs/kuberay/docs/Dockerfile": "FROM ubuntu:18.04\n",
    }
    assert scan_tree(files, select="PIN010").hits == [("PIN010", "docs/kuberay/Dockerfile", 1, 6)]


def test_compose_images_in_samples_report_only_moving_tags(scan_tree):
    files = {
        "docs/snippets/tracing/docker-compose.yml": "services:\n  jaeger:\n    image: jaegertracing/all-in-one:1.38\n  otel:\n    image: otel/collector:stable\n",
    }
    assert scan_tree(files, select="PIN010").hits == [("PIN010", "docs/snippets/tracing/docker-compose.yml", 5, 12)]
