"""A requirements file that a library's own metadata reads (setup.py, setuptools' dynamic
dependencies) is that library's dependency metadata: its ranges follow the `ranges` option as a
pyproject's do; a requirements file nothing reads is an install and is checked."""

from __future__ import annotations

REQUIREMENTS = "accelerate\ntorch>=2.1\ndeepspeed==0.19.5\nx @ git+https://github.com/acme/x@main\n"
SETUP = (
    'def fetch(path):\n    return open(path).read().splitlines()\n\nsetup(name="openrlhf", install_requires=fetch("requirements.txt"))\n'
)


def test_a_requirements_file_setup_py_reads_keeps_its_ranges(scan_tree):
    scan = scan_tree({"setup.py": SETUP, "requirements.txt": REQUIREMENTS, "requirements-dev.txt": "pytest\n"}, select="pins")
    assert scan.hits == [
        ("PIN001", "requirements-dev.txt", 1, 1),  # not read by the metadata: what a developer installs
        ("PIN002", "requirements.txt", 4, 5),  # a branch is not a range: still reported
    ]


def test_setup_py_above_names_the_file_by_its_path(scan_tree):
    setup = 'setup(name="pkg", install_requires=open("requirements/base.txt").read().split())\n'
    scan = scan_tree({"setup.py": setup, "requirements/base.txt": "numpy\n", "requirements/docs.txt": "sphinx\n"}, select="pins")
    assert scan.hits == [("PIN001", "requirements/docs.txt", 1, 1)]


def test_setup_py_names_the_folder_and_the_file_apart(scan_tree):
    """aibrix's kvcache package: `requirements_dir = ROOT_DIR / "requirements"`, then `_read("core.txt")`."""
    setup = 'ROOT = Path(__file__).parent\nreqs = ROOT / "requirements"\nsetup(install_requires=_read(reqs / "core.txt"))\n'
    files = {
        "setup.py": setup,
        "requirements/core.txt": "numpy>=1\n",
        "requirements/dev.txt": "pytest\n",
        "other/requirements/core.txt": "six\n",
    }
    assert scan_tree(files, select="pins").hits == [
        ("PIN001", "other/requirements/core.txt", 1, 1),
        ("PIN001", "requirements/dev.txt", 1, 1),
    ]


def test_setup_py_lists_the_folder_it_names(scan_tree):
    """pytorch-lightning: `glob.glob(os.path.join(_PATH_ROOT, "requirements", "*", "*.txt"))`."""
    setup = 'import glob, os\nreq_files = glob.glob(os.path.join(ROOT, "requirements", "*", "*.txt"))\nsetup(name="pkg")\n'
    files = {
        "setup.py": setup,
        "requirements/pytorch/base.txt": "torch >=2.1.0, <2.10.0\n",
        "requirements/ci.txt": "wheel\n",  # the listed folder's own files: what CI installs
        "ci/requirements.txt": "numpy\n",  # a folder setup.py does not name
    }
    assert scan_tree(files, select="pins").hits == [("PIN001", "ci/requirements.txt", 1, 1), ("PIN001", "requirements/ci.txt", 1, 1)]
    # naming the folder without listing it reads nothing there by itself
    files["setup.py"] = 'REQS = os.path.join(ROOT, "requirements")\nsetup(name="pkg")\n'
    assert scan_tree(files, select="pins").hits == [
        ("PIN001", "ci/requirements.txt", 1, 1),
        ("PIN001", "requirements/ci.txt", 1, 1),
        ("PIN001", "requirements/pytorch/base.txt", 1, 1),
    ]


def test_a_file_the_metadata_file_includes_is_metadata_too(scan_tree):
    """ms-swift: setup.py reads `requirements.txt`, which is `-r requirements/framework.txt` (its
    parser follows the include); a file nothing the metadata reads includes stays an install."""
    setup = (
        'install_requires, links = parse_requirements("requirements.txt")\n'
        'extras = {"eval": parse_requirements("requirements/eval.txt")}\n'
        'setup(name="ms-swift", install_requires=install_requires, extras_require=extras)\n'
    )
    files = {
        "setup.py": setup,
        "requirements.txt": "-r requirements/framework.txt\n",
        "requirements/framework.txt": "accelerate\ndatasets>=3.0,<4.8.5\n",
        "requirements/eval.txt": "evalscope\\\n  >=1.0 \\\n  --requirement=judges.txt\n",  # read as pip reads it
        "requirements/judges.txt": "openai\n",
        "requirements/docs.txt": "sphinx\n",
        "requirements/ci.txt": "-r docs.txt\npytest\n",
    }
    assert scan_tree(files, select="pins").hits == [
        ("PIN001", "requirements/ci.txt", 2, 1),
        ("PIN001", "requirements/docs.txt", 1, 1),
    ]


def test_setuptools_dynamic_dependencies_name_the_file(scan_tree):
    pyproject = (
        '[build-system]\nrequires = ["setuptools"]\n[project]\nname = "pkg"\ndynamic = ["dependencies", "optional-dependencies"]\n'
        '[tool.setuptools.dynamic]\ndependencies = {file = ["requirements.txt"]}\n'
        'optional-dependencies.gpu = {file = ["./requirements-gpu.txt"]}\n'
    )
    files = {"pyproject.toml": pyproject, "requirements.txt": "numpy\n", "requirements-gpu.txt": "cupy\n", "requirements-ci.txt": "ruff\n"}
    assert scan_tree(files, select="pins").hits == [("PIN001", "requirements-ci.txt", 1, 1)]


def test_ranges_never_reports_them_as_for_any_metadata(scan_tree):
    scan = scan_tree({"setup.py": SETUP, "requirements.txt": "numpy\n"}, select="pins", options={"pins": {"ranges": "never"}})
    assert scan.hits == [("PIN001", "requirements.txt", 1, 1)]


def test_an_included_metadata_file_keeps_its_ranges(scan_tree):
    """modelscope: `requirements/audio.txt` (read by nothing) includes `-r audio/tts.txt`, an extra's file."""
    pyproject = (
        '[build-system]\nrequires = ["setuptools"]\n[project]\nname = "pkg"\ndynamic = ["optional-dependencies"]\n'
        '[tool.setuptools.dynamic.optional-dependencies]\ntts = {file = ["requirements/audio/tts.txt"]}\n'
    )
    files = {
        "pyproject.toml": pyproject,
        "requirements/audio.txt": "-r audio/tts.txt\nlibrosa\n",
        "requirements/audio/tts.txt": "scipy>=1.10\n",
    }
    assert scan_tree(files, select="pins").hits == [("PIN001", "requirements/audio.txt", 2, 1)]
