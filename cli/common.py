"""What every chain command of `crowd` shares: Solana's options (-u/--url with monikers,
-k/--keypair, --commitment), `--output json`, the storage to use, and one error rule: a
failure is one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, Awaitable, Callable, TextIO

from rich.console import Console

__all__ = ["add_chain_options", "Output", "run_command", "client_from_args"]


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


class Output:
    """Human output through rich, or one JSON document for scripts."""

    def __init__(self, fmt: str, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.json = fmt == "json"
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.console = Console(file=self.out, highlight=False, soft_wrap=True)
        self.err_console = Console(file=self.err, highlight=False, soft_wrap=True)

    def emit(self, value: Any, human: Callable[[Console], None] | str | None = None) -> None:
        if self.json:
            print(json.dumps(value, sort_keys=True, ensure_ascii=False), file=self.out)
        elif callable(human):
            human(self.console)
        else:
            self.console.print(human if human is not None else value, markup=False)

    def error(self, message: str) -> None:
        line = " ".join(str(message).split())
        if self.json:
            print(json.dumps({"error": line}), file=self.out)
        self.err_console.print(f"error: {line}", markup=False)

    def error_line(self, message: str) -> None:
        """One `error:` line on stderr in either format, for a command whose JSON document
        (with its own "error" field) is already on stdout."""
        self.err_console.print(f"error: {' '.join(str(message).split())}", markup=False)

    def status(self, text: str) -> None:
        """A progress note for humans (stderr), silent in json mode."""
        if not self.json:
            self.err_console.print(text, markup=False)


def client_from_args(args: argparse.Namespace, *, wallet: bool = True) -> Any:
    """A CrowdClient for the command's options. `wallet`: load the keypair (an error if it is
    missing); commands that only read may run without one."""
    from ..client.crowd import CrowdClient
    from ..client.keypair import load_keypair
    from ..client.errors import InvalidInput

    keypair = None
    if wallet:
        keypair = load_keypair(args.keypair)
    elif args.keypair:
        keypair = load_keypair(args.keypair)
    else:
        try:
            keypair = load_keypair(None)
        except InvalidInput:
            keypair = None
    try:
        return CrowdClient(args.url, keypair, commitment=args.commitment, storage=getattr(args, "storage", None))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def run_command(args: argparse.Namespace, body: Callable[[Output], Awaitable[int | None]], *, out: TextIO | None = None,
                err: TextIO | None = None) -> int:
    """Runs an async command body; every error of the package (CrowdError, the root of the
    client's, storage's, job definitions' and bundles' errors) becomes one line and exit 1."""
    from ..client.errors import CrowdError

    output = Output(getattr(args, "output", "text"), out, err)
    try:
        code = asyncio.run(body(output))
        return 0 if code is None else code
    except CrowdError as exc:
        output.error(str(exc))
        return 1
    except KeyboardInterrupt:
        output.error("interrupted")
        return 130
