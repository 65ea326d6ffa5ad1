"""The node's job logs (`<state>/logs/<job>.log`) kept within a retention and a budget.

Each job's log is capped while it is written (logs.py, 256 MiB), but a node runs jobs for
months: without this, every job's log stays for ever. After each job and at start the node
removes the logs of jobs it no longer runs that are older than `retention_s` (modified
last that long ago), then, while the folder holds more than `budget` bytes, the oldest of
the rest. The logs of running jobs are never removed (their bundles are still to come).
The chain and the stored bundles are the record; these files are the operator's copy.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

__all__ = ["prune_logs", "LOG_RETENTION_S", "LOG_BUDGET"]

log = logging.getLogger("crowdcompute.worker.logs")

LOG_RETENTION_S = 7 * 24 * 3600
LOG_BUDGET = 1 << 30


def prune_logs(folder: Path, *, keep: set[str], retention_s: float = LOG_RETENTION_S, budget: int = LOG_BUDGET,
               now: float | None = None) -> list[str]:
    """Removes what is past retention, then the oldest until within budget; the removed jobs."""
    now = time.time() if now is None else now
    files = []
    for path in Path(folder).glob("*.log"):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        files.append((stat.st_mtime, stat.st_size, path))
    files.sort()  # oldest first
    total = sum(size for _, size, _ in files)
    removed = []
    for mtime, size, path in files:
        job = path.stem
        if job in keep:
            continue
        if now - mtime > retention_s or total > budget:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            total -= size
            removed.append(job)
    if removed:
        log.info("event=logs-pruned removed=%d kept_bytes=%d", len(removed), total)
    return removed
