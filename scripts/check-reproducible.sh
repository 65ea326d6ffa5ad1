#!/usr/bin/env bash
# The reproducibility gate: builds the programs twice, from two copies of this source in
# folders with different paths (each with its own cargo target folder; the second also
# through another cargo home, a folder of links to the real one, so crates' sources sit at
# another path too), and fails when any .so differs, printing both hashes: solana-verify's,
# as `crowd verify --hash` prints it (sha256 without trailing zero bytes; .venv, made by
# scripts/setup-python.sh). `crowd verify` relies on the gate: a build of a commit here must
# give the bytes a build of the same commit anywhere else gave. Called by scripts/test.sh;
# about two program builds' time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
crowd="$root/.venv/bin/crowd"
[ -x "$crowd" ] || { echo "reproducible: no $crowd (bash scripts/setup-python.sh first)" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/crowd-repro.XXXXXX")"
trap 'rm -rf "$work"' EXIT
copies=("$work/a/crowdcompute" "$work/second-copy/deeper/src")
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
other_home="$work/other-cargo-home"
mkdir -p "$other_home"
for entry in "$cargo_home"/* "$cargo_home"/.[!.]*; do
  if [ -e "$entry" ]; then ln -s "$entry" "$other_home/"; fi
done
homes=("$cargo_home" "$other_home")
for i in 0 1; do
  copy="${copies[$i]}"
  mkdir -p "$copy"
  # The source as a clone would have it: tracked and new files, nothing ignored (no target/).
  (cd "$root" && git ls-files -z --cached --others --exclude-standard) \
    | (cd "$root" && tar --null -T - -cf -) | tar -xf - -C "$copy"
  echo "reproducible: building in $copy (cargo home ${homes[$i]})"
  CARGO_HOME="${homes[$i]}" bash "$copy/scripts/build-programs.sh" >"$copy.log" 2>&1 || { cat "$copy.log"; exit 1; }
done

failed=0
for so in "${copies[0]}"/target/deploy/*.so; do
  name="$(basename "$so")"
  first="$("$crowd" verify --hash "$so" | cut -d' ' -f1)"
  second="$("$crowd" verify --hash "${copies[1]}/target/deploy/$name" | cut -d' ' -f1)"
  if [ "$first" = "$second" ]; then
    echo "reproducible: $name $first (both builds)"
  else
    echo "reproducible: $name DIFFERS between the two builds:"
    echo "  $first  ${copies[0]}"
    echo "  $second  ${copies[1]}"
    failed=1
  fi
done
[ "$failed" = 0 ] || { echo "reproducible: the builds depend on where they ran (docs/toolchain.md)"; exit 1; }
