"""`crowd`: one command for posters, node operators and local development.

One file per noun, each registering its verbs the same way (verbs.py: every verb's parser
carries the handler that runs it); this file only collects the nouns:
  crowd localnet ...                  the embedded chain (same flags as `python -m crowdcompute.localnet`)
                                      and the storage server beside it (localnet_storage.py)
  crowd job validate|post|get|logs|list|why|cancel|extend|end|clean
                                      job definitions and the poster's commands (job.py)
  crowd market create|get|list|update|close                   a market authority's (market.py)
  crowd stake create|topup|extend|unstake|withdraw|restake|claim|close|show|init
                                      a staker's and a staking config authority's (stake.py)
  crowd address|balance|airdrop       the wallet (wallet.py)
  crowd storage ...                   content-addressed storage: add, get, serve (storage.py)
  crowd node health|start|status      the node operator's: its report, its daemon, its state (node.py, over worker.api)
  crowd verify PROGRAM_ID             whether a cluster runs what this source builds (verify.py, verify_build.py)
"""

from __future__ import annotations

import argparse
import sys

from crowdcompute.common.version import __version__
from . import job, market, node, stake, storage, verify, wallet

DESCRIPTION = "crowdcompute: a decentralized crowd computer for GPU and AI jobs on Solana."
NOUNS = (job, market, stake, wallet, storage, node, verify)  # in `crowd --help`'s order


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crowd", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"crowd {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "localnet",
        help="run a local Solana cluster (JSON-RPC + PubSub over LiteSVM) with the crowdcompute programs",
        add_help=False,  # its own parser answers --help, with every flag
    )
    for noun in NOUNS:
        noun.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] == "localnet":
        from ..localnet.__main__ import main as localnet_main

        from .localnet_storage import StorageCompanion

        return localnet_main(argv[1:], prog="crowd localnet", companions=[StorageCompanion()])
    argv, inline_command = job.split_inline_command(argv)
    args = parser.parse_args(argv)
    if inline_command:
        args.cmd = inline_command
    if args.command is None:
        parser.print_help()
        return 2
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
