"""`.env` files: default credentials (`MINIO_ROOT_PASSWORD=minioadmin`) and variables that
bind a service without authentication to every interface (`OLLAMA_HOST=0.0.0.0`)."""

from __future__ import annotations

import re

from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.services import compose, report
from mlgate.services.catalog import SERVICES
from mlgate.services.launch import Launch, Setting

_LINE = re.compile(r"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(['\"]?)(.*?)\2[ \t]*(?:[ \t]#.*)?$", re.MULTILINE)


def matches(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    settings = {
        match.group(1): Setting(match.group(1), match.group(3), source.position(match.start(3)), "$" in match.group(3))
        for match in _LINE.finditer(source.text)
    }
    findings = report.configuration(source.path, SERVICES, settings.values())  # whichever container reads it
    service = compose.service_from_env(settings)
    if service is not None:
        findings += report.launched(source.path, Launch(service, (1, 1), settings))
    return findings


SCANNER = Scanner("dotenv", matches=matches, scan=scan)
