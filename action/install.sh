#!/usr/bin/env bash
# Install mlgate into its own virtual environment from this action's checkout.
#
# Nothing is resolved at run time: the dependencies (and setuptools, the build backend) come
# from action/requirements.txt, pinned by hash and as wheels only, so a file changed on the
# index is refused and no build script of a dependency runs; mlgate itself is built from the
# action's own files with no index and no build isolation (which would fetch setuptools unpinned).
set -euo pipefail

venv="${RUNNER_TEMP:?}/mlgate-venv"
"${MLGATE_PYTHON:-python3}" -m venv "$venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
"$venv/bin/python" -m pip install --quiet --require-hashes --no-deps --only-binary=:all: \
  --requirement "${GITHUB_ACTION_PATH:?}/action/requirements.txt"
"$venv/bin/python" -m pip install --quiet --no-deps --no-build-isolation --no-index "$GITHUB_ACTION_PATH"
"$venv/bin/mlgate" --version
