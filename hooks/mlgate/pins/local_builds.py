"""Images the repository builds itself under a bare name (`collector:v0.1.0`): nothing pulls them.

A name with no registry and no namespace can only come from Docker Hub's official images
(`python`, `golang`), which nobody outside Docker can publish, or from a local build. When the
repository builds an image by that name, the reference is to its own build (loaded into a kind
cluster, or the base of another local build), not to a registry: there is no tag to move.

Builds are read from the text of the repository's Makefiles (`Makefile`, `*.mk`), shell scripts
and GitHub workflows, never run:

- `docker|podman|nerdctl|buildah|$(ENGINE) [buildx] build|bud ... -t|--tag NAME`;
- `docker tag SOURCE NAME`, `kind load docker-image NAME...`;
- the `tags:` of a `docker/build-push-action` step;

less the names the repository pulls (`docker pull redis:7` before `kind load docker-image redis:7`
loads a pulled image, not a build), with `$(VAR)`, `${VAR}`, `${VAR:-default}` taken from the same file's assignments (`IMG ?= controller:latest`,
`IMG=${IMG:-app:dev}`). The repository is read once per run, and only when a bare name needs it.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from mlgate import yamlfile
from mlgate.files import SKIPPED_DIRS, ScanError, SourceFile
from mlgate.workflow import mask_expressions
from mlgate.workflow import matches as is_workflow

_SKIPPED = SKIPPED_DIRS | {"vendor", "third_party", "site-packages"}
_MAKEFILES = ("Makefile", "makefile", "GNUmakefile")
_SCRIPT_SUFFIXES = (".mk", ".sh", ".bash")
_CONTINUATION = re.compile(r"\\\r?\n")
_ENGINE = r"(?:\bdocker|\bpodman|\bnerdctl|\bbuildah|\$\{\w+\}|\$\(\w+\)|\$\w+)"
_BUILD = re.compile(rf"{_ENGINE}(?:\s+buildx|\s+image)?\s+(?:build|bud)\b(?P<args>[^\n;&|]*)")
_TAG_OPTION = re.compile(r"(?:^|\s)(?:-t|--tag)(?:\s+|=)(?P<name>\S+)")
_TAG_COMMAND = re.compile(rf"{_ENGINE}(?:\s+image)?\s+tag\s+\S+\s+(?P<name>[^\s;&|]+)")
_PULL = re.compile(rf"{_ENGINE}(?:\s+image)?\s+pull\s+(?:-\S+\s+)*(?P<name>[^\s;&|]+)")
_KIND_LOAD = re.compile(r"\bkind\s+load\s+docker-image\b(?P<args>[^\n;&|]*)")
_KIND_VALUE_FLAGS = ("--name", "-n", "--nodes")
_NAME = re.compile(r"[a-z0-9]+(?:[._-]+[a-z0-9]+)*")  # one component of an image name
# `NAME ?= value` (make: ?=, :=, ::=, =, +=) or `NAME=value` (shell), optionally exported.
_ASSIGNMENT = re.compile(r"^[ \t]*(?:export[ \t]+|override[ \t]+)?([A-Za-z_]\w*)[ \t]*(?:\?=|::?=|\+=|=)[ \t]*(\S*)", re.M)
_REFERENCE = re.compile(r"\$(?:\((\w+)\)|\{(\w+)(?::?-([^}]*))?\}|(\w+))")
# A Makefile or build script someone writes is kilobytes; megabytes are a generated bundle
# (an install script carrying every manifest), not read.
MAX_BUILD_FILE_BYTES = 512 << 10
MAX_VALUES = 8  # readings of one variable tried: enough for `IMG ?= a` overridden once or twice


def _unquoted(word: str) -> str:
    return word.strip().strip("\"'")


def _assignments(text: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for match in _ASSIGNMENT.finditer(text):
        value = _unquoted(match.group(2))
        if value:
            values.setdefault(match.group(1), []).append(value)
    return values


def _resolved(word: str, variables: dict[str, list[str]], depth: int = 3) -> list[str]:
    """The readings of `word` with its variables replaced; a variable without a value drops the word."""
    word = _unquoted(word)
    match = _REFERENCE.search(word)
    if match is None:
        return [word]
    if depth == 0:
        return []
    name = match.group(1) or match.group(2) or match.group(4)
    # `IMG="${IMG:-app:dev}"` refers to itself: its default is the reading.
    readings = [value for value in variables.get(name, [])[:MAX_VALUES] if value != match.group(0)]
    readings.extend([match.group(3)] if match.group(3) else [])
    found: list[str] = []
    for value in readings:
        for inner in _resolved(value, variables, depth - 1):
            found.extend(_resolved(word[: match.start()] + inner + word[match.end() :], variables, depth - 1))
    return found


def bare_name(reference: str) -> str | None:
    """`collector:v0.1.0` -> `collector`; None for a name with a registry or namespace, or not a name."""
    name = reference.strip().partition("@")[0]
    if "/" in name:
        return None
    name = name.partition(":")[0].lower()
    return name if _NAME.fullmatch(name) else None


def _commands_text(text: str) -> str:
    """Continuation lines joined; `${{ matrix.x }}` masked to a variable we do not know."""
    return mask_expressions(_CONTINUATION.sub(" ", text))


def _bare_names(words: list[str], text: str) -> set[str]:
    """The bare names `words` (maybe holding variables of `text`) read as."""
    variables = _assignments(text) if any("$" in word for word in words) else {}
    return {name for word in words for reading in _resolved(word, variables) if (name := bare_name(reading))}


def names_pulled_by(text: str) -> set[str]:
    """The bare image names a text pulls (`docker pull redis:7`)."""
    text = _commands_text(text)
    return _bare_names([pull["name"] for line in text.splitlines() if "pull" in line for pull in _PULL.finditer(line)], text)


def names_built_by(text: str) -> set[str]:
    """The bare image names a Makefile, shell script or workflow text builds, tags or loads."""
    text = _commands_text(text)
    words: list[str] = []
    # Only the lines that can hold such a command go through the patterns: an install script can
    # be megabytes of embedded manifests.
    for line in text.splitlines():
        if "build" in line or "bud" in line:
            for build in _BUILD.finditer(line):
                words.extend(tag["name"] for tag in _TAG_OPTION.finditer(build["args"]))
        if " tag " in line:
            words.extend(tag["name"] for tag in _TAG_COMMAND.finditer(line))
        if "kind" in line:
            for load in _KIND_LOAD.finditer(line):
                arguments = load["args"].split()
                for index, argument in enumerate(arguments):
                    if not argument.startswith("-") and (index == 0 or arguments[index - 1] not in _KIND_VALUE_FLAGS):
                        words.append(argument)
    return _bare_names(words, text)


def _build_push_tags(source: SourceFile) -> set[str]:
    """Bare names in the `tags:` of `docker/build-push-action` steps (one per line or comma)."""
    names: set[str] = set()
    try:
        documents = yamlfile.load_documents(source)
    except ScanError:
        return names
    for document in documents:
        for _, _, job in yamlfile.items(yamlfile.get(document, "jobs")):
            for step in yamlfile.elements(yamlfile.get(job, "steps")):
                uses = (yamlfile.text_of(yamlfile.get(step, "uses")) or "").strip().lower()
                if not uses.startswith("docker/build-push-action"):
                    continue
                tags = yamlfile.text_of(yamlfile.get(yamlfile.get(step, "with"), "tags")) or ""
                names.update(name for tag in re.split(r"[,\n]", tags) if (name := bare_name(tag)))
    return names


def _build_files(root: Path) -> list[tuple[Path, str]]:
    """(path, path relative to the root) of every Makefile, shell script and workflow under `root`."""
    found: list[tuple[Path, str]] = []
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [name for name in dirnames if name not in _SKIPPED]
        relative = os.path.relpath(folder, root).replace(os.sep, "/")
        for name in filenames:
            shown = name if relative == "." else f"{relative}/{name}"
            if name in _MAKEFILES or name.endswith(_SCRIPT_SUFFIXES) or is_workflow(shown):
                found.append((Path(folder, name), shown))
    return found


@functools.lru_cache(maxsize=16)
def built_here(root: Path) -> frozenset[str]:
    """The bare image names the repository at `root` builds and does not pull (read once per run)."""
    names: set[str] = set()
    pulled: set[str] = set()
    for path, shown in _build_files(root):
        source = SourceFile(path=shown, abspath=path)
        try:
            if source.size() > MAX_BUILD_FILE_BYTES:
                continue
            text = source.text
        except (ScanError, OSError):
            continue
        names.update(names_built_by(text))
        pulled.update(names_pulled_by(text))
        if is_workflow(shown) and "build-push-action" in text:
            names.update(_build_push_tags(source))
    return frozenset(names - pulled)
