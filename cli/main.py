"""`crowd`: one command for posters, node operators and local development.

Subcommands so far:
  crowd localnet ...                  the embedded chain (same flags as `python -m crowdcompute.localnet`)
                                      and the storage server beside it (localnet_storage.py)
  crowd job validate                  check a job definition (job_cmd.py)
  crowd job post|get|logs|list|why|cancel|extend|end|clean   the poster's commands (job_commands.py)
  crowd market create|get|list|update|close                   a market authority's (market_commands.py)
  crowd stake create|topup|extend|unstake|withdraw|restake|claim|close|show|init
                                      a staker's and a staking config authority's (stake_commands.py)
  crowd address|balance|airdrop       the wallet (wallet_commands.py)
  crowd storage ...                   content-addressed storage: add, get, serve (storage_cmd.py)
  crowd node health                   the worker node's report: engine, GPUs, disk (node_cmd.py)
  crowd node start|status             the node operator's daemon and its state (node_commands.py, worker)
"""

from __future__ import annotations

import argparse
import sys

from crowdcompute.common.version import __version__
from . import job_cmd, job_commands, market_commands, node_cmd, node_commands, stake_commands, storage_cmd, wallet_commands

DESCRIPTION = "crowdcompute: a decentralized crowd computer for GPU and AI jobs on Solana."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crowd", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"crowd {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "localnet",
        help="run a local Solana cluster (JSON-RPC + PubSub over LiteSVM) with the crowdcompute programs",
        add_help=False,  # its own parser answers --help, with every flag
    )
    job_verbs = job_cmd.register(commands)  # `crowd job` and its `validate`
    job_commands.register(job_verbs)  # the poster's verbs on the same parser
    market_commands.register(commands)
    stake_commands.register(commands)
    wallet_commands.register(commands)
    storage_cmd.register(commands)
    node_commands.add_verbs(node_cmd.VERBS)  # start, status beside health
    node_cmd.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] == "localnet":
        from ..localnet.__main__ import main as localnet_main

        from .localnet_storage import StorageCompanion

        return localnet_main(argv[1:], prog="crowd localnet", companions=[StorageCompanion()])
    argv, inline_command = job_commands.split_inline_command(argv)
    args = parser.parse_args(argv)
    if inline_command:
        args.cmd = inline_command
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "job":
        return job_commands.run(args) if args.job_command in job_commands.VERBS else job_cmd.run(args)
    if args.command == "market":
        return market_commands.run(args)
    if args.command == "stake":
        return stake_commands.run(args)
    if args.command in wallet_commands.COMMANDS:
        return wallet_commands.run(args)
    if args.command == "storage":
        return storage_cmd.run(args)
    if args.command == "node":
        return node_cmd.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
