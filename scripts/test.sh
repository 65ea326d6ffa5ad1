#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds the programs to SBF,
# checks that a second build elsewhere gives the same bytes (scripts/check-reproducible.sh),
# checks the IDL, then runs the Rust unit tests and the Python suite against the built .so.
# Extra arguments go to pytest (e.g. scripts/test.sh -k queue).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bash scripts/build-programs.sh
bash scripts/setup-python.sh dev,worker
# The reproducibility gate `crowd verify` rests on: two builds in two folders, same bytes.
bash scripts/check-reproducible.sh
# The worker fences job networks off the host with iptables (worker/host_fence.py): the
# node, and so tests/worker, need it and root. Debian's package, installed when missing.
if ! command -v iptables >/dev/null && [ ! -x /usr/sbin/iptables ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test: installing iptables (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iptables >/dev/null
  else
    echo "test: iptables is missing (apt-get install iptables, as root): tests/worker's fenced jobs will fail"
  fi
fi
# tests/worker/test_images.py (and test_resources.py, an Ollama model) use a real registry on loopback: Debian's
# docker-registry (the distribution registry), installed when missing.
if [ ! -x /usr/bin/docker-registry ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test: installing docker-registry (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
  else
    echo "test: docker-registry is missing (apt-get install docker-registry, as root): tests/worker/test_images.py will skip"
  fi
fi
# tests/worker builds crowdcompute/busybox:local itself; building it here first shows a
# missing engine or busybox-static as its own line (the tests then skip or fail with it).
bash scripts/build-test-image.sh || echo "test: no local test image (tests/worker will say why)"
echo "test: cargo test (interface crates, host)"
(cd programs && cargo test --quiet -p jobs-interface -p staking-interface)
echo "test: pytest"
.venv/bin/python -m pytest "$@"
