"""Streamlit `.streamlit/config.toml`. Streamlit has no authentication of its own.

- `[server] address = "0.0.0.0"` (or `::`, a routable address): SVC001 at that line.
  Without `address` Streamlit listens on every interface, but that is how it is started, not
  what this file says: the `streamlit run` command (script, Dockerfile, compose) is reported.
- `enableCORS = false` together with `enableXsrfProtection = false`: Streamlit then accepts
  the app's WebSocket from any origin, so any web page the user opens can drive the app through
  the browser, even on 127.0.0.1 (SVC004 at `enableCORS`). Either one alone changes nothing
  of the kind: with XSRF protection on, Streamlit turns CORS back on.
"""

from __future__ import annotations

import re
import sys

from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.services import report
from mlgate.services.catalog import BY_KEY
from mlgate.services.launch import Launch, Setting
from mlgate.services.rules import ANY_ORIGIN

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_TABLE = re.compile(r"^[ \t]*\[[ \t]*([\w.\"' -]+?)[ \t]*\][ \t]*(?:#.*)?$")
_KEY = re.compile(r"^[ \t]*([\w.\"'-]+?)[ \t]*=[ \t]*")
_PREFILTER = re.compile(r"address|enableCORS", re.IGNORECASE)
# Streamlit-only keys: an embedded `config.toml` with one of them is Streamlit's
_STREAMLIT_KEYS = re.compile(
    r"^[ \t]*(?:server\.)?(?:enableCORS|enableXsrfProtection|headless|runOnSave|fileWatcherType)[ \t]*=", re.MULTILINE
)


def matches(path: str) -> bool:
    return path.replace("\\", "/").endswith(".streamlit/config.toml") or path == ".streamlit/config.toml"


def is_streamlit(text: str) -> bool:
    return _STREAMLIT_KEYS.search(text) is not None


def _server_settings(source: SourceFile) -> dict[str, Setting]:
    """`server.*` keys as `--server.<key>` settings (tomllib for the values, lines for where)."""
    try:
        server = tomllib.loads(source.text).get("server")
    except tomllib.TOMLDecodeError:
        return {}  # Streamlit refuses to start with it
    if not isinstance(server, dict):
        return {}
    settings = {}
    table = ""
    offset = 0
    for line in source.text.splitlines(keepends=True):
        header, key = _TABLE.match(line), _KEY.match(line)
        if header is not None:
            table = header.group(1).replace('"', "").replace("'", "")
        elif key is not None:
            dotted = ".".join(part for part in (table, key.group(1).replace('"', "").replace("'", "")) if part)
            name = dotted.removeprefix("server.")
            value = server.get(name)
            if dotted.startswith("server.") and isinstance(value, (str, bool, int)):
                written = str(value).lower() if isinstance(value, bool) else str(value)
                start = offset + key.end() + (1 if line[key.end() :].startswith(('"', "'")) else 0)
                settings[f"--server.{name}"] = Setting(f"--server.{name}", written, source.position(start), written=line.strip())
        offset += len(line)
    return settings


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    if not _PREFILTER.search(source.text):
        return []
    settings = _server_settings(source)
    streamlit = BY_KEY["streamlit"]
    findings = report.launched(source.path, Launch(streamlit, (1, 1), settings))
    cors, xsrf = settings.get("--server.enableCORS"), settings.get("--server.enableXsrfProtection")
    if cors is not None and xsrf is not None and cors.value == "false" and xsrf.value == "false":
        message = (
            "server.enableCORS = false with server.enableXsrfProtection = false lets any web page the user opens "
            f"drive this app through the browser, even when it listens on 127.0.0.1: {streamlit.danger}"
        )
        findings.append(ANY_ORIGIN.finding(source.path, *cors.spot, message, severity=streamlit.severity))
    return findings


SCANNER = Scanner("streamlit_config", matches=matches, scan=scan)
