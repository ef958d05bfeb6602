"""Kubernetes manifests and Helm charts: which files they are, their documents, their pods.

Shared by every hook that reads manifests (the images pods pull, the services they expose).
A manifest is any YAML file but compose files and workflows (their own readers), or a JSON
file with an `apiVersion` (`kubectl apply -f` takes both); Helm templates are read through
`templated` (valid YAML as written, template actions blanked only where the file needs it).
Pods are found wherever a `containers:` list is: Deployments, StatefulSets, DaemonSets, Jobs,
CronJobs, Pods, and custom resources (KServe, KubeRay, Argo ...) alike.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mlgate import compose, templated, workflow, yamlfile

if TYPE_CHECKING:
    from mlgate.files import SourceFile

JSON_MANIFEST = re.compile(r'"apiVersion"\s*:')
MAX_JSON_BYTES = 4 << 20  # a larger JSON file is data (a tokenizer, a dataset), not a manifest
# Keys under which no pod spec sits: not walked.
_NOT_PODS = frozenset({"metadata", "status", "data", "stringData", "resources", "volumes", "affinity", "tolerations", "rules"})
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def matches(path: str) -> bool:
    """Every YAML file but compose files and workflows, and JSON files."""
    if path.endswith(".json"):
        return True
    return path.endswith((".yaml", ".yml")) and not compose.matches(path) and not workflow.matches(path)


def json_is_manifest(source: SourceFile) -> bool:
    """A JSON file small enough to be a manifest that says `apiVersion` (not a tokenizer, a dataset)."""
    return source.size() <= MAX_JSON_BYTES and JSON_MANIFEST.search(source.text) is not None


def is_values_file(source: SourceFile) -> bool:
    """A Helm values file (`values.yaml`, `values-prod.yaml`)."""
    return source.name.lower().startswith("values")


def load(source: SourceFile) -> tuple[SourceFile, list[yamlfile.Node], str | None]:
    """(the file as parsed, its documents, an error for the documents that could not be read),
    once per file for every hook: see `templated.load`."""
    return templated.load(source)


def secret_value(node: yamlfile.Node) -> str | None:
    """A Secret's `data` value as the container sees it (base64-decoded text), or None."""
    try:
        return base64.b64decode(yamlfile.text_of(node) or "", validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def resources(document: yamlfile.Node) -> list[yamlfile.Node]:
    """A document's resources: itself, or the `items` of a `kind: List` (`kubectl get -o yaml`)."""
    if yamlfile.text_of(yamlfile.get(document, "kind")) == "List":
        return yamlfile.elements(yamlfile.get(document, "items"))
    return [document]


def labels(node: yamlfile.Node | None) -> dict[str, str]:
    return {key: yamlfile.text_of(value) or "" for key, _, value in yamlfile.items(node)}


def pods(document: yamlfile.Node) -> Iterator[tuple[yamlfile.Node, dict[str, str]]]:
    """(pod spec, the labels of the nearest object holding it) of every pod in a document:
    each mapping with a `containers:` list, however deep (a CronJob's job template's pod
    template, a custom resource's predictor)."""
    if is_schema(document):
        return
    yield from _pods(document, {}, set(), 0)


def is_schema(document: yamlfile.Node) -> bool:
    """A CustomResourceDefinition (an OpenAPI schema of a resource: megabytes in operator bundles)
    or a JSON Schema document (its `$schema` the meta-schema's, or `$defs`/`definitions` beside
    what a schema holds: truss's `config.schema.json`): it describes settings, runs nothing and
    names no image, model or service; its examples and defaults are descriptions. A settings file
    that names the schema it follows (`"$schema": "https://json.schemastore.org/..."`) is not one."""
    if not yamlfile.is_mapping(document):
        return False
    if yamlfile.text_of(yamlfile.get(document, "kind")) == "CustomResourceDefinition":
        return True
    keys = {key for key, _, _ in yamlfile.items(document)}
    if not keys & _SCHEMA_PARTS:
        return False
    return "json-schema.org" in (yamlfile.text_of(yamlfile.get(document, "$schema")) or "") or bool(keys & {"$defs", "definitions"})


# What a JSON Schema document holds at its top beside its definitions
_SCHEMA_PARTS = frozenset({"properties", "$ref", "type", "anyOf", "oneOf", "allOf"})


def _pods(node: yamlfile.Node, found: dict[str, str], seen: set[int], depth: int) -> Iterator[tuple[yamlfile.Node, dict[str, str]]]:
    if id(node) in seen or depth > 40:
        return
    seen.add(id(node))
    if yamlfile.is_mapping(node):
        metadata = yamlfile.get(node, "metadata")
        if metadata is not None and yamlfile.get(node, "spec") is not None:
            found = labels(yamlfile.get(metadata, "labels")) or found
        if yamlfile.is_sequence(yamlfile.get(node, "containers")):
            yield node, found
            return
        for key, _, value in yamlfile.items(node):
            if key not in _NOT_PODS and not yamlfile.is_scalar(value):
                yield from _pods(value, found, seen, depth + 1)
    elif yamlfile.is_sequence(node):
        for element in yamlfile.elements(node):
            if not yamlfile.is_scalar(element):
                yield from _pods(element, found, seen, depth + 1)


def containers(spec: yamlfile.Node, lists: tuple[str, ...] = ("containers",)) -> list[yamlfile.Node]:
    """The containers of a pod spec: its `containers:` (pass `CONTAINER_LISTS` for the init and
    ephemeral containers too, which pull images as well)."""
    return [container for key in lists for container in yamlfile.elements(yamlfile.get(spec, key))]
