"""pyproject.toml: PEP 621/735 lists, build requirements, Poetry, uv, and the `ranges` policy."""

from __future__ import annotations

import pytest

from realcorpus import CORPUS

SHA = "0123456789abcdef0123456789abcdef01234567"

PROJECT = """\
[build-system]
requires = ["setuptools>=61", "wheel==0.42.0"]

[project]
name = "demo"
dependencies = [
    "torch==2.1.0",
    "numpy>=1.26",  # "a comment with quotes"
    'scipy; python_version > "3.8"',
    "pkg @ git+https://github.com/x/pkg@main",
]

[project.optional-dependencies]
dev = ["pytest==8.0.0", "ruff"]

[dependency-groups]
docs = [{include-group = "dev"}, "sphinx~=7.0"]
"""
RANGES = [
    ("PIN001", "pyproject.toml", 8, 6),
    ("PIN001", "pyproject.toml", 9, 6),
    ("PIN001", "pyproject.toml", 14, 26),
    ("PIN001", "pyproject.toml", 17, 35),
]
BUILD = [("PIN001", "pyproject.toml", 2, 14)]
VCS = [("PIN002", "pyproject.toml", 10, 12)]


def test_metadata_ranges_are_reported_without_a_lock_file(scan_tree):
    scan = scan_tree({"pyproject.toml": PROJECT}, options={"pins": {"ranges": "with-lock-file"}})
    assert scan.hits == sorted(BUILD + RANGES + VCS, key=lambda hit: hit[2:])


@pytest.mark.parametrize("lock", ["uv.lock", "poetry.lock", "pdm.lock", "pylock.toml", "pylock.gpu.toml", "Pipfile.lock"])
def test_a_lock_file_beside_accepts_metadata_ranges_but_not_build_ones(lock, scan_tree):
    scan = scan_tree(
        {"pyproject.toml": PROJECT, lock: "{}" if lock == "Pipfile.lock" else ""}, options={"pins": {"ranges": "with-lock-file"}}
    )
    assert (scan.hits, scan.errors) == (BUILD + VCS, [])


def test_a_lock_file_elsewhere_does_not_count(scan_tree):
    scan = scan_tree({"app/pyproject.toml": PROJECT, "other/uv.lock": ""}, options={"pins": {"ranges": "with-lock-file"}})
    assert scan.hits == [
        (rule, "app/pyproject.toml", line, column) for rule, _, line, column in sorted(BUILD + RANGES + VCS, key=lambda hit: hit[2:])
    ]


def test_policy_never_reports_ranges_even_beside_a_lock_file(scan_tree):
    scan = scan_tree({"pyproject.toml": PROJECT, "uv.lock": ""}, options={"pins": {"ranges": "never"}})
    assert scan.hits == sorted(BUILD + RANGES + VCS, key=lambda hit: hit[2:])


def test_policy_always_reports_only_moving_references(scan_tree):
    scan = scan_tree({"pyproject.toml": PROJECT}, options={"pins": {"ranges": "always"}})
    assert scan.hits == VCS


def test_strings_are_located_through_toml_syntax(scan_tree):
    text = (
        '# dependencies = ["not-this"]\n'
        "[project]\n"
        "name = 'x'  # ]\n"
        'description = """\n'
        'dependencies = ["still-not-this"]\n'
        '"""\n'
        "dependencies = ['a==1.0', \"b\", '''c>=1''',\n"
        '  "d\\u0020>=2",\n'
        "]\n"
    )
    scan = scan_tree({"pyproject.toml": text})
    assert scan.hits == [("PIN001", "pyproject.toml", 7, 28), ("PIN001", "pyproject.toml", 7, 35), ("PIN001", "pyproject.toml", 8, 4)]


def test_dotted_keys(scan_tree):
    scan = scan_tree({"pyproject.toml": 'project.name = "x"\nproject.dependencies = ["torch"]\n'})
    assert scan.hits == [("PIN001", "pyproject.toml", 2, 26)]


POETRY = f"""\
[tool.poetry.dependencies]
python = "^3.10"
requests = "^2.31"
exact = "1.2.3"
also-exact = "==1.2.3"
table = {{ version = ">=1", extras = ["x"] }}
pinned-table = {{ version = "2.0.0", source = "private" }}
"quoted.name" = "*"
branch = {{ git = "https://github.com/x/y.git", branch = "main" }}
tag = {{ git = "https://github.com/x/y.git", tag = "v1.0" }}
head = {{ git = "https://github.com/x/y.git" }}
commit = {{ git = "https://github.com/x/y.git", rev = "{SHA}" }}
archive = {{ url = "https://example.com/x-1.0.tar.gz" }}
local = {{ path = "../local", develop = true }}
markers = [
    {{ version = "1.0.0", python = "<3.11" }},
    {{ version = "^2", python = ">=3.11" }},
]

[tool.poetry.group.test.dependencies]
pytest = "~8"

[tool.poetry.dev-dependencies]
black = "23.1.0"
"""


def test_poetry_dependencies(scan_tree):
    scan = scan_tree({"pyproject.toml": POETRY})
    assert scan.hits == [
        ("PIN001", "pyproject.toml", 3, 1),
        ("PIN001", "pyproject.toml", 6, 1),
        ("PIN001", "pyproject.toml", 8, 2),
        ("PIN002", "pyproject.toml", 9, 1),
        ("PIN002", "pyproject.toml", 10, 1),
        ("PIN002", "pyproject.toml", 11, 1),
        ("PIN003", "pyproject.toml", 13, 1),
        ("PIN001", "pyproject.toml", 15, 1),
        ("PIN001", "pyproject.toml", 21, 1),
    ]
    assert scan.messages("PIN001")[0] == (
        "'requests' is constrained by '^2.31', which allows other versions; "
        "commit a lock file (uv lock, poetry lock or pdm lock) beside this pyproject.toml: its ranges are then accepted, "
        "and the lock file checked"
    )


def test_poetry_ranges_follow_the_policy_but_vcs_problems_stay(scan_tree):
    scan = scan_tree({"pyproject.toml": POETRY, "poetry.lock": ""})
    assert scan.hits == [
        ("PIN002", "pyproject.toml", 9, 1),
        ("PIN002", "pyproject.toml", 10, 1),
        ("PIN002", "pyproject.toml", 11, 1),
        ("PIN003", "pyproject.toml", 13, 1),
    ]


def poetry_sources(*sources: str) -> str:
    return "".join(f"[[tool.poetry.source]]\n{source}\n" for source in sources)


def test_poetry_sources(scan_tree):
    text = poetry_sources(
        'name = "mirror"\nurl = "https://mirror.example/simple"\npriority = "primary"',
        'name = "second"\nurl = "https://second.example/simple"',
        'name = "torch"\nurl = "http://torch.example/whl"\npriority = "explicit"',
        'name = "PyPI"\npriority = "supplemental"',
    )
    scan = scan_tree({"pyproject.toml": text})
    # The first primary source is the index; the second primary one is an extra; explicit ones are not.
    assert scan.hits == [("PIN004", "pyproject.toml", 7, 8), ("PIN005", "pyproject.toml", 10, 8)]


def test_a_supplemental_source_sits_beside_implicit_pypi(scan_tree):
    text = poetry_sources('name = "private"\nurl = "https://private.example/simple"\npriority = "supplemental"')
    assert scan_tree({"pyproject.toml": text}).hits == [("PIN004", "pyproject.toml", 3, 8)]
    legacy = poetry_sources('name = "private"\nurl = "https://private.example/simple"\nsecondary = true')
    assert scan_tree({"pyproject.toml": legacy}).hits == [("PIN004", "pyproject.toml", 3, 8)]


def test_one_primary_source_replaces_pypi(scan_tree):
    text = poetry_sources('name = "mirror"\nurl = "https://mirror.example/simple"')
    assert scan_tree({"pyproject.toml": text}).hits == []
    allowed = poetry_sources('name = "mirror"\nurl = "https://mirror.example/simple"', 'name = "b"\nurl = "https://ok.example/b"')
    assert scan_tree({"pyproject.toml": allowed}, options={"pins": {"allowed-indexes": ["https://ok.example/"]}}).hits == []


UV = f"""\
[project]
name = "x"
dependencies = ["gitdep", "local", "torch", "other"]

[tool.uv]
index-url = "http://mirror.example/simple"
extra-index-url = ["https://extra.example/simple"]
find-links = ["http://wheels.example/", "https://wheels.example/"]

[[tool.uv.index]]
name = "pytorch"
url = "https://download.pytorch.org/whl/cu121"

[[tool.uv.index]]
name = "explicit"
url = "https://download.pytorch.org/whl/cu118"
explicit = true

[[tool.uv.index]]
name = "main"
url = "http://main.example/simple"
default = true

[tool.uv.sources]
gitdep = {{ git = "https://github.com/x/gitdep", branch = "dev" }}
tagged = {{ git = "https://github.com/x/t", tag = "v1" }}
head = {{ git = "https://github.com/x/h" }}
short = {{ git = "https://github.com/x/s", rev = "abc123" }}
commit = {{ git = "https://github.com/x/c", rev = "{SHA}" }}
archive = {{ url = "https://example.com/a-1.0.tar.gz" }}
local = {{ path = "../local" }}
member = {{ workspace = true }}
torch = [{{ index = "pytorch", marker = "sys_platform == 'linux'" }}]
"""


def test_uv_indexes_and_sources(scan_tree):
    scan = scan_tree({"pyproject.toml": UV})
    assert scan.hits == [
        # `gitdep` and `local` are decided by their source; `torch` only by an index, so it is open.
        ("PIN001", "pyproject.toml", 3, 37),
        ("PIN001", "pyproject.toml", 3, 46),
        ("PIN005", "pyproject.toml", 6, 14),
        # uv's default `first-index` strategy: the extra indexes (lines 7 and 12) cannot answer for a name another has
        ("PIN005", "pyproject.toml", 8, 16),
        ("PIN005", "pyproject.toml", 21, 8),
        ("PIN002", "pyproject.toml", 25, 1),
        ("PIN002", "pyproject.toml", 26, 1),
        ("PIN002", "pyproject.toml", 27, 1),
        ("PIN002", "pyproject.toml", 28, 1),
        ("PIN003", "pyproject.toml", 30, 1),
    ]


def test_uv_extra_indexes_compete_under_an_unsafe_index_strategy(scan_tree):
    competing = UV.replace("[tool.uv]\n", '[tool.uv]\nindex-strategy = "unsafe-best-match"\n')
    hits = scan_tree({"pyproject.toml": competing}).hits
    assert [hit for hit in hits if hit[0] == "PIN004"] == [("PIN004", "pyproject.toml", 8, 21), ("PIN004", "pyproject.toml", 13, 8)]


def test_a_fixture_project_in_a_test_folder_keeps_its_ranges_as_metadata(scan_tree):
    fixture = '[project]\nname = "svc"\ndependencies = ["scikit-learn", "x @ git+https://github.com/acme/x@main"]\n'
    scan = scan_tree({"tests/monitoring/svc/pyproject.toml": fixture, "app/pyproject.toml": fixture}, select="pins")
    assert sorted(scan.hits) == [
        ("PIN001", "app/pyproject.toml", 3, 18),
        ("PIN002", "app/pyproject.toml", 3, 38),
        ("PIN002", "tests/monitoring/svc/pyproject.toml", 3, 38),
    ]


def test_a_pyproject_without_dependencies_is_clean(scan_tree):
    scan = scan_tree({"pyproject.toml": '[tool.ruff]\nline-length = 100\n[tool.hatch.envs.ci]\ndependencies = ["pytest"]\n'})
    assert (scan.hits, scan.errors) == ([], [])


def test_invalid_toml_is_an_error_entry(scan_tree):
    scan = scan_tree({"pyproject.toml": "[project\ndependencies = ['x'\n"})
    assert scan.hits == []
    assert scan.errors == [("pyproject.toml", "invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 9)")]


@pytest.mark.parametrize("policy", ["never", "with-lock-file", "always"])
def test_real_pyproject(policy, scan_tree):
    text = (CORPUS / "haotian-liu__LLaVA/pyproject.toml").read_text()
    scan = scan_tree({"pyproject.toml": text}, options={"pins": {"ranges": policy}})
    expected = [
        (2, 14),
        (17, 77),
        (18, 28),
        (18, 36),
        (19, 6),
        (19, 18),
        (19, 36),
        (21, 6),
        (21, 35),
        (21, 46),
        (26, 32),
        (26, 41),
        (27, 11),
        (27, 20),
    ]
    assert scan.hits == ([] if policy == "always" else [("PIN001", "pyproject.toml", line, column) for line, column in expected])


# --- ranges = "auto" (the default): the project says whether it is a library ---------------

LIBRARY = """\
[build-system]
requires = ["hatchling>=1.18"]

[project]
name = "My_Pkg"
dependencies = ["torch>=2.0"]

[project.optional-dependencies]
api = ["fastapi>=0.100"]
all = ["my-pkg[api]", "my.pkg[api] ; python_version > '3.9'"]

[dependency-groups]
dev = ["pytest>=8", "my_pkg[all]"]
"""


def test_a_published_library_keeps_its_ranges_dev_groups_too(scan_tree):
    # [project] name + build-system: dependencies, extras, build requirements and dependency groups
    # (dev, test) are its metadata; what its CI installs is checked where it installs it. The
    # extras of itself are no dependency. A moving VCS reference in a group is still reported.
    scan = scan_tree({"pyproject.toml": LIBRARY})
    assert scan.hits == []
    vcs = LIBRARY.replace('"pytest>=8"', '"pytest>=8", "tool @ git+https://github.com/x/tool@main"')
    assert scan_tree({"pyproject.toml": vcs}).hits == [("PIN002", "pyproject.toml", 13, 29)]


def test_a_library_under_policy_never_is_told_to_pin_exactly(scan_tree):
    scan = scan_tree({"pyproject.toml": LIBRARY}, options={"pins": {"ranges": "never"}})
    assert scan.messages("PIN001")[3] == (
        "'pytest' is not pinned to one version ('>=8' allows others): a new release, or a hijacked one, is installed without review; "
        "pin it exactly (==X.Y.Z): with ranges = 'never' a lock file does not make a range acceptable"
    )


def test_a_library_beside_a_lock_file_is_clean(scan_tree):
    assert scan_tree({"pyproject.toml": LIBRARY, "uv.lock": ""}).hits == []


@pytest.mark.parametrize(
    "marker",
    ["[tool.uv]\npackage = false\n", "[tool.pdm]\ndistribution = false\n", "[tool.poetry]\npackage-mode = false\n"],
)
def test_a_project_marked_as_application_is_checked(marker, scan_tree):
    scan = scan_tree({"pyproject.toml": LIBRARY + marker})
    assert scan.rule_lines == [
        ("PIN001", "pyproject.toml", 2),
        ("PIN001", "pyproject.toml", 6),
        ("PIN001", "pyproject.toml", 9),
        ("PIN001", "pyproject.toml", 13),
    ]
    assert scan.messages("PIN001")[0].endswith("build requirements are not pinned by a lock file: pin it exactly (==X.Y.Z)")
    assert scan.messages("PIN001")[1].endswith(
        "; commit a lock file (uv lock, poetry lock or pdm lock) beside this pyproject.toml: its ranges are then accepted, and the lock file checked"
    )


def test_a_project_without_build_system_or_not_uploaded_is_an_application(scan_tree):
    app = '[project]\nname = "svc"\ndependencies = ["torch>=2.0"]\n'
    private = LIBRARY.replace('name = "My_Pkg"', 'name = "My_Pkg"\nclassifiers = ["Private :: Do Not Upload"]')
    scan = scan_tree({"app/pyproject.toml": app, "private/pyproject.toml": private, "app2/pyproject.toml": app, "app2/uv.lock": ""})
    assert scan.rule_lines == [
        ("PIN001", "app/pyproject.toml", 3),
        ("PIN001", "private/pyproject.toml", 2),
        ("PIN001", "private/pyproject.toml", 7),
        ("PIN001", "private/pyproject.toml", 10),
        ("PIN001", "private/pyproject.toml", 14),
    ]


def test_explicit_policy_overrides_the_project(scan_tree):
    never = scan_tree({"pyproject.toml": LIBRARY}, options={"pins": {"ranges": "never"}})
    assert never.rule_lines == [
        ("PIN001", "pyproject.toml", 2),
        ("PIN001", "pyproject.toml", 6),
        ("PIN001", "pyproject.toml", 9),
        ("PIN001", "pyproject.toml", 13),
    ]
    always = scan_tree(
        {"pyproject.toml": '[project]\nname = "svc"\ndependencies = ["torch>=2.0"]\n'}, options={"pins": {"ranges": "always"}}
    )
    assert always.hits == []


def test_a_poetry_library_keeps_its_ranges_groups_too_an_application_does_not(scan_tree):
    text = (
        '[build-system]\nrequires = ["poetry-core"]\n\n[tool.poetry]\nname = "lib"\n\n'
        '[tool.poetry.dependencies]\npython = "^3.10"\nrequests = "^2.31"\nlib = {extras = ["x"], version = "*"}\n\n'
        '[tool.poetry.group.test.dependencies]\npytest = "~8"\n'
    )
    assert scan_tree({"lib/pyproject.toml": text}).hits == []
    application = text.replace('name = "lib"', 'name = "lib"\npackage-mode = false')
    assert scan_tree({"app/pyproject.toml": application}).rule_lines == [
        ("PIN001", "app/pyproject.toml", 2),  # poetry-core: what builds it
        ("PIN001", "app/pyproject.toml", 10),
        ("PIN001", "app/pyproject.toml", 14),
    ]


def test_a_self_reference_is_no_dependency_but_another_name_is(scan_tree):
    text = '[project]\nname = "mypkg"\n[project.optional-dependencies]\nall = ["mypkg[api]", "mypkg-extra[api]", "MyPkg"]\n'
    assert scan_tree({"pyproject.toml": text}).hits == [("PIN001", "pyproject.toml", 4, 23)]
