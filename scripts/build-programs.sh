#!/usr/bin/env bash
# Builds the on-chain programs to SBF (target/deploy/<name>.so) by the upstream BPF route
# and refuses, before any test runs, a build that would misbehave in the SVM:
#   - a solana-define-syscall without static syscalls (arguments silently lost),
#   - a relative call that lands outside .text (program fails to load),
#   - an output that is not an eBPF ELF.
# Installs the toolchain first if it is missing (idempotent). See docs/toolchain.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bash scripts/install-toolchain.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# slash-probe: a test-only program (tests/staking) that slashes by CPI; not shipped.
programs=(jobs staking slash-probe)
python3 scripts/check_static_syscalls.py programs

echo "build: ${programs[*]} -> target/deploy/"
for program in "${programs[@]}"; do
  (cd programs && RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc /usr/bin/cargo build --quiet \
      -Z build-std=core,alloc --release --target bpfel-unknown-none -p "$program")
done

mkdir -p target/deploy
# The program ids beside the programs: the wheel ships target/deploy as crowdcompute/programs.
cp Anchor.toml target/deploy/Anchor.toml
for program in "${programs[@]}"; do
  name="${program//-/_}"  # cargo's library name
  cp "programs/target/bpfel-unknown-none/release/lib${name}.so" "target/deploy/${name}.so"
  python3 scripts/check_sbf.py "target/deploy/${name}.so"
  echo "build: target/deploy/${name}.so ($(stat -c %s "target/deploy/${name}.so") bytes)"
done
