#!/usr/bin/env bash
# Creates .venv and installs the package with the given extras (default: dev,worker: the test
# suite runs the worker's containers, so it needs the docker and pynvml packages), from PyPI.
# Idempotent: skips pip when pyproject.toml and the extras are unchanged since last time.
# Then builds the localnet's native signature check (scripts/build-native.sh; needs cargo).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
extras="${1:-dev,worker}"
python="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  echo "python: creating .venv"
  "$python" -m venv .venv
fi
stamp=".venv/.crowdcompute-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1) [$extras]"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "python: .venv up to date"
  exec bash scripts/build-native.sh
fi
echo "python: installing crowdcompute[$extras] into .venv"
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[$extras]"
echo "$want" > "$stamp"
exec bash scripts/build-native.sh
