#!/usr/bin/env bash
# Set everything up and open JupyterLab on the quickstart notebook.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
EXTRAS=lab source scripts/setup.sh
exec jupyter lab notebooks/quickstart.ipynb "$@"
