"""Is one dependency reference immutable? Shared by every `pins` scanner.

Each `check_*` function returns the problems of one reference, with the offset of the
offending token inside the text it was given, so the caller can place the finding.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from mlgate.findings import Finding
from mlgate.notes import Note
from mlgate.pins.rules import EXTRA_INDEX, INSECURE_INDEX, MISSING_HASH, UNPINNED, URL_NO_HASH, VCS_REF
from mlgate.problem import Locate, Problem, is_full_sha  # noqa: F401  (Problem: re-exported for the pins modules)

if TYPE_CHECKING:
    from mlgate.files import SourceFile
    from mlgate.hook import ScanContext

VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?")
DIRECT = re.compile(r"\s*@\s*(\S+)")
CLAUSE = re.compile(r"\s*(===|==|~=|!=|<=|>=|<|>)\s*([^,\s;]+)\s*")
HASH_FRAGMENT = re.compile(r"[#&](sha256|sha384|sha512)=[0-9a-fA-F]{32,}")


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def is_local_path(text: str) -> bool:
    """A path into the project itself (`.`, `./pkg`, `/abs`, `file:` without a host)."""
    text = text.strip()
    if text.startswith((".", "/", "~", "\\")) or re.match(r"[A-Za-z]:[\\/]", text):
        return True
    if text.lower().startswith("file:"):
        return not text[5:].startswith("//") or text[5:].startswith("///") or text[7:].startswith("localhost/")
    return False


def vcs_ref(url: str) -> str | None:
    """The `@ref` of a pip VCS URL (`git+https://host/repo.git@ref#egg=x`), or None."""
    url = url.split("#", 1)[0]
    scheme_end = url.find("://")
    path = url[scheme_end + 3 :] if scheme_end != -1 else url
    if "/" in path:
        path = path.split("/", 1)[1]  # drop the host (and its user@) part
    elif scheme_end == -1 and ":" in path:
        path = path.split(":", 1)[1]  # git+git@github.com:org/repo
    return path.rsplit("@", 1)[1] if "@" in path else None


def check_url(url: str, offset: int = 0, *, hashed: bool = False) -> list[Problem]:
    """A URL dependency: VCS URLs must name a commit, archives must carry a hash."""
    lower = url.lower()
    if lower.startswith(VCS_PREFIXES):
        ref = vcs_ref(url)
        if ref is None:
            return [Problem(VCS_REF, f"VCS dependency {url} names no commit: it follows the default branch", offset)]
        if not (is_full_sha(ref) or (lower.startswith("svn+") and ref.isdigit())):
            return [Problem(VCS_REF, f"VCS dependency {url} is at '{ref}', a branch or tag that can be moved", offset)]
        return []
    if is_local_path(url):
        return []
    if hashed or HASH_FRAGMENT.search(url):
        return []
    return [Problem(URL_NO_HASH, f"{url} is downloaded without a hash: whoever controls the URL controls the code", offset)]


def exact_clauses(spec: str) -> tuple[bool, str]:
    """(is the specifier an exact pin, a short description of why not)."""
    clauses = [c for c in spec.split(",") if c.strip()]
    if not clauses:
        return False, "has no version pin"
    for clause in clauses:
        match = CLAUSE.fullmatch(clause)
        if match is None:
            return False, f"has an unreadable version specifier '{spec.strip()}'"
        operator, version = match.groups()
        if operator == "===" or (operator == "==" and "*" not in version):
            return True, ""
    return False, f"is not pinned to one version ('{spec.strip()}' allows others)"


def check_requirement(
    text: str,
    *,
    hashed: bool = False,
    constraints: frozenset[str] | set[str] = frozenset(),
    require_hashes: bool = False,
) -> list[Problem]:
    """One PEP 508 requirement or pip URL (`torch==2.1.0; python_version > "3.8"`)."""
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    if not stripped or is_local_path(stripped):
        return []
    head = stripped.split(";", 1)[0].strip()
    if "://" in head.split("@", 1)[0] or head.lower().startswith(VCS_PREFIXES):
        return check_url(head.split()[0], lead, hashed=hashed)
    name_match = NAME.match(stripped)
    if name_match is None:
        return []
    name = name_match.group(1)
    rest = stripped[name_match.end() :]
    direct = DIRECT.match(rest)
    if direct:
        url = direct.group(1).rstrip(";")
        return check_url(url, lead + name_match.end() + direct.start(1), hashed=hashed)
    spec = rest.split(";", 1)[0].strip()
    if spec.startswith("(") and spec.endswith(")"):
        spec = spec[1:-1]
    exact, why = exact_clauses(spec)
    if not exact:
        if canonical_name(name) in constraints:
            return []
        return [Problem(UNPINNED, f"'{name}' {why}: a new release, or a hijacked one, is installed without review", lead)]
    if require_hashes and not hashed:
        return [Problem(MISSING_HASH, f"'{name}' is pinned but has no --hash, so the file behind the version is not verified", lead)]
    return []


def exact_name(text: str) -> str | None:
    """Canonical name of a requirement that is pinned exactly (for constraints files)."""
    match = NAME.match(text)
    if match is None:
        return None
    spec = text[match.end() :].split(";", 1)[0].strip()
    return canonical_name(match.group(1)) if exact_clauses(spec)[0] else None


POETRY_EXACT = re.compile(r"\s*(?:===?|=)?\s*v?\d+(?:\.\d+)*(?:[-._+]?[A-Za-z0-9.]+)?\s*")


def is_poetry_exact(version: str) -> bool:
    """Poetry constraints: a bare or `==` version is exact; ^ ~ * and ranges move."""
    return POETRY_EXACT.fullmatch(version) is not None and "*" not in version


def check_poetry_version(name: str, version: str) -> list[Problem]:
    if is_poetry_exact(version):
        return []
    return [Problem(UNPINNED, f"'{name}' is constrained by '{version}', which allows other versions", 0)]


CONDA_SPEC = re.compile(r"\s*([A-Za-z0-9_.\-]+(?:::[A-Za-z0-9_.\-]+)?)\s*(.*)")


def check_conda_spec(text: str) -> list[Problem]:
    """A conda MatchSpec (`numpy=1.26.4`, `pytorch::pytorch==2.1.0=py3.11_cuda`).

    `name=1.26` means 1.26.* in conda, so only `==X` or `=X.Y.Z` (three parts or a
    build string) count as pinned.
    """
    match = CONDA_SPEC.match(text)
    if match is None:
        return []
    name, spec = match.group(1), match.group(2).strip().replace(" ", "")
    if spec.startswith("=="):
        version = spec[2:].split("=", 1)[0]
        if version and "*" not in version and not any(c in version for c in "<>,|"):
            return []
    elif spec.startswith("=") and not spec.startswith("=="):
        version, _, build = spec[1:].partition("=")
        if version and "*" not in version and not any(c in version for c in "<>,|") and (version.count(".") >= 2 or build):
            return []
    label = name.split("::")[-1]
    why = f"is not pinned to one version ('{spec}' allows others)" if spec else "has no version pin"
    return [Problem(UNPINNED, f"conda package '{label}' {why}", 0)]


def check_git_table(url: str, ref: str | None) -> list[Problem]:
    """A `{git = url, rev/tag/branch/ref = ...}` table (Poetry, uv sources, Pipfile)."""
    base = url if url.lower().startswith(VCS_PREFIXES) else f"git+{url}"
    return check_url(f"{base}@{ref}" if ref else base)


def check_index(url: str, *, extra: bool, allowed: list[str] | tuple[str, ...] = ()) -> list[Problem]:
    """A package index: an extra one opens dependency confusion, an http one lets the network choose."""
    problems = []
    if extra and not any(url.startswith(prefix) for prefix in allowed):
        problems.append(
            Problem(
                EXTRA_INDEX,
                f"extra index {url}: a package name found on both indexes can be served by either, "
                "so anyone who registers your private names on the other index is installed",
            )
        )
    if url.lower().startswith("http://"):
        problems.append(Problem(INSECURE_INDEX, f"{url} is plain http: anyone on the network path can serve other packages"))
    return problems


# Lock files that pin what a manifest beside them allows (the `ranges` option).
LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "pylock.toml", "Pipfile.lock")


def uv_strategy_is_unsafe(strategy: str) -> bool:
    """uv's `--index-strategy`/`UV_INDEX_STRATEGY`/`index-strategy`: the default `first-index` takes
    a name only from the first index that has it (extra indexes come first), which is what stops
    dependency confusion; `unsafe-first-match` and `unsafe-best-match` let every index compete, as pip does."""
    return strategy.strip().strip("\"'").lower().startswith("unsafe")


def ranges_accepted(
    source: SourceFile, context: ScanContext, *, lock_files: tuple[str, ...] = LOCK_FILES, metadata: bool = True, library: bool = False
) -> bool:
    """Whether the `ranges` option waives PIN001 for version ranges in this manifest.

    Package metadata follows the option as documented: under `auto` (the default) the metadata
    of a library (`library`: a project published as a distribution, see `mlgate.pins.project`)
    keeps its ranges, and other manifests are judged as under `with-lock-file`. An application
    manifest with its own lock file (`metadata=False`, a Pipfile) accepts ranges only beside
    that lock file.
    """
    policy = context.options.get("ranges", "auto")
    if policy == "never":
        return False
    if metadata and (policy == "always" or (policy == "auto" and library)):
        return True
    if any(context.sibling_exists(source, name) for name in lock_files):
        return True
    # PEP 751 names lock files for one use pylock.<name>.toml.
    return "pylock.toml" in lock_files and any(source.abspath.parent.glob("pylock.*.toml"))


def advised(problems: list[Problem], advice: str) -> list[Problem]:
    """PIN001 problems with the fix that is right for this file appended to their message."""
    for problem in problems:
        if problem.rule is UNPINNED:
            problem.message += advice
    return problems


def range_advice(context: ScanContext, lock_commands: str, manifest: str) -> str:
    """The fix to add to a PIN001 message in a manifest whose ranges a lock file beside it would
    accept: commit that lock file; under `ranges = "never"` nothing but an exact pin does."""
    if context.options.get("ranges", "auto") == "never":
        return "; pin it exactly (==X.Y.Z): with ranges = 'never' a lock file does not make a range acceptable"
    return f"; commit a lock file ({lock_commands}) beside this {manifest}: its ranges are then accepted, and the lock file checked"


def without_ranges(problems: list[Problem], accepted: bool) -> list[Problem]:
    """Drop PIN001 when the `ranges` policy accepts ranges here; VCS and URL problems stay."""
    return [p for p in problems if not accepted or p.rule is not UNPINNED]


def finding_of(placed: Finding | Note) -> Finding:
    """What placing a pins problem made: a Finding, as pins problems carry rules (a `NoteKind` in a
    problem would make a Note; the pins hook keeps its notes with `context.note` instead)."""
    assert isinstance(placed, Finding), "a pins problem carries a rule, not a NoteKind"
    return placed


def place(problem: Problem, path: str, line: int, column: int) -> Finding:
    """The finding of `problem` for a reference written on one line from (line, column)."""
    return finding_of(problem.rule.finding(path, line, column + problem.offset, problem.message))


def place_in(problem: Problem, path: str, locate: Locate, start: int = 0) -> Finding:
    """The finding of `problem` for a reference at offset `start` of a text that `locate` maps to the file."""
    return finding_of(problem.rule.finding(path, *locate(start + problem.offset), problem.message))
