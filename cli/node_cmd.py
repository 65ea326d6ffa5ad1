"""`crowd node ...`: the node operator's commands. So far `crowd node health`.

health: the node's report (container engine, GPUs through NVML, free disk of the work
folder) as a table, or one JSON document with `--output json`. Exit 0 when the node can
run containers, 1 when its container engine is unreachable (a node with no GPU is fine:
CPU markets). Works without the `worker` extra: the report then says what is missing.

More verbs: add a (name, help, add_arguments, handler) row to VERBS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, TextIO

DEFAULT_WORK_DIR = "~/.local/share/crowdcompute/node"


def _health_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", choices=("text", "json"), default="text", help="output format")
    parser.add_argument(
        "--work-dir", default=os.environ.get("CROWD_NODE_DIR", DEFAULT_WORK_DIR),
        help=f"the node's job data folder, whose free disk is reported (default: $CROWD_NODE_DIR, else {DEFAULT_WORK_DIR})",
    )


def _health(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..worker.health import node_report

    report = asyncio.run(node_report(work_dir=Path(args.work_dir).expanduser()))
    if args.output == "json":
        print(json.dumps(report.to_json(), sort_keys=True), file=out)
    else:
        _print_report(report, out)
    return 0 if report.can_run else 1


VERBS: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[..., int]]] = [
    ("health", "the node's report: container engine, GPUs, free disk", _health_arguments, _health),
]


def register(commands: Any) -> None:
    """Add `node` and its subcommands to the `crowd` parser's subparsers."""
    node = commands.add_parser("node", help="run a worker node: " + ", ".join(name for name, *_ in VERBS))
    verbs = node.add_subparsers(dest="node_command", metavar="COMMAND", required=True)
    for name, help_text, add_arguments, handler in VERBS:
        parser = verbs.add_parser(name, help=help_text, description=help_text)
        add_arguments(parser)
        parser.set_defaults(node_handler=handler)


def run(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    return args.node_handler(args, out or sys.stdout, err or sys.stderr)


def _gib(n: int | None) -> str:
    return "?" if n is None else f"{n / 2**30:.1f} GiB"


def _print_report(report: Any, out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="crowd node health", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    engine = report.engine
    if engine.reachable:
        table.add_row("engine", f"{engine.product} {engine.version} (API {engine.api_version}) at {engine.base_url}")
        details = [f"cgroup v{engine.cgroup_version}" if engine.cgroup_version else None,
                   "user namespaces" if engine.userns else None, "rootless" if engine.rootless else None,
                   "security: " + "; ".join(engine.security) if engine.security else "no seccomp/AppArmor profile reported",
                   "runtimes: " + ", ".join(engine.runtimes) if engine.runtimes else None]
        table.add_row("", ", ".join(d for d in details if d))
    else:
        table.add_row("engine", f"[red]unreachable[/red]: {engine.error}")
    gpu = report.gpu
    if gpu.gpus:
        table.add_row("GPUs", f"{len(gpu.gpus)}, driver {gpu.driver_version}, CUDA {gpu.cuda_version}")
        for g in gpu.gpus:
            used = "" if g.memory_used is None else f", {_gib(g.memory_used)} used"
            util = "" if g.utilization is None else f", {g.utilization}% busy"
            temp = "" if g.temperature_c is None else f", {g.temperature_c} °C"
            table.add_row(f"  GPU {g.index}", f"{g.name}: {_gib(g.memory_total)}{used}{util}{temp}")
    else:
        table.add_row("GPUs", f"none ({gpu.error})" if gpu.error else "none")
    table.add_row("disk", f"{_gib(report.disk_free)} free of {_gib(report.disk_total)} at {report.work_dir}")
    if report.node:
        table.add_row("node", report.node)
    Console(file=out, width=max(100, Console(file=out).width), highlight=False).print(table)
