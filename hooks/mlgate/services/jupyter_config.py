"""Jupyter config files (`jupyter_server_config.py`, `jupyter_notebook_config.py`, ...), read
with `ast`: `c.ServerApp.ip = '0.0.0.0'` with `c.ServerApp.token = ''` (and no password) is a
notebook server anyone on the network can run code on (SVC002 at the token). A wildcard
`allow_origin` with that empty token lets any web page the user opens drive the kernels
through the browser, even on loopback (SVC004 at the origin)."""

from __future__ import annotations

import ast
import re

from mlgate import python_ast
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.services import report
from mlgate.services.catalog import BY_KEY
from mlgate.services.launch import Launch, Setting, authenticated, disabled
from mlgate.services.rules import ANY_ORIGIN

_NAME = re.compile(r"jupyter_\w*config\.py")
_TRAIT = re.compile(r"(ServerApp|NotebookApp|IdentityProvider|PasswordIdentityProvider)\.(\w+)")
_ANY_ORIGIN = {"allow_origin": ("*",), "allow_origin_pat": (".*", ".+", "^.*$", "^.+$")}


def matches(path: str) -> bool:
    return _NAME.fullmatch(path.rsplit("/", 1)[-1]) is not None


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    parsed = python_ast.module(source)
    settings: dict[str, Setting] = {}
    for node in parsed.nodes:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            trait = _TRAIT.fullmatch(ast.unparse(target).removeprefix("c."))
            if trait is None:
                continue
            name = f"--{trait.group(1)}.{trait.group(2)}"
            column = parsed.position(node.value)[1]
            if not isinstance(node.value, ast.Constant):  # `passwd('...')`, `os.environ[...]`: set, value unknown
                settings[name] = Setting(name, ast.unparse(node.value), (node.value.lineno, column), dynamic=True)
                continue
            value = node.value.value
            if not isinstance(value, (str, bool)):
                continue  # None or a number: not an address, token or password Jupyter accepts
            if isinstance(value, str):
                column += 1  # inside the quotes
            settings[name] = Setting(name, str(value), (node.value.lineno, column))
    jupyter = BY_KEY["jupyter"]
    return [*report.launched(source.path, Launch(jupyter, (1, 1), settings)), *_any_origin(source.path, settings)]


def _any_origin(path: str, settings: dict[str, Setting]) -> list[Finding]:
    jupyter = BY_KEY["jupyter"]
    if not disabled(jupyter, settings) or authenticated(jupyter, settings):
        return []
    found = []
    for name, setting in settings.items():
        trait = name.rsplit(".", 1)[-1]
        if setting.value in _ANY_ORIGIN.get(trait, ()) and not setting.dynamic:
            message = (
                f"{name.removeprefix('--')}={setting.value!r} with an empty token lets any web page the user opens send "
                f"requests to this notebook server from the browser, even when it listens on 127.0.0.1: {jupyter.danger}"
            )
            found.append(ANY_ORIGIN.finding(path, *setting.spot, message, severity=jupyter.severity))
    return found


SCANNER = Scanner("jupyter_config", matches=matches, scan=scan)
