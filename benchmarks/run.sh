#!/usr/bin/env bash
# The benchmarks: see benchmarks/README.md.
# Usage: bash benchmarks/run.sh [pins|models|NAME|all] [options of that benchmark ...]
#   NAME    runs benchmarks/bench_NAME.py with the options given (pins: mlgate vs zizmor and
#           checkov; models: mlgate vs picklescan, modelscan, fickling, modelaudit; ...)
#   all     every bench_*.py, one after the other, with their defaults (the default)
# Each script also runs on its own: python3 benchmarks/bench_models.py --help
set -euo pipefail
here="$(dirname "$0")"
python="${PYTHON:-python3}"
which="${1:-all}"
if [ "$which" = all ]; then
    [ "$#" -le 1 ] || { echo "run.sh all takes no options: run 'run.sh NAME [options]'" >&2; exit 2; }
    for script in "$here"/bench_*.py; do
        "$python" "$script"
    done
    exit 0
fi
if [ ! -f "$here/bench_$which.py" ]; then
    echo "usage: bash benchmarks/run.sh [$(cd "$here" && ls bench_*.py | sed 's/bench_//; s/\.py$//' | paste -sd '|')|all] [options]" >&2
    exit 2
fi
shift
exec "$python" "$here/bench_$which.py" "$@"
