"""pip requirements files: pins, VCS and URL references, indexes, hashes, includes."""

from __future__ import annotations

import pytest

from realcorpus import CORPUS

SHA = "0123456789abcdef0123456789abcdef01234567"
DIGEST = "a" * 64


def test_exact_pins_pass(scan_tree):
    scan = scan_tree({"requirements.txt": "torch==2.1.0\nnumpy===1.26.4\ntorch==2.1.0+cu118\nrequests == 2.31.0\n"})
    assert (scan.hits, scan.errors) == ([], [])


def test_bare_names_and_ranges_are_unpinned(scan_tree):
    text = "torch\nnumpy>=1.26\nscipy~=1.11\npandas==2.*\nrich!=13.0\nclick<9\n  tqdm>4,<5\nfoo[extra]>=1\n"
    scan = scan_tree({"requirements.txt": text})
    assert scan.hits == [("PIN001", "requirements.txt", n, 1) for n in range(1, 7)] + [
        ("PIN001", "requirements.txt", 7, 3),
        ("PIN001", "requirements.txt", 8, 1),
    ]
    assert (
        scan.messages("PIN001")[1]
        == "'numpy' is not pinned to one version ('>=1.26' allows others): a new release, or a hijacked one, is installed without review"
    )


def test_environment_markers(scan_tree):
    text = 'numpy==1.26.4; python_version < "3.12"\npandas ; sys_platform == "linux"\ntriton==3.0.0; platform_system != "Windows"\n'
    scan = scan_tree({"requirements.txt": text})
    assert scan.hits == [("PIN001", "requirements.txt", 2, 1)]


def test_comments_are_dropped_the_way_pip_drops_them(scan_tree):
    text = "# torch\n  # numpy\ntorch==2.1.0  # was torch>=2\nscipy # no pin\n\n"
    scan = scan_tree({"requirements.txt": text})
    assert scan.hits == [("PIN001", "requirements.txt", 4, 1)]


def test_continuation_lines_join_and_keep_positions(scan_tree):
    text = (
        "torch==2.1.0 \\\n    --hash=sha256:aaaa \\\n    --hash=sha256:bbbb\n"
        "numpy\\\n>=1.0 --hash=sha256:cccc\n"
        "-e \\\n  git+https://github.com/x/y@main#egg=y\n"
    )
    scan = scan_tree({"requirements.txt": text})
    assert scan.hits == [("PIN001", "requirements.txt", 4, 1), ("PIN002", "requirements.txt", 7, 3)]


def test_a_comment_line_ends_a_continuation(scan_tree):
    scan = scan_tree({"requirements.txt": "torch==2.1.0 \\\n# note\nscipy\n"})
    assert scan.hits == [("PIN001", "requirements.txt", 3, 1)]


def test_windows_line_endings(scan_tree):
    scan = scan_tree({"requirements.txt": b"torch\r\nnumpy==1.26.4\r\nscipy\\\r\n>=1\r\n-e git+https://github.com/x/y@v1#egg=y\r\n"})
    assert scan.hits == [
        ("PIN001", "requirements.txt", 1, 1),
        ("PIN001", "requirements.txt", 3, 1),
        ("PIN002", "requirements.txt", 5, 4),
    ]


def test_vcs_references_must_name_a_full_commit(scan_tree):
    text = (
        "git+https://github.com/x/a.git@v1.0#egg=a\n"
        "git+https://github.com/x/b.git\n"
        f"git+https://github.com/x/c.git@{SHA}#egg=c\n"
        "d @ git+https://github.com/x/d.git@main\n"
        f"e @ git+https://github.com/x/e.git@{SHA}\n"
        "-e git+ssh://git@github.com/x/f.git@develop#egg=f\n"
    )
    scan = scan_tree({"requirements.txt": text})
    assert scan.hits == [
        ("PIN002", "requirements.txt", 1, 1),
        ("PIN002", "requirements.txt", 2, 1),
        ("PIN002", "requirements.txt", 4, 5),
        ("PIN002", "requirements.txt", 6, 4),
    ]


def test_url_archives_need_a_hash(scan_tree):
    text = (
        "https://example.com/pkg-1.0-py3-none-any.whl\n"
        f"https://example.com/ok-1.0-py3-none-any.whl#sha256={DIGEST}\n"
        "named @ https://example.com/named-1.0.tar.gz ; python_version > '3.8'\n"
    )
    scan = scan_tree({"requirements.txt": text})
    assert scan.hits == [("PIN003", "requirements.txt", 1, 1), ("PIN003", "requirements.txt", 3, 9)]


def test_url_with_hash_option_is_verified(scan_tree):
    scan = scan_tree({"requirements.txt": "https://example.com/pkg-1.0.whl --hash=sha256:abcd\n"})
    assert scan.hits == []


def test_local_paths_and_editables_are_the_project(scan_tree):
    text = "-e .\n-e ./pkg[dev]\n--editable=libs/core\n.[dev]\n./wheels/x-1.0-py3-none-any.whl\nvendor/x.tar.gz\nfile:./local\n"
    scan = scan_tree({"requirements.txt": text})
    assert (scan.hits, scan.errors) == ([], [])


def test_extra_index_is_pin004_unless_allowed(scan_tree):
    text = "--extra-index-url https://download.pytorch.org/whl/cu118\n--extra-index=https://evil.example/simple\ntorch==2.1.0\n"
    scan = scan_tree({"requirements.txt": text})
    assert scan.hits == [("PIN004", "requirements.txt", 1, 19), ("PIN004", "requirements.txt", 2, 15)]
    allowed = scan_tree({"requirements.txt": text}, options={"pins": {"allowed-indexes": ["https://download.pytorch.org/"]}})
    assert allowed.hits == [("PIN004", "requirements.txt", 2, 15)]


def test_plain_http_indexes_and_trusted_hosts_are_pin005(scan_tree):
    text = (
        "-i http://mirror.example/simple\n"
        "--index-url https://pypi.org/simple\n"
        "--extra-index-url http://extra.example/simple\n"
        "--trusted-host mirror.example\n"
        "-f http://wheels.example/\n"
        "--find-links https://wheels.example/\n"
        "-f ./wheels\n"
    )
    scan = scan_tree({"requirements.txt": text})
    assert scan.hits == [
        ("PIN005", "requirements.txt", 1, 4),
        ("PIN004", "requirements.txt", 3, 19),
        ("PIN005", "requirements.txt", 3, 19),
        ("PIN005", "requirements.txt", 4, 16),
        ("PIN005", "requirements.txt", 5, 4),
    ]


def test_other_global_options_are_read_quietly(scan_tree):
    text = "--pre\n--prefer-binary\n--no-binary :all:\n--only-binary=torch\n--require-hashes\n--no-index\n--use-feature=truststore\ntorch==2.1.0\n"
    scan = scan_tree({"requirements.txt": text})
    assert (scan.hits, scan.errors) == ([], [])


def test_hashes_are_all_or_nothing_in_a_file(scan_tree):
    text = f"torch==2.1.0 --hash=sha256:aaaa\nnumpy==1.26.4\n-e .\ngit+https://github.com/x/y@{SHA}\nscipy>=1 --hash=sha256:bbbb\n"
    scan = scan_tree({"requirements.txt": text, "other-requirements.txt": "rich==13.0.0\n"})
    assert scan.hits == [("PIN006", "requirements.txt", 2, 1), ("PIN001", "requirements.txt", 5, 1)]


def test_a_fully_hashed_file_is_clean(scan_tree):
    scan = scan_tree({"requirements.txt": "torch==2.1.0 --hash=sha256:aa --hash=sha256:bb\nnumpy==1.26.4 \\\n    --hash=sha256:cc\n"})
    assert scan.hits == []


def test_require_hashes_option_reports_exact_pins_without_hash(scan_tree):
    files = {"requirements.txt": "torch==2.1.0\nnumpy>=1\n", "hashed-requirements.txt": "rich==13.0.0 --hash=sha256:aa\nclick==8.0.0\n"}
    scan = scan_tree(files, options={"pins": {"require-hashes": True}})
    assert scan.hits == [
        ("PIN006", "hashed-requirements.txt", 2, 1),
        ("PIN007", "requirements.txt", 1, 1),
        ("PIN001", "requirements.txt", 2, 1),
    ]
    assert scan_tree(files).rule_lines == [("PIN006", "hashed-requirements.txt", 2), ("PIN001", "requirements.txt", 2)]


def test_includes_are_followed_and_report_under_their_own_path(scan_tree):
    files = {
        "requirements.txt": "-r base.txt\n--requirement=sub/more.txt\ntorch==2.1.0\n",
        "base.txt": "numpy\n",
        "sub/more.txt": "-r ../base.txt\nscipy>=1\n",
    }
    scan = scan_tree(files)
    assert (scan.hits, scan.errors) == ([("PIN001", "base.txt", 1, 1), ("PIN001", "sub/more.txt", 2, 1)], [])


def test_include_cycles_end(scan_tree):
    files = {"a-requirements.txt": "-r b-requirements.txt\ntorch\n", "b-requirements.txt": "-r a-requirements.txt\nnumpy\n"}
    scan = scan_tree(files)
    assert (scan.hits, scan.errors) == ([("PIN001", "a-requirements.txt", 2, 1), ("PIN001", "b-requirements.txt", 2, 1)], [])


def test_a_missing_include_is_skipped_and_the_rest_is_still_reported(scan_tree):
    # pip refuses a file whose include is missing, so nothing moving gets in through it.
    scan = scan_tree({"requirements.txt": "torch\n-r missing.txt\n", "dev-requirements.txt": "-r requirements.txt\n"})
    assert (scan.hits, scan.errors) == ([("PIN001", "requirements.txt", 1, 1)], [])


def test_a_binary_include_is_an_error(scan_tree):
    scan = scan_tree({"requirements.txt": "-c blob.txt\n", "blob.txt": b"\x00\x01\x02"})
    assert scan.errors == [("requirements.txt", "line 1: -c blob.txt: binary content where a text file was expected; not scanned")]


def test_an_include_from_a_url_is_pin003(scan_tree):
    scan = scan_tree({"requirements.txt": "-r https://example.com/reqs.txt\n-c http://example.com/c.txt\n"})
    assert scan.hits == [("PIN003", "requirements.txt", 1, 4), ("PIN003", "requirements.txt", 2, 4)]


def test_constraints_pin_what_the_file_leaves_open(scan_tree):
    files = {
        "requirements.txt": "-c constraints.txt\ntorch\nnumpy\n-r extra.txt\n",
        "extra.txt": "Scipy\n",
        "constraints.txt": "torch==2.1.0\nnumpy>=1.26\nscipy==1.11.4\n",
    }
    scan = scan_tree(files)
    # A constraints file's own ranges install nothing; the requirement they leave open is reported.
    assert (scan.hits, scan.errors) == ([("PIN001", "requirements.txt", 3, 1)], [])


def test_constraints_files_still_report_moving_references(scan_tree):
    scan = scan_tree({"constraints.txt": "torch>=2\ngit+https://github.com/x/y@main\n--trusted-host x.example\n"})
    assert scan.hits == [("PIN002", "constraints.txt", 2, 1), ("PIN005", "constraints.txt", 3, 16)]


# pip-compile / uv inputs: ranges by design, the generated lock beside them is what gets installed.
PIP_COMPILE_LOCK = """\
#
# This file is autogenerated by pip-compile with Python 3.12
# by the following command:
#
#    Use the "Run workflow" button at https://github.com/acme/hub/actions/workflows/watch-dependencies.yaml
#
jupyterhub==5.5.0
    # via -r unfrozen/requirements.txt
jupyterhub-kubespawner==7.0.0
    # via
    #   -r unfrozen/requirements.txt
    #   jupyterhub
git+https://github.com/acme/auth@main
    # via -r unfrozen/requirements.txt
"""
UNFROZEN = "# the input of requirements.txt\njupyterhub==5.5.0\njupyterhub-kubespawner==7.*\npycurl\n"


def test_a_compile_input_named_by_its_lock_is_not_pin001(scan_tree):
    # CUSTOM_COMPILE_COMMAND replaced the header's command: the `via -r` annotations name the input.
    files = {"images/hub/requirements.txt": PIP_COMPILE_LOCK, "images/hub/unfrozen/requirements.txt": UNFROZEN}
    scan = scan_tree(files, select="pins")
    # The lock itself is still checked.
    assert (scan.hits, scan.errors) == ([("PIN002", "images/hub/requirements.txt", 13, 1)], [])


def test_without_the_lock_the_same_file_is_pin001(scan_tree):
    scan = scan_tree({"images/hub/unfrozen/requirements.txt": UNFROZEN}, select="pins")
    assert scan.hits == [("PIN001", "images/hub/unfrozen/requirements.txt", 3, 1), ("PIN001", "images/hub/unfrozen/requirements.txt", 4, 1)]


def test_a_lock_names_only_its_own_inputs(scan_tree):
    # A hand-written `# via -r` comment is no lock header; a lock names unfrozen/, not its siblings.
    files = {
        "images/hub/requirements.txt": PIP_COMPILE_LOCK,
        "images/hub/unfrozen/requirements.txt": UNFROZEN,
        "images/hub/dev-requirements.txt": "pytest>=8\n",
        "images/other/requirements.txt": "# via -r unfrozen/requirements.txt\nnumpy==1.26.4\n",
        "images/other/unfrozen/requirements.txt": "rich\n",
    }
    scan = scan_tree(files, select="PIN001")
    assert scan.hits == [("PIN001", "images/hub/dev-requirements.txt", 1, 1), ("PIN001", "images/other/unfrozen/requirements.txt", 1, 1)]


@pytest.mark.parametrize(
    "header",
    [
        "# This file was autogenerated by uv via the following command:\n#    uv pip compile requirements/direct.txt -o requirements/lock.txt\n",
        "#\n# This file is autogenerated by pip-compile\n# To update, run:\n#\n#    pip-compile --output-file requirements/lock.txt requirements/direct.txt\n#\n",
        "# This file is autogenerated by pip-compile with Python 3.11\n# by the following command:\n#\n#    pip-compile --output-file=lock.txt direct.txt\n",
    ],
)
def test_a_compile_input_named_in_the_header_command(header, scan_tree):
    # Run from the repository root or from the lock's folder: both readings are tried.
    files = {
        "requirements/lock.txt": header + "torch==2.1.0\n",
        "requirements/direct.txt": "torch>=2\n",
        "requirements/dev.txt": "pytest\n",
    }
    assert scan_tree(files, select="pins").hits == [("PIN001", "requirements/dev.txt", 1, 1)]


def test_the_output_of_a_compile_command_is_no_input(scan_tree):
    # `-o requirements-dev.txt` names where the command writes, not what it reads.
    header = "# This file is autogenerated by pip-compile\n#    pip-compile -o requirements-dev.txt requirements-base.txt\n"
    files = {"requirements.txt": header + "torch==2.1.0\n", "requirements-base.txt": "torch>=2\n", "requirements-dev.txt": "pytest\n"}
    assert scan_tree(files, select="PIN001").hits == [("PIN001", "requirements-dev.txt", 1, 1)]


def test_in_files_are_compile_inputs(scan_tree):
    # Ranges and missing hashes are the lock's to fix; a moving VCS reference or an index still counts.
    text = "torch>=2\nnumpy==1.26.4\ngit+https://github.com/x/y@main\n--extra-index-url https://mirror.example/simple\n"
    scan = scan_tree(
        {"requirements.in": text, "requirements/dev.in": "-r ../requirements.in\npytest\n"}, options={"pins": {"require-hashes": True}}
    )
    assert scan.hits == [("PIN002", "requirements.in", 3, 1), ("PIN004", "requirements.in", 4, 19)]


def test_an_in_file_installed_through_a_requirements_file_is_reported(scan_tree):
    # pip installs what `-r requirements.in` names: the include is no compile input there.
    scan = scan_tree({"requirements.in": "torch>=2\n", "requirements-dev.txt": "-r requirements.in\n"}, select="PIN001")
    assert scan.hits == [("PIN001", "requirements.in", 1, 1)]


@pytest.mark.parametrize(
    "name",
    [
        "requirements.txt",
        "requirements-dev.txt",
        "dev-requirements.txt",
        "requirements_flax.txt",
        "requirements.in",
        "requirements-dev.in",
        "constraints.txt",
        "requirements/base.txt",
        "requirements/gpu/cuda.txt",
        "reqs/test.txt",
        "requirements/base.in",
        "deps/gpu.pip",
    ],
)
def test_requirements_files_of_any_name(name, scan_tree):
    assert scan_tree({name: "git+https://github.com/x/y@main\n"}).hits == [("PIN002", name, 1, 1)]


@pytest.mark.parametrize("name", ["notes.txt", "MANIFEST.in", "docs/index.txt", "requirements.md"])
def test_other_text_files_are_not_requirements(name, scan_tree):
    assert scan_tree({name: "git+https://github.com/x/y@main\n"}).hits == []


def test_prose_in_a_requirements_folder_is_ignored(scan_tree):
    scan = scan_tree({"requirements/README.txt": "These files list what each job installs.\nUse pip install -r base.txt\n"})
    assert (scan.hits, scan.errors) == ([], [])


def test_real_file_with_an_extra_index(scan_tree):
    text = (CORPUS / "huggingface__diffusers/examples/cosmos/requirements.txt").read_text()
    scan = scan_tree({"requirements.txt": text})
    assert scan.hits == [("PIN004", "requirements.txt", 1, 19)] + [("PIN001", "requirements.txt", n, 1) for n in range(2, 16)]


def test_real_file_with_an_editable_vcs_checkout(scan_tree):
    text = (CORPUS / "pytorch__examples/docs/requirements.txt").read_text()
    scan = scan_tree({"docs/requirements.txt": text, "requirements.txt": text})
    # in a docs folder only its range is not reported (see the PIN001 page); the VCS branch still is
    assert scan.hits == [
        ("PIN002", "docs/requirements.txt", 4, 4),
        ("PIN002", "requirements.txt", 4, 4),
        ("PIN001", "requirements.txt", 5, 1),
    ]


def test_ranges_in_a_docs_or_example_environment_are_a_readers_starting_point(scan_tree):
    conda = "dependencies:\n  - numpy>=1.0\n  - pip:\n    - torch>=2\n    - git+https://github.com/acme/x@main\n"
    files = {
        "examples/env.yaml": conda,
        "env.yaml": conda,
        "examples/app/requirements.txt": "numpy>=1\n--extra-index-url https://x.example/simple\n",
    }
    scan = scan_tree(files, select="pins")
    assert sorted(scan.hits) == [
        ("PIN001", "env.yaml", 2, 5),
        ("PIN001", "env.yaml", 4, 7),
        ("PIN002", "env.yaml", 5, 7),
        ("PIN002", "examples/env.yaml", 5, 7),
        ("PIN004", "examples/app/requirements.txt", 2, 19),
    ]


def test_real_file_with_an_include(scan_tree):
    vllm = CORPUS / "vllm-project__vllm/requirements"
    files = {"requirements/cuda.txt": (vllm / "cuda.txt").read_text(), "requirements/common.txt": (vllm / "common.txt").read_text()}
    scan = scan_tree(files, paths=["requirements/cuda.txt"])
    assert [hit for hit in scan.hits if hit[1] == "requirements/cuda.txt"] == [
        ("PIN001", "requirements/cuda.txt", 7, 1),
        ("PIN001", "requirements/cuda.txt", 15, 1),
    ]
    # common.txt is read through `-r common.txt`: its exact pins (lines 21, 23, 25-27, 40, 41) pass.
    unpinned = [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        10,
        11,
        12,
        13,
        14,
        15,
        16,
        17,
        18,
        19,
        20,
        22,
        28,
        29,
        30,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        38,
        39,
        42,
        43,
        44,
        45,
        46,
        47,
        48,
        49,
        50,
        51,
        52,
        53,
        54,
        55,
    ]
    assert [hit for hit in scan.hits if hit[1] == "requirements/common.txt"] == [
        ("PIN001", "requirements/common.txt", n, 1) for n in unpinned
    ]
