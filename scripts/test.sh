#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite: lint, format check, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff" && .venv/bin/ruff check src tests benchmarks scripts
.venv/bin/ruff format --check src tests benchmarks scripts
echo "== mypy" && .venv/bin/mypy
echo "== pytest" && .venv/bin/python -m pytest -q "$@"
