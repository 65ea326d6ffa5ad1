"""`crowd`: one command for posters, node operators and local development.

Subcommands so far:
  crowd localnet ...   the embedded chain (same flags as `python -m crowdcompute.localnet`)
  crowd job validate   check a job definition (job_cmd.py)
  crowd storage ...    content-addressed storage: add, get, serve (storage_cmd.py)
  crowd node health    the worker node's report: engine, GPUs, disk (node_cmd.py)
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import job_cmd
from . import node_cmd
from . import storage_cmd

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
    job_cmd.register(commands)
    storage_cmd.register(commands)
    node_cmd.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] == "localnet":
        from ..localnet.__main__ import main as localnet_main

        return localnet_main(argv[1:], prog="crowd localnet")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "job":
        return job_cmd.run(args)
    if args.command == "storage":
        return storage_cmd.run(args)
    if args.command == "node":
        return node_cmd.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
