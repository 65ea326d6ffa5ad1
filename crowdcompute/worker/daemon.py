"""`crowd node start` (= `python -m crowdcompute.worker`): the checks before joining, logging,
signals, and the Node's run.

Before joining it checks and prints: the keypair and its address, SOL for fees (refused
under MIN_SOL), the market (exists, open, price, maximum timeout), the node's token account
(created by the first `finish` if missing), the container engine and the GPUs. A node with
no GPU serves CPU jobs; a GPU job it is assigned is settled at once with the reason.

SIGINT/SIGTERM: the node leaves the queue, quits running jobs (re-queued at the front)
and the process exits 0. A second signal exits at once (the chain's reclaim covers it).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

__all__ = ["run_daemon", "probe_health", "make_executor", "configure_logging"]

log = logging.getLogger("crowdcompute.worker.daemon")

MIN_SOL = 10_000_000  # lamports: a few thousand transaction fees
# Tests and embedders may give another executor factory: "module:callable", called as
# factory(work_dir=, log_dir=, gpus=) and returning an object with Executor's interface.
EXECUTOR_ENV = "CROWD_NODE_EXECUTOR"


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


def probe_health() -> dict[str, Any]:
    """The container engine and GPUs: worker/health.py's report when it is installed, else a
    ping of the engine and an NVML count."""
    try:
        health = importlib.import_module("crowdcompute.worker.health")
    except ImportError:
        health = None
    if health is not None and hasattr(health, "report"):
        try:
            report = health.report()
            data = report.to_json() if hasattr(report, "to_json") else dict(report)
            data.setdefault("summary", str(report))
            return data
        except Exception as exc:  # the report itself failing is a health finding
            return {"summary": f"health report failed: {type(exc).__name__}: {exc}", "engine": False, "gpus": 0}
    engine, gpus, vram = _engine_ok(), 0, 0
    try:
        import pynvml

        pynvml.nvmlInit()
        gpus = pynvml.nvmlDeviceGetCount()
        if gpus:
            vram = min(pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(i)).total for i in range(gpus))
    except Exception:
        gpus = 0
    summary = f"container engine {'reachable' if engine else 'NOT reachable'}, {gpus} GPU(s)" + (f", {round(vram / 2**30)} GB VRAM" if vram else "")
    return {"summary": summary, "engine": engine, "gpus": gpus, "vram_bytes": vram}


def _engine_ok() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def make_executor(*, work_dir: Path, log_dir: Path, gpus: int) -> Any:
    spec = os.environ.get(EXECUTOR_ENV)
    if spec:
        module, _, name = spec.partition(":")
        return getattr(importlib.import_module(module), name)(work_dir=work_dir, log_dir=log_dir, gpus=gpus)
    from .engine import Engine
    from .executor import Executor

    return Executor(Engine(), work_dir=work_dir, log_dir=log_dir, gpus=gpus)


def run_daemon(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from ..cli.common import Output

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
    from ..cli.common import client_from_args
    from ..cli.node_commands import default_state_dir
    from ..client.errors import CrowdError
    from .node import Node, NodeOptions

    try:
        crowd = client_from_args(args)
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
        health = await asyncio.to_thread(probe_health)
        out.status(f"health   {health['summary']}")
        if not health.get("engine", True) and not os.environ.get(EXECUTOR_ENV):
            raise _Refused("the container engine is not reachable: start it (or give this user access) and try again")
        found_gpus = int(health.get("gpus") or 0)
        gpus = found_gpus if args.gpus == "auto" else int(args.gpus)
        if gpus > found_gpus:
            raise _Refused(f"--gpus {gpus}: this node has {found_gpus} GPU(s)")
        state_dir = Path(args.state_dir) if args.state_dir else default_state_dir(me)
        state_dir.mkdir(parents=True, exist_ok=True)
        out.status(f"state    {state_dir}")
        executor = make_executor(work_dir=state_dir / "work", log_dir=state_dir / "logs", gpus=gpus)
        options = NodeOptions(market=market.address, state_dir=state_dir, concurrency=max(1, args.concurrency), gpus=gpus,
                              vram_bytes=int(health.get("vram_bytes") or 0))
        node = Node(crowd, executor, options)
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
        out.status("joining the market (SIGINT/SIGTERM to leave)")
        return await node.run(stop)
