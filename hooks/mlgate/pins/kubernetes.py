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

Not reported, as no decision of the file: a tag that tooling replaces (`set-by-chartpress`,
`PLACEHOLDER`, `<tag>`, `%TAG%` ...); the files under a folder named as a release
(`install/v0.16.0/`: rendered manifests of a past release, frozen history); and the image of a
manifest whose kustomization (in the same folder) sets its tag or digest in `images:` (that entry
is judged instead).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from mlgate import kubernetes, yamlfile
from mlgate.files import InvalidText, SourceFile, display_path
from mlgate.findings import Finding
from mlgate.hook import ScanContext, Scanner
from mlgate.identity import repository_root
from mlgate.pins import commands
from mlgate.pins.images import ImageJudge
from mlgate.pins.kustomize import KUSTOMIZATIONS, image_name, retagged_images, retags_of
from mlgate.pins.requirement import Problem
from mlgate.pins.rules import IMAGE_NO_DIGEST

_PREFILTER = re.compile(r"\b(?:image|images)[\"']?\s*:")
_TEMPLATE = ("{{", "{%")
# A folder named as a release (`v0.16.0`, `1.2`, `v0.16.0-rc1`): rendered manifests of a past release.
_RELEASE_FOLDER = re.compile(r"v?\d+\.\d+(?:\.\d+)?(?:[-._]?(?:rc|alpha|beta|post|dev)\.?\d*)?", re.IGNORECASE)
# A tag (or a whole image) that tooling replaces before anything is pulled: no pin decision of the file.
_PLACEHOLDER = re.compile(
    r"set-by-[\w.-]+|place[-_]?holder|replace[-_]?me|to[-_]?be[-_]?replaced|change[-_]?me|(?:image[-_]?)?tag"
    r"|<[^<>]*>|%[^%]+%|__\w+__|\$.*|.*\{\{.*",
    re.IGNORECASE,
)
# Sibling keys of a scalar `image:` in Helm values that hold its version, and how a template joins them.
_SIBLING_VERSION_KEYS = (
    ("digest", "@"), ("imageDigest", "@"), ("tag", ":"), ("imageTag", ":"), ("image_tag", ":"), ("version", ":")
)  # fmt: skip


def _release_folder(path: str) -> bool:
    """Is the file's folder, or the one above it, named as a release version (`install/v0.16.0/x.yaml`,
    `releases/1.2/base/x.yaml`)? Only those two: a path shown absolute (a scan outside the current
    folder) must not be skipped because some folder far above the repository has such a name."""
    return any(_RELEASE_FOLDER.fullmatch(part) for part in path.split("/")[-3:-1])


def _placeholder(reference: str) -> bool:
    """`repo:set-by-chartpress`, `repo:<tag>`, `REPLACE_ME`: a tag (or image) filled in by tooling."""
    name = reference.strip().partition("@")[0]
    last = name.rsplit("/", 1)[-1]
    _, colon, tag = last.partition(":")
    return bool(_PLACEHOLDER.fullmatch(tag if colon else name))


def _kustomized(source: SourceFile, context: ScanContext) -> frozenset[str]:
    """The image names whose tag or digest a kustomization sets for this file (`images:` entries
    with `newTag` or `digest`): one in the file's folder, or one that builds from it (`kustomize`).
    Asked only for an image that would be reported: the repository's kustomizations are read then."""
    names: set[str] = set()
    root = repository_root(source.abspath.parent)
    if root is not None:
        folder = SourceFile(path=display_path(root), abspath=root)
        names.update(context.once("pins.kustomize", folder, lambda f: retagged_images(f.abspath)).get(source.abspath, ()))
    for file_name in KUSTOMIZATIONS:
        if file_name != source.name and context.sibling_exists(source, file_name):
            names.update(retags_of(source.abspath.parent / file_name))
    return frozenset(names)


class _Images:
    def __init__(self, source: SourceFile, parsed: SourceFile, judge: ImageJudge, kustomized: Callable[[], frozenset[str]] | None = None):
        self.source = source  # as written: a line holding a template action is not judged
        self.judge = judge
        self.parsed = parsed
        self._kustomized = kustomized  # image names a kustomization retags for this file, asked when needed
        self._retagged: frozenset[str] | None = None
        self.findings: list[Finding] = []

    def retagged(self, reference: str) -> bool:
        """Whether a kustomization sets this image's tag for the file (so its own tag is not what ships)."""
        if self._kustomized is None:
            return False
        if self._retagged is None:
            self._retagged = self._kustomized()
        return image_name(reference) in self._retagged

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
        if node is None or not reference or any(mark in reference for mark in _TEMPLATE) or _placeholder(reference):
            return
        self.report(node, self.judge.check(reference))

    def pods(self, document: yamlfile.Node) -> None:
        for spec, _ in kubernetes.pods(document):
            for container in kubernetes.containers(spec, kubernetes.CONTAINER_LISTS):
                node = yamlfile.get(container, "image")
                reference = yamlfile.text_of(node) or ""
                if self.judge.check(reference) is not None and not self.retagged(reference):
                    self.image(node)

    def values(self, document: yamlfile.Node) -> None:
        for node in yamlfile.walk(document):
            image = yamlfile.get(node, "image")
            if image is not None and yamlfile.is_scalar(image):
                self.values_scalar_image(node, image)
            elif image is not None and yamlfile.is_mapping(image):
                self.values_image(image)

    def values_scalar_image(self, owner: yamlfile.Node, image: yamlfile.Node) -> None:
        """`image: repo` with its tag or digest in a sibling key (`tag: 1.5.0`, `imageTag:`,
        `version:`), which the chart's template joins to it (`{{ .image }}:{{ .tag }}`), and its
        registry in a sibling `repository:` (NVIDIA's charts: `{{ .repository }}/{{ .image }}:{{
        .version | default .Chart.AppVersion }}`); else the image as written."""
        written = (yamlfile.text_of(image) or "").strip()
        last = written.rsplit("/", 1)[-1]
        if not written or ":" in last or "@" in written:
            self.image(image)
            return
        repository = yamlfile.get(owner, "repository")
        prefix = (yamlfile.text_of(repository) or "").strip().rstrip("/")
        name = f"{prefix}/{written}" if prefix and not any(mark in prefix for mark in _TEMPLATE) else written
        for key, joiner in _SIBLING_VERSION_KEYS:
            node = yamlfile.get(owner, key)
            version = (yamlfile.text_of(node) or "").strip() if node is not None else ""
            if node is not None and version:
                reference = f"{name}{joiner}{version}"
                if not _placeholder(reference) and not any(mark in reference for mark in _TEMPLATE):
                    self.report(node, self.judge.check(reference))
                return
        if repository is None:
            self.image(image)
        # composed by the chart, which fills in a tag; an empty `repository: ""` is the user's to fill in
        elif prefix and self.judge.check(name) is not None:
            why = "has no tag or digest in the values: the chart fills in a tag (its appVersion in most charts), which can move"
            self.report(image, Problem(IMAGE_NO_DIGEST, f"image {name} {why}", 0))

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
            self.report(yamlfile.get(image, "digest") or repository_node, self.judge.check(f"{reference}@{digest}"))
            return
        tag_node = yamlfile.get(image, "tag")
        tag = (yamlfile.text_of(tag_node) or "").strip()
        if tag and _placeholder(f"{reference}:{tag}"):
            return
        if tag:
            self.report(tag_node or repository_node, self.judge.check(f"{reference}:{tag}"))
        elif self.judge.check(reference) is not None:  # judged as a reference; said as the chart fills it
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
                self.report(digest_node, self.judge.check(f"{name}@{digest}"))
            elif tag_node is not None and tag and not _placeholder(f"{name}:{tag}"):
                self.report(tag_node, self.judge.check(f"{name}:{tag}"))


def _chart_testing_values(source: SourceFile) -> bool:
    """A chart's `ci/` values (helm chart-testing installs the chart once with each): test inputs
    that try the chart's newest build, not what a release deploys."""
    folder = source.abspath.parent
    return folder.name == "ci" and (folder.parent / "Chart.yaml").is_file()


def _is_kustomization(source: SourceFile, document: yamlfile.Node) -> bool:
    kind = yamlfile.text_of(yamlfile.get(document, "kind"))
    return kind in ("Kustomization", "Component") or (kind is None and source.name.lower() in ("kustomization.yaml", "kustomization.yml"))


def scan(source: SourceFile, context: ScanContext) -> Iterator[Finding]:
    if source.path.endswith(".json") and not kubernetes.json_is_manifest(source):
        return
    # `in` first: the expression's leading `\b` makes it try every position of every YAML file
    if _release_folder(source.path) or "image" not in source.text or not _PREFILTER.search(source.text):
        return
    values_file = kubernetes.is_values_file(source)
    if values_file and _chart_testing_values(source):
        return
    parsed, documents, error = kubernetes.load(source)
    images = _Images(source, parsed, ImageJudge(source, context), None if values_file else lambda: _kustomized(source, context))
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
