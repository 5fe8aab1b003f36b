#!/usr/bin/env bash
# A separate virtualenv for benchmarks: trackbook plus the peers it is measured against (trackio, MLflow),
# which are installed for the benchmarks only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -x .venv-bench/bin/python ] || python3 -m venv .venv-bench
. .venv-bench/bin/activate
quiet() { grep -v '^WARNING: Location' || true; }
python -m pip install -q --upgrade pip 2>&1 | quiet
python -m pip install -q -e ".[bench]" 2>&1 | quiet
python -c "import trackbook, trackio, mlflow; print('bench env:', trackio.__version__, mlflow.__version__)"
