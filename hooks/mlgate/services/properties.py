"""TorchServe `config.properties`: the addresses its APIs listen on and its token authorization.

`management_address=http://0.0.0.0:8081` is the ShellTorch door (CVE-2023-43654) when token
authorization is off or absent; `disable_token_authorization=true` on a reachable server is
SVC002. Addresses not set listen on 127.0.0.1, TorchServe's default. The key says which API an
address serves (the catalog says which are dangerous: the management APIs, not inference or
metrics) and the finding names the port the address sets, whatever it is. A config in a test
folder is not reported.
"""

from __future__ import annotations

import re

from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.services import report
from mlgate.services.catalog import BY_KEY
from mlgate.services.launch import Setting, classify_address, host_of
from mlgate.services.report import Exposure

_PREFILTER = re.compile(r"(?:inference|management|metrics)_address|disable_token_authorization")
_LINE = re.compile(r"^[ \t]*([\w.]+)[ \t]*[=:][ \t]*(.*?)[ \t]*$", re.MULTILINE)
_ADDRESS_PORTS = {"inference_address": 8080, "management_address": 8081, "metrics_address": 8082,
                  "grpc_inference_address": 7070, "grpc_management_address": 7071}  # fmt: skip


def matches(path: str) -> bool:
    return path.rsplit("/", 1)[-1].endswith(".properties")


def properties(source: SourceFile) -> dict[str, Setting]:
    found = {}
    for match in _LINE.finditer(source.text):
        if not match.group(1).startswith(("#", "!")):
            found[match.group(1)] = Setting(match.group(1), match.group(2), source.position(match.start(2)))
    return found


def scan(source: SourceFile, context: ScanContext) -> list[Finding]:
    # A TorchServe started by a repository's tests (`kubernetes/tests/docker/config.properties`,
    # the frontend's test resources) is a throwaway server on a CI machine, not a deployment.
    if report.in_test_data(source.path) or not _PREFILTER.search(source.text):
        return []
    settings = properties(source)
    torchserve = BY_KEY["torchserve"]
    exposures = []
    for key, default_port in _ADDRESS_PORTS.items():
        setting = settings.get(key)
        if setting is None or classify_address(setting.value or "") not in ("all", "network"):
            continue
        written = setting.value or ""
        port = written.rsplit(":", 1)[-1].strip("/")
        number = int(port) if port.isdigit() else default_port
        where = "on every interface" if classify_address(written) == "all" else f"on {host_of(written)}"
        exposures.append(Exposure(setting.spot, number, f"{where} ({key}={written})", api=torchserve.port(default_port)))
    return report.judge(source.path, torchserve, exposures, settings)


SCANNER = Scanner("torchserve_config", matches=matches, scan=scan)
