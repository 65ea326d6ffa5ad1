#!/usr/bin/env bash
# The demo (README): installs what is missing, builds the programs, and runs one job's whole
# on-chain lifecycle in LiteSVM, printing each step, its compute units and the balances.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/build-programs.sh
bash scripts/setup-python.sh dev
.venv/bin/python scripts/demo.py "$@"
