"""What a project is: a library published as a distribution, or an application.

A `pyproject.toml` whose project has a name (`[project] name`, or Poetry's `[tool.poetry]
name`) and a `[build-system]` is built into a distribution that others install beside their
own dependencies: a library. Its metadata ranges are what lets them resolve, so under the
default `ranges = "auto"` they are not reported; what gets installed (requirements files,
install commands, lock files) is checked instead. A project is an application when it has no
build system, or says it is not packaged: `[tool.uv] package = false`, `[tool.pdm]
distribution = false`, `[tool.poetry] package-mode = false`, or the classifier
`Private :: Do Not Upload`.

`setup.py` and `setup.cfg` exist to build a distribution, so they are libraries by default; a
requirements file that a library's `setup.py` or setuptools' `dynamic` dependencies read is that
library's metadata (`read_as_metadata`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mlgate.files import ScanError, SourceFile
from mlgate.pins import tomlfile
from mlgate.pins.requirement import canonical_name

NOT_UPLOADED = "Private :: Do Not Upload"


def _table(data: Any, *keys: str) -> dict[str, Any]:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def project_name(data: dict[str, Any]) -> str | None:
    """The canonical (PEP 503) name of the project a pyproject describes, or None."""
    name = _table(data, "project").get("name") or _table(data, "tool", "poetry").get("name")
    return canonical_name(name) if isinstance(name, str) and name.strip() else None


def marked_application(data: dict[str, Any]) -> bool:
    """The project says it is not built into a distribution (uv, PDM, Poetry, or a classifier)."""
    tool = _table(data, "tool")
    if _table(tool, "uv").get("package") is False or _table(tool, "pdm").get("distribution") is False:
        return True
    if _table(tool, "poetry").get("package-mode") is False:
        return True
    classifiers = _table(data, "project").get("classifiers")
    return isinstance(classifiers, list) and NOT_UPLOADED in classifiers


def is_library(data: dict[str, Any]) -> bool:
    """A named project with a build system that does not say it is an application."""
    return project_name(data) is not None and "build-system" in data and not marked_application(data)


def self_reference(requirement: str, name: str | None) -> bool:
    """`mypkg[api]` in mypkg's own metadata: an extra of the project itself, not a dependency."""
    if name is None:
        return False
    head = requirement.strip().split(";", 1)[0]
    for stop in "[<>=!~@ (":
        head = head.split(stop, 1)[0]
    return bool(head) and canonical_name(head) == name


# Folders above a requirements file searched for the setup.py/pyproject.toml that reads it.
_METADATA_DEPTH = 2
_MAX_SETUP_BYTES = 512 * 1024


def read_as_metadata(path: Path) -> bool:
    """Whether a library's own metadata reads this requirements file as its dependencies: a
    `setup.py` here or up to two folders above that names it in a string
    (`install_requires=fetch_requirements("requirements.txt")`, or its folder and name in separate
    strings: `ROOT / "requirements"`, `read("core.txt")`, or names the folder above its folder and
    lists folders: `glob(os.path.join(ROOT, "requirements", "*", "*.txt"))`), or a `pyproject.toml` whose
    `[tool.setuptools.dynamic]` dependencies or optional dependencies list it as a `file`. Its
    ranges are then the library's metadata (OpenRLHF, many packages on PyPI), not an install."""
    folder = path.parent
    for _ in range(_METADATA_DEPTH + 1):
        relative = path.relative_to(folder).as_posix()
        if _named_by_setup(folder / "setup.py", relative) or _named_by_dynamic(folder / "pyproject.toml", relative):
            return True
        if folder.parent == folder:
            break
        folder = folder.parent
    return False


_QUOTED_TXT = re.compile(r"""["']([\w./-]+\.txt)["']""")


def files_named_by_setup(path: Path) -> list[Path]:
    """The requirements files (`*.txt`, quoted) that a `setup.py` in the folder of `path`, or up
    to two folders above it, names and that exist, other than `path` itself."""
    found: list[Path] = []
    folder = path.parent
    for _ in range(_METADATA_DEPTH + 1):
        text = _setup_text(folder / "setup.py")
        if text is not None:
            found += [named for name in dict.fromkeys(_QUOTED_TXT.findall(text)) if (named := folder / name) != path and named.is_file()]
        if folder.parent == folder:
            break
        folder = folder.parent
    return found


def _setup_text(setup: Path) -> str | None:
    """The head of a `setup.py`, or None when there is none."""
    try:
        with open(setup, "rb") as handle:
            return handle.read(_MAX_SETUP_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None


def _named_by_setup(setup: Path, relative: str) -> bool:
    text = _setup_text(setup)
    if text is None:
        return False

    # the path as one string, or its folders and name each quoted (`ROOT / "requirements"`, then
    # `_read_requirements("core.txt")`: aibrix's kvcache package), or, for a file in a subfolder of
    # a folder it names, that folder listed (`glob(os.path.join(ROOT, "requirements", "*", "*.txt"))`:
    # pytorch-lightning's groups by package; the folder's own files, `requirements/ci.txt`, are CI's)
    def quoted(piece: str) -> bool:
        return f'"{piece}"' in text or f"'{piece}'" in text

    pieces = relative.split("/")
    if quoted(relative) or all(quoted(piece) for piece in pieces):
        return True
    return len(pieces) > 2 and quoted(pieces[0]) and _LISTS_FOLDERS.search(text) is not None


# a setup.py that lists a folder it names reads every file there
_LISTS_FOLDERS = re.compile(r"\b(?:glob|iglob|rglob|listdir|scandir|iterdir|walk)\(")


def _named_by_dynamic(pyproject: Path, relative: str) -> bool:
    if not pyproject.is_file():
        return False
    try:
        data = tomlfile.load(SourceFile(path=pyproject.as_posix(), abspath=pyproject))
    except (ScanError, OSError):
        return False
    dynamic = _table(data, "tool", "setuptools", "dynamic")
    entries = [dynamic.get("dependencies"), *_table(dynamic, "optional-dependencies").values()]
    for entry in entries:
        files = entry.get("file") if isinstance(entry, dict) else None
        listed = [files] if isinstance(files, str) else files if isinstance(files, list) else []
        if any(isinstance(name, str) and name.strip().removeprefix("./") == relative for name in listed):
            return True
    return False
