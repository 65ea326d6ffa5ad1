#!/usr/bin/env python3
"""Fails unless every solana-define-syscall in the SBF build graph has static syscalls.

Syscalls declared `extern "C"` lose their arguments on the upstream BPF route (a log prints
nothing, sha256 hashes garbage: docs/toolchain.md, pitfall 1). Every major version of
solana-define-syscall that Cargo.lock holds must be built with `unstable-static-syscalls`.
Reads the features cargo actually resolves for the bpfel target, not what we remember.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FEATURE = "unstable-static-syscalls"


def main(workspace: Path) -> int:
    metadata = json.loads(
        subprocess.check_output(
            ["cargo", "metadata", "--format-version", "1", "--filter-platform", "bpfel-unknown-none"],
            cwd=workspace,
        )
    )
    packages = {p["id"]: p for p in metadata["packages"]}
    lock = (workspace / "Cargo.lock").read_text()
    locked = lock.count('name = "solana-define-syscall"')
    found = 0
    problems = []
    for node in metadata["resolve"]["nodes"]:
        package = packages[node["id"]]
        if package["name"] != "solana-define-syscall":
            continue
        found += 1
        if FEATURE not in node.get("features", []):
            problems.append(f"solana-define-syscall {package['version']} is built without {FEATURE}")
    if found != locked:
        problems.append(f"Cargo.lock holds {locked} solana-define-syscall versions, the SBF graph {found}")
    for problem in problems:
        print(f"check_static_syscalls: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_static_syscalls: {found} solana-define-syscall version(s), all static")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "programs")))
