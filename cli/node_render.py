"""What `crowd node health` and `crowd node status` print for humans (their JSON is the
worker's own to_json)."""

from __future__ import annotations

import time
from typing import Any, TextIO

from ..common.sizes import human_size

__all__ = ["print_health", "print_status", "image_cache_lines", "resource_cache_lines"]


def print_status(console: Any, status: Any) -> None:
    """worker.api.NodeStatus, a line per concern."""
    d = status.daemon
    market = status.market
    console.print(f"node     {status.node}")
    console.print(f"daemon   {'running, pid ' + str(d.get('pid')) if d['running'] else 'not running'}"
                  + (f"  (outcomes {d.get('outcomes')})" if d.get("outcomes") else ""))
    if d.get("last_problem"):
        console.print(f"problem  {d['last_problem']}")
    console.print(f"market   {market.address} ({market.state.lower()}, {market.price_per_second}/s)")
    console.print(f"stake    {_stake_line(status.admission)}")
    positions = status.queue_positions
    console.print(f"queue    {'position ' + ', '.join(str(p) for p in positions) if positions else 'not waiting'}")
    jobs = status.running_jobs
    console.print(f"running  {', '.join(j['job'] for j in jobs) if jobs else 'no job'}")
    console.print(f"earned   {status.earned} tokens over {status.jobs_settled} settled jobs; "
                  f"balance {status.tokens} tokens, {status.sol / 1e9:g} SOL")
    console.print(f"health   {status.health['summary']}")
    for line in image_cache_lines(getattr(status, "images", None)):
        console.print(line)
    for line in resource_cache_lines(getattr(status, "resources", None)):
        console.print(line, markup=False)


IMAGE_ROWS = 10  # most recently used images listed; the rest counted


def image_cache_lines(cache: dict[str, Any] | None) -> list[str]:
    """The node's image cache (worker images/record.py cache_status): a summary line, then
    its images, most recently used first, each with its size and last use."""
    if cache is None:
        return ["images   no image cache record (the node has not pulled here)"]
    images = cache.get("images") or []
    head = (f"images   {len(images)} pulled, {_size(cache.get('held') or 0)} of a {_size(cache.get('budget') or 0)} cache"
            if images else f"images   none pulled yet; cache of {_size(cache.get('budget') or 0)}")
    lines = [head]
    for row in images[:IMAGE_ROWS]:
        used = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row.get("last_used") or 0))
        lines.append(f"         {row.get('image')}  {_size(row.get('size') or 0)}, last used {used}")
    if len(images) > IMAGE_ROWS:
        lines.append(f"         ... and {len(images) - IMAGE_ROWS} more")
    return lines


def resource_cache_lines(cache: dict[str, Any] | None) -> list[str]:
    """The node's resource cache (worker resources/status.py): a summary line, then its
    resources, most recently used first, each with its size, last use and pin."""
    if cache is None:
        return ["resources no resource cache record (the node has fetched none here)"]
    rows = cache.get("resources") or []
    budget = f" of a {_size(cache['budget'])} cache" if cache.get("budget") else ""
    lines = [f"resources {len(rows)} held, {_size(cache.get('held') or 0)}{budget}" if rows else f"resources none held yet{budget}"]
    for row in rows[:IMAGE_ROWS]:
        used = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row.get("last_used") or 0))
        pin = ", pinned (--prefetch)" if row.get("pinned") else ""
        lines.append(f"          {row.get('source')}  {_size(row.get('size') or 0)}, last used {used}{pin}")
    if len(rows) > IMAGE_ROWS:
        lines.append(f"          ... and {len(rows) - IMAGE_ROWS} more")
    return lines


_size = human_size


def _stake_line(admitted: Any) -> str:
    if not admitted.required:
        return "none asked by this market"
    if admitted.admitted or not admitted.remedies:
        return admitted.summary
    return f"short: {admitted.summary}; {admitted.remedies[0].command(admitted.market)}"


def _gib(n: int | None) -> str:
    return "?" if n is None else f"{n / 2**30:.1f} GiB"


def print_health(report: Any, out: TextIO) -> None:
    """worker.api.NodeReport as a table."""
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
