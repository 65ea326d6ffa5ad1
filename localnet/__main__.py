"""`python -m crowdcompute.localnet`: the localnet with solana-test-validator's flags.

JSON-RPC on --bind-address:--rpc-port (default 127.0.0.1:8899), PubSub on --rpc-port + 1.

Companions: services that run beside the chain in the same process, started once the RPC
listens and stopped before it. The chain server knows nothing of them; `crowd localnet`
(crowdcompute.cli) adds the content-addressed storage server this way, so the dependency
points from the command to the chain, never from the chain to the job-market client.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Awaitable, Callable, Protocol, Sequence

from solders.pubkey import Pubkey

from .ledger.finality import FINALITY_LAG
from .server import Localnet, default_ledger, default_programs


class Companion(Protocol):
    """A service run beside the chain (see the module doc)."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    async def start(self, args: argparse.Namespace, net: Localnet) -> Callable[[], Awaitable[None]] | None:
        """Starts the service; returns what stops it (None: nothing started)."""


def parse_args(argv: list[str] | None = None, prog: str = "python -m crowdcompute.localnet", companions: Sequence[Companion] = ()) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description="A Solana JSON-RPC and PubSub server over LiteSVM with the crowdcompute programs.")
    parser.add_argument("--rpc-port", type=int, default=8899, help="JSON-RPC port (PubSub on the next port); default 8899")
    parser.add_argument("--bind-address", default="127.0.0.1", help="address to bind; default 127.0.0.1")
    parser.add_argument("--ledger", type=Path, default=None, help=f"ledger folder; default {default_ledger()}")
    parser.add_argument("--reset", action="store_true", help="start from an empty ledger")
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    parser.add_argument("--slot-ms", type=int, default=400, help="slot length in milliseconds; default 400")
    parser.add_argument("--finalize-immediately", action="store_true",
                        help="finalized = confirmed: root each slot as soon as it is confirmed, and read the latest state at "
                             "`finalized`. Default: as solana-test-validator, the root trails the confirmed slot by "
                             f"{FINALITY_LAG} slots (about {FINALITY_LAG * 0.4:.0f} s at 400 ms slots) and reads at `finalized` "
                             "show the accounts as of the root")
    parser.add_argument("--bpf-program", nargs=2, action="append", default=[], metavar=("ADDRESS", "PATH"), help="load another program (repeatable)")
    parser.add_argument("--test-mint", action="store_true", help="create a test payment mint (6 decimals; kept in the ledger as test-mint.json)")
    parser.add_argument("--fund", action="append", default=[], metavar="KEYPAIR_OR_PUBKEY",
                        help="top up this keypair file's (or pubkey's) SOL and, with --test-mint, its test tokens (repeatable)")
    parser.add_argument("--fund-sol", type=float, default=100.0, help="SOL per --fund account; default 100")
    parser.add_argument("--fund-tokens", type=float, default=1000.0, help="test tokens per --fund account; default 1000")
    for companion in companions:
        companion.add_arguments(parser)
    return parser.parse_args(argv)


def _owner(text: str) -> Pubkey:
    path = Path(text).expanduser()
    if path.is_file():
        from solders.keypair import Keypair

        return Keypair.from_bytes(bytes(json.loads(path.read_text()))).pubkey()
    return Pubkey.from_string(text)


async def serve(args: argparse.Namespace, companions: Sequence[Companion] = ()) -> None:
    programs = default_programs()
    for address, path in args.bpf_program:
        programs[Pubkey.from_string(address)] = Path(path)
    net = Localnet(args.ledger, programs=programs, slot_ms=args.slot_ms, reset=args.reset,
                   finality_lag=None if args.finalize_immediately else FINALITY_LAG)
    fund = [_owner(f) for f in args.fund]
    mint = None
    if args.test_mint or fund:  # before listening: a client never sees a half-funded demo
        await net.start_store()
        mint = await net.provision(test_mint=args.test_mint, fund=fund, sol=int(args.fund_sol * 10**9), tokens=int(args.fund_tokens * 10**6))
    await net.start(args.bind_address, args.rpc_port)
    stops = []
    try:
        for companion in companions:
            stop_companion = await companion.start(args, net)
            if stop_companion is not None:
                stops.append(stop_companion)
    except BaseException:
        for stop_companion in reversed(stops):
            await stop_companion()
        await net.stop()
        raise
    # The server allocates a few dicts and lists per transaction and makes almost no
    # cycles: the default collector (a young-generation pass every 700 allocations, each
    # also walking the startup state) cost about a tenth of the CPU per transaction.
    # Startup state goes to the permanent generation; passes come 70x less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    if not args.quiet:
        print(f"localnet: JSON-RPC http://{args.bind_address}:{args.rpc_port}  PubSub ws://{args.bind_address}:{args.rpc_port + 1}  "
              f"ledger {net.ledger}  slot {net.bank.slot}", flush=True)
        if mint is not None:
            print(f"localnet: test mint {mint}" + "".join(f"\nlocalnet: funded {o}" for o in fund), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    failed = asyncio.ensure_future(net.failed.wait())
    await asyncio.wait([asyncio.ensure_future(stop.wait()), failed], return_when=asyncio.FIRST_COMPLETED)
    for stop_companion in reversed(stops):
        await stop_companion()
    await net.stop()
    if failed.done():
        raise StoreFailedExit(str(net.store.failed))
    if not args.quiet:
        print("localnet: stopped", flush=True)


class StoreFailedExit(Exception):
    """The ledger writer died: the server stopped (exit code 1)."""


def main(argv: list[str] | None = None, prog: str = "python -m crowdcompute.localnet", companions: Sequence[Companion] = ()) -> int:
    args = parse_args(argv, prog, companions)
    if not 1 <= args.slot_ms <= 60_000:
        print("--slot-ms must be between 1 and 60000", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.ERROR if args.quiet else logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(args, companions))
    except ValueError as error:  # bad flags found once they are used: a clear line, no trace
        print(f"localnet: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. the port is taken
        print(f"localnet: error: {error.strerror or error}", file=sys.stderr)
        return 1
    except StoreFailedExit as error:
        print(f"localnet: error: {error}; stopped", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
