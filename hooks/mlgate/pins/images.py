"""Is a container image reference immutable, and is it pulled from someone else? (PIN010)

`check_image` judges the reference alone. `ImageJudge` judges it as the file's repository sees it:
not reported are the project's own images (first-party: the namespace is the project's owner or
name, see `mlgate.identity`, or one the `first-party-namespaces` option lists), which the project
itself publishes at the tags its releases and charts expose, unless `report-first-party-images`
is set; and bare names the repository builds itself (`mlgate.pins.local_builds`), which no
registry serves. In documentation, examples, samples and benchmarks (`files.is_example_path`) only
moving references are reported (`is_moving`): a sample that names a release (`ubuntu:18.04`,
`ghcr.io/llm-d/llm-d:v0.2.0`) is copied as it is and shows the version it was written for, while
one at `latest` hands whoever copies it whatever is pushed next.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mlgate.files import SourceFile
from mlgate.hook import ScanContext
from mlgate.identity import Identity, identity_of, in_example_folder, normalise, repository_root
from mlgate.pins.local_builds import bare_name, built_here
from mlgate.pins.requirement import Problem
from mlgate.pins.rules import IMAGE_NO_DIGEST

DIGEST = re.compile(r"@sha256:[0-9a-fA-F]{64}")
# Characters a reference can hold (`registry:port/path/name:tag@digest`); `{user}/app`, `<image>` are text, not images.
_REFERENCE_CHARACTERS = re.compile(r"[A-Za-z0-9._/:@+-]+")
# `ko://<Go import path>`: ko builds the image from the repository's source at deploy time.
_BUILT_FROM_SOURCE = ("ko://",)
# Docker Hub's namespace of official images: Docker's, whatever the project is called.
_OFFICIAL = "library"
# Tag words that name a channel, not a release: whatever the publisher pushed there last
# (`latest`, `latest-gpu`, `v0.17-latest`, `nightly`, `main`, `node:lts`, `debian:testing`).
# Pre-release words (`beta`, `rc`) are not here: `2.0.0-beta` is one release.
MOVING_TAG_WORDS = frozenset(
    "latest nightly main master dev develop development edge stable unstable testing experimental "
    "rolling canary next head trunk snapshot current lts".split()
)
_TAG_WORD_SEPARATORS = re.compile(r"[-_.]")


def check_image(reference: str, offset: int = 0) -> Problem | None:
    """`image[:tag][@sha256:<digest>]`: only a digest names fixed content.

    `scratch` (no image at all), references still holding a variable (`${BASE}`,
    `${{ matrix.image }}`), `ko://` build paths and text that is no image reference
    (`{username}/app`; `IMAGE_URL`, which Docker refuses: repository names are lower case) are not judged.
    """
    reference = reference.strip()
    if not reference or "$" in reference or reference.lower() == "scratch" or DIGEST.search(reference):
        return None
    if reference.startswith(_BUILT_FROM_SOURCE) or not _REFERENCE_CHARACTERS.fullmatch(reference):
        return None
    components = _path_of(reference)
    repository = components[1:] if _has_registry(components) else components
    if any(part != part.lower() for part in repository):
        return None  # a placeholder for an image (`IMAGE_URL`, `CONTROLLER_IMG`): not a reference Docker can pull
    last = reference.rsplit("/", 1)[-1]
    _, colon, tag = last.partition(":")
    if "@" in last:
        why = "has a digest that is not a full sha256, so it does not fix the content"
    elif colon and tag:
        why = f"is referenced by the tag '{tag}', which its publisher (or whoever takes over the repository) can move"
    else:
        why = "has no tag or digest: it is whatever 'latest' points to when it is pulled"
    return Problem(IMAGE_NO_DIGEST, f"image {reference} {why}", offset)


def tag_of(reference: str) -> str:
    """`ghcr.io:443/llm-d/llm-d:v0.2.0@sha256:...` -> `v0.2.0`; `` when the reference has no tag."""
    return reference.strip().partition("@")[0].rsplit("/", 1)[-1].partition(":")[2]


def is_moving(reference: str) -> bool:
    """A reference to a channel rather than to a release: no tag (`latest`), or a tag with a
    channel word (`MOVING_TAG_WORDS`) among its `-`, `_` or `.` separated words."""
    tag = tag_of(reference).lower()
    return not tag or not MOVING_TAG_WORDS.isdisjoint(_TAG_WORD_SEPARATORS.split(tag))


def _path_of(reference: str) -> list[str]:
    """`quay.io/kuberay/operator:v1` -> ['quay.io', 'kuberay', 'operator']: the name's components."""
    components = reference.strip().partition("@")[0].split("/")
    components[-1] = components[-1].partition(":")[0]
    return components


def _has_registry(components: list[str]) -> bool:
    """A first component with a dot or a port, or `localhost`, is a registry host (as docker reads it)."""
    first = components[0]
    return len(components) > 1 and ("." in first or ":" in first or first == "localhost")


def namespace(reference: str) -> str | None:
    """The account that publishes the image: `rayproject` in `rayproject/ray:2.9`, `kuberay` in
    `quay.io/kuberay/operator`; None for an official image (`python:3.12`) or a bare name."""
    components = _path_of(reference)
    if _has_registry(components):
        components = components[1:]
    if len(components) < 2 or components[0].lower() == _OFFICIAL:
        return None
    return components[0]


class ImageJudge:
    """PIN010 for the images one file references, judged from the file's repository."""

    def __init__(self, source: SourceFile, context: ScanContext):
        self.folder = Path(os.path.abspath(source.abspath.parent))
        self.in_example = in_example_folder(source)
        self.report_first_party = bool(context.options.get("report-first-party-images", False))
        listed = context.options.get("first-party-namespaces", [])
        self.listed = frozenset(normalise(name.rsplit("/", 1)[-1]) for name in listed if isinstance(name, str))
        self._identity: Identity | None = None

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            self._identity = identity_of(self.folder)
        return self._identity

    def first_party(self, reference: str) -> bool:
        account = namespace(reference)
        return account is not None and (normalise(account) in self.listed or self.identity.owns(account))

    def built_here(self, reference: str) -> bool:
        name = bare_name(reference)
        if name is None:
            return False
        root = repository_root(self.folder)
        return root is not None and name in built_here(root)

    def sample_at_release(self, reference: str) -> bool:
        """A release (a tag that is no channel, no digest) named in documentation or an example."""
        return self.in_example and "@" not in reference and not is_moving(reference)

    def exempt(self, reference: str) -> bool:
        """A sample at a release, a local build, or (unless `report-first-party-images`) one of the
        project's own images."""
        return (
            self.sample_at_release(reference) or self.built_here(reference) or (not self.report_first_party and self.first_party(reference))
        )

    def check(self, reference: str, offset: int = 0) -> Problem | None:
        """`check_image`, less the project's own images, its local builds and its samples at a release."""
        problem = check_image(reference, offset)
        return None if problem is None or self.exempt(reference) else problem
