#!/usr/bin/env bash
# Sets everything up, then runs the main job: the demo clubs in the embedded SQLite store
# (demo.sqlite3), served on 127.0.0.1 — the dataset site, the RPDE feed and a page per club.
# Extra arguments go to `openclubs serve` (for example --port 8080). Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/openclubs serve --demo --db demo.sqlite3 "$@"
