#!/usr/bin/env bash
# Set everything up and open JupyterLab on the quickstart notebook (extra arguments go to `jupyter lab`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
EXTRAS=lab source scripts/setup.sh
args=()
[ "$(id -u)" -eq 0 ] && args+=(--allow-root)  # Jupyter refuses to run as root without it (containers, CI)
exec jupyter lab notebooks/quickstart.ipynb ${args[@]+"${args[@]}"} "$@"
