"""Python launch code (read with ast), Jupyter config files, TorchServe config.properties, .env files."""

from __future__ import annotations

import json

APP = """\
import subprocess

import gradio as gr
import ray

ray.init(dashboard_host="0.0.0.0")
ray.init(dashboard_host="127.0.0.1")
demo = gr.Interface(fn=lambda x: x, inputs="text", outputs="text")
demo.launch(share=True)
demo.launch(server_name="0.0.0.0", server_port=7861)
demo.launch(server_name="0.0.0.0", auth=("admin", PASSWORD))
demo.queue().launch(share=True, auth=check)
demo.launch()
subprocess.Popen(["mlflow", "server", "--host", "0.0.0.0"])
subprocess.run("jupyter lab --ip 0.0.0.0 --ServerApp.token=''", shell=True)
subprocess.run(["mlflow", "ui"])
"""


def test_python_launches(scan_tree):
    scan = scan_tree({"app.py": APP}, select="services")
    assert scan.hits == [
        ("SVC001", "app.py", 6, 26),
        ("SVC002", "app.py", 9, 19),
        ("SVC001", "app.py", 10, 26),
        ("SVC001", "app.py", 14, 50),
        ("SVC002", "app.py", 15, 60),
    ]
    assert "port 7861" in scan.findings[2].message
    assert str(scan.findings[1].severity) == "high"


def test_uvicorn_of_a_known_server_and_tensorboard(scan_tree):
    server = "import uvicorn\nfrom vllm.entrypoints.openai.api_server import app\nuvicorn.run(app, host='0.0.0.0', port=8000)\n"
    other = "import uvicorn\nfrom myapp import app\nuvicorn.run(app, host='0.0.0.0')\n"
    board = "from tensorboard import program\ntb = program.TensorBoard()\ntb.configure(argv=[None], logdir='runs', bind_all=True)\n"
    scan = scan_tree({"serve.py": server, "other.py": other, "board.py": board}, select="services")
    assert scan.hits == [("SVC001", "board.py", 3, 51), ("SVC001", "serve.py", 3, 24)]


def test_launch_without_gradio_import_and_invalid_python(scan_tree):
    scan = scan_tree({"rocket.py": "rocket.launch(share=True)\n", "broken.py": "ray.init(dashboard_host='0.0.0.0'\n"}, select="services")
    assert scan.hits == []
    assert scan.errors == [("broken.py", "not valid Python (line 1: '(' was never closed); not scanned")]


def test_jupyter_config(scan_tree):
    config = "c = get_config()\nc.ServerApp.ip = '0.0.0.0'\nc.ServerApp.token = ''\nc.ServerApp.open_browser = False\n"
    with_password = config + "c.ServerApp.password = 'argon2:$argon2id$v=19$m=10240'\n"
    local = "c.NotebookApp.token = ''\n"
    hashed = "from notebook.auth import passwd\nc.NotebookApp.ip = '*'\nc.NotebookApp.token = u''\nc.NotebookApp.password = passwd('x')\n"
    scan = scan_tree(
        {
            "jupyter_server_config.py": config,
            "b/jupyter_server_config.py": with_password,
            "c/jupyter_notebook_config.py": local,
            "d/jupyter_notebook_config.py": hashed,
        },
        select="services",
    )
    assert scan.hits == [("SVC002", "jupyter_server_config.py", 3, 22)]


def test_jupyter_config_any_origin_with_an_empty_token(scan_tree):
    # Loopback is no defence here: the user's own browser is the way in.
    wildcard = "c.ServerApp.token = ''\nc.ServerApp.allow_origin = '*'\n"
    pattern = "c.NotebookApp.token = ''\nc.NotebookApp.allow_origin_pat = '.*'\n"
    with_token = "c.ServerApp.allow_origin = '*'\n"
    one_site = "c.ServerApp.token = ''\nc.ServerApp.allow_origin = 'https://colab.research.google.com'\n"
    with_password = wildcard + "c.ServerApp.password = 'argon2:$argon2id$v=19$m=10240'\n"
    scan = scan_tree(
        {
            "a/jupyter_server_config.py": wildcard,
            "b/jupyter_notebook_config.py": pattern,
            "c/jupyter_server_config.py": with_token,
            "d/jupyter_server_config.py": one_site,
            "e/jupyter_server_config.py": with_password,
        },
        select="services",
    )
    assert scan.hits == [("SVC002", "a/jupyter_server_config.py", 2, 29), ("SVC002", "b/jupyter_notebook_config.py", 2, 35)]
    assert "allow_origin='*' with an empty token" in scan.messages("SVC002")[0]


def test_torchserve_config_properties(scan_tree):
    config = """\
inference_address=http://0.0.0.0:8080
management_address=http://0.0.0.0:8081
metrics_address=http://0.0.0.0:8082
"""
    disabled = "inference_address=http://0.0.0.0:8080\nmanagement_address=http://0.0.0.0:8081\ndisable_token_authorization=true\n"
    local = "management_address=http://127.0.0.1:8081\ndisable_token_authorization=true\nmodel_store=/models\n"
    scan = scan_tree({"a/config.properties": config, "b/config.properties": disabled, "c/config.properties": local}, select="services")
    assert scan.hits == [("SVC001", "a/config.properties", 2, 20), ("SVC002", "b/config.properties", 3, 29)]
    assert [str(f.severity) for f in scan.findings] == ["critical", "critical"]
    assert "management API, port 8081" in scan.messages("SVC001")[0]


def test_torchserve_properties_report_the_management_port_the_file_sets(scan_tree):
    # kserve's samples: both APIs on 8085; the finding is the management binding, at the port written
    config = "inference_address=http://0.0.0.0:8085\nmanagement_address=http://0.0.0.0:8085\nmetrics_address=http://0.0.0.0:8082\n"
    scan = scan_tree({"ts/config.properties": config}, select="services")
    assert scan.hits == [("SVC001", "ts/config.properties", 2, 20)]
    [message] = scan.messages("SVC001")
    assert "(management API, port 8085)" in message and "8080" not in message and "inference" not in message


def test_torchserve_inference_address_alone_is_not_reported(scan_tree):
    # serving predictions on every interface is the container's purpose, token auth on or off
    inference = "inference_address=http://0.0.0.0:8085\nmanagement_address=http://127.0.0.1:8081\n"
    inference_no_token = "inference_address=http://0.0.0.0:8080\ndisable_token_authorization=true\n"
    grpc = "grpc_inference_address=0.0.0.0\n"
    scan = scan_tree(
        {"a/config.properties": inference, "b/config.properties": inference_no_token, "c/config.properties": grpc}, select="services"
    )
    assert scan.hits == []


def test_dotenv(scan_tree):
    env = "# storage\nMINIO_ROOT_USER=minioadmin\nMINIO_ROOT_PASSWORD=minioadmin\nMLFLOW_TRACKING_PASSWORD='password1234'\nOLLAMA_HOST=0.0.0.0\n"
    safe = "MINIO_ROOT_PASSWORD=${MINIO_SECRET}\nOLLAMA_HOST=127.0.0.1:11434\nAWS_SECRET_ACCESS_KEY=minioadmin2\n"
    scan = scan_tree({".env": env, "deploy/.env.prod": safe}, select="services")
    assert scan.hits == [("SVC003", ".env", 3, 21), ("SVC003", ".env", 4, 27), ("SVC001", ".env", 5, 13)]


def test_f_string_command_line(scan_tree):
    app = 'import subprocess\nport = 5000\nsubprocess.Popen(f"mlflow ui --port {port} --host 0.0.0.0", shell=True)\n'
    scan = scan_tree({"track.py": app}, select="services")
    assert scan.hits == [("SVC001", "track.py", 3, 51)]


def test_notebook_cells_and_shell_lines(scan_tree):
    cells = [
        [
            "!pip install gradio\n",
            "import gradio as gr\n",
            "demo = gr.Interface(fn=lambda x: x, inputs='text', outputs='text')\n",
            "demo.launch(share=True)\n",
        ],
        ["%load_ext tensorboard\n", "!ray start --head --dashboard-host=0.0.0.0\n", "%tensorboard --logdir runs\n"],
        ["demo.launch(share=True, auth=('admin', secret))\n", "!ray start --head\n"],
    ]
    document = {"cells": [{"cell_type": "code", "source": source, "metadata": {}, "outputs": []} for source in cells], "nbformat": 4}
    text = json.dumps(document, indent=1)
    scan = scan_tree({"demo.ipynb": text}, select="services")
    lines = text.splitlines()
    share = next(i for i, line in enumerate(lines, 1) if "demo.launch(share=True)" in line)
    ray = next(i for i, line in enumerate(lines, 1) if "dashboard-host" in line)
    assert scan.hits == [("SVC002", "demo.ipynb", share, 19), ("SVC001", "demo.ipynb", ray, 36)]
    assert scan.messages("SVC002")[0].endswith("(cell 1, line 4)")
    assert scan.messages("SVC001")[0].endswith("(cell 2, line 2)")
