"""`crowd node start` (= `python -m crowdcompute.worker`): the checks before joining, logging,
signals, and the Node's run.

Before joining it checks and prints: the keypair and its address, SOL for fees (refused
under MIN_SOL), the market (exists, open, price, maximum timeout), the node's token account
(created by the first `finish` if missing), the container engine and the GPUs, and last
the node's stake against the market's minimum (stake_setup.py: with `--stake AMOUNT` a node
short of it stakes, after the operator's yes). A node with no GPU serves CPU jobs; a GPU
job it is assigned is settled at once with the reason. A node short of stake starts and
waits for its stake (stake_gate.py).

SIGINT/SIGTERM: the node leaves the queue, quits running jobs (re-queued at the front)
and the process exits 0. A second signal exits at once (the chain's reclaim covers it).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from typing import TextIO

from ..common.output import Output
from .settings import MIN_SOL, state_dir as state_dir_of

__all__ = ["run_daemon", "main", "configure_logging"]

log = logging.getLogger("crowdcompute.worker.daemon")


def configure_logging(level: str = "INFO", log_file: str | None = None, stream: TextIO | None = None) -> None:
    """One structured line per event: time, level, part, then key=value pairs (job=, op=, event=)."""
    fmt = logging.Formatter("%(asctime)s.%(msecs)03d %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    root = logging.getLogger("crowdcompute")
    root.setLevel(level)
    root.handlers.clear()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(fmt)
    root.addHandler(handler)
    if log_file:
        fh = logging.FileHandler(log_file)
        fh.setFormatter(fmt)
        root.addHandler(fh)
    root.propagate = False


def main(argv: list[str] | None = None, *, prog: str = "python -m crowdcompute.worker") -> int:
    """The daemon alone, with `crowd node start`'s flags (options.py)."""
    from .options import add_start_arguments

    parser = argparse.ArgumentParser(prog=prog, description="Run the node daemon: join a market, run jobs, settle them.")
    add_start_arguments(parser)
    return run_daemon(parser.parse_args(argv))


def run_daemon(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    output = Output("text", out, err)
    configure_logging(args.log_level, args.log_file, err)
    try:
        return asyncio.run(_main(args, output))
    except _Refused as exc:
        output.error(str(exc))
        return 1


class _Refused(Exception):
    pass


async def _main(args: argparse.Namespace, out: Output) -> int:
    from ..client.connect import client_from_options
    from ..client.errors import CrowdError
    from .executor_factory import custom_executor, images_line, images_options, make_executor
    from .health import probe_health
    from .node import Node, NodeOptions
    from .services_setup import NodeServices
    from .stake_setup import ask_on_terminal, stake_step

    try:
        crowd = client_from_options(args)
        services = NodeServices.from_args(args)
    except CrowdError as exc:
        raise _Refused(str(exc)) from None
    async with crowd:
        me = str(crowd.pubkey)
        try:
            market = await crowd.get_market(args.market)
            sol = await crowd.balance()
            tokens = await crowd.token_balance(market.mint)
        except CrowdError as exc:
            raise _Refused(str(exc)) from None
        out.status(f"node     {me} ({args.keypair or 'default keypair'})")
        out.status(f"cluster  {crowd.cluster.url}")
        out.status(f"balance  {sol / 1e9:g} SOL, {tokens} tokens of {market.mint}")
        out.status(f"market   {market.address}: {market.state.lower()}, {market.price_per_second}/s, jobs up to {market.max_timeout}s")
        if sol < MIN_SOL:
            raise _Refused(f"{me} holds {sol / 1e9:g} SOL: at least {MIN_SOL / 1e9:g} SOL is needed for transaction fees")
        if market.state != "Open":
            raise _Refused(f"market {market.address} is closing: it takes no new nodes")
        state_dir = state_dir_of(args.state_dir, me)
        state_dir.mkdir(parents=True, exist_ok=True)
        report, summary = await asyncio.to_thread(probe_health, state_dir)
        out.status(f"health   {summary}")
        if (report is None or not report.can_run) and not custom_executor():
            raise _Refused("the container engine is not reachable: start it (or give this user access) and try again")
        found_gpus = len(report.gpu.gpus) if report is not None else 0
        gpus = found_gpus if args.gpus == "auto" else int(args.gpus)
        if gpus > found_gpus:
            raise _Refused(f"--gpus {gpus}: this node has {found_gpus} GPU(s)")
        try:
            await stake_step(crowd, market, amount=getattr(args, "stake", None), duration=getattr(args, "stake_duration", None),
                             yes=getattr(args, "yes", False), status=out.status, confirm=ask_on_terminal(out.err_console))
        except CrowdError as exc:
            raise _Refused(str(exc)) from None
        out.status(f"state    {state_dir}")
        resources = {"state_dir": state_dir, **{k: getattr(args, k, None) for k in (
            "resource_cache", "s3_endpoint", "hf_endpoint", "ollama_registry")}}
        executor = make_executor(work_dir=state_dir / "work", log_dir=state_dir / "logs", gpus=gpus, node=me,
                                 max_ops=getattr(args, "max_ops", None), disk_budget=getattr(args, "disk_budget", None),
                                 endpoints=services.registry, allow_egress=services.allow_egress,
                                 endpoint_url=services.endpoint_address if services.serves else None,
                                 images=images_options(args, state_dir), resources=resources,
                                 allow_private_sources=tuple(getattr(args, "allow_private_source", None) or ()))
        out.status(f"images   {images_line(images_options(args, state_dir))}")
        preflight = getattr(executor, "preflight", None)
        problem = await preflight() if preflight is not None else None
        if problem:  # an unconfined engine, or job networks that would reach this host
            raise _Refused(f"not serving: {problem}")
        retention = {k: v for k, v in (("log_retention_s", getattr(args, "log_retention", None)),
                                          ("log_budget", getattr(args, "log_budget", None))) if v is not None}
        options = NodeOptions(market=market.address, state_dir=state_dir, concurrency=max(1, args.concurrency), gpus=gpus,
                              **retention, serves_endpoints=services.serves,
                              report=report)
        node = Node(crowd, executor, options)
        try:
            door = await services.start(crowd, node.owner_of, state_dir / "logs", report, getattr(executor, "engine", None))
        except CrowdError as exc:
            raise _Refused(str(exc)) from None
        if door is not None:
            out.status(f"services front door {door}, public at {services.public_url} (published in the node's profile)")
        else:
            out.status("services none: no --public-url, so jobs that expose ports are refused with the reason")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal(signum: int) -> None:
            if stop.is_set():
                log.warning("second signal %s: exiting now (running jobs will be reclaimed after their timeout)", signal.Signals(signum).name)
                os._exit(1)
            log.info("signal %s: leaving the queue and quitting running jobs", signal.Signals(signum).name)
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal, signum)
        if getattr(args, "prefetch", None) and getattr(executor, "resources", None) is not None:
            from .resources.prefetch import prefetch_in_background, read_prefetch

            try:
                wanted = await read_prefetch(args.prefetch, await crowd.storage())
            except ValueError as exc:
                raise _Refused(str(exc)) from None
            out.status(f"prefetch {len(wanted)} resources from {args.prefetch}")
            prefetching = prefetch_in_background(executor.resources, wanted)  # noqa: F841 - kept for the run
        out.status("joining the market (SIGINT/SIGTERM to leave)")
        try:
            return await node.run(stop)
        finally:
            await services.close()
