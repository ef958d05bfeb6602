#!/usr/bin/env bash
# Benchmarks of the pins hook against zizmor and checkov: see benchmarks/README.md.
# Usage: bash benchmarks/run.sh [--runs N] [--corpus DIR] [--skip-tools]
set -euo pipefail
exec "${PYTHON:-python3}" "$(dirname "$0")/bench_pins.py" "$@"
