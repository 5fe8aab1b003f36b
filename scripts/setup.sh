#!/usr/bin/env bash
# Sourced by scripts/lab.sh and scripts/test.sh: a virtualenv in .venv with trackbook installed (the build
# hook bundles the widget with npm). EXTRAS picks the optional dependency groups.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
quiet() { grep -v '^WARNING: Location' || true; }  # pip's noise about this machine's local indexes
python -m pip install -q --upgrade pip 2>&1 | quiet
if [ ! -d node_modules ]; then  # `npm ci` trips over platform-only optional deps (npm/cli#4828)
  npm install --no-audit --no-fund --loglevel=error
fi
python -m pip install -q -e ".[${EXTRAS:-lab}]" 2>&1 | quiet  # pipefail keeps pip's exit status
python -c "import trackbook" # fail early if the install did not take
