"""The project's identity (mlgate.identity): read from git, the Action's environment and metadata, never run."""

from __future__ import annotations

import pytest

from conftest import write_tree
from mlgate.identity import Identity, code_host_owner, identity_of, normalise, remote_urls, repository_root


def _remote(url: str, name: str = "origin") -> str:
    return f'[core]\n\tbare = false\n[remote "{name}"]\n\turl = {url}\n\tfetch = +refs/heads/*:refs/remotes/{name}/*\n'


def test_normalise():
    assert normalise("Ray-Project") == normalise("rayproject") == normalise("ray_project") == normalise("ray.project") == "rayproject"


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/ray-project/kuberay.git",
        "https://github.com/ray-project/kuberay",
        "git@github.com:ray-project/kuberay.git",
        "ssh://git@github.com:22/ray-project/kuberay.git",
        "https://token@gitlab.example.com/ray-project/kuberay.git",
    ],
)
def test_the_origin_remote_gives_owner_and_name(url, tmp_path):
    write_tree(tmp_path, {"src/.git/config": _remote(url), "src/deploy/x.yaml": ""})
    identity = identity_of(tmp_path / "src" / "deploy")
    assert identity == Identity(owners=frozenset({"rayproject"}), names=frozenset({"kuberay", "src"}))
    assert identity.owns("rayproject") and identity.owns("Ray-Project") and identity.owns("kuberay")
    assert not identity.owns("ray") and not identity.owns("")


def test_upstream_counts_other_remotes_do_not(tmp_path):
    config = _remote("git@github.com:me/kserve.git") + _remote("https://github.com/kserve/kserve.git", "upstream")
    config += _remote("https://github.com/someone/else.git", "mirror")
    write_tree(tmp_path, {"kserve/.git/config": config})
    assert remote_urls(tmp_path / "kserve") == ["git@github.com:me/kserve.git", "https://github.com/kserve/kserve.git"]
    assert identity_of(tmp_path / "kserve").owners == frozenset({"me", "kserve"})


def test_a_worktree_git_file_leads_to_the_common_config(tmp_path):
    write_tree(
        tmp_path,
        {
            "main/.git/config": _remote("https://github.com/acme/app.git"),
            "main/.git/worktrees/feature/commondir": "../..\n",
            "feature/.git": "gitdir: ../main/.git/worktrees/feature\n",
        },
    )
    assert identity_of(tmp_path / "feature").owners == frozenset({"acme"})


def test_without_git_the_current_folder_is_the_root_and_outside_it_nothing(tmp_path, monkeypatch):
    write_tree(tmp_path, {"kuberay/samples/ray.yaml": "", "elsewhere/nvidia/x.yaml": ""})
    monkeypatch.chdir(tmp_path / "kuberay")
    assert repository_root(tmp_path / "kuberay" / "samples") == tmp_path / "kuberay"
    assert identity_of(tmp_path / "kuberay" / "samples").names == frozenset({"kuberay"})
    # A folder outside the scanned tree must not lend its name (`nvidia`) to the project.
    assert identity_of(tmp_path / "elsewhere" / "nvidia") == Identity()


def test_chart_and_pyproject_urls_count_when_they_name_this_repository(tmp_path, monkeypatch):
    files = {
        "kuberay/helm-chart/kuberay-operator/Chart.yaml": "apiVersion: v2\nname: kuberay-operator\nhome: https://github.com/ray-project/kuberay\n",
        # A chart that packages other software links to it: its publisher is not this project.
        "kuberay/helm-chart/redis/Chart.yaml": "name: redis\nhome: https://redis.io\nsources:\n  - https://github.com/redis/redis\n",
        # A subchart below a chart is the chart's dependency, not read.
        "kuberay/helm-chart/kuberay-operator/charts/dep/Chart.yaml": "name: kuberay\nsources: [https://github.com/other/kuberay]\n",
        "kuberay/pyproject.toml": '[project]\nname = "kuberay_client"\n[project.urls]\nSource = "https://github.com/ray-project/kuberay/tree/master/clients"\n',
    }
    write_tree(tmp_path, files)
    monkeypatch.chdir(tmp_path / "kuberay")
    identity = identity_of(tmp_path / "kuberay")
    assert identity == Identity(owners=frozenset({"rayproject"}), names=frozenset({"kuberay", "kuberayclient"}))
    assert not identity.owns("redis") and not identity.owns("other") and not identity.owns("kuberayoperator")


def test_a_project_url_names_the_repository_by_the_package_name(tmp_path, monkeypatch):
    # A clone in a folder of another name: the pyproject's name ties its repository URL to it.
    files = {
        "checkout/pyproject.toml": '[project]\nname = "axolotl"\nurls = {Repository = "https://github.com/axolotl-ai-cloud/axolotl.git"}\n'
    }
    write_tree(tmp_path, files)
    monkeypatch.chdir(tmp_path / "checkout")
    assert identity_of(tmp_path / "checkout").owners == frozenset({"axolotlaicloud"})


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("setup.py", 'setup(\n    name="tgi",\n    url="https://github.com/huggingface/tgi",\n)\n'),
        ("setup.cfg", "[metadata]\nname = tgi\nurl = https://github.com/huggingface/tgi\n"),
        ("Cargo.toml", '[workspace.package]\nversion = "3.0.0"\nhomepage = "https://github.com/huggingface/tgi"\n'),
        ("pyproject.toml", '[tool.poetry]\nname = "x"\nrepository = "https://github.com/huggingface/tgi"\n'),
        ("go.mod", "// the module\nmodule github.com/huggingface/tgi/v2\n\ngo 1.22\n"),  # kubeflow/pipelines without .git
    ],
)
def test_setup_cargo_and_poetry_urls_count_when_they_name_this_repository(name, text, tmp_path, monkeypatch):
    write_tree(tmp_path, {f"tgi/{name}": text, "other/" + name: text.replace("huggingface/tgi", "huggingface/transformers")})
    monkeypatch.chdir(tmp_path / "tgi")
    assert identity_of(tmp_path / "tgi").owners == frozenset({"huggingface"})
    monkeypatch.chdir(tmp_path / "other")  # links to a repository of another name: nobody adopted
    assert identity_of(tmp_path / "other").owners == frozenset()


def test_the_readme_names_the_owner_it_links_to_most(tmp_path, monkeypatch):
    # kubeflow/manifests as a snapshot without .git: its README's badges and links name the repository
    readme = (
        "[![CI](https://github.com/kubeflow/manifests/actions/workflows/ci.yaml/badge.svg)](https://github.com/kubeflow/manifests)\n"
        "See https://github.com/kubeflow/manifests/blob/master/example/kustomization.yaml and a fork,\n"
        "https://github.com/someone/manifests, and https://github.com/kubeflow/pipelines.\n"
    )
    write_tree(tmp_path, {"manifests/README.md": readme, "other/README.md": "Uses https://github.com/kubeflow/manifests.\n"})
    monkeypatch.chdir(tmp_path / "manifests")
    assert identity_of(tmp_path / "manifests").owners == frozenset({"kubeflow"})
    monkeypatch.chdir(tmp_path / "other")  # links to a repository of another name: nobody adopted
    assert identity_of(tmp_path / "other").owners == frozenset()


def test_code_host_owner_is_the_first_repository_a_text_names():
    assert code_host_owner("VCS dependency git+https://github.com/huggingface/peft.git@main is at 'main'") == "huggingface"
    assert code_host_owner("VCS dependency git+git@gitlab.com:group/sub/repo.git names no commit") == "group"
    assert code_host_owner("git clone of https://huggingface.co/spaces/x/y at the default branch") is None


def test_github_repository_names_the_actions_checkout_only(tmp_path, monkeypatch):
    write_tree(tmp_path, {"workspace/.git/HEAD": "", "other/.git/HEAD": ""})
    monkeypatch.setenv("GITHUB_REPOSITORY", "kserve/kserve")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "workspace"))
    assert identity_of(tmp_path / "workspace") == Identity(owners=frozenset({"kserve"}), names=frozenset({"kserve", "workspace"}))
    assert identity_of(tmp_path / "other") == Identity(names=frozenset({"other"}))
