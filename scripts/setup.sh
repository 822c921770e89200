#!/usr/bin/env bash
# Sets up everything openclubs and its tests need, on a fresh machine with Python, Node, git
# and apt: a virtual environment with the package and its tools, and the official OpenActive
# validators (npm packages) used as test oracles. Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
SHARED=${OPENCLUBS_SHARED:-../shared}

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.openclubs-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing openclubs and its tools into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
  touch "$stamp"
fi

# The hot paths compiled with mypyc (skipped, with a message, where that cannot be done).
# OPENCLUBS_PURE=1 removes the compiled modules and runs pure Python.
if [ "${OPENCLUBS_PURE:-}" = 1 ]; then
  .venv/bin/python scripts/compile.py --pure
else
  .venv/bin/python scripts/compile.py
fi

# The official OpenActive validators (Node), run as oracles by the parity tests. shared/ is
# read-only, so its wrapper scripts are copied into build/ and the npm packages installed there.
if [ -d "$SHARED/peers" ] && command -v npm >/dev/null 2>&1; then
  if [ ! -d build/shared/peers/node/node_modules/@openactive/data-model-validator ]; then
    echo "setup: installing the official OpenActive validators (npm ci)" >&2
    rm -rf build/shared
    mkdir -p build/shared
    cp -r "$SHARED/peers" "$SHARED/vocab" build/shared/
    chmod -R u+w build/shared
    (cd build/shared/peers/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
else
  echo "setup: no $SHARED/peers or no npm: the parity tests with the official validator will be skipped" >&2
fi
