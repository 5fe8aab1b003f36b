#!/usr/bin/env bash
# Set everything up and run every test: ruff, the JS type check and unit tests, then pytest (which includes
# the notebooks and the real-browser tests in headless Chromium).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium for the browser tests"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
EXTRAS=test source scripts/setup.sh
echo "== ruff"; ruff check src tests bench
echo "== typescript"; npx tsc --noEmit
echo "== vitest"; npx vitest run
echo "== pytest"
# pytest exits 5 when it collects nothing; set -e turns that (and any failure) into a failed run.
python -m pytest "$@"
