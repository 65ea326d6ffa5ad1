#!/usr/bin/env python3
"""One job's whole on-chain lifecycle in LiteSVM, step by step, with compute units and
balances: open a market, a node waits, a job is posted and matched at once, the node runs
it for 90 s and finishes with a result digest, the poster is refunded the rest, and the
job is cleaned after the market's retention. Every step is a real transaction to the
jobs program's SBF build (target/deploy/jobs.so)."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.table import Table

from crowdcompute.client import MarketSettings
from crowdcompute.sandbox import Sandbox, digest
from crowdcompute.localnet.runtime.svm import Outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--price", type=int, default=25, help="market price per second, in base units (default 25)")
    parser.add_argument("--timeout", type=int, default=300, help="job timeout in seconds (default 300)")
    parser.add_argument("--run-seconds", type=int, default=90, help="how long the node runs the job (default 90)")
    args = parser.parse_args(argv)
    if not 0 < args.run_seconds:
        parser.error(f"--run-seconds must be positive, got {args.run_seconds!r}")

    console = Console()
    sandbox = Sandbox()
    jobs = sandbox.jobs
    steps = Table(title="crowdcompute: one job on-chain (LiteSVM, real SBF)")
    for column in ("step", "instruction", "compute units", "events"):
        steps.add_column(column)

    def record(step: str, name: str, outcome: Outcome) -> Outcome:
        if not outcome.ok:
            console.print(f"[red]{step} failed: {jobs.errors.name(outcome.custom_error) or outcome.error}[/red]")
            console.print("\n".join(outcome.logs))
            raise SystemExit(1)
        events = ", ".join(event.name for event in jobs.events(outcome.logs))
        steps.add_row(step, name, f"{outcome.compute_units:,}", events)
        return outcome

    retention = 60
    settings = MarketSettings(price_per_second=args.price, max_timeout=3600, retention=retention, max_attempts=3)
    market, authority, outcome = sandbox.open_market(settings, capacity=32)
    record("1", "open_market", outcome)

    deposit = args.price * args.timeout
    poster = sandbox.actor(tokens=deposit * 2)
    node = sandbox.actor()
    start_balance = sandbox.balance(poster.token)
    record("2", "work (node waits)", sandbox.work(market, node))

    definition = digest('{"ops": [{"image": "busybox", "cmd": ["echo", "hello"]}]}')
    job, outcome = sandbox.post(market, poster, timeout=args.timeout, definition=definition, max_price=args.price)
    record("3", "post (matched at once)", outcome)
    console.print(f"job {job}: escrowed {sandbox.vault_balance(market):,} = {args.price}/s x {args.timeout} s")

    sandbox.chain.advance(args.run_seconds)
    result = digest("result bundle")
    record("4", f"finish after {args.run_seconds} s", sandbox.finish(market, job, node, poster.token, result))
    state = sandbox.job_state(job)
    assert bytes(state.result) == result, "the chain holds the result digest the node posted"

    sandbox.chain.advance(retention)
    record("5", "clean after retention", sandbox.clean(market, job, poster.pubkey, node))

    console.print(steps)
    balances = Table(title="balances (token base units)")
    for column in ("account", "before", "after"):
        balances.add_column(column)
    paid = args.price * min(args.run_seconds, args.timeout)
    balances.add_row("poster", f"{start_balance:,}", f"{sandbox.balance(poster.token):,}")
    balances.add_row("node", "0", f"{sandbox.balance(node.token):,}")
    balances.add_row("market vault", "0", f"{sandbox.vault_balance(market):,}")
    console.print(balances)
    ok = sandbox.balance(node.token) == paid and sandbox.balance(poster.token) == start_balance - paid and sandbox.vault_balance(market) == 0
    console.print(f"node paid {paid:,} for {min(args.run_seconds, args.timeout)} s; rest refunded; vault empty: "
                  + ("[green]verified[/green]" if ok else "[red]MISMATCH[/red]"))
    console.print(f"result digest on-chain: {result.hex()} [green]verified[/green]")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
