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
    assert scan.hits == [("SVC004", "a/jupyter_server_config.py", 2, 29), ("SVC004", "b/jupyter_notebook_config.py", 2, 35)]
    assert "allow_origin='*' with an empty token" in scan.messages("SVC004")[0]


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


def test_torchserve_management_on_a_unix_socket_or_in_tests_is_not_reported(scan_tree):
    # pytorch/serve's test configs: `unix:` is a socket file on the machine, not an interface
    socket = "inference_address=unix:/tmp/inference.sock\nmanagement_address=unix:/tmp/management.sock\n"
    network = "management_address=http://10.0.0.5:8081\n"
    in_tests = "management_address=http://0.0.0.0:8081\n"  # a throwaway server the tests start
    scan = scan_tree(
        {"a/config.properties": socket, "b/config.properties": network, "kubernetes/tests/docker/config.properties": in_tests},
        select="services",
    )
    assert scan.hits == [("SVC001", "b/config.properties", 1, 20)]


def test_a_vendored_projects_demo_app_is_not_this_projects_server(scan_tree):
    """xinference's `thirdparty/<model>/app.py` Gradio demos: the project imports the vendored code
    it needs and starts its own servers; the same app outside a vendored folder is reported."""
    app = 'import gradio as gr\ndemo = gr.Interface(fn=f, inputs="text", outputs="text")\ndemo.launch(server_name="0.0.0.0")\n'
    files = {"xinference/thirdparty/matcha/app.py": app, "vendor/demo/app.py": app, "src/app.py": app}
    assert scan_tree(files, select="services").rule_lines == [("SVC001", "src/app.py", 3)]


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
    # LLaMA-Factory's `.env.local`: variables listed empty, which the programs read as unset (their default, loopback)
    empty = "GRADIO_SHARE=\nGRADIO_SERVER_NAME=\nGRADIO_SERVER_PORT=\nOLLAMA_HOST=''\n"
    scan = scan_tree({".env": env, "deploy/.env.prod": safe, ".env.local": empty}, select="services")
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


SERVED = """\
import argparse
from dataclasses import dataclass, field

import torch
import uvicorn
from fastapi import FastAPI

HOST = "0.0.0.0"
app = FastAPI()
model = torch.jit.load("model.pt")


@dataclass
class ServerConfig:
    host: str = field(default="0.0.0.0")
    port: int = 8000


parser = argparse.ArgumentParser()
parser.add_argument("--host", default="0.0.0.0")
args = parser.parse_args()
uvicorn.run(app, host="0.0.0.0")
uvicorn.run(app, host=HOST, port=8080)
uvicorn.run(app, host=args.host)
uvicorn.run(app, host=ServerConfig().host)
uvicorn.run(app, host="127.0.0.1")
"""


def test_uvicorn_of_a_model_app_binds_through_constants_argparse_and_dataclass_defaults(scan_tree):
    scan = scan_tree({"serve.py": SERVED}, select="services")
    assert scan.hits == [
        ("SVC001", "serve.py", 8, 9),  # HOST = "0.0.0.0": the constant the second run uses
        ("SVC001", "serve.py", 15, 32),  # the dataclass field default (`ServerConfig().host`)
        ("SVC001", "serve.py", 20, 40),  # the argparse default (`args.host`)
        ("SVC001", "serve.py", 22, 24),
    ]
    assert "model-serving web app" in scan.findings[0].message
    assert "host=HOST ('0.0.0.0' on line 8)" in scan.findings[0].message


def test_model_app_with_authentication_or_without_a_model_is_not_reported(scan_tree):
    bearer = "from fastapi import Depends\nfrom fastapi.security import HTTPBearer\nsecurity = HTTPBearer()\n"
    header = "from fastapi import Request\n\ndef check(request: Request):\n    return request.headers.get('X-API-Key')\n"
    middleware = "from myauth import TokenMiddleware\napp.add_middleware(TokenMiddleware)\n"
    cors_only = (
        "from fastapi.middleware.cors import CORSMiddleware\napp.add_middleware(CORSMiddleware, allow_origins=['https://a.example'])\n"
    )
    run = "import transformers\nimport uvicorn\nuvicorn.run(app, host='0.0.0.0')\n"
    scan = scan_tree(
        {
            "bearer.py": bearer + run,
            "header.py": header + run,
            "middleware.py": middleware + run,
            "cors_only.py": cors_only + run,
            "no_model.py": "import uvicorn\nuvicorn.run(app, host='0.0.0.0')\n",
            # kaito's metrics server: torch for `torch.cuda` only, no model loaded or run
            "metrics.py": "import torch\nimport uvicorn\nn = torch.cuda.device_count()\nuvicorn.run(app, host='0.0.0.0')\n",
            "runs_one.py": "import torch\nimport uvicorn\nm = torch.jit.load('m.pt')\nuvicorn.run(app, host='0.0.0.0')\n",
            "ambiguous.py": "import torch\nimport uvicorn\nHOST = '0.0.0.0'\nHOST = '127.0.0.1'\nuvicorn.run(app, host=HOST)\n",
        },
        select="services",
    )
    assert scan.hits == [("SVC001", "cors_only.py", 5, 24), ("SVC001", "runs_one.py", 4, 24)]


FLASK = """\
from flask import Flask
from transformers import pipeline

app = Flask(__name__)
classify = pipeline("sentiment-analysis")
app.run(host="0.0.0.0", debug=True)
app.run(host="127.0.0.1", debug=True)
app.run(host="0.0.0.0", port=5000)
app.run(host="0.0.0.0", debug=False)
"""


def test_flask_debugger_beyond_loopback_and_a_flask_model_app(scan_tree):
    scan = scan_tree({"app.py": FLASK}, select="services")
    assert scan.hits == [("SVC002", "app.py", 6, 31), ("SVC001", "app.py", 8, 15), ("SVC001", "app.py", 9, 15)]
    assert str(scan.findings[0].severity) == "critical"
    assert "port 5000" in scan.findings[2].message
    assert "Werkzeug debugger" in scan.findings[0].message


def test_flask_debugger_without_a_model_and_flask_with_login(scan_tree):
    debugger = "from flask import Flask\napp = Flask(__name__)\napp.run('0.0.0.0', debug=True)\napp.run(host='0.0.0.0', debug=True)\n"
    login = "import torch\nfrom flask import Flask\nfrom flask_login import login_required\n@login_required\ndef predict(): ...\napp.run(host='0.0.0.0')\n"
    scan = scan_tree({"debugger.py": debugger, "login.py": login}, select="services")
    assert scan.hits == [("SVC002", "debugger.py", 3, 26), ("SVC002", "debugger.py", 4, 31)]
    assert "debug=True" in scan.findings[0].message


def test_minio_client_with_the_default_secret(scan_tree):
    client = """\
import os

import boto3
from minio import Minio

SECRET = "minioadmin"
Minio("minio:9000", access_key="minioadmin", secret_key="minioadmin", secure=False)
Minio("minio:9000", access_key="minioadmin", secret_key=SECRET)
boto3.client("s3", endpoint_url="http://minio:9000", aws_access_key_id="minioadmin", aws_secret_access_key="minioadmin")
Minio("minio:9000", access_key=os.environ["MINIO_ACCESS_KEY"], secret_key=os.environ["MINIO_SECRET_KEY"])
Minio("minio:9000", access_key="ml", secret_key="a-real-secret")
Minio("minio:9000", "minioadmin", "minioadmin")
"""
    scan = scan_tree({"store.py": client, "tests/test_store.py": client}, select="services")
    assert scan.hits == [
        ("SVC003", "store.py", 6, 11),
        ("SVC003", "store.py", 7, 58),
        ("SVC003", "store.py", 9, 109),
        ("SVC003", "store.py", 12, 36),
    ]
    assert "factory default secret" in scan.findings[1].message


CORS_APPS = {
    "fastapi_open.py": """\
import transformers
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"])
""",
    "flask_open.py": """\
from flask import Flask
from flask_cors import CORS
from transformers import pipeline

app = Flask(__name__)
CORS(app, supports_credentials=True)
CORS(app, origins="*", supports_credentials=True)
""",
    "fastapi_listed.py": """\
import torch
from fastapi.middleware.cors import CORSMiddleware

app.add_middleware(CORSMiddleware, allow_origins=["https://ui.example.com"], allow_credentials=True)
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=False)
app.add_middleware(CORSMiddleware, allow_origins=["*"])
""",
    "flask_listed.py": """\
import torch
from flask_cors import CORS

CORS(app, origins=["https://ui.example.com"], supports_credentials=True)
CORS(app, resources={r"/api/*": {"origins": "https://ui.example.com"}}, supports_credentials=True)
CORS(app)
""",
    "no_model.py": """\
from fastapi.middleware.cors import CORSMiddleware

app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
""",
}


def test_cors_any_origin_with_credentials(scan_tree):
    scan = scan_tree(CORS_APPS, select="services")
    assert scan.hits == [
        ("SVC004", "fastapi_open.py", 6, 52),
        ("SVC004", "flask_open.py", 6, 32),  # the default origins are every origin: at the credentials switch
        ("SVC004", "flask_open.py", 7, 20),
    ]
    assert "CORS answers every origin and allows credentials" in scan.findings[0].message


def test_own_app_around_an_imported_server_is_a_model_app(scan_tree):
    own = "import uvicorn\nfrom fastapi import FastAPI\nfrom vllm import LLM\napp = FastAPI()\nuvicorn.run(app, host='0.0.0.0')\n"
    served = "import uvicorn\nfrom vllm.entrypoints.openai.api_server import app\nuvicorn.run(app, host='127.0.0.1')\n"
    scan = scan_tree({"own.py": own, "served.py": served}, select="services")
    assert scan.hits == [("SVC001", "own.py", 5, 24)]
    assert "model-serving web app" in scan.findings[0].message


REDIS_OPEN = "# redis.conf\nbind 0.0.0.0\nport 6380\n"
REDIS_NO_PROTECTED_MODE = "bind * -::*\nprotected-mode no\n"
REDIS_DEFAULT_BIND_UNPROTECTED = "port 6379\nprotected-mode no\n"


def test_redis_conf_reachable_without_password(scan_tree):
    scan = scan_tree(
        {
            "redis/redis.conf": REDIS_OPEN,
            "wild/redis.conf": REDIS_NO_PROTECTED_MODE,
            "default/redis-6379.conf": REDIS_DEFAULT_BIND_UNPROTECTED,
            "last/redis.conf": 'bind 127.0.0.1\nrequirepass "s3cret"\nBIND "0.0.0.0"\nrequirepass ""\n',  # the last wins
        },
        select="services",
    )
    assert scan.hits == [
        ("SVC002", "default/redis-6379.conf", 2, 16),
        ("SVC001", "last/redis.conf", 3, 6),
        ("SVC001", "redis/redis.conf", 2, 6),
        ("SVC002", "wild/redis.conf", 2, 16),
    ]
    assert "port 6380" in scan.findings[2].message


def test_redis_conf_loopback_password_acl_or_protected(scan_tree):
    scan = scan_tree(
        {
            "loopback/redis.conf": "bind 127.0.0.1 -::1\nprotected-mode no\n",
            "password/redis.conf": "bind 0.0.0.0\nprotected-mode no\nrequirepass 'long-random-secret'\n",
            "acl/redis.conf": "bind 0.0.0.0\nuser default on >long-random-secret ~* +@all\n",
            "disabled/redis.conf": "bind 0.0.0.0\nuser default off\nuser app on >secret ~* +@all\n",
            "protected/redis.conf": "protected-mode yes\nport 6379\n",
            "include/redis.conf": "include /etc/redis/secrets.conf\nbind 0.0.0.0\n",
            "bind-then-loopback/redis.conf": "bind 0.0.0.0\nbind 127.0.0.1\n",
        },
        select="services",
    )
    assert scan.hits == []
    open_default = scan_tree({"nopass/redis.conf": "bind 0.0.0.0\nuser default on nopass ~* +@all\n"}, select="services")
    assert open_default.hits == [("SVC001", "nopass/redis.conf", 1, 6)]


STREAMLIT_SPACE = '[browser]\ngatherUsageStats = false\n\n[server]\nheadless = true\nport = 7860\nenableCORS = false\nenableXsrfProtection = false\naddress = "0.0.0.0"\n'


def test_streamlit_config_address_and_cross_origin(scan_tree):
    scan = scan_tree(
        {
            "app/.streamlit/config.toml": STREAMLIT_SPACE,
            ".streamlit/config.toml": 'server.address = "0.0.0.0"\n',
            "local/.streamlit/config.toml": '[server]\naddress = "127.0.0.1"\nenableCORS = false\nenableXsrfProtection = false\n',
        },
        select="services",
    )
    assert scan.hits == [
        ("SVC001", ".streamlit/config.toml", 1, 19),
        ("SVC004", "app/.streamlit/config.toml", 7, 14),
        ("SVC001", "app/.streamlit/config.toml", 9, 12),
        ("SVC004", "local/.streamlit/config.toml", 3, 14),
    ]
    assert "port 7860" in scan.findings[2].message


def test_streamlit_config_loopback_protections_on_or_other_toml(scan_tree):
    scan = scan_tree(
        {
            "a/.streamlit/config.toml": '[server]\naddress = "127.0.0.1"\nenableCORS = false\n',  # XSRF on turns CORS back on
            "b/.streamlit/config.toml": "[server]\nenableXsrfProtection = false\nheadless = true\n",
            "c/.streamlit/config.toml": '[theme]\naddress = "0.0.0.0"\n',  # not [server]
            "hugo/config.toml": '[server]\naddress = "0.0.0.0"\nenableCORS = false\nenableXsrfProtection = false\n',
        },
        select="services",
    )
    assert scan.hits == []


def test_ollama_origins_any_origin_even_on_loopback(scan_tree):
    # Loopback is no defence: the user's browser runs the web pages that call the local API.
    compose_open = "services:\n  ollama:\n    image: ollama/ollama\n    ports: ['127.0.0.1:11434:11434']\n    environment:\n      OLLAMA_ORIGINS: '*'\n"
    compose_unpublished = "services:\n  ollama:\n    image: ollama/ollama\n    environment:\n      OLLAMA_ORIGINS: '*'\n"
    scan = scan_tree(
        {
            "a/.env": "OLLAMA_HOST=127.0.0.1\nOLLAMA_ORIGINS=*\n",
            "b/start.sh": "export OLLAMA_ORIGINS='http://*,app://*'\nollama serve\n",
            "c/docker-compose.yml": compose_open,
            "d/.env": "OLLAMA_ORIGINS=https://chat.example.com,app://obsidian.md\n",  # named origins only
            "e/docker-compose.yml": compose_unpublished,  # no port the browser reaches
            "f/start.sh": "OLLAMA_ORIGINS=$ORIGINS ollama serve\n",  # read at run time
        },
        select="services",
    )
    assert scan.hits == [("SVC004", "a/.env", 2, 16), ("SVC004", "b/start.sh", 1, 24), ("SVC004", "c/docker-compose.yml", 6, 24)]
    assert "OLLAMA_ORIGINS=* lets every web page" in scan.messages("SVC004")[0]
