"""Which manifests a kustomization retags: kustomize's `images:` transformer, read as kustomize applies it.

`kustomize build overlay/` applies the overlay's `images:` entries (`name` with `newTag`,
`digest`) to every resource the overlay includes: its `resources:`, `bases:` and `components:`
(files, or folders holding their own kustomization, followed transitively) and its patch files.
So `image: ghcr.io/org/controller` without a tag in `base/controller.yaml` is not deployed as
`latest` when `installs/standalone/kustomization.yaml` (which includes `../../base`) sets its
`newTag`: the tag that ships is the kustomization's, and that is where it is judged.

Read once per repository (`ScanContext.once` on its root), only when a manifest needs it.
"""

from __future__ import annotations

import os
from pathlib import Path

from mlgate import yamlfile
from mlgate.files import SKIPPED_DIRS, ScanError, SourceFile

KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_INCLUDES = ("resources", "bases", "components", "patchesStrategicMerge")
_MAX_KUSTOMIZATIONS = 2000  # a repository with more is read up to this many


def image_name(reference: str) -> str:
    """`repo[:tag][@digest]` without its tag and digest, as kustomize matches `images:` names."""
    name = reference.strip().partition("@")[0]
    head, slash, last = name.rpartition("/")
    return f"{head}{slash}{last.partition(':')[0]}"


class _Kustomization:
    def __init__(self, path: Path):
        self.folder = path.parent
        self.includes: list[Path] = []  # files and folders, absolute
        self.retags: set[str] = set()  # image names whose tag or digest it sets
        try:
            documents = yamlfile.load_documents(SourceFile(path=path.as_posix(), abspath=path))
        except (ScanError, OSError, ValueError):
            return
        for document in documents:
            for key in _INCLUDES:
                for entry in yamlfile.elements(yamlfile.get(document, key)):
                    self._include(yamlfile.text_of(entry))
            for entry in yamlfile.elements(yamlfile.get(document, "patches")):
                self._include(yamlfile.text_of(yamlfile.get(entry, "path")))
            for entry in yamlfile.elements(yamlfile.get(document, "images")):
                name = (yamlfile.text_of(yamlfile.get(entry, "name")) or "").strip()
                sets = any((yamlfile.text_of(yamlfile.get(entry, key)) or "").strip() for key in ("newTag", "digest"))
                if name and sets:
                    self.retags.add(image_name(name))

    def _include(self, entry: str | None) -> None:
        entry = (entry or "").strip()
        if entry and "://" not in entry and not entry.startswith(("github.com/", "git@")):  # remote bases are not in the repository
            self.includes.append(Path(os.path.normpath(self.folder / entry)))


def retags_of(path: Path) -> frozenset[str]:
    """The image names one kustomization file retags."""
    return frozenset(_Kustomization(path).retags)


def retagged_images(root: Path) -> dict[Path, frozenset[str]]:
    """For each file some kustomization of the repository under `root` includes (transitively), the
    image names one of those kustomizations retags."""
    kustomizations: dict[Path, _Kustomization] = {}  # by folder
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [name for name in dirnames if name not in SKIPPED_DIRS and not name.startswith(".")]
        name = next((name for name in KUSTOMIZATIONS if name in filenames), None)
        if name is not None:
            kustomizations[Path(dirpath)] = _Kustomization(Path(dirpath) / name)
            if len(kustomizations) >= _MAX_KUSTOMIZATIONS:
                break
    closures: dict[Path, set[Path]] = {}

    def closure(folder: Path, visiting: frozenset[Path]) -> set[Path]:
        """Every file the kustomization in `folder` builds from (cycles cut)."""
        if folder in closures:
            return closures[folder]
        files: set[Path] = set()
        for included in kustomizations[folder].includes:
            if included in kustomizations and included not in visiting:
                files |= closure(included, visiting | {included})
            else:
                files.add(included)
        closures[folder] = files
        return files

    retagged: dict[Path, set[str]] = {}
    for folder, kustomization in kustomizations.items():
        if kustomization.retags:
            for path in closure(folder, frozenset({folder})):
                retagged.setdefault(path, set()).update(kustomization.retags)
    return {path: frozenset(names) for path, names in retagged.items()}
