#!/usr/bin/env bash
# Regenerates idl/ from the programs' interface crates (the one source of truth).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/programs"
cargo run --quiet -p idl-gen -- write ../idl
