"""Hostile input never crashes the services readers, and the pre-commit filter agrees with them."""

from __future__ import annotations

import re

import pytest

from mlgate.services import HOOK
from test_precommit_e2e import hook_entry

HOSTILE = {
    "docker-compose.yml": "services:\n  a: &a\n    ports: [*a, *a]\n    image: [1]\n    command: {x: 1}\n  b: 7\n",
    "k8s.yaml": "kind: Service\nspec: {type: LoadBalancer, ports: [{port: [1]}, 3, {targetPort: {a: b}}], selector: [1]}\n---\nkind: Ingress\nspec: [1]\n",
    "values.yaml": "image: &x {repository: [1], service: *x}\nservice: {type: NodePort, port: {}}\n",
    "Dockerfile": "FROM\nEXPOSE\nCMD [\"unterminated\nENTRYPOINT []\nCMD []\nENV\nRUN c.ServerApp.token = '\n",
    "run.sh": "ray start --head --dashboard-host=\"$(\nollama serve '\n" + "(" * 200 + "\n",
    "app.py": "import gradio\nx.launch(share=1, server_name=None)\nray.init(dashboard_host=f'{h}')\nsubprocess.run([1, 2])\nos.system(42)\n",
    "jupyter_notebook_config.py": "c.NotebookApp.ip = 0\nc.NotebookApp.token = None\nc[0] = ''\n",
    "config.properties": "management_address\n=\ninference_address=::::\n",
    ".env": "=\nOLLAMA_HOST\nexport\n",
    "broken.ipynb": '{"cells": [{"cell_type": "code", "source": ["ray.init(dashboard_host=\\"0.0.0.0\\"", 7]}, 3, {"cell_type": "code", "source": 5}]}',
    "not-json.ipynb": "{ray.init(",
}


def test_hostile_files_do_not_crash(scan_tree):
    scan = scan_tree(HOSTILE, select="services")
    assert all(path in HOSTILE for path, _ in scan.errors)
    assert scan.hits == []


def test_deeply_nested_yaml_is_an_error_not_a_crash(scan_tree):
    scan = scan_tree({"deep.yaml": "kind: x\na: " + "[" * 1000 + "]" * 1000 + "\n"}, select="services")
    assert scan.errors == [("deep.yaml", "YAML nested more than 500 levels deep; not scanned")]


# Every file kind the services readers take, and look-alikes they do not.
SAMPLE_PATHS = [
    "docker-compose.yml",
    "compose.yaml",
    "deploy/docker-compose.prod.yml",
    "k8s/deployment.yaml",
    "chart/values.yaml",
    "chart/templates/service.yaml",
    "cluster.yml",
    ".github/workflows/ci.yml",
    "action.yml",
    "Dockerfile",
    "docker/Dockerfile.gpu",
    "serve.Dockerfile",
    "scripts/serve.sh",
    "bin/start",
    "app.py",
    "jupyter_server_config.py",
    "config.properties",
    "redis.conf",
    "deploy/redis-6379.conf",
    "app/.streamlit/config.toml",
    "config.toml",
    "nginx.conf",
    ".env",
    ".env.local",
    "deploy/prod.env",
    "notebooks/demo.ipynb",
    "k8s/deployment.json",
    "README.md",
    "Dockerfile.dockerignore",
    "requirements.txt",
    "Makefile",
    "data.txt",
    "scripts/run.ps1",
]


@pytest.mark.parametrize("path", SAMPLE_PATHS)
def test_files_filter_agrees_with_the_scanners(path):
    files = re.compile(hook_entry("mlgate-services")["files"])
    assert bool(files.search(path)) == any(scanner.matches(path) for scanner in HOOK.scanners)


def test_the_service_prefilter_is_its_look_behind_expression():
    """`mentions_service` checks the look-behind at each match instead of at every character: the
    same answer as the expression with the look-behind, on texts built of the words and their pieces."""
    import random

    from mlgate.services import launch

    words = sorted(launch._prefilter_words())
    alternatives = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    expression = re.compile(rf"(?<![\w.-])(?:{alternatives})(?![\w-])")
    generator = random.Random(15)
    glue = "ab-._ \n0Z/=:"
    for _ in range(3000):
        pieces = [generator.choice(words)[: generator.randint(1, 30)] if generator.random() < 0.5 else "".join(generator.choices(glue, k=generator.randint(0, 3))) for _ in range(generator.randint(1, 6))]  # fmt: skip
        text = "".join(pieces)
        assert launch.mentions_service(text) == (expression.search(text) is not None), text
    assert launch.mentions_service("docker run") and not launch.mentions_service("mydocker run") and not launch.mentions_service("x.docker")
