"""Kubernetes manifests, KubeRay resources, Helm templates and values files, Ray launcher YAML."""

from __future__ import annotations

import pytest

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


# --- default credentials: where the server that accepts them is defined ----------------------------

MINIO_SERVER = """\
apiVersion: v1
kind: Secret
metadata: {name: minio-creds, namespace: minio-dev}
type: Opaque
stringData:
  rootUser: minioadmin      # CHANGE THIS
  rootPassword: minioadmin  # CHANGE THIS
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: minio, namespace: minio-dev}
spec:
  template:
    spec:
      containers:
      - name: minio
        image: quay.io/minio/minio:latest
        command: [/bin/sh, -c, minio server /data --console-address :9001]
        env:
        - name: MINIO_ROOT_USER
          valueFrom: {secretKeyRef: {name: minio-creds, key: rootUser}}
        - name: MINIO_ROOT_PASSWORD
          valueFrom: {secretKeyRef: {name: minio-creds, key: rootPassword}}
"""
RAY_MINIO_CLIENT = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: raycluster-historyserver}
spec:
  headGroupSpec:
    template:
      spec:
        containers:
        - name: ray-head
          image: rayproject/ray:2.52.0
          env:
          - {name: AWS_ACCESS_KEY_ID, value: minioadmin}
          - {name: AWS_SECRET_ACCESS_KEY, value: minioadmin}
          - {name: S3_ENDPOINT, value: "minio-service.minio-dev:9000"}
  workerGroupSpecs:
  - groupName: cpu
    template:
      spec:
        containers:
        - name: ray-worker
          image: rayproject/ray:2.52.0
          env:
          - {name: AWS_SECRET_ACCESS_KEY, value: minioadmin}
          - {name: MINIO_ROOT_PASSWORD, value: minioadmin}
"""


def test_default_credentials_are_reported_at_the_server_not_at_its_clients(scan_tree):
    scan = scan_tree(
        {"historyserver/config/minio.yaml": MINIO_SERVER, "historyserver/config/raycluster.yaml": RAY_MINIO_CLIENT}, select="services"
    )
    # the Secret the MinIO server reads its root password from, once; not the Ray containers that connect to it
    assert scan.hits == [("SVC003", "historyserver/config/minio.yaml", 7, 17)]
    assert "MINIO_ROOT_PASSWORD=minioadmin (from Secret minio-creds, key rootPassword)" in scan.findings[0].message


def test_default_credentials_from_secret_data_and_env_from(scan_tree):
    manifest = """\
apiVersion: v1
kind: Secret
metadata: {name: minio-env}
data:
  MINIO_ROOT_PASSWORD: bWluaW9hZG1pbg==
---
apiVersion: v1
kind: Pod
metadata: {name: minio}
spec:
  containers:
  - name: minio
    image: minio/minio
    args: [server, /data]
    envFrom:
    - secretRef: {name: minio-env}
"""
    elsewhere = manifest.split("---\n", 1)[1]  # the Secret is in another file: its value is unknown
    kept = manifest.replace("bWluaW9hZG1pbg==", "c2VjcmV0LTEyMw==")  # "secret-123"
    scan = scan_tree({"a/minio.yaml": manifest, "b/minio.yaml": elsewhere, "c/minio.yaml": kept}, select="services")
    assert scan.hits == [("SVC003", "a/minio.yaml", 5, 24)]


def test_default_credentials_of_a_minio_client_container_are_not_reported(scan_tree):
    job = """\
apiVersion: batch/v1
kind: Job
metadata: {name: make-bucket}
spec:
  template:
    spec:
      containers:
      - name: mc
        image: minio/mc:latest
        command: [sh, -c, 'mc alias set local http://minio:9000 minioadmin "$MINIO_ROOT_PASSWORD" && mc mb local/data']
        env:
        - {name: MINIO_ROOT_PASSWORD, value: minioadmin}
"""
    assert scan_tree({"jobs/bucket.yaml": job}, select="services").hits == []


# --- Ray with TLS: the gRPC ports require a client certificate -------------------------------------

RAY_TLS = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata:
  name: raycluster-tls
spec:
  headGroupSpec:
    rayStartParams: {}
    template:
      spec:
        containers:
        - name: ray-head
          image: rayproject/ray:2.52.0
          env:
          - name: RAY_USE_TLS
            value: "1"
          - name: RAY_TLS_SERVER_CERT
            value: "/etc/ray/tls/tls.crt"
          - name: RAY_TLS_SERVER_KEY
            value: "/etc/ray/tls/tls.key"
          - name: RAY_TLS_CA_CERT
            value: "/etc/ca/tls/ca.crt"
"""
RAY_CLIENT_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: rayclient-ingress
  annotations:
    nginx.ingress.kubernetes.io/ssl-passthrough: "true"
    nginx.ingress.kubernetes.io/backend-protocol: "GRPC"
spec:
  rules:
  - host: localhost
    http:
      paths:
      - backend:
          service:
            name: raycluster-tls-head-svc
            port:
              number: {port}
        path: /
        pathType: Prefix
"""


def test_ray_client_port_with_mutual_tls_is_authenticated_but_the_dashboard_is_not(scan_tree):
    client, dashboard = RAY_CLIENT_INGRESS.replace("{port}", "10001"), RAY_CLIENT_INGRESS.replace("{port}", "8265")
    without_ca = RAY_TLS.replace('          - name: RAY_TLS_CA_CERT\n            value: "/etc/ca/tls/ca.crt"\n', "")
    scan = scan_tree(
        {
            "tls/cluster.yaml": RAY_TLS + "---\n" + client,
            "dashboard/cluster.yaml": RAY_TLS + "---\n" + dashboard,
            "no-ca/cluster.yaml": without_ca + "---\n" + client,
        },
        select="services",
    )
    assert scan.hits == [("SVC001", "dashboard/cluster.yaml", 37, 19), ("SVC001", "no-ca/cluster.yaml", 35, 19)]
    assert "dashboard and Jobs API, port 8265" in scan.findings[0].message
    assert "Ray client server, port 10001" in scan.findings[1].message


def test_ray_client_ingress_is_judged_with_the_cluster_of_a_file_beside_it(scan_tree):
    ingress = RAY_CLIENT_INGRESS.replace("{port}", "10001")
    plain = RAY_TLS.split("          env:", 1)[0]  # the same cluster without TLS
    scan = scan_tree(
        {
            "samples/ray-cluster.tls.yaml": RAY_TLS,
            "samples/ingress-rayclient-tls.yaml": ingress,
            "plain/ray-cluster.yaml": plain,
            "plain/ingress-rayclient.yaml": ingress,
            "alone/ingress-rayclient.yaml": ingress,  # no cluster beside it: the service's name says Ray
        },
        select="services",
    )
    assert scan.hits == [("SVC001", "alone/ingress-rayclient.yaml", 15, 19), ("SVC001", "plain/ingress-rayclient.yaml", 15, 19)]


def test_kuberay_tls_options_and_a_service_selecting_the_cluster(scan_tree):
    cluster = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: rc}
spec:
  tlsOptions: {enabled: true}
  headGroupSpec:
    rayStartParams: {}
    template: {spec: {containers: [{name: ray-head, image: rayproject/ray:2.55.1}]}}
---
apiVersion: v1
kind: Service
metadata: {name: ray-public}
spec:
  type: LoadBalancer
  selector: {ray.io/cluster: rc, ray.io/node-type: head}
  ports:
  - {name: client, port: 10001}
  - {name: gcs, port: 6379}
  - {name: dashboard, port: 8265}
"""
    scan = scan_tree({"rc.yaml": cluster, "off.yaml": cluster.replace("enabled: true", "enabled: false")}, select="services")
    assert scan.rule_lines == [
        ("SVC001", "off.yaml", 17),
        ("SVC001", "off.yaml", 18),
        ("SVC001", "off.yaml", 19),
        ("SVC001", "rc.yaml", 19),
    ]


# --- internal load balancers: reachable from the private network only, like ClusterIP ---------------


@pytest.mark.parametrize(
    ("annotation", "value"),
    [
        ("service.beta.kubernetes.io/aws-load-balancer-internal", '"true"'),
        ("service.beta.kubernetes.io/aws-load-balancer-scheme", "internal"),
        ("networking.gke.io/load-balancer-type", '"Internal"'),
        ("cloud.google.com/load-balancer-type", '"Internal"'),
        ("service.beta.kubernetes.io/azure-load-balancer-internal", '"true"'),
        ("service.beta.kubernetes.io/oci-load-balancer-internal", '"true"'),
    ],
)
def test_internal_load_balancer_service_is_not_exposed(scan_tree, annotation, value):
    internal = MLFLOW.replace("{type}", "LoadBalancer").replace(
        "  name: mlflow\nspec:\n  type:", f"  name: mlflow\n  annotations:\n    {annotation}: {value}\nspec:\n  type:"
    )
    scan = scan_tree({"k8s/mlflow.yaml": internal}, select="services")
    assert (scan.hits, scan.errors) == ([], [])


def test_a_load_balancer_that_is_not_internal_is_exposed(scan_tree):
    def annotated(kind: str, annotation: str) -> str:
        return MLFLOW.replace("{type}", kind).replace(
            "  name: mlflow\nspec:\n  type:", f"  name: mlflow\n  annotations:\n    {annotation}\nspec:\n  type:"
        )

    scan = scan_tree(
        {
            "public.yaml": annotated("LoadBalancer", 'service.beta.kubernetes.io/azure-load-balancer-internal: "false"'),
            "nodeport.yaml": annotated("NodePort", "networking.gke.io/load-balancer-type: Internal"),  # every node's port
        },
        select="services",
    )
    assert scan.hits == [("SVC001", "nodeport.yaml", 30, 13), ("SVC001", "public.yaml", 30, 13)]


INGRESS = """\
apiVersion: v1
kind: Service
metadata: {name: ray-head}
spec:
  selector: {app: ray}
  ports: [{port: 8265}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: dashboard
  annotations:
    {annotation}
spec:
  rules:
  - http:
      paths:
      - backend:
          service:
            name: ray-head
            port: {number: 8265}
"""


def test_internal_alb_and_gce_ingresses_are_not_exposed(scan_tree):
    scan = scan_tree(
        {
            "alb.yaml": INGRESS.replace("{annotation}", "alb.ingress.kubernetes.io/scheme: internal"),
            "gce.yaml": INGRESS.replace("{annotation}", 'kubernetes.io/ingress.class: "gce-internal"'),
            "public.yaml": INGRESS.replace("{annotation}", "alb.ingress.kubernetes.io/scheme: internet-facing"),
        },
        select="services",
    )
    assert scan.hits == [("SVC001", "public.yaml", 20, 19)]


def test_internal_load_balancers_in_helm_values_and_kuberay_head_service(scan_tree):
    values = """\
image: {repository: ghcr.io/mlflow/mlflow}
service:
  type: LoadBalancer
  port: 5000
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-internal: "true"
ingress:
  enabled: true
  annotations:
    alb.ingress.kubernetes.io/scheme: internal
"""
    cluster = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: rc}
spec:
  headGroupSpec:
    serviceType: LoadBalancer
    headService:
      metadata:
        annotations:
          networking.gke.io/load-balancer-type: "Internal"
    rayStartParams: {}
    template: {spec: {containers: [{name: ray-head, image: rayproject/ray:2.52.0}]}}
"""
    public = values.replace('"true"', '"false"').replace("scheme: internal", "scheme: internet-facing")
    scan = scan_tree({"mlflow/values.yaml": values, "rc.yaml": cluster, "public/values.yaml": public}, select="services")
    assert scan.hits == [("SVC001", "public/values.yaml", 3, 9), ("SVC001", "public/values.yaml", 8, 12)]


# --- Ingress authentication ---------------------------------------------------------------------------


def test_ingress_auth_annotations_that_switch_auth_off_do_not_count(scan_tree):
    scan = scan_tree(
        {
            "cognito.yaml": INGRESS.replace("{annotation}", "alb.ingress.kubernetes.io/auth-type: cognito"),
            "none.yaml": INGRESS.replace("{annotation}", "alb.ingress.kubernetes.io/auth-type: none"),
            "basic.yaml": INGRESS.replace("{annotation}", "nginx.ingress.kubernetes.io/auth-type: basic"),
            "global-off.yaml": INGRESS.replace("{annotation}", 'nginx.ingress.kubernetes.io/enable-global-auth: "false"'),
        },
        select="services",
    )
    assert scan.hits == [("SVC001", "global-off.yaml", 20, 19), ("SVC001", "none.yaml", 20, 19)]


def test_traefik_middlewares_that_authenticate(scan_tree):
    middleware = """\
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: dashboard-auth, namespace: ray}
spec:
  {spec}
"""
    uses = "traefik.ingress.kubernetes.io/router.middlewares: ray-dashboard-auth@kubernetescrd"
    scan = scan_tree(
        {
            "basic.yaml": INGRESS.replace("{annotation}", uses) + middleware.replace("{spec}", "basicAuth: {secret: users}"),
            "forward.yaml": INGRESS.replace("{annotation}", uses)
            + middleware.replace("{spec}", "forwardAuth: {address: 'http://oauth2-proxy'}"),
            "strip.yaml": INGRESS.replace("{annotation}", uses) + middleware.replace("{spec}", "stripPrefix: {prefixes: [/ray]}"),
            "elsewhere.yaml": INGRESS.replace("{annotation}", uses),  # defined in another file: its name says auth
            "redirect.yaml": INGRESS.replace("{annotation}", "traefik.ingress.kubernetes.io/router.middlewares: ray-https@kubernetescrd"),
        },
        select="services",
    )
    assert scan.hits == [("SVC001", "redirect.yaml", 20, 19), ("SVC001", "strip.yaml", 20, 19)]


EMBEDDED = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: redis-config
data:
  redis.conf: |
    port 6379
    bind 0.0.0.0
    protected-mode no
  notes.txt: |
    bind 0.0.0.0
  config.toml: |
    [server]
    address = "0.0.0.0"
    headless = true
---
apiVersion: v1
kind: Secret
metadata:
  name: torchserve
data:
  config.properties: bWFuYWdlbWVudF9hZGRyZXNzPWh0dHA6Ly8wLjAuMC4wOjgwODEK
stringData:
  jupyter_server_config.py: |
    c.ServerApp.ip = '0.0.0.0'
    c.ServerApp.token = ''
  .env: "MINIO_ROOT_USER=minioadmin\\nMINIO_ROOT_PASSWORD=minioadmin\\n"
"""


def test_configs_embedded_in_config_maps_and_secrets(scan_tree):
    scan = scan_tree({"deploy/configs.yaml": EMBEDDED}, select="services")
    assert scan.hits == [
        ("SVC002", "deploy/configs.yaml", 9, 20),  # redis.conf: protected-mode no
        ("SVC001", "deploy/configs.yaml", 14, 16),  # Streamlit config.toml: address
        ("SVC001", "deploy/configs.yaml", 22, 22),  # base64 config.properties: at the value
        ("SVC002", "deploy/configs.yaml", 26, 26),  # jupyter_server_config.py: the empty token
        ("SVC003", "deploy/configs.yaml", 27, 9),  # .env: MinIO's default password
    ]
    assert scan.findings[0].message.endswith("(in ConfigMap redis-config, key redis.conf)")
    assert "management API" in scan.findings[2].message


def test_embedded_configs_loopback_password_or_not_a_config_file(scan_tree):
    manifest = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  redis.conf: |
    bind 127.0.0.1 -::1
    protected-mode no
  redis-secured.conf: |
    bind 0.0.0.0
    requirepass long-random-secret
  config.toml: |
    [server]
    address = "0.0.0.0"
  settings.txt: "c.ServerApp.ip = '0.0.0.0'\\nc.ServerApp.token = ''\\n"
  config.properties: |
    inference_address=http://127.0.0.1:8080
    management_address=http://127.0.0.1:8081
  jupyter_server_config.py: |
    c.ServerApp.ip = '0.0.0.0'
    c.ServerApp.password = 'argon2:$argon2id$v=19$m=10240'
"""
    helm_template = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-redis\ndata:\n"
        "  redis.conf: |\n    bind 0.0.0.0\n    requirepass {{ .Values.auth.password }}\n"
    )
    scan = scan_tree({"deploy/settings.yaml": manifest, "chart/templates/redis.yaml": helm_template}, select="services")
    assert scan.hits == []  # config.toml of a ConfigMap that says nothing of Streamlit: another program's


OPEN_WEBUI_POD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: webui
spec:
  template:
    spec:
      hostNetwork: {host_network}
      containers:
        - name: webui
          image: ghcr.io/open-webui/open-webui:0.3.10
          env:
            - name: WEBUI_AUTH
              value: "False"
"""


def test_open_webui_env_turning_auth_off_on_a_reachable_pod(scan_tree):
    scan = scan_tree({"k8s/webui.yaml": OPEN_WEBUI_POD.format(host_network="true")}, select="services")
    assert [(code, path, line) for code, path, line, _ in scan.hits] == [("SVC002", "k8s/webui.yaml", 14)]


def test_open_webui_env_turning_auth_off_on_a_cluster_only_pod_is_not_a_finding(scan_tree):
    scan = scan_tree({"k8s/webui.yaml": OPEN_WEBUI_POD.format(host_network="false")}, select="services")
    assert scan.hits == []


def test_kuberay_chart_head_service_type_in_values(scan_tree):
    exposed = "image:\n  repository: rayproject/ray\nhead:\n  serviceType: LoadBalancer\n"
    internal = "image:\n  repository: rayproject/ray\nhead:\n  serviceType: ClusterIP\n"
    scan = scan_tree({"ray-cluster/values.yaml": exposed, "other/ray-cluster/values.yaml": internal}, select="services")
    assert scan.hits == [("SVC001", "ray-cluster/values.yaml", 4, 16)]


# Helm values of the charts in services/charts.py, read with each chart's own keys ---------------

JUPYTERHUB_CONFIG = """\
hub:
  config:
    JupyterHub:
      authenticator_class: {authenticator}
proxy:
  secretToken: abc
{extra}"""


def test_jupyterhub_chart_with_an_authenticator_that_lets_anyone_in(scan_tree):
    # the proxy is a LoadBalancer by the chart's default: the open authenticator is the finding
    scan = scan_tree(
        {
            "jhub/config.yaml": JUPYTERHUB_CONFIG.format(authenticator="dummy", extra=""),
            "tmp/config.yaml": JUPYTERHUB_CONFIG.format(authenticator="tmp", extra="proxy_extra: {}\n"),
        },
        select="services",
    )
    assert scan.hits == [("SVC002", "jhub/config.yaml", 4, 28), ("SVC002", "tmp/config.yaml", 4, 28)]
    assert "JupyterHub" in scan.findings[0].message and "proxy.service.type: LoadBalancer, the chart's default" in scan.findings[0].message


def test_jupyterhub_chart_with_a_shared_password_real_authenticator_or_cluster_only_proxy(scan_tree):
    shared = JUPYTERHUB_CONFIG.format(authenticator="dummy", extra="").replace(
        "    JupyterHub:", "    DummyAuthenticator:\n      password: a-shared-secret\n    JupyterHub:"
    )
    cluster_only = JUPYTERHUB_CONFIG.format(authenticator="dummy", extra="").replace(
        "  secretToken: abc\n", "  service:\n    type: ClusterIP\n"
    )
    scan = scan_tree(
        {
            "a/config.yaml": shared,
            "b/config.yaml": JUPYTERHUB_CONFIG.format(authenticator="github", extra=""),
            "c/config.yaml": cluster_only,
            "d/config.yaml": JUPYTERHUB_CONFIG.format(authenticator="null", extra=""),  # no one logs in
        },
        select="services",
    )
    assert scan.hits == []


def test_jupyterhub_as_a_dependency_named_in_chart_yaml(scan_tree):
    chart = "apiVersion: v2\nname: platform\ndependencies:\n  - name: jupyterhub\n    alias: notebooks\n    repository: https://hub.jupyter.org/helm-chart/\n"
    values = "notebooks:\n  hub:\n    config:\n      JupyterHub:\n        authenticator_class: dummy\n  proxy:\n    service:\n      type: NodePort\n"
    internal = values.replace("NodePort", "LoadBalancer\n      annotations:\n        networking.gke.io/load-balancer-type: Internal")
    scan = scan_tree(
        {"platform/Chart.yaml": chart, "platform/values.yaml": values, "internal/Chart.yaml": chart, "internal/values.yaml": internal},
        select="services",
    )
    assert scan.hits == [("SVC002", "platform/values.yaml", 5, 30)]


MLFLOW_CHART_VALUES = """\
image:
  repository: burakince/mlflow
service:
  type: {type}
  port: 5000
backendStore:
  databaseMigration: false
artifactRoot:
  proxiedArtifactStorage: false
auth:
  enabled: {auth}
  adminUsername: admin
  adminPassword: {password}
ingress:
  enabled: {ingress}
  annotations: {annotations}
"""


def _mlflow(type="ClusterIP", auth="false", password='""', ingress="false", annotations="{}"):
    return MLFLOW_CHART_VALUES.format(type=type, auth=auth, password=password, ingress=ingress, annotations=annotations)


def test_community_mlflow_chart_exposed_without_auth_or_with_its_default_password(scan_tree):
    scan = scan_tree(
        {
            "lb/values.yaml": _mlflow(type="LoadBalancer"),
            "ingress/values.yaml": _mlflow(ingress="true", annotations="{kubernetes.io/ingress.class: nginx}"),
            "default-password/values.yaml": _mlflow(auth="true", password="password1234"),
        },
        select="services",
    )
    assert scan.hits == [
        ("SVC003", "default-password/values.yaml", 13, 18),
        ("SVC002", "ingress/values.yaml", 11, 12),  # auth.enabled: false on a reachable server
        ("SVC002", "lb/values.yaml", 11, 12),
    ]
    assert "password1234 is the credential MLflow ships with" in scan.messages("SVC003")[0]


def test_community_mlflow_chart_with_auth_on_cluster_only_or_an_auth_ingress(scan_tree):
    no_switch = _mlflow(type="NodePort").replace("  enabled: false\n  adminUsername", "  adminUsername")
    scan = scan_tree(
        {
            "auth/values.yaml": _mlflow(type="LoadBalancer", auth="true", password="a-long-random-secret"),
            "cluster/values.yaml": _mlflow(),
            "oauth/values.yaml": _mlflow(
                ingress="true", annotations="{nginx.ingress.kubernetes.io/auth-url: 'https://auth.example.com/oauth2/auth'}"
            ),
            "unset/values.yaml": no_switch,  # the chart's default is auth off: SVC001 at the Service type
        },
        select="services",
    )
    assert scan.hits == [("SVC001", "unset/values.yaml", 4, 9)]


REDIS_CHART_VALUES = """\
architecture: replication
auth:
  enabled: {auth}
master:
  service:
    type: {type}
replica:
  service:
    type: ClusterIP
sentinel:
  enabled: false
"""


def test_bitnami_redis_chart_auth_off_behind_a_load_balancer(scan_tree):
    scan = scan_tree(
        {
            "open/values-prod.yaml": REDIS_CHART_VALUES.format(auth="false", type="LoadBalancer"),
            "cluster/values.yaml": REDIS_CHART_VALUES.format(auth="false", type="ClusterIP"),
            "auth/values.yaml": REDIS_CHART_VALUES.format(auth="true", type="LoadBalancer"),
            "old/values.yaml": "usePassword: false\nmaster:\n  service:\n    type: NodePort\ncluster:\n  enabled: false\n",
        },
        select="services",
    )
    assert scan.hits == [("SVC002", "old/values.yaml", 1, 14), ("SVC002", "open/values-prod.yaml", 3, 12)]
    assert "auth.enabled=false leaves Redis without authentication" in scan.findings[1].message


def test_minio_charts_with_factory_or_chart_default_keys(scan_tree):
    bitnami = (
        "mode: standalone\nauth:\n  rootUser: {user}\n  rootPassword: {password}\ndefaultBuckets: models\nservice:\n  type: LoadBalancer\n"
    )
    stable = 'mcImage:\n  repository: minio/mc\naccessKey: "AKIAIOSFODNN7EXAMPLE"\nsecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n'
    scan = scan_tree(
        {
            "bitnami/values.yaml": bitnami.format(user="minioadmin", password="minioadmin"),
            "generated/values.yaml": bitnami.format(user="admin", password='""'),  # the chart generates a random one
            "stable/values.yaml": stable,
            "tests/minio/values.yaml": bitnami.format(user="minioadmin", password="minioadmin"),  # test data
        },
        select="services",
    )
    assert scan.hits == [("SVC003", "bitnami/values.yaml", 4, 17), ("SVC003", "stable/values.yaml", 4, 13)]


LABEL_STUDIO_VALUES = """\
global:
  image:
    repository: heartexlabs/label-studio
  extraEnvironmentVars:
{env}app:
  service:
    type: LoadBalancer
rqworker:
  enabled: true
"""


def test_label_studio_chart_with_open_sign_up(scan_tree):
    scan = scan_tree(
        {
            "open/values.yaml": LABEL_STUDIO_VALUES.format(env="    LABEL_STUDIO_HOST: https://ls.example.com\n"),
            "invite/values.yaml": LABEL_STUDIO_VALUES.format(env="    LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK: true\n"),
        },
        select="services",
    )
    assert scan.hits == [("SVC001", "open/values.yaml", 8, 11)]
    assert "Label Studio" in scan.findings[0].message


# Exposure through objects of other files of the same folder ---------------------------------------

JUPYTER_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: lab}
spec:
  template:
    metadata:
      labels: {app: lab, tier: notebooks}
    spec:
      containers:
        - name: lab
          image: jupyter/base-notebook:2024-01-01
          args: ["start-notebook.sh", "--ServerApp.token="]
          ports: [{containerPort: 8888, name: http}]
"""

LAB_SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: lab}
spec:
  type: {type}
  selector: {app: lab}
  ports:
    - port: 80
      targetPort: http
"""

LAB_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: lab
  annotations: {annotations}
spec:
  rules:
    - host: lab.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: lab
                port: {number: 80}
"""


def test_service_selecting_a_pod_of_another_file_of_the_folder(scan_tree):
    # the empty token is reported where it is written, naming the Service that exposes it
    scan = scan_tree(
        {"k8s/deployment.yaml": JUPYTER_DEPLOYMENT, "k8s/service.yaml": LAB_SERVICE.replace("{type}", "LoadBalancer")},
        select="services",
    )
    assert scan.hits == [("SVC002", "k8s/deployment.yaml", 12, 58)]
    assert "Service lab of type LoadBalancer" in scan.findings[0].message


def test_ingress_to_a_service_and_pods_of_other_files(scan_tree):
    open_pod = JUPYTER_DEPLOYMENT.replace(', "--ServerApp.token="', "").replace("jupyter/base-notebook:2024-01-01", "ollama/ollama")
    open_pod = open_pod.replace("8888", "11434")
    ingress = LAB_INGRESS.replace("{annotations}", "{kubernetes.io/ingress.class: nginx}")
    authenticated = LAB_INGRESS.replace("{annotations}", "{nginx.ingress.kubernetes.io/auth-url: 'https://auth.example.com/oauth2/auth'}")
    service = LAB_SERVICE.replace("{type}", "ClusterIP")
    scan = scan_tree(
        {
            "open/pod.yaml": open_pod,
            "open/service.yaml": service,
            "open/ingress.yaml": ingress,
            "guarded/pod.yaml": open_pod,
            "guarded/service.yaml": service,
            "guarded/ingress.yaml": authenticated,
        },
        select="services",
    )
    assert scan.hits == [("SVC001", "open/ingress.yaml", 15, 23)]
    assert "Ollama (Ollama API, port 11434) is reachable from outside the cluster (Ingress lab)" in scan.findings[0].message


def test_services_of_other_files_that_reach_no_known_service(scan_tree):
    node_ui = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: ui}
spec:
  template:
    metadata: {labels: {app: lab}}
    spec:
      containers:
        - name: ui
          image: ghcr.io/acme/chat-ui:1.0
          env: [{name: HOSTNAME, value: 0.0.0.0}, {name: PORT, value: "3000"}]
          ports: [{containerPort: 3000}]
"""
    scan = scan_tree(
        {
            "cluster/deployment.yaml": JUPYTER_DEPLOYMENT,
            "cluster/service.yaml": LAB_SERVICE.replace("{type}", "ClusterIP"),  # cluster-only
            "ui/deployment.yaml": node_ui,  # a Node.js UI on 3000 is not Text Generation Inference
            "ui/service.yaml": LAB_SERVICE.replace("{type}", "LoadBalancer").replace("targetPort: http", "targetPort: 3000"),
            "other/service.yaml": LAB_SERVICE.replace("{type}", "NodePort").replace("app: lab", "app: web"),
            "other/deployment.yaml": JUPYTER_DEPLOYMENT,  # selects other labels
        },
        select="services",
    )
    assert scan.hits == []


KUBERAY_APISERVER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kuberay-apiserver
spec:
  template:
    metadata:
      labels: {app.kubernetes.io/component: kuberay-apiserver}
    spec:
      containers:
        - name: kuberay-apiserver
          image: quay.io/kuberay/apiserver:v1.2.0
          ports: [{name: http, containerPort: 8888}, {name: grpc, containerPort: 8887}]
{proxy}---
apiVersion: v1
kind: Service
metadata: {name: kuberay-apiserver}
spec:
  type: NodePort
  selector: {app.kubernetes.io/component: kuberay-apiserver}
  ports:
    - {name: http, port: 8888, targetPort: {target}}
"""


def test_kuberay_apiserver_on_a_node_port_with_and_without_its_security_proxy(scan_tree):
    proxy = "        - name: kuberay-security-proxy\n          image: quay.io/kuberay/security-proxy:v1.2.0\n          ports: [{containerPort: 8988}]\n"
    scan = scan_tree(
        {
            "insecure/apiserver.yaml": KUBERAY_APISERVER.replace("{proxy}", "").replace("{target}", "8888"),
            "secure/apiserver.yaml": KUBERAY_APISERVER.replace("{proxy}", proxy).replace("{target}", "8988"),
        },
        select="services",
    )
    assert scan.hits == [("SVC001", "insecure/apiserver.yaml", 22, 26)]
    assert "KubeRay API server (HTTP API, port 8888)" in scan.findings[0].message


def test_kuberay_apiserver_chart_values_without_the_security_block(scan_tree):
    values = "image:\n  repository: quay.io/kuberay/apiserver\nservice:\n  type: NodePort\nenableAPIServerV2: true\n"
    secured = values + "security:\n  proxy:\n    repository: quay.io/kuberay/security-proxy\n"
    scan = scan_tree({"apiserver/values.yaml": values, "secured/values.yaml": secured}, select="services")
    assert scan.hits == [("SVC001", "apiserver/values.yaml", 4, 9)]


def test_tls_passthrough_to_a_ray_client_port_with_client_certificates_is_authentication(scan_tree):
    cluster = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: secure}
spec:
  headGroupSpec:
    rayStartParams: {dashboard-host: 0.0.0.0}
    template:
      spec:
        containers:
          - name: ray-head
            image: rayproject/ray:2.9.0
            env:
              - {name: RAY_USE_TLS, value: "1"}
              - {name: RAY_TLS_CA_CERT, value: /etc/ray/tls/ca.crt}
"""
    passthrough = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ray-client
  annotations: {nginx.ingress.kubernetes.io/ssl-passthrough: "true"}
spec:
  rules:
    - host: ray.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: secure-head-svc
                port: {number: 10001}
"""
    scan = scan_tree({"ray/cluster.yaml": cluster, "ray/ingress.yaml": passthrough}, select="services")
    assert scan.hits == []


def test_a_charts_own_values_named_by_its_chart_yaml(scan_tree):
    chart = "apiVersion: v2\nname: jupyterhub\nhome: https://z2jh.jupyter.org\n"
    values = "hub:\n  config:\n    JupyterHub:\n      authenticator_class: dummy\n"
    # a namesake from elsewhere without the chart's keys is not JupyterHub's
    namesake = "apiVersion: v2\nname: jupyterhub\nhome: https://charts.example.com\n"
    other = "auth:\n  authenticator_class: dummy\nservice:\n  type: LoadBalancer\n"
    scan = scan_tree(
        {"jupyterhub/Chart.yaml": chart, "jupyterhub/values.yaml": values, "mine/Chart.yaml": namesake, "mine/values.yaml": other},
        select="services",
    )
    assert scan.hits == [("SVC002", "jupyterhub/values.yaml", 4, 28)]


OLLAMA_CHART_VALUES = """\
ollama:
  gpu:
    enabled: true
    type: nvidia
  models:
    pull: [llama3.2]
service:
  type: {type}
  port: 11434
ingress:
  enabled: {ingress}
  annotations: {annotations}
"""

OPEN_WEBUI_CHART_VALUES = """\
ollama:
  enabled: true
pipelines:
  enabled: true
service:
  type: {type}
ingress:
  enabled: true
  host: chat.example.com
extraEnvVars:
  - name: WEBUI_AUTH
    value: "{auth}"
"""


def test_ollama_and_open_webui_charts(scan_tree):
    scan = scan_tree(
        {
            "ollama-lb/values.yaml": OLLAMA_CHART_VALUES.format(type="LoadBalancer", ingress="false", annotations="{}"),
            "ollama-ingress/values.yaml": OLLAMA_CHART_VALUES.format(type="ClusterIP", ingress="true", annotations="{}"),
            "webui-open/values.yaml": OPEN_WEBUI_CHART_VALUES.format(type="ClusterIP", auth="False"),
        },
        select="services",
    )
    assert scan.hits == [
        ("SVC001", "ollama-ingress/values.yaml", 11, 12),  # Ollama has no authentication: the ingress
        ("SVC001", "ollama-lb/values.yaml", 8, 9),  # the LoadBalancer
        ("SVC002", "webui-open/values.yaml", 12, 13),  # WEBUI_AUTH=False on an ingress: anyone is the admin
    ]


def test_ollama_and_open_webui_charts_kept_inside_or_behind_a_login(scan_tree):
    oauth = "{nginx.ingress.kubernetes.io/auth-url: 'https://auth.example.com/oauth2/auth'}"
    scan = scan_tree(
        {
            "ollama-cluster/values.yaml": OLLAMA_CHART_VALUES.format(type="ClusterIP", ingress="false", annotations="{}"),
            "ollama-oauth/values.yaml": OLLAMA_CHART_VALUES.format(type="ClusterIP", ingress="true", annotations=oauth),
            "webui-login/values.yaml": OPEN_WEBUI_CHART_VALUES.format(type="LoadBalancer", auth="True"),
        },
        select="services",
    )
    assert scan.hits == []
