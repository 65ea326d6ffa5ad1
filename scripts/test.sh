#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds the programs to SBF,
# checks the IDL, then runs the Rust unit tests and the Python suite against the built .so.
# Extra arguments go to pytest (e.g. scripts/test.sh -k queue).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bash scripts/build-programs.sh
bash scripts/setup-python.sh dev
echo "test: cargo test (interface crate, host)"
(cd programs && cargo test --quiet -p jobs-interface)
echo "test: pytest"
.venv/bin/python -m pytest "$@"
