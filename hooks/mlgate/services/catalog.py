"""What mlgate knows about each service: one `Service` entry per service, nothing elsewhere.

An entry says how to recognise the service (container images, command lines, words in
Kubernetes object names), where it listens (default ports and what each API allows), how
its listen address is set, what turns authentication on or off, and which credentials it
ships with. Readers never name a service: they ask this table. Adding a service is one entry
here plus its tests.

Option and variable names follow one convention: a name starting with `-` is a command-line
option (`--host`, or `--ServerApp.token` for traitlets), anything else an environment variable.
In `auth_by` / `disabled_by`, a value of None means "the option is given" (a flag) for
options, "set to anything non-empty" for variables; "" means "set to the empty string".
`default_credentials` are the server's own settings (`MINIO_ROOT_PASSWORD`), never the variables
a client holds to connect (`AWS_SECRET_ACCESS_KEY`): SVC003 is reported where the service that
accepts the credentials is defined.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlgate.findings import Severity

CRITICAL, HIGH, MEDIUM = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM


@dataclass(frozen=True)
class Port:
    number: int
    api: str
    severity: Severity | None  # None: never reported (metrics, health, or the predictions the service exists to serve)
    mutual_tls: bool = False  # a gRPC server that requires a client certificate once the service's TLS is on (`Service.tls_by`)


@dataclass(frozen=True)
class Service:
    key: str
    name: str
    danger: str  # why anyone who reaches it is a problem, with the incident that proved it
    ports: tuple[Port, ...]  # the first is the main API (used for a port we do not know)
    images: tuple[str, ...] = ()  # image repositories (registry host and tag stripped); `x/` = all of x
    commands: tuple[str, ...] = ()  # `program [subcommand]`; `python -m module` counts as `module`
    requires: tuple[str, ...] = ()  # an option the command line must carry (`ray start --head`)
    keywords: tuple[str, ...] = ()  # words in Kubernetes object names, Helm chart folders
    bind_by: tuple[str, ...] = ()  # options / variables whose value is the listen address
    bind_all_flags: tuple[str, ...] = ()  # flags that bind every interface (`--bind_all`)
    port_by: tuple[str, ...] = ()  # options / variables whose value is the main port
    binds_all_by_default: bool = False  # outside a container, without any bind option
    authenticated_by_default: bool = False  # a token or login is required unless turned off
    auth_by: tuple[tuple[str, str | None], ...] = ()
    disabled_by: tuple[tuple[str, str | None], ...] = ()
    default_credentials: tuple[tuple[str, str], ...] = ()  # (variable, the value it ships with)
    authenticated_since: tuple[int, ...] = ()  # image versions from this one on require a token by default
    # Settings that turn the service's TLS on: every group must match (any pair of a group). Its
    # `mutual_tls` ports then accept only clients with a certificate its CA signed.
    tls_by: tuple[tuple[tuple[str, str | None], ...], ...] = ()
    # Settings that open an API which loads and so runs code (Triton's model control): every
    # reachable API of the service is then critical.
    loads_code_by: tuple[tuple[str, str | None], ...] = ()
    # Variables listing the web origins it answers (comma-separated): `*` or a scheme wildcard
    # (`http://*`) among them lets any web page the user opens call it through the browser.
    origins_by: tuple[str, ...] = ()

    @property
    def severity(self) -> Severity:
        return max(port.severity for port in self.ports if port.severity is not None)

    @property
    def key_in_environment(self) -> bool:
        """Whether a variable can turn its authentication on (an env file we cannot read may hold it)."""
        return any(not name.startswith("-") for name, _ in self.auth_by)

    @property
    def own_variables(self) -> tuple[str, ...]:
        """Its bind / port variables that carry its name (`GRADIO_SERVER_NAME`, not `PORT`): only these
        identify the service where no image or command does; a generic name or a port number is no evidence."""
        prefix = self.key.upper().replace("-", "_") + "_"
        return tuple(name for name in (*self.bind_by, *self.port_by) if name.startswith(prefix))

    def port(self, number: int | None) -> Port:
        """The entry for `number`, or the main API when it listens somewhere unusual."""
        return next((port for port in self.ports if port.number == number), self.ports[0])


_JUPYTER_APPS = ("ServerApp", "NotebookApp", "IdentityProvider")

SERVICES: tuple[Service, ...] = (
    Service(  # before Ray: its names start with `kuberay` too
        "kuberay-apiserver",
        "KubeRay API server",
        "it creates and deletes Ray clusters and submits jobs to them with the operator's rights, and has no "
        "authentication of its own (KubeRay ships a security proxy for that): whoever reaches it runs code in the cluster",
        (Port(8888, "HTTP API", CRITICAL), Port(8887, "gRPC API", CRITICAL)),
        images=("kuberay/apiserver",),
        keywords=("kuberay-apiserver",),
    ),
    Service(
        "ray",
        "Ray",
        "the Jobs API and the client port run any code submitted to them and Ray has no authentication by default "
        "(ShadowRay, CVE-2023-48022, exploited in the wild since 2023)",
        (
            Port(8265, "dashboard and Jobs API", CRITICAL),
            Port(10001, "Ray client server", CRITICAL, mutual_tls=True),
            Port(6379, "GCS (cluster control)", CRITICAL, mutual_tls=True),
            Port(8000, "Ray Serve HTTP", None),
            Port(8080, "metrics", None),
        ),
        images=("rayproject/ray", "rayproject/ray-ml", "anyscale/ray"),
        commands=("ray start",),
        requires=("--head",),
        keywords=("ray", "ray-head", "raycluster", "kuberay"),
        bind_by=("--dashboard-host",),
        port_by=("--dashboard-port",),
        auth_by=(("RAY_AUTH_MODE", "token"),),
        # Ray's gRPC servers with RAY_USE_TLS load RAY_TLS_CA_CERT and require client certificates
        # (tls_utils.add_port_to_grpc_server: require_client_auth; the C++ servers:
        # REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY). The dashboard (HTTP) is not covered.
        tls_by=((("RAY_USE_TLS", "1"), ("RAY_USE_TLS", "true")), (("RAY_TLS_CA_CERT", None),)),
    ),
    Service(
        "torchserve",
        "TorchServe",
        "the management API registers models from any URL and loads them, which runs their code (ShellTorch, CVE-2023-43654)",
        (  # management first: the main API, where an unknown port is assumed to lead
            Port(8081, "management API", CRITICAL),
            Port(7071, "gRPC management API", CRITICAL),
            Port(8080, "inference API", None),  # serving predictions is what the server is for
            Port(8082, "metrics API", None),
            Port(7070, "gRPC inference API", None),
        ),
        images=("pytorch/torchserve", "pytorch/torchserve-kfs"),
        commands=("torchserve",),
        requires=("--start",),
        keywords=("torchserve",),
        authenticated_since=(0, 11),  # token authorization on by default since 0.11.0
        disabled_by=(("--disable-token-auth", None), ("TS_DISABLE_TOKEN_AUTHORIZATION", "true"), ("disable_token_authorization", "true")),
    ),
    Service(
        "mlflow",
        "MLflow",
        "without --app-name basic-auth anyone can read every experiment and artifact and register models that "
        "others then load, which runs their code (CVE-2023-1177, CVE-2024-37052..37060)",
        (Port(5000, "tracking server and model registry", HIGH),),
        images=("mlflow/mlflow", "bitnami/mlflow", "burakince/mlflow"),
        commands=("mlflow server", "mlflow ui"),
        keywords=("mlflow",),
        bind_by=("--host", "-h", "MLFLOW_HOST"),
        port_by=("--port", "-p", "MLFLOW_PORT"),
        auth_by=(("--app-name", "basic-auth"), ("MLFLOW_FLASK_SERVER_SECRET_KEY", None)),
        # the admin password a Bitnami MLflow server is started with (its clients read the same variable)
        default_credentials=(("MLFLOW_TRACKING_PASSWORD", "password1234"),),
    ),
    Service(
        "jupyter",
        "Jupyter",
        "its terminals and kernels run any command as the server's user",
        (Port(8888, "notebook server", CRITICAL),),
        images=("jupyter/", "jupyterhub/singleuser"),
        commands=(
            "jupyter lab",
            "jupyter notebook",
            "jupyter server",
            "jupyter-lab",
            "jupyter-notebook",
            "jupyter-server",
            "jupyterlab",
            "notebook",
        ),
        keywords=("jupyter", "notebook"),
        bind_by=tuple(f"--{app}.ip" for app in _JUPYTER_APPS[:2]) + ("--ip",),
        port_by=("--port",),
        authenticated_by_default=True,
        auth_by=tuple((f"--{app}.password", None) for app in _JUPYTER_APPS[:2]) + (("--PasswordIdentityProvider.hashed_password", None),),
        disabled_by=tuple((f"--{app}.token", "") for app in _JUPYTER_APPS) + (("JUPYTER_TOKEN", ""),),
    ),
    Service(  # recognised only through its Helm chart (charts.py): the hub and the proxy in front of it
        "jupyterhub",
        "JupyterHub",
        "whoever logs in gets a notebook server, a shell in the cluster; an authenticator that lets anyone in "
        "hands one to anyone who finds the address",
        (Port(80, "hub and its users' notebook servers", CRITICAL),),
    ),
    Service(
        "ollama",
        "Ollama",
        "its API has no authentication at all: anyone can pull, push, copy and delete models and use the GPUs "
        "(and CVE-2024-37032, Probllama, turned a model pull into code execution)",
        (Port(11434, "Ollama API", HIGH),),
        images=("ollama/ollama",),
        commands=("ollama serve",),
        keywords=("ollama",),
        bind_by=("OLLAMA_HOST",),
        origins_by=("OLLAMA_ORIGINS",),
    ),
    Service(
        "vllm",
        "vLLM",
        "its OpenAI-compatible API serves (and spends GPU time for) anyone unless --api-key is set",
        (Port(8000, "OpenAI-compatible API", MEDIUM),),
        images=("vllm/vllm-openai", "vllm/vllm-tpu"),
        commands=("vllm serve", "vllm.entrypoints.openai.api_server"),
        keywords=("vllm",),
        bind_by=("--host",),
        port_by=("--port",),
        binds_all_by_default=True,
        auth_by=(("--api-key", None), ("VLLM_API_KEY", None)),
    ),
    Service(
        "tgi",
        "Text Generation Inference",
        "its generation API serves (and spends GPU time for) anyone unless an API key is set",
        (Port(80, "generation API", MEDIUM), Port(3000, "generation API", MEDIUM), Port(8080, "generation API", MEDIUM)),
        images=("huggingface/text-generation-inference", "text-generation-inference"),
        commands=("text-generation-launcher",),
        keywords=("text-generation-inference", "tgi"),
        bind_by=("--hostname",),
        port_by=("--port", "-p", "PORT"),
        binds_all_by_default=True,
        auth_by=(("--api-key", None), ("API_KEY", None)),
    ),
    Service(
        "tei",
        "Text Embeddings Inference",
        "its embedding API serves (and spends compute for) anyone unless an API key is set",
        (Port(80, "embedding API", MEDIUM), Port(3000, "embedding API", MEDIUM), Port(8080, "embedding API", MEDIUM)),
        images=("huggingface/text-embeddings-inference",),
        commands=("text-embeddings-router",),
        keywords=("text-embeddings-inference",),
        bind_by=("--hostname",),
        port_by=("--port",),
        binds_all_by_default=True,
        auth_by=(("--api-key", None), ("API_KEY", None)),
    ),
    Service(
        "sglang",
        "SGLang",
        "its OpenAI-compatible API serves (and spends GPU time for) anyone unless --api-key is set, and its admin "
        "routes (/update_weights_from_disk, /flush_cache) change what every user gets",
        (Port(30000, "OpenAI-compatible API", MEDIUM),),
        images=("lmsysorg/sglang",),
        commands=("sglang.launch_server", "sglang serve"),
        keywords=("sglang",),
        bind_by=("--host",),
        port_by=("--port",),
        auth_by=(("--api-key", None),),
    ),
    Service(
        "llama-cpp",
        "llama.cpp server",
        "its completion and embedding API serves (and spends compute for) anyone unless --api-key is set",
        (Port(8080, "completion API", MEDIUM),),
        commands=("llama-server",),
        keywords=("llama-cpp", "llamacpp"),
        bind_by=("--host", "LLAMA_ARG_HOST"),
        port_by=("--port", "LLAMA_ARG_PORT"),
        auth_by=(("--api-key", None), ("--api-key-file", None), ("LLAMA_API_KEY", None)),
    ),
    Service(
        "bentoml",
        "BentoML",
        "anyone who reaches it calls every API of the service, and BentoML 1.3.4 to 1.4.2 unpickled request "
        "bodies, which runs code (CVE-2025-27520)",
        (Port(3000, "HTTP API", HIGH),),
        commands=("bentoml serve", "bentoml serve-http"),
        keywords=("bentoml",),
        bind_by=("--host", "BENTOML_HOST"),
        port_by=("--port", "BENTOML_PORT"),
        binds_all_by_default=True,
    ),
    Service(
        "mlserver",
        "MLServer",
        "its inference and model repository APIs (load, unload) answer anyone: it has no authentication of its own",
        (Port(8080, "HTTP API", MEDIUM), Port(8081, "gRPC API", MEDIUM), Port(8082, "metrics", None)),
        images=("seldonio/mlserver",),
        commands=("mlserver start",),
        keywords=("mlserver",),
        bind_by=("MLSERVER_HOST",),
        port_by=("MLSERVER_HTTP_PORT",),
        binds_all_by_default=True,
    ),
    Service(
        "qdrant",
        "Qdrant",
        "anyone who reaches it reads, overwrites and deletes every collection (the embeddings and documents a "
        "RAG system answers from): it has no API key unless one is set",
        (Port(6333, "REST API", HIGH), Port(6334, "gRPC API", HIGH)),
        images=("qdrant/qdrant",),
        keywords=("qdrant",),
        bind_by=("QDRANT__SERVICE__HOST",),
        port_by=("QDRANT__SERVICE__HTTP_PORT",),
        binds_all_by_default=True,
        auth_by=(("QDRANT__SERVICE__API_KEY", None),),
    ),
    Service(
        "chroma",
        "Chroma",
        "anyone who reaches it reads, overwrites and deletes every collection (the embeddings and documents a "
        "RAG system answers from): it has no authentication unless an auth provider is set",
        (Port(8000, "HTTP API", HIGH),),
        images=("chromadb/chroma",),
        commands=("chroma run",),
        keywords=("chromadb",),
        bind_by=("--host", "CHROMA_HOST_ADDR"),
        port_by=("--port", "CHROMA_HOST_PORT"),
        auth_by=(("CHROMA_SERVER_AUTHN_PROVIDER", None), ("CHROMA_SERVER_AUTH_PROVIDER", None)),
    ),
    Service(
        "gradio",
        "Gradio",
        "every function of the app can be called by anyone, and its file routes have leaked server files (CVE-2024-1561, CVE-2023-51449)",
        (Port(7860, "app and API", HIGH),),
        commands=("gradio",),
        keywords=("gradio",),
        bind_by=("GRADIO_SERVER_NAME",),
        port_by=("GRADIO_SERVER_PORT",),
        auth_by=(("auth", None),),  # launch(auth=...)
        disabled_by=(("share", "true"),),  # launch(share=True): a public *.gradio.live link
    ),
    Service(  # recognised only in Python code: a FastAPI/Flask app in a module that loads a model
        "model-app",
        "model-serving web app",
        "anyone who reaches it runs the model on its hardware and calls every other endpoint the app has",
        (Port(8000, "HTTP API", MEDIUM),),
        bind_by=("--host",),
        port_by=("--port",),
        auth_by=(("auth", None),),  # a security dependency, an API-key check or a middleware in the module
    ),
    Service(  # Flask's `app.run(debug=True)`, recognised only in Python code
        "werkzeug-debugger",
        "Werkzeug debugger",
        "debug=True serves the Werkzeug debugger, a Python console in the browser on every error page: "
        "whoever reaches it runs code (its PIN is derived from values the host leaks, and is printed to the log)",
        (Port(5000, "interactive debugger", CRITICAL),),
        bind_by=("--host",),
        port_by=("--port",),
    ),
    Service(
        "streamlit",
        "Streamlit",
        "the app, and whatever data and models it reaches, is open to anyone who finds the port",
        (Port(8501, "app", MEDIUM),),
        commands=("streamlit run",),
        keywords=("streamlit",),
        bind_by=("--server.address", "STREAMLIT_SERVER_ADDRESS"),
        port_by=("--server.port", "STREAMLIT_SERVER_PORT"),
        binds_all_by_default=True,
    ),
    Service(
        "tensorboard",
        "TensorBoard",
        "it serves every log, metric, image and embedding under its logdir to anyone",
        (Port(6006, "dashboard", MEDIUM),),
        commands=("tensorboard", "tensorboard.main"),
        keywords=("tensorboard",),
        bind_by=("--host",),
        bind_all_flags=("--bind_all",),
        port_by=("--port",),
    ),
    Service(
        "triton",
        "Triton Inference Server",
        "its model-control API loads and unloads models (Python-backend models run code), and its shared-memory "
        "and logging APIs have been chained into remote code execution (CVE-2025-23319, CVE-2024-0087)",
        (Port(8000, "HTTP API", HIGH), Port(8001, "gRPC API", HIGH), Port(8002, "metrics", None)),
        images=("nvidia/tritonserver", "tritonserver"),
        commands=("tritonserver",),
        keywords=("triton",),
        bind_by=("--http-address", "--grpc-address"),
        port_by=("--http-port",),
        binds_all_by_default=True,
        loads_code_by=(("--model-control-mode", "explicit"),),
    ),
    Service(
        "open-webui",
        "Open WebUI",
        "with WEBUI_AUTH=False anyone who reaches it is the admin: every chat, document and connected model "
        "key, and the admin can add tools and functions that run Python on the server",
        (Port(8080, "web app and API", HIGH),),
        images=("open-webui/open-webui",),
        commands=("open-webui serve",),
        keywords=("open-webui", "openwebui"),
        bind_by=("--host",),
        port_by=("--port",),
        binds_all_by_default=True,
        authenticated_by_default=True,
        # Open WebUI reads `WEBUI_AUTH.lower() == "true"`: any other value turns the login off
        disabled_by=(("WEBUI_AUTH", "false"), ("WEBUI_AUTH", "0"), ("WEBUI_AUTH", "no")),
    ),
    Service(
        "label-studio",
        "Label Studio",
        "anyone can sign up and read or change every dataset and annotation (and it has had SSRF and "
        "arbitrary file read bugs, CVE-2023-47116)",
        (Port(8080, "web app and API", HIGH),),
        images=("heartexlabs/label-studio", "humansignal/label-studio"),
        commands=("label-studio",),
        keywords=("label-studio", "labelstudio"),
        bind_by=("--internal-host",),
        port_by=("--port", "-p"),
        binds_all_by_default=True,
        auth_by=(("LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK", "true"), ("LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK", "1")),
    ),
    Service(
        "minio",
        "MinIO",
        "with its well-known default keys anyone can read and replace the datasets and model artifacts it stores",
        (Port(9000, "S3 API", HIGH), Port(9001, "console", HIGH)),
        images=("minio/minio", "bitnami/minio"),
        commands=("minio server",),
        keywords=("minio",),
        bind_by=("--address", "--console-address"),
        binds_all_by_default=True,
        authenticated_by_default=True,
        default_credentials=(("MINIO_ROOT_PASSWORD", "minioadmin"), ("MINIO_SECRET_KEY", "minioadmin")),
    ),
    Service(
        "redis",
        "Redis",
        "an unauthenticated Redis runs attacker commands (CONFIG SET, MODULE LOAD): the way worms such as "
        "P2PInfect and Migo take over hosts, and it holds feature stores and queues",
        (Port(6379, "server", CRITICAL),),
        images=("redis", "bitnami/redis", "redis/redis-stack", "redis/redis-stack-server"),
        commands=("redis-server",),
        keywords=("redis",),
        bind_by=("--bind",),
        port_by=("--port",),
        auth_by=(("--requirepass", None), ("REDIS_PASSWORD", None)),
        disabled_by=(("--protected-mode", "no"), ("ALLOW_EMPTY_PASSWORD", "yes")),
    ),
)

BY_KEY = {service.key: service for service in SERVICES}
