"""Solana's command-line options, as every chain command takes them (`crowd ...` and the node
daemon): -u/--url with monikers, -k/--keypair, --commitment, --output, and the storage.
argparse only: `crowd --help` loads nothing of the client."""

from __future__ import annotations

import argparse

__all__ = ["add_chain_options"]


def add_chain_options(parser: argparse.ArgumentParser, *, storage: bool = False) -> None:
    group = parser.add_argument_group("cluster")
    group.add_argument("-u", "--url", default=None,
                       help="cluster: localnet (default), devnet, testnet, mainnet-beta, or an http(s) URL")
    group.add_argument("-k", "--keypair", default=None, help="wallet keypair file (default ~/.config/solana/id.json)")
    group.add_argument("--commitment", choices=("processed", "confirmed", "finalized"), default="confirmed",
                       help="commitment of reads and waits (default confirmed)")
    group.add_argument("--output", choices=("text", "json"), default="text", help="output format (json for scripts)")
    if storage:
        group.add_argument("--storage", default=None,
                           help="content storage: a kubo-RPC URL or a folder (default $CROWD_STORAGE; for -u localnet, crowd localnet's server on :8901; else the local store)")
