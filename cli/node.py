"""`crowd node health|start|status`: the node operator's commands, over the worker's public
API (crowdcompute.worker.api). All three look at one state folder: `--state-dir`, else
~/.local/state/crowdcompute/node/<the wallet's address> (worker/settings.py).

health: the node's report (container engine, GPUs through NVML, free disk of the state
folder) as a table, or one JSON document with `--output json`. Exit 0 when the node can
run containers, 1 when its container engine is unreachable (a node with no GPU is fine:
CPU markets). Works without the `worker` extra: the report then says what is missing.

start: the daemon (`python -m crowdcompute.worker` takes the same flags): it checks before
joining (keypair, SOL for fees, the market, the container engine and GPUs, the node's
stake against the market's minimum; `--stake AMOUNT` stakes what is missing after the
operator's yes), then runs until SIGINT/SIGTERM: it leaves the queue, quits running jobs
and exits 0.

status: what the chain says of the node (the stake's admission, queue positions, running
jobs, earnings), the daemon's node.json, and this host's health.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from ..worker.api import add_start_arguments, add_state_dir_option
from .common import Output, add_chain_options, client_from_args
from .node_render import print_health, print_status
from .verbs import add_noun, add_verb, on_chain

__all__ = ["register"]


def register(commands: Any) -> None:
    verbs = add_noun(commands, "node", help="run a worker node: health, start, status")

    text = "the node's report: container engine, GPUs, free disk of its state folder"
    health = add_verb(verbs, "health", _health, help=text, description=text)
    health.add_argument("--output", choices=("text", "json"), default="text", help="output format")
    add_state_dir_option(health)
    health.add_argument("--work-dir", dest="state_dir", help=argparse.SUPPRESS)  # its name before the one state folder
    health.add_argument("-k", "--keypair", default=None,
                        help="the node's keypair, whose address names its state folder (default ~/.config/solana/id.json, if any)")

    text = "run the node daemon: join a market, run jobs, settle them"
    add_start_arguments(add_verb(verbs, "start", _start, help=text, description=text))

    text = "the node's health, market, stake admission, queue position, current jobs and earnings"
    status = add_verb(verbs, "status", on_chain(_status), help=text, description=text)
    status.add_argument("--market", default=None, help="the market (default: the one the daemon serves, from its node.json)")
    add_state_dir_option(status)
    add_chain_options(status)


def _health(args: argparse.Namespace) -> int:
    from ..client.errors import InvalidInput
    from ..client.keypair import load_keypair
    from ..worker.api import node_report, state_dir

    address = None
    if not args.state_dir:
        try:
            address = str(load_keypair(args.keypair).pubkey())
        except InvalidInput as exc:
            if args.keypair:  # asked for, and not there: say so; with none, the folder of all nodes
                print(f"error: {exc}", file=sys.stderr)
                return 1
    report = asyncio.run(node_report(work_dir=state_dir(args.state_dir, address)))
    if args.output == "json":
        print(json.dumps(report.to_json(), sort_keys=True))
    else:
        print_health(report, sys.stdout)
    return 0 if report.can_run else 1


def _start(args: argparse.Namespace) -> int:
    from ..worker.api import run_daemon

    return run_daemon(args)


async def _status(args: argparse.Namespace, out: Output) -> int:
    from ..worker.api import node_status

    async with client_from_args(args) as crowd:
        status = await node_status(crowd, market=args.market, state_dir=args.state_dir)
    out.emit(status.to_json(), lambda console: print_status(console, status))
    return 0
