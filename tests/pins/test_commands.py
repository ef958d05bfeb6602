"""Install, fetch and clone commands (pins/commands.py), seen through a shell script."""

from __future__ import annotations

import pytest


def hits_of(scan_tree, script: str, options: dict | None = None):
    scan = scan_tree({"run.sh": script}, select="pins", options={"pins": options} if options else None)
    assert scan.errors == []
    return scan.hits


# --- PIN001: installers and their package arguments ------------------------------------------


def test_every_installer_is_recognised(scan_tree):
    script = (
        "python3 -m pip install -U torch\n"
        "sudo -H pip3 install transformers\n"
        'pip install "numpy>=2"\n'
        "pip install --upgrade pip\n"
        "uv pip install scipy\n"
        "uv add requests\n"
        "uv tool install ruff\n"
        "pipx install black\n"
        "poetry add flask@^2.0\n"
        "conda install -c conda-forge pandas=2.1\n"
        "micromamba create -n env python=3.11.4 polars\n"
        "python -m uv pip install tqdm\n"
        "conda run -n env pip install rich\n"
    )
    assert hits_of(scan_tree, script) == [
        ("PIN001", "run.sh", 1, 27),
        ("PIN001", "run.sh", 2, 22),
        ("PIN001", "run.sh", 3, 14),
        ("PIN001", "run.sh", 4, 23),
        ("PIN001", "run.sh", 5, 16),
        ("PIN001", "run.sh", 6, 8),
        ("PIN001", "run.sh", 7, 17),
        ("PIN001", "run.sh", 8, 14),
        ("PIN001", "run.sh", 9, 12),
        ("PIN001", "run.sh", 10, 30),
        ("PIN001", "run.sh", 11, 40),
        ("PIN001", "run.sh", 12, 26),
        ("PIN001", "run.sh", 13, 30),
    ]


def test_message_names_the_installer_and_package(scan_tree):
    scan = scan_tree({"run.sh": "python3 -m pip install -U torch\n"}, select="pins")
    assert scan.messages("PIN001") == [
        "python3 -m pip install: 'torch' has no version pin: a new release, or a hijacked one, is installed without review"
    ]


def test_exact_pins_local_paths_and_files_are_fine(scan_tree):
    script = (
        "pip install torch==2.1.0 'numpy==1.26.4'\n"
        "pip install -r requirements.txt -c constraints.txt\n"
        "pip install -e . && pip install '.[dev]' ./pkg dist/*.whl mypkg-1.0-py3-none-any.whl\n"
        "pip install --user -e detectron2_repo\n"
        "pip install --no-deps --cache-dir $CACHE --target out x==1\n"
        "uv tool install ruff@0.5.0\n"
        "pipx install black==24.1.0\n"
        "poetry add flask@2.0.1\n"
        "conda install -y numpy=1.26.4 scipy==1.11.0\n"
        "conda env create -f environment.yml\n"
        "pip download torch; pip uninstall -y torch; pip show torch\n"
        "echo pip install torch\n"
    )
    assert hits_of(scan_tree, script) == []


def test_variables_are_unresolvable_unless_a_range_is_written(scan_tree):
    script = 'pip install torch==${TORCH_VERSION} $PKGS "${EXTRA}" torch$SPEC\npip install "transformers>=${MIN}"\n'
    assert hits_of(scan_tree, script) == [("PIN001", "run.sh", 2, 14)]


def test_continuations_and_chains(scan_tree):
    script = "apt-get update && \\\n    pip install \\\n        torch==2.1.0 \\\n        numpy && echo ok\n"
    assert hits_of(scan_tree, script) == [("PIN001", "run.sh", 4, 9)]


def test_poetry_latest_and_conda_messages(scan_tree):
    scan = scan_tree({"run.sh": "poetry add flask@latest\nmamba install numpy\n"}, select="pins")
    assert scan.hits == [("PIN001", "run.sh", 1, 12), ("PIN001", "run.sh", 2, 15)]
    assert scan.messages("PIN001") == [
        "poetry add: 'flask' is added at its latest version, whatever that is at install time",
        "mamba install: conda package 'numpy' has no version pin",
    ]


def test_spec_option_replaces_the_operand(scan_tree):
    script = "uv tool install --from git+https://github.com/o/r@main ruff\npipx install --spec ruff==0.5.0 ruff\n"
    assert hits_of(scan_tree, script) == [("PIN002", "run.sh", 1, 24)]


# --- PIN002: VCS references and clones ----------------------------------------------------------


def test_vcs_installs_must_name_a_commit(scan_tree):
    sha = "0123456789abcdef0123456789abcdef01234567"
    script = (
        "pip install git+https://github.com/o/r@main\n"
        "pip install -U 'peft @ git+https://github.com/huggingface/peft'\n"
        "pip install -e git+https://github.com/o/r@v1#egg=r\n"
        f"pip install git+https://github.com/o/r@{sha}\n"
        "poetry add git+https://github.com/o/r.git#develop\n"
        f"poetry add git+https://github.com/o/r.git#{sha}\n"
    )
    assert hits_of(scan_tree, script) == [
        ("PIN002", "run.sh", 1, 13),
        ("PIN002", "run.sh", 2, 24),
        ("PIN002", "run.sh", 3, 16),
        ("PIN002", "run.sh", 5, 12),
    ]


def test_clone_without_checkout_of_a_commit(scan_tree):
    script = (
        "git clone --depth 1 https://github.com/o/a.git\ngit clone --branch v1.2 git@github.com:o/b.git b && cd b && git checkout v1.2\n"
    )
    scan = scan_tree({"run.sh": script}, select="pins")
    assert scan.hits == [("PIN002", "run.sh", 1, 21), ("PIN002", "run.sh", 2, 25)]
    assert scan.messages("PIN002")[1].startswith("git clone of git@github.com:o/b.git at 'v1.2', a branch or tag that can be moved")


def test_clone_then_checkout_of_a_commit_is_pinned(scan_tree):
    sha = "0123456789abcdef0123456789abcdef01234567"
    script = (
        "git clone https://github.com/o/a.git && cd a\n"
        f"git checkout {sha}\n"
        "git clone https://github.com/o/b.git b\n"
        f"git -C b reset --hard {sha}\n"
        f"git clone --revision={sha} https://github.com/o/c.git\n"
        "git clone https://github.com/o/d.git && git -C d checkout ${D_COMMIT}\n"
        "git clone ./local-copy other && git clone /srv/repo.git\n"
    )
    assert hits_of(scan_tree, script) == []


def test_checkout_before_the_clone_does_not_pin_it(scan_tree):
    sha = "0123456789abcdef0123456789abcdef01234567"
    script = f"git checkout {sha}\ngit clone https://github.com/o/a.git\n"
    assert hits_of(scan_tree, script) == [("PIN002", "run.sh", 2, 11)]


# --- PIN003: archives and requirement files by URL ----------------------------------------------


def test_urls_need_a_hash(scan_tree):
    digest = "a" * 64
    script = (
        "pip install https://example.com/pkg-1.0-py3-none-any.whl\n"
        "pip install -r https://example.com/requirements.txt\n"
        f"pip install https://example.com/pkg-1.0.tar.gz#sha256={digest}\n"
        "conda install https://example.com/pkg-1.0.conda\n"
    )
    assert hits_of(scan_tree, script) == [
        ("PIN003", "run.sh", 1, 13),
        ("PIN003", "run.sh", 2, 16),
        ("PIN003", "run.sh", 4, 15),
    ]


# --- PIN004 / PIN005: indexes ---------------------------------------------------------------------


def test_index_options(scan_tree):
    script = (
        "pip install x==1 --extra-index-url https://download.pytorch.org/whl/cu121\n"
        'uv pip install x==1 --extra-index-url="${TORCH_URL}" --index-strategy unsafe-best-match\n'
        "pip install -i http://mirror.local/simple x==1\n"
        "pip install --trusted-host mirror.local x==1\n"
        "pip install --index-url https://mirror.example/simple x==1 -f https://download.pytorch.org/whl/torch_stable.html\n"
        "pip install -f http://links.example/ x==1\n"
        "conda install -c http://conda.example/channel numpy=1.26.4\n"
        "uv add x==1 --index pytorch=https://download.pytorch.org/whl/cpu\n"
    )
    assert hits_of(scan_tree, script) == [
        ("PIN004", "run.sh", 1, 18),
        ("PIN004", "run.sh", 2, 21),
        ("PIN005", "run.sh", 3, 13),
        ("PIN005", "run.sh", 4, 13),
        ("PIN005", "run.sh", 6, 13),
        ("PIN005", "run.sh", 7, 18),
        # line 8: uv searches first-index by default (an extra index cannot answer for PyPI's names)
    ]


def test_uv_extra_indexes_are_a_door_only_with_an_unsafe_index_strategy(scan_tree):
    script = (
        "uv pip install x==1 --extra-index-url https://download.pytorch.org/whl/cpu\n"
        "UV_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu uv pip install x==1\n"
        "export UV_INDEX_STRATEGY=unsafe-best-match\n"
        "uv pip install x==1 --index-strategy unsafe-first-match --extra-index-url https://download.pytorch.org/whl/cpu\n"
        "pip install x==1 --extra-index-url https://download.pytorch.org/whl/cpu\n"
    )
    assert hits_of(scan_tree, script) == [("PIN004", "run.sh", 3, 8), ("PIN004", "run.sh", 4, 57), ("PIN004", "run.sh", 5, 18)]


def test_allowed_indexes_are_accepted(scan_tree):
    script = "pip install x==1 --extra-index-url https://download.pytorch.org/whl/cu121\n"
    assert hits_of(scan_tree, script, {"allowed-indexes": ["https://download.pytorch.org/"]}) == []


def test_environment_settings_open_indexes(scan_tree):
    script = (
        "export PIP_EXTRA_INDEX_URL=https://pypi.example/simple\n"
        "PIP_INDEX_URL=http://mirror.local/simple pip install x==1\n"
        "PIP_TRUSTED_HOST=mirror.local\n"
        'echo "PIP_EXTRA_INDEX_URL=https://other.example" >> "$GITHUB_ENV"\n'
        "pip config set global.extra-index-url https://pypi.example/simple\n"
        "export PIP_INDEX_URL=https://mirror.example/simple PIP_EXTRA_INDEX_URL=\n"
        "echo PIP_EXTRA_INDEX_URL=https://nowhere.example\n"
    )
    assert hits_of(scan_tree, script) == [
        ("PIN004", "run.sh", 1, 8),
        ("PIN005", "run.sh", 2, 1),
        ("PIN005", "run.sh", 3, 1),
        ("PIN004", "run.sh", 4, 7),
        ("PIN004", "run.sh", 5, 16),
    ]


def test_the_index_named_again_as_an_extra_index_is_one_source(scan_tree):
    # LLaMA-Factory's Dockerfiles: `pip config set global.index-url "${PIP_INDEX}" && pip config set
    # global.extra-index-url "${PIP_INDEX}"`; the same for one install's options. Another URL still counts.
    script = (
        'pip config set global.index-url "${PIP_INDEX}"\n'
        'pip config set global.extra-index-url "${PIP_INDEX}"\n'
        "pip install -i https://mirror.example/simple --extra-index-url https://mirror.example/simple/ x==1\n"
        "pip install -i https://mirror.example/simple --extra-index-url https://pypi.org/simple y==1\n"
    )
    assert hits_of(scan_tree, script) == [("PIN004", "run.sh", 4, 46)]


# --- PIN011: downloads that run ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("curl -fsSL https://get.example/install.sh | sudo -E bash -", 1),
        ("wget -qO- https://get.example/install.sh | sh", 1),
        ("curl -LsSf https://astral.sh/uv/install.sh | sh -s -- -y", 1),
        ("curl -s https://get.example/x.py | python3 -", 1),
        ("bash <(curl -s https://get.example/install.sh)", 8),
        ('sh -c "$(curl -fsSL https://get.example/install.sh)"', 10),
        ('eval "$(wget -qO- https://get.example/env)"', 9),
        ("sudo bash -c 'curl -fsSL https://get.example/i.sh | bash'", 15),
        ("wget https://bootstrap.pypa.io/get-pip.py && python3 get-pip.py", 1),
        ("curl -o /tmp/m.sh https://repo.example/m.sh && bash /tmp/m.sh -b", 1),
        ("curl -LO https://dot.example/install.sh && chmod +x install.sh && ./install.sh", 1),
        ("python -m wget https://raw.example/main/x.py && python x.py", 1),
    ],
)
def test_downloaded_scripts_that_run(scan_tree, line, column):
    assert hits_of(scan_tree, line + "\n") == [("PIN011", "run.sh", 1, column)]


@pytest.mark.parametrize(
    "line",
    [
        "curl -s https://api.example/v1 | python3 -c 'import json, sys; print(json.load(sys.stdin))'",
        "curl -fsSL https://example.com/a.tar.gz | tar xz",
        "curl -fsSL https://example.com/key.gpg | sudo gpg --dearmor -o /usr/share/keyrings/k.gpg",
        "curl -o m.sh https://repo.example/m.sh && sha256sum -c m.sh.sha256 && bash m.sh",
        "wget https://example.com/data.zip && unzip data.zip",
        "bash install.sh",
        "wget -O - https://example.com/a.tgz | tar xzf - && bash a/install.sh",
    ],
)
def test_downloads_that_do_not_run_unchecked(scan_tree, line):
    assert hits_of(scan_tree, line + "\n") == []


def test_pipe_message(scan_tree):
    scan = scan_tree({"run.sh": "curl -fsSL https://x.example/i.sh | sudo -E bash -\n"}, select="pins")
    assert scan.messages("PIN011") == ["curl output is piped into bash: the downloaded script runs without any check of what it is"]


def test_nested_shell_strings_and_heredocs(scan_tree):
    script = "sudo sh -c 'pip install torch'\nbash <<EOF\npip install numpy\nEOF\ncat <<EOF > notes.txt\npip install scipy\nEOF\n"
    assert hits_of(scan_tree, script) == [("PIN001", "run.sh", 1, 25), ("PIN001", "run.sh", 3, 13)]
