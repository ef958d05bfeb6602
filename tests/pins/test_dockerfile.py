"""Dockerfiles: FROM by digest, RUN commands, ADD of URLs, index settings in ENV/ARG."""

from __future__ import annotations

import pytest

from mlgate.pins import dockerfile
from realcorpus import corpus_text

DIGEST = "sha256:" + "ab" * 32
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Dockerfile", True),
        ("docker/gpu/Dockerfile", True),
        ("docker/Dockerfile.py311", True),
        ("docker/deploy.Dockerfile", True),
        ("build/app.dockerfile", True),
        ("Containerfile", True),
        ("Dockerfile.dockerignore", False),
        ("Dockerfiles/readme.md", False),
        ("docker-compose.yml", False),
    ],
)
def test_matches(path, expected):
    assert dockerfile.matches(path) is expected


def test_from_needs_a_digest(scan_tree):
    text = (
        "# syntax=docker/dockerfile:1\n"
        "FROM --platform=$BUILDPLATFORM python:3.11-slim AS build\n"
        f"FROM nvidia/cuda:12.1.0-devel-ubuntu22.04@{DIGEST} AS cuda\n"
        "FROM build AS test\n"
        "FROM scratch\n"
        "FROM ubuntu\n"
        "COPY --from=build /app /app\n"
        "COPY --from=0 /app /app\n"
        "COPY --from=nginx:1.25 /etc/nginx /etc/nginx\n"
    )
    scan = scan_tree({"Dockerfile": text}, select="pins")
    assert scan.hits == [
        ("PIN010", "Dockerfile", 1, 10),
        ("PIN010", "Dockerfile", 2, 32),
        ("PIN010", "Dockerfile", 6, 6),
        ("PIN010", "Dockerfile", 9, 13),
    ]
    assert scan.messages("PIN010")[2] == "image ubuntu has no tag or digest: it is whatever 'latest' points to when it is pulled"


def test_from_arguments_take_their_defaults(scan_tree):
    text = (
        "ARG BASE=nvidia/cuda\n"
        "ARG TAG=12.1.0-runtime\n"
        "ARG UNKNOWN\n"
        f"ARG PINNED=python:3.11@{DIGEST}\n"
        "FROM ${BASE}:${TAG}\n"
        "FROM $UNKNOWN\n"
        "FROM ${PINNED}\n"
        "FROM ${OTHER:-ubuntu:22.04}\n"
    )
    scan = scan_tree({"Dockerfile": text}, select="pins")
    assert scan.hits == [("PIN010", "Dockerfile", 5, 6), ("PIN010", "Dockerfile", 8, 6)]
    assert scan.messages("PIN010")[0].endswith("(written as ${BASE}:${TAG})")


def test_run_commands_keep_their_positions(scan_tree):
    text = (
        "FROM python:3.11@" + DIGEST + "\n"
        "RUN --mount=type=cache,target=/root/.cache/pip pip install torch\n"
        "RUN pip install -U --no-cache-dir \\\n"
        "        librosa==0.10.1 \\\n"
        "        # a comment line inside the continuation is dropped by the builder\n"
        "\n"
        '        "soundfile>=0.12" \\\n'
        "    && curl -fsSL https://get.example/install.sh | sh\n"
        'RUN ["pip", "install", "numpy"]\n'
        'RUN ["/bin/sh", "-c", "pip install scipy"]\n'
        "ONBUILD RUN pip install pandas\n"
    )
    assert scan_tree({"Dockerfile": text}, select="pins").hits == [
        ("PIN001", "Dockerfile", 2, 60),
        ("PIN001", "Dockerfile", 7, 10),
        ("PIN011", "Dockerfile", 8, 8),
        ("PIN001", "Dockerfile", 9, 25),
        ("PIN001", "Dockerfile", 10, 36),
        ("PIN001", "Dockerfile", 11, 25),
    ]


def test_run_heredocs(scan_tree):
    text = (
        "FROM scratch\n"
        "RUN <<EOF\n"
        "set -e\n"
        "pip install torch\n"
        "EOF\n"
        "RUN cat <<EOF > /etc/notes.txt\n"
        "pip install numpy\n"
        "EOF\n"
        "COPY <<EOF /app/readme\n"
        "RUN pip install scipy\n"
        "EOF\n"
    )
    assert scan_tree({"Dockerfile": text}, select="pins").hits == [("PIN001", "Dockerfile", 4, 13)]


def test_a_later_run_can_pin_an_earlier_clone(scan_tree):
    text = (
        "FROM scratch\n"
        "RUN git clone https://github.com/o/pinned.git\n"
        f"RUN cd pinned && git checkout {SHA}\n"
        "RUN git clone https://github.com/o/moving.git && cd moving && git checkout main\n"
    )
    assert scan_tree({"Dockerfile": text}, select="pins").hits == [("PIN002", "Dockerfile", 4, 15)]


def test_add_of_urls(scan_tree):
    text = (
        "FROM scratch\n"
        "ADD https://example.com/tool.tar.gz /opt/\n"
        f"ADD --checksum=sha256:{'c' * 64} https://example.com/tool.tar.gz /opt/\n"
        "ADD https://github.com/o/r.git#v1.0 /src\n"
        f"ADD git@github.com:o/r.git#{SHA} /src\n"
        "ADD --keep-git-dir=true https://github.com/o/r.git /src\n"
        "ADD local.tar.gz /opt/\n"
        'ADD ["https://example.com/a b.txt", "/data/"]\n'
    )
    scan = scan_tree({"Dockerfile": text}, select="pins")
    assert scan.hits == [
        ("PIN012", "Dockerfile", 2, 5),
        ("PIN002", "Dockerfile", 4, 5),
        ("PIN002", "Dockerfile", 6, 25),
        ("PIN012", "Dockerfile", 8, 7),
    ]
    assert scan.messages("PIN002")[0] == (
        "ADD of the git repository https://github.com/o/r.git#v1.0 at 'v1.0', a branch or tag that can be moved; add #<full commit SHA>"
    )


def test_index_settings_in_env_and_arg(scan_tree):
    text = (
        "ARG PIP_INDEX_URL=http://mirror.local/simple\n"
        "FROM scratch\n"
        "ENV PIP_EXTRA_INDEX_URL=https://pypi.example/simple PATH=/opt/bin:$PATH\n"
        "ENV PIP_TRUSTED_HOST mirror.local\n"
        "ENV PIP_INDEX_URL=https://mirror.example/simple\n"
        "ARG UV_INDEX_URL=https://mirror.example/simple\n"
    )
    assert scan_tree({"Dockerfile": text}, select="pins").hits == [
        ("PIN005", "Dockerfile", 1, 5),
        ("PIN004", "Dockerfile", 3, 5),
        ("PIN005", "Dockerfile", 4, 5),
    ]


def test_escape_directive(scan_tree):
    text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore@" + DIGEST + "\nRUN pip install `\n    torch\n"
    assert scan_tree({"Dockerfile": text}, select="pins").hits == [("PIN001", "Dockerfile", 4, 5)]


# ---- read as BuildKit reads it (moby/buildkit frontend/dockerfile/parser) ----------------------


def test_unicode_white_space_around_an_instruction_is_trimmed(scan_tree):
    text = (
        "FROM scratch\n"
        "\u00a0\u3000RUN \u3000pip install torch\n"  # leading spaces of the line and of the arguments: trimmed
        "RUN\u00a0pip install numpy\n"  # `RUN\u00a0pip` is one unknown keyword: never runs
        "RUN\vpip install scipy\n"  # \v is one of BuildKit's ASCII blanks after the keyword
    )
    assert scan_tree({"Dockerfile": text}, select="pins").hits == [("PIN001", "Dockerfile", 2, 20), ("PIN001", "Dockerfile", 4, 17)]


def test_an_escaped_escape_character_does_not_continue_the_line(scan_tree):
    text = "FROM scratch\nRUN echo done \\\\\nRUN pip install torch\nRUN pip install \\\t \n    numpy\n"
    assert scan_tree({"Dockerfile": text}, select="pins").hits == [("PIN001", "Dockerfile", 3, 17), ("PIN001", "Dockerfile", 5, 5)]


def test_an_escape_followed_by_other_white_space_does_not_continue_the_line(scan_tree):
    text = "FROM scratch\nRUN echo \\\u00a0\nRUN pip install torch\n"
    assert scan_tree({"Dockerfile": text}, select="pins").hits == [("PIN001", "Dockerfile", 3, 17)]


def test_heredocs_belong_to_run_add_and_copy_only(scan_tree):
    text = (
        "FROM scratch\n"
        "LABEL notes=<<EOF\n"  # not a heredoc: the next line is an instruction
        "RUN pip install torch\n"
        "EOF\n"
        "RUN cat << EOF\n"  # `<<` and the word apart: no heredoc either
        "RUN pip install numpy\n"
        "EOF\n"
        'RUN 2<<"END" cat\n'
        "pip install hidden-in-the-body\n"
        "END\n"
        "RUN pip install scipy\n"
    )
    assert scan_tree({"Dockerfile": text}, select="pins").hits == [
        ("PIN001", "Dockerfile", 3, 17),
        ("PIN001", "Dockerfile", 6, 17),
        ("PIN001", "Dockerfile", 11, 17),
    ]


def test_env_words_split_at_unicode_white_space(scan_tree):
    text = "FROM scratch\nENV PIP_NO_CACHE_DIR=1\u00a0PIP_EXTRA_INDEX_URL=https://pypi.example/simple\n"
    assert scan_tree({"Dockerfile": text}, select="pins").hits == [("PIN004", "Dockerfile", 2, 24)]


def test_a_directive_may_follow_white_space(scan_tree):
    text = " # escape=`\nFROM mcr.microsoft.com/windows/servercore@" + DIGEST + "\nRUN pip install `\n    torch\n"
    assert scan_tree({"Dockerfile": text}, select="pins").hits == [("PIN001", "Dockerfile", 4, 5)]


@pytest.mark.parametrize(
    "text",
    [
        'FROM python:3.11\nCMD [""]\n',
        'FROM python:3.11\nENTRYPOINT [""]\nCMD []\n',
        "FROM python:3.11\nENV >x\nENV\nARG >y <z\nENV A\n",
        "FROM python:3.11\nENV '\nARG \"\\\n",
    ],
)
def test_what_the_review_found_is_read_without_an_error(scan_tree, text):
    scan = scan_tree({"Dockerfile": text})
    assert scan.errors == []
    assert [hit[0] for hit in scan.hits] == ["PIN010"]


@pytest.mark.parametrize(
    "text",
    [
        "RUN <<EOF\npip install x\n",
        "FROM\nRUN\nADD\nENV\nARG\nCOPY --from=\nONBUILD\n",
        'RUN ["unterminated\nADD [1, 2]\n',
        "RUN \\\n",
        "\\\n" * 5000,
        "RUN " + "$(" * 20000 + "\n",
    ],
)
def test_malformed_dockerfiles_do_not_crash(scan_tree, text):
    assert scan_tree({"Dockerfile": text}, select="pins").errors == []


def test_corpus_detectron2(scan_tree):
    text = corpus_text("facebookresearch__detectron2/docker/Dockerfile")
    scan = scan_tree({"Dockerfile": text}, select="pins")
    assert scan.hits == [
        ("PIN010", "Dockerfile", 1, 6),  # nvidia/cuda:11.1.1-cudnn8-devel-ubuntu18.04
        ("PIN011", "Dockerfile", 17, 5),  # wget get-pip.py && python3 get-pip.py
        ("PIN001", "Dockerfile", 23, 24),  # tensorboard
        ("PIN001", "Dockerfile", 23, 36),  # cmake
        ("PIN001", "Dockerfile", 23, 42),  # onnx
        ("PIN002", "Dockerfile", 26, 25),  # git+https://github.com/facebookresearch/fvcore
        ("PIN002", "Dockerfile", 28, 15),  # git clone .../detectron2, never checked out at a commit
    ]


def test_corpus_deepspeed_and_oobabooga(scan_tree):
    deepspeed = corpus_text("microsoft__DeepSpeed/docker/Dockerfile")
    oobabooga = corpus_text("oobabooga__text-generation-webui/docker/nvidia/Dockerfile")
    scan = scan_tree({"deepspeed/Dockerfile": deepspeed, "oobabooga/Dockerfile": oobabooga}, select="pins")
    moving = [hit for hit in scan.hits if hit[0] != "PIN001"]
    assert moving == [
        ("PIN010", "deepspeed/Dockerfile", 1, 6),
        ("PIN002", "deepspeed/Dockerfile", 58, 19),  # clone --branch ${NV_PEER_MEM_TAG}
        ("PIN011", "deepspeed/Dockerfile", 100, 9),  # curl -O get-pip.py && python get-pip.py
        ("PIN002", "deepspeed/Dockerfile", 177, 15),  # clone, then `git checkout master`
        ("PIN010", "oobabooga/Dockerfile", 2, 6),
        ("PIN002", "oobabooga/Dockerfile", 14, 15),
    ]
    # `pip install torch==${PYTORCH_VERSION}` (line 154) is pinned through ENV: never reported.
    assert ("PIN001", "deepspeed/Dockerfile", 154, 17) not in scan.hits
    assert len([hit for hit in scan.hits if hit[0] == "PIN001"]) == 25
