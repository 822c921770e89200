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

# Browser code the web pages serve (Leaflet for the /find map), from the npm registry.
if command -v npm >/dev/null 2>&1; then
  if [ ! -f web/node_modules/leaflet/dist/leaflet.js ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    echo "setup: installing the web pages' npm packages (npm ci in web/)" >&2
    (cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
else
  echo "setup: no npm: the /find page will show its list without the map" >&2
fi

# PostgreSQL 15 and PostGIS, for the store tests on the PostgreSQL backend: tests/conftest.py
# starts a throwaway server from these binaries (as the postgres user) and removes it after.
# Installed with apt only when missing; whatever is already installed is left as it is.
PG_BIN=/usr/lib/postgresql/15/bin
apt_packages=()
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
  apt_packages+=(postgresql-15)
fi
if [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; then
  apt_packages+=(postgresql-15-postgis-3)
fi
# Headless Chromium and its driver, for the browser tests (Selenium drives Debian's builds).
if [ "${OPENCLUBS_NO_BROWSER:-}" != 1 ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    apt_packages+=(chromium)
  fi
  if ! command -v chromedriver >/dev/null 2>&1; then
    apt_packages+=(chromium-driver)
  fi
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${apt_packages[*]} with apt" >&2
    if ! apt_log=$( { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}"; } 2>&1); then
      echo "$apt_log" >&2
      exit 1
    fi
  else
    echo "setup: cannot install ${apt_packages[*]} (no apt as root): the tests that need them will be skipped" >&2
  fi
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
