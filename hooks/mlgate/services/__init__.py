"""The `services` hook: ML services reachable beyond the machine without authentication.

What each service is (images, commands, ports, bind and auth settings) lives in catalog.py;
launch.py recognises a service in a command line and judges its settings; report.py turns
exposures into findings. One reader per file kind, each exposing `SCANNER`.
"""

from mlgate.findings import declared_rules
from mlgate.hook import Hook
from mlgate.services import (
    compose,
    dockerfile,
    dotenv,
    embedded_configs,
    jupyter_config,
    kubernetes,
    properties,
    python_code,
    redis_conf,
    rules,
    scripts,
    streamlit_config,
    systemd_units,
)

HOOK = Hook(
    name="services",
    description="MLOps and inference services (Ray, TorchServe, MLflow, Jupyter, Ollama, vLLM, Gradio, ...) exposed without authentication",
    rules=declared_rules(rules.HOOK),
    scanners=(
        compose.SCANNER,
        kubernetes.SCANNER,
        dockerfile.SCANNER,
        scripts.SCANNER,
        scripts.WORKFLOW_SCANNER,
        python_code.SCANNER,
        python_code.NOTEBOOK_SCANNER,
        jupyter_config.SCANNER,
        properties.SCANNER,
        dotenv.SCANNER,
        redis_conf.SCANNER,
        streamlit_config.SCANNER,
        embedded_configs.SCANNER,
        systemd_units.SCANNER,
    ),
)
