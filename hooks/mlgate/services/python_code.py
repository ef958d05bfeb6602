"""Python code that starts a service, read with `ast` (never imported or run).

- `ray.init(dashboard_host=...)`;
- `.launch(server_name=..., share=True, auth=...)` in a module that imports gradio;
- `uvicorn.run(app, host=...)` in a module that imports a model server we know (vllm, mlflow);
- TensorBoard's `program.TensorBoard().configure(bind_all=True | host=...)`;
- `subprocess.run/Popen/call/check_call/check_output([...])`, `os.system("...")`,
  `os.popen("...")` whose command line starts a known service (`mlflow server --host 0.0.0.0`,
  `jupyter lab --ip=0.0.0.0`), with the lists' string constants as its words.
As for scripts, a service is reported only when the call binds it beyond loopback (or opens
a Gradio share link), at that argument. Notebooks: the same for each code cell, and their `!`
lines and `%%bash` cells as shell scripts.
"""

from __future__ import annotations

import ast
import dataclasses
import re

from mlgate import notebook, python_ast
from mlgate.files import ScanError, SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.services import report, scripts
from mlgate.services.catalog import BY_KEY
from mlgate.services.launch import PREFILTER, Launch, Setting, Spot, launch_of, words_command
from mlgate.services.report import Exposure

_PREFILTER = re.compile(r"ray\.init|\.launch\(|uvicorn|subprocess|os\.system|os\.popen|Popen|\.configure\(")
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


def matches(path: str) -> bool:
    return path.endswith(".py") and not _JUPYTER_CONFIG.fullmatch(path.rsplit("/", 1)[-1])


class _Module:
    def __init__(self, source: SourceFile, parsed: python_ast.PythonModule):
        self.source = source
        self.parsed = parsed
        self.imports = {
            target.split(".")[0]
            for node in parsed.nodes
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for _, target in python_ast.imported_names(node)
            if target
        }
        self.findings: list[Finding] = []

    def spot(self, node: ast.AST) -> Spot:
        """1-based (line, column) of a node; ast columns count UTF-8 bytes, ours characters."""
        return self.parsed.position(node)

    def string_start(self, node: ast.expr) -> Spot:
        """Where the characters of a one-line string literal (or f-string) start (after prefix and quotes)."""
        line, column = self.spot(node)
        match = re.match(r"[rRbBuUfF]*('''|\"\"\"|'|\")", self.source.line_text(line)[column - 1 :])
        return line, column + (match.end() if match else 0)

    def settings(self, call: ast.Call, names: dict[str, str]) -> dict[str, Setting]:
        found = {}
        for keyword in call.keywords:
            name = names.get(keyword.arg or "")
            if name is None:
                continue
            value = keyword.value
            written = f"{keyword.arg}={ast.unparse(value)}"
            if isinstance(value, ast.Constant) and value.value is not None:
                if value.value is True and keyword.arg == "bind_all":
                    found[name] = Setting(name, None, self.spot(value), written=written)
                elif value.value is not False:
                    spot = self.string_start(value) if isinstance(value.value, str) else self.spot(value)
                    found[name] = Setting(name, str(value.value), spot, written=written)
            elif not isinstance(value, ast.Constant):
                found[name] = Setting(name, ast.unparse(value), self.spot(value), True, written)
        return found

    def call(self, call: ast.Call) -> None:
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        if name == "init" and owner == "ray":
            self.launch("ray", call, _RAY_INIT)
        elif name == "launch" and "gradio" in self.imports:
            self.gradio(call)
        elif name == "run" and owner == "uvicorn":
            server = next((key for module, key in _SERVER_MODULES.items() if module in self.imports), None)
            if server is not None:
                self.launch(server, call, _UVICORN)
        elif name == "configure" and "tensorboard" in self.imports:
            self.launch("tensorboard", call, _TENSORBOARD)
        elif (name in _SUBPROCESS and (owner == "subprocess" or "subprocess" in self.imports)) or (name in _SHELL_CALLS and owner == "os"):
            self.process(call)

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
    for node in parsed.nodes:
        if isinstance(node, ast.Call):
            module.call(node)
    return module.findings


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    if not _PREFILTER.search(source.text):
        return []
    return _module_findings(source)


def scan_notebook(source: SourceFile, context: ScanContext) -> list[Finding]:
    """Code cells as Python (IPython `!`/`%` lines blanked) and their shell lines as scripts;
    findings sit on the .ipynb line and name the cell and the line in it."""
    if not _PREFILTER.search(source.text) and not PREFILTER.search(source.text):
        return []
    findings = []
    for cell in notebook.code_cells(source):
        python = SourceFile.from_text(source.path, _MAGIC_LINE.sub(lambda line: " " * len(line.group()), cell.text))
        found = []
        try:
            found += _module_findings(python) if _PREFILTER.search(python.text) else []
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
