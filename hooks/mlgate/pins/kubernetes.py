"""Kubernetes manifests, Helm values and kustomizations: images pulled by tag (PIN010).

- the `image:` of every container of a pod (Deployments, StatefulSets, DaemonSets, Jobs,
  CronJobs, Pods, custom resources with a pod spec), init and ephemeral containers too;
- Helm values files (`values*.yaml`): every `image:` there, a string (`image: repo:tag`) or a
  mapping of `registry`, `repository`, `tag` and `digest` (an empty `tag` is the chart's own
  default, its appVersion in most charts: a tag all the same);
- kustomize `images:` entries that set a tag (`newTag`) or a `digest`; an entry that only
  renames (`newName`) keeps the tag of the manifest, which is checked there.

An image written with a template action (`{{ .Values.image.repository }}:{{ .Values.image.tag }}`)
is not judged: its values are. Files are read as the services hook reads them (`mlgate.kubernetes`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mlgate import kubernetes, yamlfile
from mlgate.files import InvalidText, SourceFile
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.pins import commands
from mlgate.pins.images import DIGEST, check_image
from mlgate.pins.requirement import Problem
from mlgate.pins.rules import IMAGE_NO_DIGEST

_PREFILTER = re.compile(r"\b(?:image|images)[\"']?\s*:")
_TEMPLATE = ("{{", "{%")


class _Images:
    def __init__(self, source: SourceFile, parsed: SourceFile):
        self.source = source  # as written: a line holding a template action is not judged
        self.parsed = parsed
        self.findings: list[Finding] = []

    def templated(self, node: yamlfile.Node) -> bool:
        line, _ = yamlfile.position(node)
        return any(mark in self.source.line_text(line) for mark in _TEMPLATE)

    def report(self, node: yamlfile.Node, problem: Problem | None) -> None:
        if problem is None or self.templated(node):
            return
        _, locate = yamlfile.scalar_text(self.parsed, node)
        self.findings.append(commands.placer(self.source.path, locate)(problem))

    def image(self, node: yamlfile.Node | None) -> None:
        """An `image:` string: `repo[:tag][@digest]`."""
        reference = yamlfile.text_of(node)
        if node is not None and reference and not any(mark in reference for mark in _TEMPLATE):
            self.report(node, check_image(reference))

    def pods(self, document: yamlfile.Node) -> None:
        for spec, _ in kubernetes.pods(document):
            for container in kubernetes.containers(spec, kubernetes.CONTAINER_LISTS):
                self.image(yamlfile.get(container, "image"))

    def values(self, document: yamlfile.Node) -> None:
        for node in yamlfile.walk(document):
            image = yamlfile.get(node, "image")
            if yamlfile.is_scalar(image):
                self.image(image)
            elif image is not None and yamlfile.is_mapping(image):
                self.values_image(image)

    def values_image(self, image: yamlfile.Node) -> None:
        """`image: {registry, repository, tag, digest}`, as most charts write it."""
        repository_node = yamlfile.get(image, "repository") or yamlfile.get(image, "name")
        repository = (yamlfile.text_of(repository_node) or "").strip()
        if repository_node is None or not repository:
            return
        registry = (yamlfile.text_of(yamlfile.get(image, "registry")) or "").strip().rstrip("/")
        reference = f"{registry}/{repository}" if registry else repository
        if any(mark in reference for mark in _TEMPLATE):
            return
        digest = (yamlfile.text_of(yamlfile.get(image, "digest")) or "").strip()
        if digest:
            self.report(yamlfile.get(image, "digest") or repository_node, check_image(f"{reference}@{digest}"))
            return
        tag_node = yamlfile.get(image, "tag")
        tag = (yamlfile.text_of(tag_node) or "").strip()
        if tag:
            self.report(tag_node or repository_node, check_image(f"{reference}:{tag}"))
        elif "$" not in reference and not DIGEST.search(reference):
            why = "has no tag or digest in the values: the chart fills in a tag (its appVersion in most charts), which can move"
            self.report(repository_node, Problem(IMAGE_NO_DIGEST, f"image {reference} {why}", 0))

    def kustomization(self, document: yamlfile.Node) -> None:
        """kustomize `images:`: `name` with `newName`, `newTag` or `digest`."""
        for entry in yamlfile.elements(yamlfile.get(document, "images")):
            name_node = yamlfile.get(entry, "newName") or yamlfile.get(entry, "name")
            name = (yamlfile.text_of(name_node) or "").strip()
            if name_node is None or not name:
                continue
            digest_node, tag_node = yamlfile.get(entry, "digest"), yamlfile.get(entry, "newTag")
            digest, tag = (yamlfile.text_of(digest_node) or "").strip(), (yamlfile.text_of(tag_node) or "").strip()
            if digest_node is not None and digest:
                self.report(digest_node, check_image(f"{name}@{digest}"))
            elif tag_node is not None and tag:
                self.report(tag_node, check_image(f"{name}:{tag}"))


def _is_kustomization(source: SourceFile, document: yamlfile.Node) -> bool:
    kind = yamlfile.text_of(yamlfile.get(document, "kind"))
    return kind in ("Kustomization", "Component") or (kind is None and source.name.lower() in ("kustomization.yaml", "kustomization.yml"))


def scan(source: SourceFile, context: ScanContext) -> Iterator[Finding]:
    if source.path.endswith(".json") and not kubernetes.json_is_manifest(source):
        return
    if not _PREFILTER.search(source.text):
        return
    parsed, documents, error = kubernetes.load(source)
    images = _Images(source, parsed)
    values_file = kubernetes.is_values_file(source)
    for document in documents:
        if _is_kustomization(source, document):
            images.kustomization(document)
        elif values_file and yamlfile.get(document, "kind") is None:
            images.values(document)
        else:
            for resource in kubernetes.resources(document):
                images.pods(resource)
    yield from images.findings
    if error:
        raise InvalidText(error)


SCANNER = Scanner("kubernetes", matches=kubernetes.matches, scan=scan)
