#!/usr/bin/env bash
# Installs what building the on-chain programs needs, idempotently: Debian's rustc/cargo
# and LLVM 22 (the LLVM that rustc links against), and sbpf-linker built against it.
# Solana's platform tools cannot be fetched on these machines; this is the upstream BPF
# route described in docs/toolchain.md. A second run skips what is already there.
set -euo pipefail

SBPF_LINKER_VERSION=0.1.9
LLVM_PREFIX=/usr/lib/llvm-22
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need_apt=()
[ -x /usr/bin/rustc ] || need_apt+=(rustc-web)
[ -x /usr/bin/cargo ] || need_apt+=(cargo-web)
[ -d /usr/lib/rustlib/src/rust/library ] || need_apt+=(rust-web-src)
[ -x "$LLVM_PREFIX/bin/llvm-config" ] || need_apt+=(llvm-22-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "toolchain: installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
else
  echo "toolchain: Debian rustc, cargo, rust source and LLVM 22 present"
fi

if cargo install --list 2>/dev/null | grep -q "^sbpf-linker v$SBPF_LINKER_VERSION:"; then
  echo "toolchain: sbpf-linker $SBPF_LINKER_VERSION present"
else
  echo "toolchain: building sbpf-linker $SBPF_LINKER_VERSION against LLVM 22 (about a minute)"
  LLVM_SYS_221_PREFIX="$LLVM_PREFIX" RUSTFLAGS="-L $LLVM_PREFIX/lib" \
    cargo install sbpf-linker --version "$SBPF_LINKER_VERSION" --locked \
      --no-default-features --features upstream-gallery-22
fi
