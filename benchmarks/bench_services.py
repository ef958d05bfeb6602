#!/usr/bin/env python3
"""How fast is `mlgate check --select services`, next to checkov, on a generated tree of deployment files?

One command (from anywhere): `python3 benchmarks/bench_services.py` (or `bash benchmarks/run.sh services`).
It writes a tree of realistic deployment files (default: 600 projects, 3000 files) under the
system temp folder: per project a docker-compose file, a Kubernetes manifest (Deployment +
Service + Ingress, some of them KubeRay clusters or Helm-templated), a Dockerfile, the Python
that launches the app and a start script, with services exposed or kept on loopback at random
(seeded, so every run writes the same tree). It uses the virtual environments of
bench_pins.py under benchmarks/.work/ (mlgate re-installed from the working tree; checkov
3.3.30 in `tools`).

Each command is timed as a user runs it (default text output): run once to warm caches, then
`--runs` times; the median wall time of the whole process is reported. checkov runs with its
`kubernetes` and `dockerfile` frameworks (it has none for compose files, Python or shell), and
mlgate is timed both on the whole tree and on exactly the files checkov reads, so the ratio
compares the same work. One more run asks each tool for JSON to count what it found.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path

from bench_pins import TOOLS, WORK, ensure_venv, install_mlgate, measure_checkov, measure_mlgate, print_found, table

DEFAULT_TREE = Path(tempfile.gettempdir()) / "mlgate-bench-services"
TARGET_SPEEDUP = 10.0

# (image, container port, command) of services a project may run; None: the image's own command.
SERVICES = [
    ("rayproject/ray:2.9.0", 8265, "ray start --head --dashboard-host=0.0.0.0 --block"),
    ("ghcr.io/mlflow/mlflow:v2.9.2", 5000, "mlflow server --host 0.0.0.0 --backend-store-uri sqlite:///mlflow.db"),
    ("quay.io/jupyter/scipy-notebook:2024-05-27", 8888, None),
    ("ollama/ollama:0.3.0", 11434, None),
    ("vllm/vllm-openai:v0.6.0", 8000, "--model mistralai/Mistral-7B-Instruct-v0.2"),
    ("pytorch/torchserve:0.8.2-cpu", 8081, None),
    ("redis:7-alpine", 6379, None),
    ("postgres:16", 5432, None),
    ("nginx:1.27", 80, None),
    ("minio/minio:RELEASE.2024-05-10T01-41-38Z", 9000, "server /data --console-address :9001"),
]


def compose(rng: random.Random) -> str:
    lines = ["services:"]
    for index, (image, port, command) in enumerate(rng.sample(SERVICES, 4)):
        lines += [f"  svc{index}:", f"    image: {image}"]
        if command:
            lines.append(f"    command: {command}")
        lines.append("    environment:")
        lines += [f"      - LOG_LEVEL={rng.choice(['info', 'debug'])}", f"      - WORKERS={rng.randint(1, 8)}"]
        bind = rng.choice(["", "", "127.0.0.1:"])
        lines += ["    ports:", f'      - "{bind}{port}:{port}"', "    restart: unless-stopped"]
    return "\n".join(lines) + "\n"


def manifest(rng: random.Random, name: str) -> str:
    image, port, command = rng.choice(SERVICES)
    args = f'\n          args: ["{command.split()[0]}", "{command.split()[1]}"]' if command else ""
    kind = rng.choice(["ClusterIP", "ClusterIP", "LoadBalancer", "NodePort"])
    text = f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: {rng.randint(1, 3)}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: {name}
          image: {image}{args}
          ports:
            - containerPort: {port}
              name: http
          resources:
            limits: {{cpu: "2", memory: 4Gi}}
          securityContext: {{runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  type: {kind}
  selector: {{app: {name}}}
  ports:
    - port: {port}
      targetPort: http
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
spec:
  rules:
    - host: {name}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {name}
                port: {{number: {port}}}
"""
    if rng.random() < 0.2:
        text += f"""\
---
apiVersion: ray.io/v1
kind: RayCluster
metadata: {{name: {name}-ray}}
spec:
  headGroupSpec:
    serviceType: {rng.choice(["ClusterIP", "LoadBalancer"])}
    rayStartParams: {{dashboard-host: "0.0.0.0"}}
    template:
      spec:
        containers: [{{name: ray-head, image: "rayproject/ray:2.9.0"}}]
"""
    return text


def dockerfile(rng: random.Random) -> str:
    cmd = rng.choice(
        [
            '["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]',
            '["python", "app.py"]',
            '["mlflow", "server", "--host", "127.0.0.1"]',
            '["uvicorn", "api:app", "--host", "0.0.0.0", "--port", "8000"]',
        ]
    )
    return f"""\
FROM python:3.11-slim@sha256:{"ab" * 32}
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV GRADIO_SERVER_NAME={rng.choice(["0.0.0.0", "127.0.0.1"])}
USER 1000
EXPOSE {rng.choice([7860, 8501, 8000])}
HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1
CMD {cmd}
"""


def python_app(rng: random.Random) -> str:
    host = rng.choice(["0.0.0.0", "127.0.0.1"])
    return f'''"""A demo app."""
import gradio as gr
import ray

from model import predict


def infer(text: str) -> str:
    return predict(text)


if __name__ == "__main__":
    ray.init(dashboard_host="{host}")
    demo = gr.Interface(fn=infer, inputs="text", outputs="text")
    demo.launch(server_name="{host}", share={rng.choice(["True", "False"])})
'''


def script(rng: random.Random) -> str:
    return f"""#!/usr/bin/env bash
set -euo pipefail
export OLLAMA_HOST={rng.choice(["0.0.0.0", "127.0.0.1"])}:11434
ollama serve &
tensorboard --logdir runs --port 6006 {rng.choice(["--bind_all", ""])} &
python train.py --epochs {rng.randint(1, 50)}
"""


def write_tree(root: Path, projects: int) -> None:
    """The generated tree (rewritten when its size changes)."""
    stamp = root / ".projects"
    if stamp.exists() and stamp.read_text() == str(projects):
        return
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(7)
    for index in range(projects):
        project = root / f"project{index:04d}"
        (project / "k8s").mkdir(parents=True)
        (project / "scripts").mkdir()
        (project / "docker-compose.yml").write_text(compose(rng))
        (project / "k8s" / "deploy.yaml").write_text(manifest(rng, f"svc{index}"))
        (project / "Dockerfile").write_text(dockerfile(rng))
        (project / "app.py").write_text(python_app(rng))
        (project / "scripts" / "serve.sh").write_text(script(rng))
    stamp.write_text(str(projects))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=600, help="projects in the generated tree (5 files each)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per command (after one warm-up)")
    parser.add_argument("--tree", type=Path, default=DEFAULT_TREE, help=f"where the tree is written (default: {DEFAULT_TREE})")
    parser.add_argument("--skip-tools", action="store_true", help="time mlgate only")
    args = parser.parse_args()
    tree = args.tree.resolve()
    write_tree(tree, args.projects)
    WORK.mkdir(exist_ok=True)
    mlgate_bin = install_mlgate()
    checkov_scope = sorted(path.relative_to(tree).as_posix() for pattern in ("*/k8s/*.yaml", "*/Dockerfile") for path in tree.glob(pattern))

    measures = [measure_mlgate(mlgate_bin, tree, "whole tree", ["."], args.runs, hook="services")]
    ratio = None
    if not args.skip_tools:
        tools_bin = ensure_venv(WORK / "tools", [f"{name}=={version}" for name, version in TOOLS.items()], marker=json.dumps(TOOLS))
        scope = "k8s manifests, Dockerfiles"
        same = measure_mlgate(mlgate_bin, tree, scope, checkov_scope, args.runs, hook="services")
        checkov = measure_checkov(tools_bin, tree, len(checkov_scope), args.runs, frameworks=("kubernetes", "dockerfile"), scope=scope)
        measures += [same, checkov]
        ratio = checkov.median / same.median

    rows = [["tool", "scope", "files", "findings", "median s", "min s"]]
    rows += [[m.tool, m.scope, str(m.files), str(sum(m.findings.values())), f"{m.median:.3f}", f"{min(m.times):.3f}"] for m in measures]
    print(f"tree: {tree}  ({args.projects} projects; {args.runs} timed runs each, after one warm-up; wall time of the whole process)\n")
    print(table(rows))
    print_found(measures)
    if ratio is not None:
        verdict = "ok" if ratio >= TARGET_SPEEDUP else "MISSED"
        print(f"\ncheckov / mlgate on the same {len(checkov_scope)} files: {ratio:.1f}x (target >= {TARGET_SPEEDUP:.0f}x: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
