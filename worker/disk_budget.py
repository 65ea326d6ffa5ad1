"""A job's disk budget: its volumes measured while it runs, the job stopped past the budget.

The engine's local volume driver has no quotas, and every writable folder of an op is a
volume (containers.py: the root filesystem is read-only, /tmp is memory), so what a job
writes to the host's disk is what its volumes hold. While the job runs, `DiskWatch`
measures them every CHECK_S seconds (their folders on this host, as the engine reports
them: the node runs on the engine's host, as host_fence.py requires too) and, past the
budget, calls `over(reason)` once; the executor then stops the job's ops and fails them
with that reason. The bound on what a job can write is the budget plus what it writes in
one interval. A folder the node cannot read is a reason too (it could not enforce it).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Callable

from ..client.errors import CrowdError
from .containers import LABEL_JOB
from .engine import Engine
from .limits import size_text

__all__ = ["DiskWatch", "usage", "DISK_BUDGET", "CHECK_S", "MAX_FILES"]

log = logging.getLogger(__name__)

DISK_BUDGET = 10 << 30  # bytes a job's volumes may hold (the node's --disk-budget)
CHECK_S = 1.0
MAX_FILES = 200_000  # entries walked per check: more is a reason of its own (inodes, walk time)


class TooManyFiles(CrowdError):
    pass


def usage(folders: list[str], max_files: int = MAX_FILES) -> int:
    """Bytes of disk (allocated blocks) under `folders`, symbolic links not followed."""
    total, seen = 0, 0
    stack = list(folders)
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                seen += 1
                if seen > max_files:
                    raise TooManyFiles()
                st = entry.stat(follow_symlinks=False)
                total += st.st_blocks * 512
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
    return total


class DiskWatch:
    def __init__(self, engine: Engine, job: str, budget: int, over: Callable[[str], None], *,
                 interval: float = CHECK_S, max_files: int = MAX_FILES) -> None:
        self.engine, self.job, self.budget, self.over = engine, job, budget, over
        self.interval, self.max_files = interval, max_files
        self.peak = 0

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            reason = await self.check()
            if reason:
                self.over(reason)
                return

    async def check(self) -> str | None:
        def mountpoints(api: Any) -> list[str]:
            rows = api.volumes(filters={"label": f"{LABEL_JOB}={self.job}"}).get("Volumes") or []
            return [row["Mountpoint"] for row in rows if row.get("Mountpoint")]

        folders = await self.engine.call(mountpoints, what="list the job's volumes")
        try:
            used = await asyncio.to_thread(usage, folders, self.max_files)
        except TooManyFiles:
            return f"the job's volumes hold more than {self.max_files} files (this node's limit per job)"
        except FileNotFoundError:
            return None  # a volume removed between the listing and the walk: the next check sees
        except OSError as exc:
            return f"the node cannot measure the job's volumes to keep its disk budget: {exc}"
        self.peak = max(self.peak, used)
        if used > self.budget:
            return f"the job's volumes hold {used / 2**20:.0f} MiB, over its disk budget of {size_text(self.budget)}"
        return None
