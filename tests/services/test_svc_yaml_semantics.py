"""YAML read as the consuming tool reads it: merge keys, compose `extends`, JSON manifests and
quoted keys, YAML 1.1 booleans and integers (kubectl and Helm: sigs.k8s.io/yaml on go-yaml v2;
compose: compose-go on go-yaml v4, which applies merge keys and `extends`)."""

from __future__ import annotations

import json

import pytest

RAY_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: ray-head}
spec:
  hostNetwork: %s
  containers:
    - name: head
      image: rayproject/ray:2.9.0
      command: ["ray", "start", "--head", "--dashboard-host=0.0.0.0", "--block"]
"""


@pytest.mark.parametrize("value", ["true", "yes", "Yes", "on", "ON", "y", "Y", "True"])
def test_host_network_is_true_in_every_spelling_kubectl_reads(scan_tree, value):
    assert scan_tree({"pod.yaml": RAY_POD % value}, select="services").hits == [("SVC001", "pod.yaml", 5, 16)]


@pytest.mark.parametrize("value", ["false", "no", "off", "n", '"yes"', "'true'", "1"])
def test_host_network_false_or_a_string_is_not_exposed(scan_tree, value):
    assert scan_tree({"pod.yaml": RAY_POD % value}, select="services").hits == []


def test_a_merged_host_network_counts(scan_tree):
    manifest = """\
x-host: &host {hostNetwork: yes}
apiVersion: v1
kind: Pod
metadata: {name: ray-head}
spec:
  <<: *host
  containers:
    - name: head
      image: rayproject/ray:2.9.0
      command: ["ray", "start", "--head", "--dashboard-host=0.0.0.0", "--block"]
"""
    assert scan_tree({"pod.yaml": manifest}, select="services").hits == [("SVC001", "pod.yaml", 1, 29)]


def test_a_merge_after_the_own_key_wins_in_go_yaml_v2_so_it_counts(scan_tree):
    # YAML's merge rule says the pod's own `false` wins; go-yaml v2 (kubectl) applies the `<<`
    # in document order, so the merged `true` does: the worse reading is reported.
    manifest = RAY_POD.replace("  hostNetwork: %s\n", "  hostNetwork: false\n  <<: {hostNetwork: on}\n")
    assert scan_tree({"pod.yaml": manifest}, select="services").hits == [("SVC001", "pod.yaml", 6, 21)]


def test_merge_keys_bring_in_containers_and_ports(scan_tree):
    manifest = """\
.mlflow: &mlflow
  name: mlflow
  image: ghcr.io/mlflow/mlflow:v2.9.2
  args: ["mlflow", "server", "--host", "0.0.0.0"]
.ports: &ports
  ports:
    - containerPort: 0x1388
      hostPort: 5000
apiVersion: v1
kind: Pod
metadata: {name: tracking}
spec:
  containers:
    - <<: [*mlflow, *ports]
"""
    assert scan_tree({"pod.yaml": manifest}, select="services").hits == [("SVC001", "pod.yaml", 8, 17)]


SERVICE_JSON = {
    "apiVersion": "v1",
    "kind": "List",
    "items": [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "mlflow"},
            "spec": {
                "template": {
                    "metadata": {"labels": {"app": "mlflow"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "mlflow",
                                "image": "ghcr.io/mlflow/mlflow:v2.9.2",
                                "args": ["mlflow", "server", "--host", "0.0.0.0"],
                                "ports": [{"containerPort": 5000}],
                            }
                        ]
                    },
                }
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "mlflow"},
            "spec": {"type": "LoadBalancer", "selector": {"app": "mlflow"}, "ports": [{"port": 80, "targetPort": 5000}]},
        },
    ],
}


def test_a_json_manifest_is_read_like_yaml(scan_tree):
    text, flow = json.dumps(SERVICE_JSON, indent=1), json.dumps(SERVICE_JSON)
    [(line, port)] = [(number, row.index("80") + 1) for number, row in enumerate(text.splitlines(), 1) if '"port": 80' in row]
    scan = scan_tree({"k8s/mlflow.json": text, "k8s/mlflow-flow.yaml": flow}, select="services")
    assert scan.hits == [("SVC001", "k8s/mlflow-flow.yaml", 1, flow.index('"port": 80') + 9), ("SVC001", "k8s/mlflow.json", line, port)]


def test_json_that_is_not_a_manifest_is_not_read(scan_tree):
    files = {
        "package.json": '{"name": "x", "kind": "app", "image": "jupyter/base-notebook"}',
        "broken.json": '{"apiVersion": "v1", "kind": ',
    }
    scan = scan_tree(files, select="services")
    assert (scan.hits, [path for path, _ in scan.errors]) == ([], ["broken.json"])


def test_helm_values_booleans_in_yaml_1_1(scan_tree):
    values = "image:\n  repository: ghcr.io/mlflow/mlflow\ningress:\n  enabled: yes\n"
    assert scan_tree({"mlflow/values.yaml": values}, select="services").hits == [("SVC001", "mlflow/values.yaml", 4, 12)]
    assert scan_tree({"mlflow/values.yaml": values.replace("yes", "'yes'")}, select="services").hits == []


# ---- compose --------------------------------------------------------------------------------

JUPYTER = """\
x-notebook: &notebook
  image: jupyter/base-notebook
  command: start-notebook.sh --NotebookApp.token=''
x-ports: &ports
  ports: ["8888:8888"]
services:
  lab:
    <<: [*notebook, *ports]
"""


def test_compose_merge_keys(scan_tree):
    scan = scan_tree({"compose.yaml": JUPYTER}, select="services")
    assert scan.hits == [("SVC002", "compose.yaml", 3, 50)]


def test_compose_extends_in_the_same_file(scan_tree):
    compose = """\
services:
  base:
    image: jupyter/base-notebook
    command: start-notebook.sh --NotebookApp.token=''
  lab:
    extends: base
    ports: ["8888:8888"]
  other:
    extends:
      service: base
    command: start-notebook.sh
    ports: ["127.0.0.1:8889:8888"]
"""
    scan = scan_tree({"compose.yaml": compose}, select="services")
    assert scan.hits == [("SVC002", "compose.yaml", 4, 52)]
    assert "published 8888:8888" in scan.findings[0].message


def test_compose_extends_from_another_file_is_reported_at_the_extends_value(scan_tree):
    base = "services:\n  notebook:\n    image: jupyter/base-notebook\n    environment:\n      JUPYTER_TOKEN: ''\n"
    compose = """\
services:
  lab:
    extends:
      file: common/notebook.yml
      service: notebook
    ports: ["8888:8888"]
  cycle:
    extends: cycle
  missing:
    extends: {file: nowhere.yml, service: x}
"""
    scan = scan_tree({"common/notebook.yml": base, "compose.yaml": compose}, select="services")
    assert (scan.hits, scan.errors) == ([("SVC002", "compose.yaml", 4, 8)], [])  # inside the quotes of '' at `file:`


def test_compose_extends_merges_environment_and_keeps_the_service_own_values(scan_tree):
    compose = """\
services:
  base:
    image: jupyter/base-notebook
    environment: ["JUPYTER_TOKEN="]
    ports: ["127.0.0.1:8888:8888"]
  safe:
    extends: base
    environment: {JUPYTER_TOKEN: "s3cr3t-from-a-vault"}
  exposed:
    extends: base
    ports: ["8889:8888"]
"""
    scan = scan_tree({"compose.yaml": compose}, select="services")
    assert scan.hits == [("SVC002", "compose.yaml", 4, 34)]
    assert "8889:8888" in scan.findings[0].message
