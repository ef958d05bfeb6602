"""Kubernetes manifests, KubeRay resources, Helm templates and values files, Ray launcher YAML."""

from __future__ import annotations

MLFLOW = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: mlflow
spec:
  template:
    metadata:
      labels:
        app: mlflow
    spec:
      containers:
        - name: mlflow
          image: ghcr.io/mlflow/mlflow:v2.9.2
          args: ["mlflow", "server", "--host", "0.0.0.0"]
          ports:
            - containerPort: 5000
              name: http
---
apiVersion: v1
kind: Service
metadata:
  name: mlflow
spec:
  type: {type}
  selector:
    app: mlflow
  ports:
    - port: 80
      targetPort: http
"""


def test_load_balancer_service_selecting_a_known_pod(scan_tree):
    scan = scan_tree({"k8s/mlflow.yaml": MLFLOW.replace("{type}", "LoadBalancer")}, select="services")
    assert scan.hits == [("SVC001", "k8s/mlflow.yaml", 28, 13)]
    assert "Service mlflow of type LoadBalancer" in scan.findings[0].message and "port 5000" in scan.findings[0].message


def test_node_port_is_exposed_and_cluster_ip_is_not(scan_tree):
    scan = scan_tree({"a.yaml": MLFLOW.replace("{type}", "NodePort"), "b.yaml": MLFLOW.replace("{type}", "ClusterIP")}, select="services")
    assert scan.hits == [("SVC001", "a.yaml", 28, 13)]


def test_service_named_after_a_service_without_pods_in_the_file(scan_tree):
    manifest = """\
apiVersion: v1
kind: Service
metadata:
  name: ollama
spec:
  type: LoadBalancer
  selector:
    app: ollama
  ports:
    - port: 11434
---
apiVersion: v1
kind: Service
metadata:
  name: frontend
spec:
  type: LoadBalancer
  ports:
    - port: 80
"""
    assert scan_tree({"svc.yml": manifest}, select="services").hits == [("SVC001", "svc.yml", 10, 13)]


def test_torchserve_ports_by_api(scan_tree):
    manifest = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: ts}
spec:
  template:
    metadata: {labels: {app: ts}}
    spec:
      containers:
        - name: ts
          image: pytorch/torchserve:0.8.2-gpu
---
apiVersion: v1
kind: Service
metadata: {name: ts}
spec:
  type: LoadBalancer
  selector: {app: ts}
  ports:
    - {name: inference, port: 8080}
    - {name: management, port: 8081}
    - {name: metrics, port: 8082}
"""
    scan = scan_tree({"ts.yaml": manifest}, select="services")
    # inference (8080) is what the server is for and metrics (8082) are harmless: only management is reported
    assert scan.hits == [("SVC001", "ts.yaml", 20, 32)]
    assert [str(f.severity) for f in scan.findings] == ["critical"]


def test_host_network_and_host_port(scan_tree):
    manifest = """\
apiVersion: v1
kind: Pod
metadata: {name: ray-head}
spec:
  hostNetwork: true
  containers:
    - name: head
      image: rayproject/ray:2.9.0
      command: ["/bin/bash", "-c", "ray start --head --dashboard-host=0.0.0.0 --block"]
---
apiVersion: v1
kind: Pod
metadata: {name: board}
spec:
  containers:
    - name: tb
      image: python:3.11
      command: ["tensorboard", "--logdir", "/logs", "--host", "0.0.0.0"]
      ports:
        - containerPort: 6006
          hostPort: 6006
"""
    assert scan_tree({"pods.yaml": manifest}, select="services").hits == [
        ("SVC001", "pods.yaml", 5, 16),
        ("SVC001", "pods.yaml", 21, 21),
    ]


def test_auth_in_pod_env_args_and_sidecar(scan_tree):
    manifest = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: vllm}
spec:
  template:
    metadata: {labels: {app: vllm}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.6.0
          env:
            - name: VLLM_API_KEY
              valueFrom: {secretKeyRef: {name: vllm, key: key}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ollama}
spec:
  template:
    metadata: {labels: {app: ollama}}
    spec:
      containers:
        - name: ollama
          image: ollama/ollama
        - name: auth
          image: quay.io/oauth2-proxy/oauth2-proxy:v7.6.0
---
apiVersion: v1
kind: Service
metadata: {name: vllm}
spec: {type: LoadBalancer, selector: {app: vllm}, ports: [{port: 8000}]}
---
apiVersion: v1
kind: Service
metadata: {name: ollama}
spec: {type: LoadBalancer, selector: {app: ollama}, ports: [{port: 11434}]}
"""
    scan = scan_tree({"deploy.yaml": manifest}, select="services")
    assert (scan.hits, scan.errors) == ([], [])


def test_jupyter_with_empty_token_behind_a_load_balancer(scan_tree):
    manifest = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: nb}
spec:
  template:
    metadata: {labels: {app: nb}}
    spec:
      containers:
        - name: nb
          image: quay.io/jupyter/base-notebook:latest
          args: ["start-notebook.py", "--IdentityProvider.token="]
---
apiVersion: v1
kind: Service
metadata: {name: nb}
spec: {type: NodePort, selector: {app: nb}, ports: [{port: 8888}]}
"""
    scan = scan_tree({"nb.yaml": manifest}, select="services")
    assert scan.hits == [("SVC002", "nb.yaml", 11, 65)]


def test_ingress_with_and_without_auth_annotations(scan_tree):
    manifest = """\
apiVersion: v1
kind: Service
metadata: {name: tensorboard}
spec:
  selector: {app: tb}
  ports: [{port: 6006}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: open
spec:
  rules:
    - http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: tensorboard
                port: {number: 6006}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: guarded
  annotations:
    nginx.ingress.kubernetes.io/auth-url: https://auth.example.com/oauth2/auth
spec:
  rules:
    - http:
        paths:
          - backend:
              service:
                name: tensorboard
                port: {number: 6006}
"""
    scan = scan_tree({"ingress.yaml": manifest}, select="services")
    assert scan.hits == [("SVC001", "ingress.yaml", 20, 23)]
    assert "Ingress open" in scan.findings[0].message


def test_kuberay_head_service_type_and_ingress(scan_tree):
    cluster = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: rc}
spec:
  headGroupSpec:
    serviceType: LoadBalancer
    enableIngress: true
    rayStartParams:
      dashboard-host: '0.0.0.0'
    template:
      spec:
        containers:
          - name: ray-head
            image: rayproject/ray:2.9.0
---
apiVersion: ray.io/v1
kind: RayService
metadata: {name: rs}
spec:
  rayClusterConfig:
    headGroupSpec:
      rayStartParams: {dashboard-host: '0.0.0.0'}
      template:
        spec:
          containers: [{name: ray-head, image: rayproject/ray:2.9.0}]
"""
    scan = scan_tree({"raycluster.yaml": cluster}, select="services")
    assert scan.hits == [("SVC001", "raycluster.yaml", 6, 18), ("SVC001", "raycluster.yaml", 7, 20)]


def test_kuberay_token_auth(scan_tree):
    cluster = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: rc}
spec:
  authOptions: {mode: token}
  headGroupSpec:
    serviceType: NodePort
    rayStartParams: {}
    template: {spec: {containers: [{name: h, image: rayproject/ray:2.52.0}]}}
"""
    assert scan_tree({"rc.yaml": cluster}, select="services").hits == []


def test_helm_values(scan_tree):
    values = """\
image:
  repository: vllm/vllm-openai
  tag: v0.6.0
service:
  type: LoadBalancer
  port: 8000
ollama:
  image: ollama/ollama
  ingress:
    enabled: true
"""
    guarded = """\
image: {repository: ghcr.io/mlflow/mlflow}
service: {type: LoadBalancer, port: 5000}
auth:
  enabled: true
"""
    chart = "service:\n  type: NodePort\n  port: 6379\n"
    scan = scan_tree({"chart/values.yaml": values, "mlflow/values.yaml": guarded, "charts/redis/values.yaml": chart}, select="services")
    assert scan.hits == [
        ("SVC001", "chart/values.yaml", 5, 9),
        ("SVC001", "chart/values.yaml", 10, 14),
        ("SVC001", "charts/redis/values.yaml", 2, 9),
    ]


def test_helm_template_is_read_where_it_can_be(scan_tree):
    template = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "chart.fullname" . }}-ollama
spec:
  type: LoadBalancer
  ports:
    - port: {{ .Values.service.port }}
      targetPort: 11434
---
{{- if .Values.extra }}
apiVersion: v1
kind: Service
metadata: {name: x}
spec: {ports: [unclosed
{{- end }}
"""
    scan = scan_tree({"chart/templates/service.yaml": template}, select="services")
    assert scan.hits == [("SVC001", "chart/templates/service.yaml", 8, 13)]
    assert len(scan.errors) == 1 and scan.errors[0][1].startswith("not scanned: document at line 10 (invalid YAML")


def test_yaml_that_is_not_a_manifest_is_skipped_cheaply(scan_tree):
    scan = scan_tree({"config.yaml": "lr: 0.1\nmodel: resnet\n", "mkdocs.yml": "site_name: x\nnav: [\n"}, select="services")
    assert (scan.hits, scan.errors) == ([], [])


def test_ray_cluster_launcher(scan_tree):
    launcher = """\
cluster_name: gpu
provider: {type: aws, region: us-west-2}
head_start_ray_commands:
  - ray stop
  - ray start --head --port=6379 --dashboard-host=0.0.0.0 --autoscaling-config=~/ray_bootstrap_config.yaml
worker_start_ray_commands:
  - ray start --address=$RAY_HEAD_IP:6379
"""
    local = launcher.replace("--dashboard-host=0.0.0.0", "--dashboard-host=127.0.0.1")
    scan = scan_tree({"cluster.yaml": launcher, "local/cluster.yaml": local}, select="services")
    assert scan.hits == [("SVC001", "cluster.yaml", 5, 51)]


def test_helm_values_of_a_chart_with_nested_services_and_auth_switched_off(scan_tree):
    values = """\
image:
  registry: docker.io
  repository: bitnami/redis
auth:
  enabled: false
master:
  service:
    type: LoadBalancer
replica:
  service:
    type: ClusterIP
"""
    guarded = values.replace("enabled: false", "enabled: true")
    scan = scan_tree({"redis/values.yaml": values, "redis-ok/values.yaml": guarded}, select="services")
    assert scan.hits == [("SVC002", "redis/values.yaml", 5, 12)]


def test_custom_image_named_after_a_service(scan_tree):
    manifest = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: tracking}
spec:
  template:
    metadata: {labels: {app: tracking}}
    spec:
      containers:
        - name: server
          image: registry.example.com/ml/mlflow-server:1.4
          ports: [{containerPort: 5000}]
        - name: web
          image: registry.example.com/ml/mlflow-web:1.4
          ports: [{containerPort: 3000}]
---
apiVersion: v1
kind: Service
metadata: {name: tracking}
spec:
  type: LoadBalancer
  selector: {app: tracking}
  ports: [{port: 80, targetPort: 5000}, {port: 3000}]
"""
    assert scan_tree({"tracking.yaml": manifest}, select="services").hits == [("SVC001", "tracking.yaml", 22, 18)]


def test_resources_of_a_list(scan_tree):
    manifest = """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata: {name: mlflow}
    spec: {type: LoadBalancer, ports: [{port: 5000}]}
"""
    assert scan_tree({"list.yaml": manifest}, select="services").hits == [("SVC001", "list.yaml", 7, 47)]


def test_jinja_templated_manifest(scan_tree):
    manifest = """\
apiVersion: v1
kind: Service
metadata:
  name: ollama
spec:
{% if expose %}
  type: LoadBalancer
{% endif %}
  ports:
    - port: {{ ollama_port }}
      targetPort: 11434
"""
    scan = scan_tree({"roles/llm/templates/svc.yaml": manifest}, select="services")
    assert (scan.hits, scan.errors) == ([("SVC001", "roles/llm/templates/svc.yaml", 10, 13)], [])
