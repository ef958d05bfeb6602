"""Python code that starts a service, read with `ast` (never imported or run).

- `ray.init(dashboard_host=...)`;
- `.launch(server_name=..., share=True, auth=...)` in a module that imports gradio;
- `uvicorn.run(app, host=...)` in a module that imports a model server we know (vllm, mlflow), or
  Flask's `app.run(host=...)` / `uvicorn.run` in any module that loads a model (imports
  transformers, vllm, ..., or torch and calls `torch.load`, `.eval()`, ...) and has no
  authentication (a FastAPI security dependency, an API-key header check, an auth middleware or
  `before_request` hook): a model-serving web app (not in a test folder, where it is a test's fake
  or fixture server);
- Flask's `app.run(debug=True)` beyond loopback: the Werkzeug debugger, a remote Python console
  (SVC002 at `debug=True`, whether the module serves a model or not);
- FastAPI/Starlette/Flask CORS answering every origin with credentials in such a module (SVC004 at
  the wildcard);
- `Minio(..., secret_key=...)` / boto3 `aws_secret_access_key=...` set to MinIO's factory
  default: the server it connects to still has its default credentials (SVC003 at the key);
- TensorBoard's `program.TensorBoard().configure(bind_all=True | host=...)`;
- `subprocess.run/Popen/call/check_call/check_output([...])`, `os.system("...")`,
  `os.popen("...")` whose command line starts a known service (`mlflow server --host 0.0.0.0`,
  `jupyter lab --ip=0.0.0.0`), with the lists' string constants as its words.
As for scripts, a service is reported only when the call binds it beyond loopback (or opens
a Gradio share link), at that argument. An argument that is a name is read through module
constants, argparse defaults and class field defaults (`python_ast.literal_defaults`); the
finding then points at that default, the value that makes the service reachable. Notebooks: the same for each code cell, and their `!`
lines and `%%bash` cells as shell scripts.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import re

from mlgate import notebook, python_ast
from mlgate.files import ScanError, SourceFile, is_vendored_path
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.services import report, scripts
from mlgate.services.catalog import BY_KEY
from mlgate.services.launch import Launch, Setting, Spot, launch_of, mentions_service, words_command
from mlgate.services.report import Exposure
from mlgate.services.rules import ANY_ORIGIN, DEFAULT_CREDENTIALS

# Text without any of these cannot start a service this module knows (plain substring tests: faster
# than one expression tried at every character).
_MARKERS = (
    "ray.init", ".launch(", "uvicorn", "flask", "subprocess", "os.system", "os.popen", "Popen", ".configure(", "secret_key",
    "secret_access_key", "CORS",
)  # fmt: skip
_JUPYTER_CONFIG = re.compile(r"jupyter_\w*config\.py")
_MAGIC_LINE = re.compile(r"^[ \t]*[!%].*$", re.MULTILINE)
_SUBPROCESS = frozenset({"run", "Popen", "call", "check_call", "check_output"})
_SHELL_CALLS = frozenset({"system", "popen"})
# Keyword arguments of each launch call, as the catalog names the same settings.
_RAY_INIT = {"dashboard_host": "--dashboard-host", "dashboard_port": "--dashboard-port"}
_GRADIO_LAUNCH = {
    "server_name": "GRADIO_SERVER_NAME",
    "server_port": "GRADIO_SERVER_PORT",
    "auth": "auth",
    "auth_dependency": "auth",
    "share": "share",
}
_UVICORN = {"host": "--host", "port": "--port"}
_TENSORBOARD = {"host": "--host", "port": "--port", "bind_all": "--bind_all"}
_SERVER_MODULES = {"vllm": "vllm", "mlflow": "mlflow"}  # imported module -> the server uvicorn runs
_APP_CLASSES = frozenset({"FastAPI", "Starlette", "APIRouter"})
_FLASK_RUN = {"host": "--host", "port": "--port", "debug": "debug"}
_FLASK_PORT = "5000"  # where `app.run()` listens without `port=`
# Imports that make a web app a model server (it loads weights and runs them per request).
_MODEL_MODULES = frozenset(
    {
        "torch", "transformers", "vllm", "diffusers", "sentence_transformers", "tensorflow", "keras", "onnxruntime",
        "sklearn", "joblib", "llama_cpp", "jax", "xgboost", "lightgbm", "peft", "timm", "ultralytics", "optimum",
        "ctransformers", "openvino", "tensorrt_llm", "mlc_llm",
    }
)  # fmt: skip
# Frameworks also imported for what they report (`torch.cuda.device_count()`); with one of them alone
# a module serves a model when it calls something that loads or runs one.
_FRAMEWORKS = frozenset({"torch", "tensorflow", "jax"})
_MODEL_CALLS = frozenset(
    {"load", "load_model", "load_state_dict", "from_pretrained", "eval", "generate", "predict", "forward", "Module", "Sequential"}
)
# Names whose use puts authentication in front of an app's routes: FastAPI security schemes,
# Flask-HTTPAuth / Flask-Login / flask-jwt decorators, Starlette's authentication middleware.
_AUTH_NAMES = frozenset(
    {
        "HTTPBearer", "HTTPBasic", "HTTPDigest", "APIKeyHeader", "APIKeyQuery", "APIKeyCookie", "OAuth2PasswordBearer",
        "OAuth2AuthorizationCodeBearer", "OpenIdConnect", "Security", "HTTPBasicAuth", "HTTPTokenAuth", "MultiAuth",
        "login_required", "jwt_required", "auth_required", "requires_auth", "AuthenticationMiddleware", "before_request",
    }
)  # fmt: skip
_AUTH_HEADERS = frozenset({"authorization", "x-api-key", "api-key"})  # a request header the app checks itself
# Middleware that does not authenticate; any other `add_middleware(...)` or `@app.middleware` may.
_NON_AUTH_MIDDLEWARE = frozenset({"CORSMiddleware", "GZipMiddleware", "TrustedHostMiddleware", "HTTPSRedirectMiddleware"})
_CORS_CALLS = frozenset({"add_middleware", "Middleware", "CORS", "cross_origin"})
_ANY_ORIGIN = frozenset({"*", ".*", ".+", "^.*$", "https?://.*"})
# Client constructors -> (the keyword of their secret key, its position when passed positionally).
_MINIO_SECRETS = {
    "Minio": ("secret_key", 2),  # Minio(endpoint, access_key, secret_key)
    "client": ("aws_secret_access_key", None),  # boto3.client / resource / Session
    "resource": ("aws_secret_access_key", None),
    "Session": ("aws_secret_access_key", None),
}


def _called(call: ast.Call) -> str:
    """The name a call calls: `run` of `uvicorn.run(...)`, `FastAPI` of `FastAPI()`; '' for others."""
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def matches(path: str) -> bool:
    return path.endswith(".py") and not _JUPYTER_CONFIG.fullmatch(path.rsplit("/", 1)[-1])


class _Module:
    def __init__(self, source: SourceFile, parsed: python_ast.PythonModule):
        self.source = source
        self.parsed = parsed
        self.imports = {
            target.split(".")[0]
            for node in parsed.of_type(ast.Import, ast.ImportFrom)
            for _, target in python_ast.imported_names(node)  # type: ignore[arg-type]
            if target
        }
        self.defaults = python_ast.literal_defaults(parsed)
        self.findings: list[Finding] = []

    def spot(self, node: ast.AST) -> Spot:
        """1-based (line, column) of a node; ast columns count UTF-8 bytes, ours characters."""
        return self.parsed.position(node)

    def string_start(self, node: ast.expr) -> Spot:
        """Where the characters of a one-line string literal (or f-string) start (after prefix and quotes)."""
        line, column = self.spot(node)
        match = re.match(r"[rRbBuUfF]*('''|\"\"\"|'|\")", self.source.line_text(line)[column - 1 :])
        return line, column + (match.end() if match else 0)

    def settings(self, call: ast.Call, names: dict[str, str], positional: tuple[str, ...] = ()) -> dict[str, Setting]:
        """The call's settings `names` knows; `positional`: the parameters its positional arguments fill."""
        found = {}
        arguments = [*zip(positional, call.args, strict=False), *((keyword.arg or "", keyword.value) for keyword in call.keywords)]
        for argument, value in arguments:
            name = names.get(argument)
            if name is None:
                continue
            written = f"{argument}={ast.unparse(value)}"
            default = self.defaults.of(value)
            if default is not None:  # `host=args.host`: the default is what binds it
                written = f"{written} ({default.value!r} on line {default.lineno})"
                value = default
            if isinstance(value, ast.Constant) and value.value is not None:
                if value.value is True and argument == "bind_all":
                    found[name] = Setting(name, None, self.spot(value), written=written)
                elif value.value is not False:
                    spot = self.string_start(value) if isinstance(value.value, str) else self.spot(value)
                    found[name] = Setting(name, str(value.value), spot, written=written)
            elif not isinstance(value, ast.Constant):
                found[name] = Setting(name, ast.unparse(value), self.spot(value), True, written)
        return found

    def call(self, call: ast.Call) -> None:
        func = call.func
        name = _called(call)
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        if name == "init" and owner == "ray":
            self.launch("ray", call, _RAY_INIT)
        elif name == "launch" and "gradio" in self.imports:
            self.gradio(call)
        elif name == "run" and owner == "uvicorn":
            server = next((key for module, key in _SERVER_MODULES.items() if module in self.imports), None)
            if server is not None and not self.builds_app:
                self.launch(server, call, _UVICORN)
            elif self.serves_model:
                self.model_app(self.settings(call, _UVICORN), call)
        elif name == "run" and "flask" in self.imports and isinstance(func, ast.Attribute):
            self.flask(call)
        elif name in _MINIO_SECRETS:
            self.minio_client(call, *_MINIO_SECRETS[name])
        if name in _CORS_CALLS:
            self.cross_origin(call, name)
        elif name == "configure" and "tensorboard" in self.imports:
            self.launch("tensorboard", call, _TENSORBOARD)
        elif (name in _SUBPROCESS and (owner == "subprocess" or "subprocess" in self.imports)) or (name in _SHELL_CALLS and owner == "os"):
            self.process(call)

    @functools.cached_property
    def serves_model(self) -> bool:
        """Whether the module loads a model: it imports a model library, and, when that is only a
        framework (torch for `torch.cuda` in a metrics server), calls something that loads or runs one."""
        imported = self.imports & _MODEL_MODULES
        if not imported:
            return False
        if imported - _FRAMEWORKS:
            return True
        return not self.called_names.isdisjoint(_MODEL_CALLS)

    @functools.cached_property
    def called_names(self) -> frozenset[str]:
        """The names the module's calls call (`FastAPI` of `FastAPI()`, `load` of `torch.load(...)`)."""
        return frozenset(_called(node) for node in self.parsed.of_type(ast.Call))  # type: ignore[arg-type]

    @functools.cached_property
    def builds_app(self) -> bool:
        """Whether the module makes its own app (`FastAPI()`): uvicorn then runs it, not the server it imports."""
        return not self.called_names.isdisjoint(_APP_CLASSES)

    @functools.cached_property
    def authentication(self) -> Setting | None:
        """What puts authentication in front of the module's routes, as the `auth` setting, or None."""
        for node in self.parsed.nodes:
            if (
                (isinstance(node, ast.Name) and node.id in _AUTH_NAMES)
                or (isinstance(node, ast.Attribute) and node.attr in _AUTH_NAMES)
                or (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() in _AUTH_HEADERS)
                or (isinstance(node, ast.Call) and _authenticating_middleware(node))
            ):
                return Setting("auth", ast.unparse(node), self.spot(node))
        return None

    def model_app(self, settings: dict[str, Setting], call: ast.Call) -> None:
        if report.in_test_data(self.source.path):  # a test's fake or fixture server (a fake OpenAI API), never deployed
            return
        if self.authentication is not None:
            settings["auth"] = self.authentication
        self.findings += report.launched(self.source.path, Launch(BY_KEY["model-app"], self.spot(call), settings))

    def flask(self, call: ast.Call) -> None:
        settings = self.settings(call, _FLASK_RUN, ("host", "port", "debug"))  # Flask.run(host, port, debug)
        settings.setdefault("--port", Setting("--port", _FLASK_PORT, self.spot(call)))
        debug = settings.pop("debug", None)
        if debug is not None and (debug.value or "").lower() == "true":
            launch = Launch(BY_KEY["werkzeug-debugger"], self.spot(call), settings)
            exposure = report.bind_exposure(launch)
            if exposure is not None:
                self.findings += report.judge(self.source.path, launch.service, [exposure], settings, switched_off=[debug])
        elif self.serves_model:
            self.model_app(settings, call)

    def cross_origin(self, call: ast.Call, name: str) -> None:
        """CORS that lets any web page call the app with its users' cookies (the wildcard is answered
        with the caller's own origin once credentials are allowed, by Starlette and Flask-CORS alike)."""
        if not (self.serves_model or self.imports & _SERVER_MODULES.keys()):
            return
        keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
        if name in ("CORS", "cross_origin"):  # Flask-CORS: every origin unless `origins=` narrows it
            credentials, origins = keywords.get("supports_credentials"), keywords.get("origins")
            if origins is None and _narrowed_resources(keywords.get("resources")):
                return
        else:  # Starlette/FastAPI: `add_middleware(CORSMiddleware, ...)` or `Middleware(CORSMiddleware, ...)`
            first = call.args[0] if call.args else None
            if (first.id if isinstance(first, ast.Name) else first.attr if isinstance(first, ast.Attribute) else "") != "CORSMiddleware":
                return
            credentials, origins = keywords.get("allow_credentials"), keywords.get("allow_origins", keywords.get("allow_origin_regex"))
            if origins is None:
                return
        if credentials is None or not _is_true(self.defaults.of(credentials) or credentials):
            return
        wildcard = self.wildcard(origins) if origins is not None else credentials
        if wildcard is None:
            return
        written = ", ".join(
            f"{keyword.arg}={ast.unparse(keyword.value)}" for keyword in call.keywords if keyword.value in (origins, credentials)
        )
        model_app = BY_KEY["model-app"]
        message = (
            f"CORS answers every origin and allows credentials ({written}): any web page its users open can call this "
            f"{model_app.name} with their cookies and read the answers, so {model_app.danger}"
        )
        spot = (
            self.string_start(wildcard) if isinstance(wildcard, ast.Constant) and isinstance(wildcard.value, str) else self.spot(wildcard)
        )
        self.findings.append(ANY_ORIGIN.finding(self.source.path, *spot, message, severity=model_app.severity))

    def wildcard(self, origins: ast.expr) -> ast.expr | None:
        """The `"*"` (or `".*"` pattern) among the allowed origins, or None."""
        values = origins.elts if isinstance(origins, (ast.List, ast.Tuple, ast.Set)) else [origins]
        for value in values:
            constant = value if isinstance(value, ast.Constant) else self.defaults.of(value)
            if constant is not None and constant.value in _ANY_ORIGIN:
                return constant
        return None

    def minio_client(self, call: ast.Call, keyword: str, position: int | None) -> None:
        """A client that connects with MinIO's default secret: the server still accepts it."""
        value = next((argument.value for argument in call.keywords if argument.arg == keyword), None)
        if value is None and position is not None and len(call.args) > position:
            value = call.args[position]
        constant = value if isinstance(value, ast.Constant) else self.defaults.of(value) if value is not None else None
        minio = BY_KEY["minio"]
        if constant is None or report.in_test_data(self.source.path):
            return
        if constant.value not in {default for _, default in minio.default_credentials}:
            return
        assert value is not None
        message = (
            f"{keyword}={ast.unparse(value)} is {minio.name}'s factory default secret ({constant.value!r}): the server this client "
            f"connects to still accepts its default credentials, so {minio.danger}"
        )
        self.findings.append(DEFAULT_CREDENTIALS.finding(self.source.path, *self.string_start(constant), message))

    def launch(self, key: str, call: ast.Call, names: dict[str, str]) -> None:
        self.findings += report.launched(self.source.path, Launch(BY_KEY[key], self.spot(call), self.settings(call, names)))

    def gradio(self, call: ast.Call) -> None:
        service = BY_KEY["gradio"]
        launch = Launch(service, self.spot(call), self.settings(call, _GRADIO_LAUNCH))
        exposures = [exposure] if (exposure := report.bind_exposure(launch)) is not None else []
        share = launch.settings.get("share")
        if share is not None and (share.value or "").lower() == "true":
            exposures.append(Exposure(share.spot, launch.port(), "from the internet through a public gradio.live link (share=True)"))
        self.findings += report.judge(self.source.path, service, exposures, launch.settings, configured_port=launch.port())

    def process(self, call: ast.Call) -> None:
        if not call.args:
            return
        argument = call.args[0]
        text = _string_text(argument)
        if text is not None and "\n" not in text and argument.lineno == argument.end_lineno:
            start_line, start_column = self.string_start(argument)
            self.findings += scripts.script_findings(self.source.path, text, lambda offset: (start_line, start_column + offset), {})
        elif isinstance(argument, (ast.List, ast.Tuple)):
            words = []
            for element in argument.elts:
                if isinstance(element, ast.Constant) and isinstance(element.value, str):
                    words.append((element.value, self.string_start(element)))
                else:  # `sys.executable`, a variable: a word we cannot read
                    words.append(("python" if ast.unparse(element) == "sys.executable" else "$value", self.spot(element)))
            if words:
                command, locate = words_command(words)
                launch = launch_of(command, locate)
                if launch is not None:
                    self.findings += report.launched(self.source.path, launch)


def _authenticating_middleware(call: ast.Call) -> bool:
    """`@app.middleware("http")` (a function that sees every request), or `app.add_middleware(X)`
    with an X known to do something else than authenticate (CORS, compression)."""
    if not isinstance(call.func, ast.Attribute) or call.func.attr not in ("middleware", "add_middleware"):
        return False
    if call.func.attr == "middleware" or not call.args:
        return True
    first = call.args[0]
    name = first.id if isinstance(first, ast.Name) else first.attr if isinstance(first, ast.Attribute) else ""
    return name not in _NON_AUTH_MIDDLEWARE


def _is_true(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _narrowed_resources(resources: ast.expr | None) -> bool:
    """Flask-CORS `resources={r"/api/*": {"origins": [...]}}` that names origins: not every origin
    (what is not a literal we cannot read, and is taken as narrowing)."""
    if resources is None:
        return False
    if not isinstance(resources, ast.Dict):
        return True
    for options in resources.values:
        if not isinstance(options, ast.Dict):
            return True
        for key, value in zip(options.keys, options.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "origins":
                values = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
                if not any(isinstance(item, ast.Constant) and item.value in _ANY_ORIGIN for item in values):
                    return True
    return False


def _string_text(node: ast.AST) -> str | None:
    """A string literal's text; in an f-string each `{...}` becomes a shell variable of its
    written length, so a command built with a port or path still parses and columns hold."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if not isinstance(node, ast.JoinedStr):
        return None
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            parts.append(value.value)
        else:
            parts.append("$" + "_" * (len(ast.unparse(value.value) if isinstance(value, ast.FormattedValue) else "") + 1))
    return "".join(parts)


def _module_findings(source: SourceFile) -> list[Finding]:
    parsed = python_ast.module(source)
    module = _Module(source, parsed)
    for node in parsed.of_type(ast.Call):
        module.call(node)  # type: ignore[arg-type]
    return module.findings


def _mentions_a_call(text: str) -> bool:
    return any(marker in text for marker in _MARKERS)


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    # a vendored project's own apps and demos (xinference's `thirdparty/*/app.py`) are not servers
    # this project starts: it imports the code it needs from them, and starts its servers itself
    if is_vendored_path(source.path) or not _mentions_a_call(source.text):
        return []
    return _module_findings(source)


def scan_notebook(source: SourceFile, context: ScanContext) -> list[Finding]:
    """Code cells as Python (IPython `!`/`%` lines blanked) and their shell lines as scripts;
    findings sit on the .ipynb line and name the cell and the line in it."""
    cells = notebook.code_cells(source)  # decoded once for every hook
    # the prefilters read the code, not the JSON around it (outputs, base64 images: most of the bytes)
    code = "\n".join(cell.text for cell in cells)
    if not _mentions_a_call(code) and not mentions_service(code):
        return []
    findings = []
    for cell in cells:
        python = SourceFile.from_text(source.path, _MAGIC_LINE.sub(lambda line: " " * len(line.group()), cell.text))
        found = []
        try:
            found += _module_findings(python) if _mentions_a_call(python.text) else []
        except ScanError:
            pass  # a cell IPython accepts and `ast` does not (other magics): its shell lines still count
        shell_text = notebook.shell_view(cell.text)
        if shell_text is not None:
            found += scripts.script_findings(source.path, shell_text, python.position, {})
        starts = [0] + [index + 1 for index, char in enumerate(cell.text) if char == "\n"]
        for finding in found:
            assert finding.line is not None and finding.column is not None  # placed in the cell's text by both scans
            line, column, cell_line = cell.locate(starts[finding.line - 1] + finding.column - 1)
            findings.append(
                dataclasses.replace(finding, line=line, column=column, message=f"{finding.message} (cell {cell.number}, line {cell_line})")
            )
    return findings


SCANNER = Scanner("python", matches=matches, scan=scan)
NOTEBOOK_SCANNER = Scanner("notebooks", matches=lambda path: path.endswith(".ipynb"), scan=scan_notebook)
