#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds the programs to SBF,
# checks the IDL, then runs the Rust unit tests and the Python suite against the built .so.
# Extra arguments go to pytest (e.g. scripts/test.sh -k queue).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bash scripts/build-programs.sh
bash scripts/setup-python.sh dev,worker
# tests/worker builds crowdcompute/busybox:local itself; building it here first shows a
# missing engine or busybox-static as its own line (the tests then skip or fail with it).
bash scripts/build-test-image.sh || echo "test: no local test image (tests/worker will say why)"
echo "test: cargo test (interface crates, host)"
(cd programs && cargo test --quiet -p jobs-interface -p staking-interface)
echo "test: pytest"
.venv/bin/python -m pytest "$@"
