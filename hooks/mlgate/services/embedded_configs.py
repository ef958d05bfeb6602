"""Service config files embedded in Kubernetes ConfigMaps and Secrets (a manifest, a Helm
template): a `data:` / `stringData:` key named like a file another reader reads on disk
(`config.properties`, `jupyter_server_config.py`, `redis.conf`, `.env`, or a `config.toml`
that is Streamlit's) is read by that same reader, and each finding is moved to the manifest
line it came from. A Secret's base64 `data:` value has no lines of its own: its findings point
at the value. Findings name the object and key.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator

from mlgate import kubernetes, yamlfile
from mlgate.files import SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.problem import Locate
from mlgate.services import dotenv, jupyter_config, properties, redis_conf, streamlit_config
from mlgate.services.launch import Spot
from mlgate.services.report import node_spot

_PREFILTER = re.compile(r"\b(?:ConfigMap|Secret)\b")
Read = Callable[[SourceFile, ScanContext], list[Finding]]


def _reader(key: str, object_name: str, text: str) -> Read | None:
    """The reader for a key's value, by the file name the key gives it when mounted."""
    for reader in (properties, jupyter_config, redis_conf, dotenv):
        if reader.matches(key):
            return reader.scan
    if key == "config.toml" and ("streamlit" in object_name.lower() or streamlit_config.is_streamlit(text)):
        return streamlit_config.scan
    return None


def scan(source: SourceFile, context: ScanContext) -> Iterator[Finding]:
    whole = source.text  # `in` first: the search is tried at every character, and most files name neither kind
    if not (("ConfigMap" in whole or "Secret" in whole) and _PREFILTER.search(whole)):
        return
    if source.path.endswith(".json") and not kubernetes.json_is_manifest(source):
        return
    parsed, documents, _ = kubernetes.load(source)  # a document that cannot be read is the kubernetes scanner's error
    for document in documents:
        for resource in kubernetes.resources(document):
            kind = yamlfile.text_of(yamlfile.get(resource, "kind"))
            if kind not in ("ConfigMap", "Secret"):
                continue
            name = yamlfile.text_of(yamlfile.get(yamlfile.get(resource, "metadata"), "name")) or ""
            for field in ("data", "stringData"):
                for key, _, value in yamlfile.items(yamlfile.get(resource, field)):
                    if not yamlfile.is_scalar(value):
                        continue
                    if kind == "Secret" and field == "data":
                        text, locate = kubernetes.secret_value(value), _at(node_spot(parsed, value))
                    else:
                        text, locate = yamlfile.scalar_text(parsed, value)
                    read = _reader(key, name, text or "")
                    if text is None or read is None:
                        continue
                    yield from _embedded(source.path, read, text, locate, f"{kind} {name}, key {key}", context)


def _at(spot: Spot) -> Locate:
    """Every offset at `spot`: a base64 value has no lines of its own."""

    def locate(offset: int) -> Spot:
        return spot

    return locate


def _embedded(path: str, read: Read, text: str, locate: Locate, where: str, context: ScanContext) -> Iterator[Finding]:
    """The findings of `read` on an embedded file, placed in the manifest."""
    inner = SourceFile.from_text(path, text)
    starts = [0]
    for text_line in inner.lines:
        starts.append(starts[-1] + len(text_line) + 1)
    for finding in read(inner, context):
        line, column = finding.line or 1, finding.column or 1
        offset = starts[min(line, len(starts)) - 1] + column - 1
        outer_line, outer_column = locate(offset)
        yield dataclasses.replace(finding, line=outer_line, column=outer_column, message=f"{finding.message} (in {where})")


SCANNER = Scanner("embedded_configs", matches=kubernetes.matches, scan=scan)
