"""Who the scanned project is: the names its repository, its owner and its packages go by.

Found without running anything, from what the repository says about itself:

- the repository root: the nearest folder holding `.git` (a folder, or a file for worktrees and
  submodules), else the current folder when the file is inside it (a tree without git, scanned
  from its top); a file outside both belongs to no known project;
- the `origin` and `upstream` remotes of `.git/config` (`https://github.com/ray-project/kuberay.git`,
  `git@github.com:ray-project/kuberay.git`): an owner and a repository name each;
- `GITHUB_REPOSITORY` (`owner/name`), when the root is the Action's checkout (`GITHUB_WORKSPACE`);
- the root folder's name, and `[project] name` of the root `pyproject.toml`;
- code-host URLs (GitHub, GitLab, Bitbucket, Codeberg) in the root pyproject's `[project.urls]` and
  Poetry's `homepage`/`repository`/`urls`, anywhere in the text of the root `setup.py` and `setup.cfg`
  (`url="https://github.com/huggingface/peft"`, read as text, never run), in the root `Cargo.toml`
  (`homepage`, `repository`), the module path of the root `go.mod` (`module github.com/kubeflow/pipelines`),
  the owner the root README links to most among its links to this
  repository (badges, clone commands), and in the `home` and `sources` of the project's Helm charts (a `Chart.yaml` up to three folders down, not a
  subchart): their owner counts only when the URL names this repository (its repository name is one
  of the names above), so a chart that packages someone else's software and links to it in
  `sources` does not adopt that publisher. Chart names are not used: a repository of charts names
  its charts after the software they deploy (a `prometheus` chart beside `quay.io/prometheus/...`).

Names are compared normalised (lowercase, without `-`, `_`, `.`), so the GitHub organisation
`ray-project` is the Docker Hub organisation `rayproject`. Each repository is read once per run.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate import yamlfile
from mlgate.files import SKIPPED_DIRS, ScanError, SourceFile, is_example_path, is_test_path

# `[remote "origin"]`, then `url = ...` lines until the next section.
_SECTION = re.compile(r'\s*\[\s*([^\]\s"]+)(?:\s+"([^"]*)")?\s*\]')
_URL = re.compile(r"\s*url\s*=\s*(.+?)\s*$", re.IGNORECASE)
# The remotes that name the project: a fork's `origin` is the contributor's copy, `upstream` the project.
REMOTES = ("origin", "upstream")
# `scheme://[user@]host[:port]/path` or scp-like `user@host:path`.
_REMOTE_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://(?:[^@/]+@)?[^/]+/|[^@/:\s]+@[^:/\s]+:)(?P<path>[^?#\s]+)", re.IGNORECASE)
# A page of a code host; the path stops at quotes and brackets, so it can be found in running text.
_CODE_HOST_URL = re.compile(
    r"""(?:https?|git|ssh)://(?:[^@/]+@)?(?:www\.)?(?P<host>github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)(?::\d+)?/(?P<path>[^?#\s"'<>),;]+)""",
    re.IGNORECASE,
)
_METADATA_BYTES = 256 * 1024  # of setup.py/setup.cfg searched for URLs: metadata sits near the top
_CHART_DEPTH = 3  # folders below the root searched for Chart.yaml (`deploy/helm/<chart>/Chart.yaml`)
_SEPARATORS = re.compile(r"[-_.]")


def normalise(name: str) -> str:
    """`Ray-Project` -> `rayproject`: how names are compared across GitHub, registries and PyPI."""
    return _SEPARATORS.sub("", name.strip().lower())


@dataclass(frozen=True)
class Identity:
    """The project's normalised names: owners (GitHub organisation or user) and repository or package names."""

    owners: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()

    def owns(self, namespace: str) -> bool:
        """Whether `namespace` (a registry organisation, a package scope) is the project's owner or name."""
        key = normalise(namespace)
        return bool(key) and (key in self.owners or key in self.names)


def _owner_and_name(path: str) -> tuple[str, str] | None:
    """`ray-project/kuberay.git` -> (`ray-project`, `kuberay`); the first component is the account
    (a GitLab group keeps its subgroups below it), the last the repository."""
    parts = [part for part in path.strip().strip("/").split("/") if part]
    if len(parts) < 2:
        return None
    return parts[0], parts[-1].removesuffix(".git")


def _code_host_repository(url: str) -> tuple[str, str] | None:
    """(owner, name) of a code-host page: `github.com/<owner>/<name>/tree/main/chart`; on GitLab the
    repository path ends where `/-/` starts (`gitlab.com/<group>/<subgroup>/<name>/-/tree/main`)."""
    match = _CODE_HOST_URL.match(url.strip())
    if match is None:
        return None
    path = match["path"]
    if match["host"].lower() == "gitlab.com":
        return _owner_and_name(path.split("/-/")[0])
    parts = path.strip("/").split("/")
    return _owner_and_name("/".join(parts[:2]))


# scp-like `git@github.com:owner/repo.git`, which pip (`git+git@...`) and git accept.
_SCP_CODE_HOST = re.compile(r"[\w.-]+@(?:github\.com|gitlab\.com|bitbucket\.org|codeberg\.org):(?P<path>[^?#\s\"'<>),;]+)", re.IGNORECASE)


def code_host_owner(text: str) -> str | None:
    """The owner of the first code-host repository named in `text` (a URL, or a message quoting
    one): `huggingface` in `git+https://github.com/huggingface/peft.git@main`."""
    found = [match for pattern in (_CODE_HOST_URL, _SCP_CODE_HOST) if (match := pattern.search(text))]
    if not found:
        return None
    first = min(found, key=lambda match: match.start())
    repository = _code_host_repository(first.group(0)) if first.re is _CODE_HOST_URL else _owner_and_name(first["path"])
    return repository[0] if repository else None


def _git_dir(root: Path) -> Path | None:
    """The git directory of a work tree root: `.git` itself, or where a `.git` file points
    (`gitdir: ...`), and for a linked worktree the common directory that holds the config."""
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    try:
        text = dot_git.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    line = text.strip().splitlines()[0] if text.strip() else ""
    if not line.startswith("gitdir:"):
        return None
    git_dir = (root / line[len("gitdir:") :].strip()).resolve()
    try:
        common = (git_dir / "commondir").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return git_dir
    return (git_dir / common).resolve() if common else git_dir


def remote_urls(root: Path) -> list[str]:
    """The URLs of the `origin` and `upstream` remotes in the repository's git config."""
    git_dir = _git_dir(root)
    if git_dir is None:
        return []
    try:
        text = (git_dir / "config").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    urls: list[str] = []
    in_remote = False
    for line in text.splitlines():
        section = _SECTION.match(line)
        if section is not None:
            in_remote = section.group(1).lower() == "remote" and section.group(2) in REMOTES
            continue
        url = _URL.match(line) if in_remote else None
        if url is not None:
            urls.append(url.group(1).strip("\"'"))
    return urls


@functools.lru_cache(maxsize=256)
def repository_root(folder: Path) -> Path | None:
    """The root of the repository holding `folder` (absolute): the nearest folder with `.git`, else
    the current folder if `folder` is inside it, else None (a file of no known project). Cached per
    folder for the run: one run has one current folder."""
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate / ".git"):
            return candidate
    cwd = Path.cwd()
    return cwd if folder == cwd or cwd in folder.parents else None


def path_in_repository(source: SourceFile) -> str:
    """The file's path inside its repository (folders above the root say nothing about the file)."""
    absolute = os.path.abspath(source.abspath)
    root = repository_root(Path(absolute).parent)
    return os.path.relpath(absolute, root) if root else source.path


def in_example_folder(source: SourceFile) -> bool:
    """Whether the file sits in a documentation, example or sample folder of its repository."""
    return is_example_path(path_in_repository(source))


def in_test_folder(source: SourceFile) -> bool:
    """Whether the file sits in a test folder of its repository (`files.is_test_path`)."""
    return is_test_path(path_in_repository(source))


def _load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):  # imported here: most runs never need it
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _strings(table: Any, keys: tuple[str, ...]) -> list[str]:
    """The string values of `keys` in a TOML table, and of a `urls` table among them."""
    if not isinstance(table, dict):
        return []
    found = [value for key in keys if isinstance(value := table.get(key), str)]
    urls = table.get("urls")
    return found + ([url for url in urls.values() if isinstance(url, str)] if isinstance(urls, dict) else [])


def _pyproject(root: Path) -> tuple[str | None, list[str]]:
    """The root pyproject's `[project] name` and the URLs of `[project.urls]` and Poetry's metadata."""
    path = root / "pyproject.toml"
    document = _load_toml(path) if path.is_file() else {}
    project = document.get("project")
    tool = document.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    links = _strings(project, ()) + _strings(poetry, ("homepage", "repository"))
    name = project.get("name") if isinstance(project, dict) else None
    return (name if isinstance(name, str) else None), links


_GO_MODULE = re.compile(r"^module[ \t]+\"?([^\s\"/]+/[^\s\"/]+/[^\s\"/]+)", re.MULTILINE)


def _metadata_links(root: Path) -> list[str]:
    """Code-host URLs in the root `setup.py`/`setup.cfg` (as text: `url="https://github.com/o/r"`),
    the root `Cargo.toml`'s `homepage`/`repository` (`[package]` or `[workspace.package]`), and the
    root `go.mod`'s module path (a Go module is named by where its code is hosted)."""
    links: list[str] = []
    for name in ("setup.py", "setup.cfg"):
        try:
            text = (root / name).read_text(encoding="utf-8", errors="replace")[:_METADATA_BYTES]
        except OSError:
            continue
        links.extend(match.group(0) for match in _CODE_HOST_URL.finditer(text))
    try:
        module = _GO_MODULE.search((root / "go.mod").read_text(encoding="utf-8", errors="replace")[:_METADATA_BYTES])
    except OSError:
        module = None
    if module is not None:
        links.append("https://" + module.group(1))
    cargo = root / "Cargo.toml"
    if cargo.is_file():
        document = _load_toml(cargo)
        workspace = document.get("workspace")
        for table in (document.get("package"), workspace.get("package") if isinstance(workspace, dict) else None):
            links.extend(_strings(table, ("homepage", "repository")))
    return links


def _charts(root: Path) -> list[Path]:
    """The project's Chart.yaml files, up to `_CHART_DEPTH` folders down; not the subcharts under a chart."""
    found: list[Path] = []
    folders = [root]
    for _ in range(_CHART_DEPTH + 1):
        below: list[Path] = []
        for folder in folders:
            chart = folder / "Chart.yaml"
            if chart.is_file():
                found.append(chart)  # what is below it (charts/, templates/) is the chart's own
                continue
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            below.extend(Path(e.path) for e in entries if e.is_dir(follow_symlinks=False) and e.name not in SKIPPED_DIRS)
        folders = below
    return found


def _chart_links(chart: Path) -> list[str]:
    """`home` and `sources` of a Chart.yaml, read as data only (the shared YAML reader)."""
    try:
        documents = yamlfile.load_documents(SourceFile(path=chart.as_posix(), abspath=chart))
    except (ScanError, OSError, ValueError):
        return []
    links: list[str] = []
    for document in documents[:1]:
        home = yamlfile.text_of(yamlfile.get(document, "home"))
        links.extend([home] if home else [])
        links.extend(text for node in yamlfile.elements(yamlfile.get(document, "sources")) if (text := yamlfile.text_of(node)))
    return links


def _readme_owners(root: Path, known: set[str]) -> set[str]:
    """The owner a root README links to most among its links to this repository (its badges, its
    clone command, its own files: `github.com/kubeflow/manifests/blob/master/...`); none when it
    links to no repository of a known name. The most linked only, so a README that also points at
    a fork or a namesake elsewhere does not adopt its owner."""
    counts: dict[str, int] = {}
    for name in ("README.md", "README.rst", "README.txt", "README"):
        try:
            with open(root / name, "rb") as handle:
                text = handle.read(_METADATA_BYTES).decode("utf-8", errors="replace")
        except OSError:
            continue
        for match in _CODE_HOST_URL.finditer(text):
            found = _code_host_repository(match.group(0))
            if found and normalise(found[1]) in known:
                counts[found[0]] = counts.get(found[0], 0) + 1
        break  # the README GitHub shows: the first of these names that exists
    most = max(counts.values(), default=0)
    return {owner for owner, count in counts.items() if count == most and most}


def _github_repository(root: Path) -> tuple[str, str] | None:
    """`GITHUB_REPOSITORY` when `root` is the Action's checkout: it names that repository only."""
    repository, workspace = os.environ.get("GITHUB_REPOSITORY", ""), os.environ.get("GITHUB_WORKSPACE", "")
    if not repository or not workspace:
        return None
    try:
        same = Path(workspace).resolve() == root.resolve()
    except OSError:
        return None
    return _owner_and_name(repository) if same else None


@functools.lru_cache(maxsize=16)
def _identity_of_root(root: Path) -> Identity:
    owners: set[str] = set()
    names: set[str] = {root.name}
    repositories = [found for url in remote_urls(root) if (match := _REMOTE_URL.match(url)) and (found := _owner_and_name(match["path"]))]
    github = _github_repository(root)
    for owner, name in [*repositories, *([github] if github else [])]:
        owners.add(owner)
        names.add(name)
    project_name, links = _pyproject(root)
    if project_name:
        names.add(project_name)
    links.extend(_metadata_links(root))
    for chart in _charts(root):
        links.extend(_chart_links(chart))
    known = {normalise(name) for name in names}
    for link in links:
        found = _code_host_repository(link)
        if found and normalise(found[1]) in known:  # a URL of this repository, not of what it packages
            owners.add(found[0])
    owners.update(_readme_owners(root, known))
    return Identity(
        owners=frozenset(key for owner in owners if (key := normalise(owner))),
        names=frozenset(key for name in names if (key := normalise(name))),
    )


def identity_of(folder: Path) -> Identity:
    """The identity of the project whose repository holds `folder` (empty when no project does)."""
    root = repository_root(Path(os.path.abspath(folder)))
    return Identity() if root is None else _identity_of_root(root)
