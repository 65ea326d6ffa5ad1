#!/usr/bin/env bash
# Builds the on-chain programs to SBF (target/deploy/<name>.so) by the upstream BPF route
# and refuses, before any test runs, a build that would misbehave in the SVM:
#   - a solana-define-syscall without static syscalls (arguments silently lost),
#   - a relative call that lands outside .text (program fails to load),
#   - an output that is not an eBPF ELF.
# Installs the toolchain first if it is missing (idempotent). See docs/toolchain.md.
#
# Options (for `crowd verify` and scripts/check-reproducible.sh, which build elsewhere and
# leave the checkout's outputs alone):
#   --out DIR         where the .so files go (default target/deploy)
#   --target-dir DIR  cargo's target folder (default programs/target)
#   --program NAME    build only this program (repeatable; default all of them)
#
# The build is reproducible: the same source gives the same bytes whatever folder it sits
# in and whichever cargo home holds the crates. Paths that rustc writes into the binary
# (panic locations, file names of dependencies) are remapped to fixed prefixes below.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

out="$root/target/deploy"
target_dir="$root/programs/target"
# slash-probe: a test-only program (tests/staking) that slashes by CPI; not shipped.
programs=(jobs staking slash-probe)
chosen=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --target-dir) target_dir="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --program) chosen+=("$2"); shift 2 ;;
    *) echo "build: unknown argument: $1 (--out DIR, --target-dir DIR, --program NAME)" >&2; exit 2 ;;
  esac
done
for program in "${chosen[@]}"; do
  case " ${programs[*]} " in
    *" $program "*) ;;
    *) echo "build: no program $program (${programs[*]})" >&2; exit 2 ;;
  esac
done
[ ${#chosen[@]} -eq 0 ] || programs=("${chosen[@]}")

bash scripts/install-toolchain.sh
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
export PATH="$cargo_home/bin:$PATH"

python3 scripts/check_static_syscalls.py programs

# Appended to programs/.cargo/config.toml's rustflags (a RUSTFLAGS variable would replace them).
remap="\"--remap-path-prefix=$root=/crowdcompute\", \"--remap-path-prefix=$cargo_home=/cargo\""
echo "build: ${programs[*]} -> $out/"
for program in "${programs[@]}"; do
  (cd programs && RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc /usr/bin/cargo build --quiet \
      -Z build-std=core,alloc --release --target bpfel-unknown-none -p "$program" \
      --target-dir "$target_dir" --config "target.bpfel-unknown-none.rustflags=[$remap]")
done

mkdir -p "$out"
# The program ids beside the programs: the wheel ships target/deploy as crowdcompute/programs.
cp Anchor.toml "$out/Anchor.toml"
for program in "${programs[@]}"; do
  name="${program//-/_}"  # cargo's library name
  cp "$target_dir/bpfel-unknown-none/release/lib${name}.so" "$out/${name}.so"
  python3 scripts/check_sbf.py "$out/${name}.so"
  echo "build: $out/${name}.so ($(stat -c %s "$out/${name}.so") bytes)"
done
