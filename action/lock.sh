#!/usr/bin/env bash
# Rewrite the hashes in action/requirements.txt from the real wheels on the package index:
# every wheel of each pinned version that CPython 3.10-3.14 on Linux or macOS can install.
# Usage: bash action/lock.sh   (needs pip and the network; review the diff before committing)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
wheels="$(mktemp -d)"
trap 'rm -rf "$wheels"' EXIT
pins="$(grep -E '^[A-Za-z0-9._-]+==' "$here/requirements.txt" | sed -E 's/[ ;\\].*//')"
for python in 3.10 3.11 3.12 3.13 3.14; do
  for platform in manylinux_2_17_x86_64 manylinux_2_17_aarch64 macosx_11_0_arm64 macosx_10_13_x86_64; do
    # shellcheck disable=SC2086 # one requirement per word
    python3 -m pip download --quiet --no-deps --only-binary=:all: --implementation cp \
      --python-version "$python" --platform "$platform" --platform manylinux2014_x86_64 \
      --platform manylinux2014_aarch64 --platform macosx_10_9_x86_64 --dest "$wheels" $pins || true
  done
done
python3 - "$here/requirements.txt" "$wheels" <<'PY'
import hashlib, re, sys
from pathlib import Path

requirements, wheels = Path(sys.argv[1]), Path(sys.argv[2])
def canonical(name): return re.sub(r"[-_.]+", "_", name).lower()
hashes = {}
for wheel in sorted(wheels.glob("*.whl")):
    hashes.setdefault(canonical(wheel.name.split("-")[0]), set()).add(hashlib.sha256(wheel.read_bytes()).hexdigest())
out, lines = [], requirements.read_text().splitlines()
for line in lines:
    if line.startswith("    --hash="):
        continue
    if re.match(r"[A-Za-z0-9._-]+==", line):
        found = sorted(hashes[canonical(line.split("==")[0])])
        out.append(line.rstrip(" \\") + " \\")
        out += [f"    --hash=sha256:{h}" + (" \\" if i < len(found) - 1 else "") for i, h in enumerate(found)]
    else:
        out.append(line)
requirements.write_text("\n".join(out) + "\n")
PY
