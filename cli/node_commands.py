"""`crowd node start|status`: the node operator's daemon and its state.

    crowd node start --market M [-u URL] [-k KEYPAIR] [--storage S] [--concurrency N] [--stake AMOUNT [--stake-duration D] [--yes]]
    crowd node status [--market M]

`start` checks before joining (keypair, SOL for fees, the market, the container engine and
GPUs, the node's stake against the market's minimum; `--stake AMOUNT` stakes what is
missing after the operator's yes) and prints what it found, then runs the daemon
(crowdcompute.worker.node) until SIGINT/SIGTERM: it leaves the queue, quits running jobs
and exits 0. `status` reads the chain (the stake's admission, queue positions, running
jobs, earnings) and the daemon's node.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

from .common import Output, add_chain_options, client_from_args, run_command

__all__ = ["add_verbs", "run", "VERBS", "default_state_dir"]

VERBS = ("start", "status")
MIN_SOL_LAMPORTS = 10_000_000  # 0.01 SOL: a few thousand fees; less is refused at start


def default_state_dir(node: str | None = None) -> Path:
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "crowdcompute" / "node"
    return base / node if node else base


def add_verbs(rows: list) -> None:
    """Adds start and status to node_cmd's VERBS rows (name, help, add_arguments, handler)."""
    names = {row[0] for row in rows}
    for row in (("start", "run the node daemon: join a market, run jobs, settle them", _start_arguments, run),
                ("status", "the node's health, market, stake admission, queue position, current jobs and earnings", _status_arguments, run)):
        if row[0] not in names:
            rows.append(row)


def _start_arguments(start: argparse.ArgumentParser) -> None:
    start.add_argument("--market", required=True, help="the market to serve")
    start.add_argument("--concurrency", type=int, default=1, help="jobs run at once (default 1)")
    start.add_argument("--gpus", default="auto", help="GPUs to offer: auto (all NVIDIA GPUs found), or a number (0: CPU only)")
    start.add_argument("--state-dir", default=None, help="the node's cache (default ~/.local/state/crowdcompute/node/<address>)")
    start.add_argument("--max-ops", type=int, default=None,
                       help="ops one job may have (default 32); a job with more is failed with the reason, unrun")
    start.add_argument("--disk-budget", type=_size, default=None, metavar="SIZE",
                       help="bytes one job's volumes may hold on this disk (default 10GiB); past it the job is stopped and failed")
    start.add_argument("--log-retention", type=_duration, default=None, metavar="DURATION",
                       help="remove settled jobs' logs from the state folder after this (default 7d)")
    start.add_argument("--log-budget", type=_size, default=None, metavar="SIZE",
                       help="most bytes of job logs kept in the state folder, oldest removed first (default 1GiB)")
    start.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    start.add_argument("--log-file", default=None, help="also append the log here")
    stake = start.add_argument_group("stake (markets with a minimum stake weight)")
    stake.add_argument("--stake", metavar="AMOUNT", default=None,
                       help="when the node's stake falls short of the market's minimum, stake AMOUNT before starting (a new "
                            "stake, or a top-up of the node's stake): base units, tokens (1.5tokens), or min (the fewest that "
                            "reach the minimum); shows what it costs and asks first")
    stake.add_argument("--stake-duration", metavar="DURATION", default=None,
                       help="lock of a new stake (default: the staking config's shortest), or a longer lock for the node's "
                            "stake: 30d, 12h, or seconds")
    stake.add_argument("-y", "--yes", action="store_true", help="stake without asking (scripts)")
    add_chain_options(start, storage=True)


def _status_arguments(status: argparse.ArgumentParser) -> None:
    status.add_argument("--market", default=None, help="the market (default: the one the daemon serves, from its node.json)")
    status.add_argument("--state-dir", default=None)
    add_chain_options(status)


def run(args: argparse.Namespace, out: Any = None, err: Any = None) -> int:
    if args.node_command == "start":
        from ..worker.daemon import run_daemon

        return run_daemon(args, out=out, err=err)
    return run_command(args, lambda output: _status(args, output), out=out, err=err)


async def _status(args: argparse.Namespace, out: Output) -> int:
    from ..client.accounts import ZERO_KEY
    from ..client.admission import admission
    from ..client.errors import InvalidInput
    from ..worker.chain import MyEntries
    from ..worker.recovery import LocalState

    async with client_from_args(args) as crowd:
        me = str(crowd.pubkey)
        folder = Path(args.state_dir) if args.state_dir else default_state_dir(me)
        daemon = LocalState(folder).read_status() if folder.is_dir() else None
        market_address = args.market or (daemon or {}).get("market")
        if not market_address:
            raise InvalidInput("no market: give --market (no daemon status found in " + str(folder) + ")")
        market = await crowd.get_market(market_address)
        mine = MyEntries.of(market, crowd.pubkey)
        positions = await crowd.node_positions(market.address, crowd.pubkey)
        views = await crowd.list_jobs(market=market.address, node=crowd.pubkey)
        settled = [v.job for v in views if v.job.node != ZERO_KEY and not v.job.is_open]
        earned = sum(j.paid for j in settled)
        alive = bool(daemon) and not daemon.get("stopped") and _pid_alive(daemon.get("pid"))
        admitted = await admission(crowd, market)
        data: dict[str, Any] = {
            "node": me, "market": str(market.address), "market_state": market.state.lower(),
            "daemon": {"running": alive, **({k: daemon[k] for k in ("pid", "started_at", "outcomes", "last_problem") if k in daemon} if daemon else {})},
            "queue_positions": positions, "waiting_entries": [e.index for e in mine.waiting],
            "running_jobs": [{"job": str(e.job), "started_at": e.since} for e in mine.running],
            "jobs_settled": len(settled), "earned": earned, "admission": admitted.to_json(),
            "sol": await crowd.balance(), "tokens": await crowd.token_balance(market.mint),
            "health": await asyncio.to_thread(_health),
        }

        def human(console: Any) -> None:
            d = data["daemon"]
            console.print(f"node     {me}")
            console.print(f"daemon   {'running, pid ' + str(d.get('pid')) if d['running'] else 'not running'}"
                          + (f"  (outcomes {d.get('outcomes')})" if d.get("outcomes") else ""))
            if d.get("last_problem"):
                console.print(f"problem  {d['last_problem']}")
            console.print(f"market   {market.address} ({data['market_state']}, {market.price_per_second}/s)")
            console.print(f"stake    {_stake_line(admitted)}")
            console.print(f"queue    {'position ' + ', '.join(str(p) for p in positions) if positions else 'not waiting'}")
            jobs = data["running_jobs"]
            console.print(f"running  {', '.join(j['job'] for j in jobs) if jobs else 'no job'}")
            console.print(f"earned   {earned} tokens over {len(settled)} settled jobs; balance {data['tokens']} tokens, {data['sol'] / 1e9:g} SOL")
            console.print(f"health   {data['health']['summary']}")

        out.emit(data, human)
    return 0


def _stake_line(admitted: Any) -> str:
    if not admitted.required:
        return "none asked by this market"
    if admitted.admitted or not admitted.remedies:
        return admitted.summary
    return f"short: {admitted.summary}; {admitted.remedies[0].command(admitted.market)}"


def _health() -> dict[str, Any]:
    """The container engine and GPUs (worker/health.py's report), as the daemon checks them."""
    from ..worker.daemon import probe_health

    report, summary = probe_health(Path.cwd())
    return {"summary": summary, **(report.to_json() if report is not None else {})}


def _pid_alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
        return True
    except (TypeError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True


def _duration(text: str) -> int:
    from ..client.durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _size(text: str) -> int:
    """"1GiB", "512MiB", or bytes."""
    units = {"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
    number = text.rstrip("KMGTiB")
    unit = text[len(number):]
    if not number.isdigit() or unit not in units:
        raise argparse.ArgumentTypeError(f"expected a size like 1GiB or 512MiB, got {text!r}")
    return int(number) * units[unit]
