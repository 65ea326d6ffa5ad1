#!/usr/bin/env bash
# The demo (README): installs what is missing, builds the programs and the local container
# image, then runs the whole flow: a localnet with storage, a market, one node daemon with
# real containers, a Nosana-format job posted and waited for, its logs, the verified result
# and the balances before and after. `scripts/demo.py` is the on-chain lifecycle alone.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/build-programs.sh
bash scripts/setup-python.sh dev,worker
bash scripts/build-test-image.sh
.venv/bin/python scripts/demo_node.py "$@"
