#!/usr/bin/env bash
# The demo (README): installs what is missing, builds the programs and the local container
# image, then runs the whole flow (scripts/demo_node.py): a localnet with storage, a staking
# config and a market naming it, one node daemon that stakes the minimum and serves with
# real containers, a Nosana-format job posted and waited for, the network fee to the
# stakers, its logs, the verified result, the balances before and after, and the node's
# claim of the fees. `scripts/demo.py` is the on-chain lifecycle alone.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/build-programs.sh
bash scripts/setup-python.sh dev,worker
bash scripts/build-test-image.sh
.venv/bin/python scripts/demo_node.py "$@"
