#!/usr/bin/env bash
# Builds the localnet's native signature check (localnet/native, a pyo3 extension) against
# .venv's Python and copies it to localnet/_native.abi3.so, where crowdcompute.localnet._native
# imports from (the editable install maps localnet/ there). Without cargo it says so and
# succeeds: the localnet then checks signatures on a verifier process (localnet/runtime/verifier.py).
# Cargo rebuilds only what changed, so running it again is cheap.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if ! command -v cargo >/dev/null 2>&1; then
  echo "native: cargo not found, not building localnet/native (the localnet falls back to its verifier process)"
  exit 0
fi
echo "native: building localnet/native"
PYO3_PYTHON="$root/.venv/bin/python" cargo build --quiet --release --locked --manifest-path localnet/native/Cargo.toml
# Copied to a temporary name, then renamed: a running server keeps the old file it mapped.
cp localnet/native/target/release/lib_native.so localnet/_native.abi3.so.tmp
mv -f localnet/_native.abi3.so.tmp localnet/_native.abi3.so
