"""`crowd market create|get|list|update|close`: a market authority's commands."""

from __future__ import annotations

import argparse
from types import SimpleNamespace
from typing import Any

from rich.console import Console
from rich.table import Table

from .common import Output, add_chain_options, client_from_args
from .verbs import add_noun, add_verb, on_chain

__all__ = ["register"]

# option -> (MarketSettings field, parses a duration)
_SETTINGS = {
    "price": ("price_per_second", False),
    "max_timeout": ("max_timeout", True),
    "min_stake": ("min_stake", False),
    "retention": ("retention", True),
    "max_attempts": ("max_attempts", False),
    "max_entries_per_node": ("max_entries_per_node", False),
    "slash_penalty": ("slash_penalty", False),
    "reclaim_bounty_bps": ("reclaim_bounty_bps", False),
    "fee_bps": ("fee_bps", False),
}


def register(commands: Any) -> None:
    verbs = add_noun(commands, "market", help="markets: create, get, list, update, close")

    create = add_verb(verbs, "create", on_chain(_create), help="open a market with the wallet as its authority")
    create.add_argument("--mint", required=True, help="SPL Token mint jobs are paid in")
    create.add_argument("--price", type=int, required=True, help="price per second, in the mint's base units")
    create.add_argument("--max-timeout", default="1h", help="longest job timeout (default 1h)")
    create.add_argument("--capacity", type=int, default=64, help="queue entries (default 64)")
    create.add_argument("--min-stake", type=int, default=0,
                        help="stake weight a node needs to work here (amount x lock multiplier, base units; default 0: none; needs --staking-config)")
    create.add_argument("--retention", default="1d", help="how long settled jobs are kept (default 1d)")
    create.add_argument("--max-attempts", type=int, default=3)
    create.add_argument("--max-entries-per-node", type=int, default=4)
    create.add_argument("--staking-config", help="the staking program's config (same mint) whose stakes admit nodes, take slashes "
                                                 "and share fees; fixed for the market's life")
    create.add_argument("--slash-penalty", type=int, default=0, help="base units slashed from a silent node per reclaim")
    create.add_argument("--reclaim-bounty-bps", type=int, default=0, help="share of each slash paid to reclaim's caller (basis points)")
    create.add_argument("--fee-bps", type=int, default=0, help="network fee on every deposit, to the stakers (basis points, at most 1000)")
    add_chain_options(create)

    get = add_verb(verbs, "get", on_chain(_get), help="show a market and its queue")
    get.add_argument("market", metavar="MARKET")
    add_chain_options(get)

    listing = add_verb(verbs, "list", on_chain(_list), help="list markets")
    listing.add_argument("--authority")
    listing.add_argument("--mint")
    add_chain_options(listing)

    update = add_verb(verbs, "update", on_chain(_update), help="change settings (later posts only; jobs keep their terms)")
    update.add_argument("market", metavar="MARKET")
    update.add_argument("--price", type=int)
    update.add_argument("--max-timeout")
    update.add_argument("--min-stake", type=int, help="stake weight a node needs to work here (0: none)")
    update.add_argument("--retention")
    update.add_argument("--max-attempts", type=int)
    update.add_argument("--max-entries-per-node", type=int)
    update.add_argument("--slash-penalty", type=int)
    update.add_argument("--reclaim-bounty-bps", type=int)
    update.add_argument("--fee-bps", type=int)
    add_chain_options(update)

    close = add_verb(verbs, "close", on_chain(_close), help="close a market (or make it closing while jobs remain)")
    close.add_argument("market", metavar="MARKET")
    add_chain_options(close)


def _settings_from(args: argparse.Namespace) -> dict[str, int]:
    from ..client.durations import parse_duration

    values: dict[str, int] = {}
    for option, (name, duration) in _SETTINGS.items():
        value = getattr(args, option, None)
        if value is not None:
            values[name] = parse_duration(value) if duration else value
    return values


async def _create(args: argparse.Namespace, out: Output) -> int:
    from crowdcompute.client.jobs.program import MarketSettings

    values: dict[str, Any] = dict(_settings_from(args))
    if args.staking_config:
        from solders.pubkey import Pubkey

        from ..client.errors import InvalidInput

        try:
            values["staking_config"] = Pubkey.from_string(args.staking_config)
        except ValueError:
            raise InvalidInput(f"not an address: --staking-config {args.staking_config!r}") from None
    settings = MarketSettings(**values)
    async with client_from_args(args) as crowd:
        market = await crowd.open_market(args.mint, settings, capacity=args.capacity)
        data = (await crowd.get_market(market)).to_json()
        out.emit(data, f"created market {market} (price {settings.price_per_second}/s, max timeout {settings.max_timeout}s, "
                       f"{args.capacity} queue entries)")
    return 0


async def _get(args: argparse.Namespace, out: Output) -> int:
    async with client_from_args(args, wallet=False) as crowd:
        market = await crowd.get_market(args.market)
        data = market.to_json()
        data["waiting"] = [{"kind": "job" if e.state == "QueuedJob" else "node",
                            "address": str(e.job if e.state == "QueuedJob" else e.node), "since": e.since} for e in market.queue()]
        data["running_jobs"] = [{"job": str(e.job), "node": str(e.node), "since": e.since} for e in market.running()]
        data["staking"] = await _staking(crowd, market)
        out.emit(data, lambda c: _market_table(c, data))
    return 0


async def _staking(crowd: Any, market: Any) -> dict[str, Any] | None:
    """The staking config the market's nodes stake under (its `staking_config`, shown with
    its curve in place of the bare address); None when it names none."""
    from crowdcompute.client.staking.admission import market_staking

    if market.staking is None:
        return None
    address, config = await market_staking(crowd, market)
    if address is None:
        return None
    found = {"mint": str(config.mint), "authority": str(config.authority), "min_duration": config.min_duration, "max_duration": config.max_duration,
             "min_multiplier": config.min_multiplier, "max_multiplier": config.max_multiplier} if config is not None else {}
    return {"config": str(address), "exists": config is not None, **found}


def _market_table(console: Console, data: dict) -> None:
    from .stake_render import AUTHORITY_POWER, curve

    table = Table(show_header=False, box=None)
    for key in ("address", "state", "authority", "mint", "vault", "price_per_second", "max_timeout", "min_stake", "retention",
                "max_attempts", "max_entries_per_node", "slash_penalty", "reclaim_bounty_bps", "fee_bps",
                "capacity", "jobs", "escrowed"):
        table.add_row(key.replace("_", " "), str(data[key]))
        if key == "min_stake" and data["staking"] is not None:
            staking = data["staking"]
            table.add_row("staking config", staking["config"])
            table.add_row("", curve(SimpleNamespace(**staking)) if staking["exists"] else "does not exist yet: no node can be admitted")
            if staking.get("authority"):
                table.add_row("staking authority", f"{staking['authority']} may " + AUTHORITY_POWER)
    table.add_row("queue", f"{data['queue']['len']} waiting ({data['queue']['side']})")
    table.add_row("running", str(data["running"]))
    console.print(table)
    for w in data["waiting"]:
        console.print(f"  waiting {w['kind']} {w['address']}", markup=False)
    for r in data["running_jobs"]:
        console.print(f"  running job {r['job']} on node {r['node']}", markup=False)


async def _list(args: argparse.Namespace, out: Output) -> int:
    async with client_from_args(args, wallet=False) as crowd:
        markets = await crowd.list_markets(authority=args.authority, mint=args.mint)
        rows = [m.to_json() for m in markets]

        def table(console: Console) -> None:
            t = Table("market", "state", "price/s", "max timeout", "waiting", "running", "jobs")
            for r in rows:
                t.add_row(r["address"], r["state"], str(r["price_per_second"]), str(r["max_timeout"]),
                          f"{r['queue']['len']} {r['queue']['side']}", str(r["running"]), str(r["jobs"]))
            console.print(t)

        out.emit(rows, table)
    return 0


async def _update(args: argparse.Namespace, out: Output) -> int:
    from ..client.errors import InvalidInput

    changes = _settings_from(args)
    if not changes:
        raise InvalidInput("nothing to update: give at least one of --price, --max-timeout, --min-stake, --retention, "
                           "--max-attempts, --max-entries-per-node, --slash-penalty, --reclaim-bounty-bps, --fee-bps")
    async with client_from_args(args) as crowd:
        market = await crowd.update_market(args.market, **changes)
        out.emit(market.to_json(), f"updated market {market.address}: " + ", ".join(f"{k} {v}" for k, v in changes.items()))
    return 0


async def _close(args: argparse.Namespace, out: Output) -> int:
    async with client_from_args(args) as crowd:
        state = await crowd.close_market(args.market)
        text = (f"closed market {args.market}" if state == "closed" else
                f"market {args.market} is closing: it takes no new jobs; close it again once its jobs are cleaned")
        out.emit({"market": args.market, "state": state}, text)
    return 0
