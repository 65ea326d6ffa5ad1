"""`crowd job endpoints|stats JOB` and `crowd job logs JOB --follow`: what the node running
a job reports live, through its node API (the URL in the node's on-chain profile). Logs and
stats are signed by the wallet: the job's poster only. Also what `crowd job post --wait`
shows of a service while it runs: its endpoints and their health."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from ..common.sizes import human_size
from .common import Output, add_chain_options, client_from_args
from .verbs import add_verb, on_chain

__all__ = ["register_live", "follow_logs", "EndpointWatch"]

ENDPOINT_POLL_S = 2.0  # how often --wait asks the node for a service's endpoints


def register_live(verbs: Any) -> None:
    endpoints = add_verb(verbs, "endpoints", on_chain(_endpoints),
                         help="a service job's endpoints and their health, from its node")
    endpoints.add_argument("job", metavar="JOB", help="job address")
    add_chain_options(endpoints)
    stats = add_verb(verbs, "stats", on_chain(_stats),
                     help="a running job's resource use per op (CPU, memory, network, GPU), from its node; the poster only")
    stats.add_argument("job", metavar="JOB", help="job address")
    add_chain_options(stats)


def endpoint_rows(endpoints: list[dict[str, Any]]) -> list[str]:
    return [f"{e.get('op')}:{e.get('port')} {e.get('state')} {e.get('url') or ''}".rstrip()
            + (f" ({e['detail']})" if e.get("detail") else "") for e in endpoints]


async def _endpoints(args: argparse.Namespace, out: Output) -> int:
    async with client_from_args(args, wallet=False) as crowd:
        found = await crowd.endpoints(args.job)

        def table(console: Console) -> None:
            t = Table("op", "port", "type", "state", "url", "detail")
            for e in found:
                t.add_row(str(e.get("op")), str(e.get("port")), str(e.get("type")), str(e.get("state")), str(e.get("url") or ""),
                          str(e.get("detail") or ""))
            console.print(t)
            console.print(f"{len(found)} endpoint{'s' * (len(found) != 1)}", markup=False)

        out.emit({"job": args.job, "endpoints": found}, table)
    return 0


async def _stats(args: argparse.Namespace, out: Output) -> int:
    async with client_from_args(args) as crowd:
        found = await crowd.stats(args.job)

        def table(console: Console) -> None:
            t = Table("op", "cpu %", "memory", "limit", "net rx", "net tx", "pids", "gpu")
            for op, s in sorted((found.get("ops") or {}).items()):
                gpu = ", ".join(f"{g.get('utilization')}% {g.get('memory_used')}" for g in s.get("gpus") or []) or "-"
                t.add_row(op, _num(s.get("cpu_percent")), _bytes(s.get("memory_bytes")), _bytes(s.get("memory_limit")),
                          _bytes(s.get("net_rx_bytes")), _bytes(s.get("net_tx_bytes")), _num(s.get("pids")), gpu)
            console.print(t)

        out.emit({"job": args.job, **found}, table)
    return 0


async def follow_logs(args: argparse.Namespace, out: Output) -> int:
    """`crowd job logs JOB --follow`: lines as the node writes them, until the job ends."""
    async with client_from_args(args) as crowd:
        async for line in crowd.follow_logs(args.job, args.op, True, not args.from_now):
            if out.json:
                print(line, file=out.out or sys.stdout, flush=True)
            else:
                out.console.print(line, markup=False, highlight=False, soft_wrap=True)
    return 0


class EndpointWatch:
    """While `crowd job post --wait` waits for a service: asks its node for the endpoints
    every ENDPOINT_POLL_S once it runs, and hands each change to `on_change` (the live line).
    A node that is not reachable yet (or published no profile) is said once, not fatal."""

    def __init__(self, crowd: Any, job: Any, on_change: Any) -> None:
        self.crowd, self.job, self.on_change = crowd, job, on_change
        self.last: list[str] | None = None
        self.problem: str | None = None

    async def run(self) -> None:
        from ..client.errors import CrowdError

        while True:
            try:
                rows = endpoint_rows(await self.crowd.endpoints(self.job))
                self.problem = None
            except CrowdError as exc:
                rows, self.problem = self.last or [], " ".join(str(exc).split())
            if rows != self.last:
                self.last = rows
                self.on_change(rows, self.problem)
            await asyncio.sleep(ENDPOINT_POLL_S)


def _num(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _bytes(value: Any) -> str:
    return human_size(value) if isinstance(value, int) else "-"
