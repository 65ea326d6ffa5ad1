"""What the front door needs from the node about a job (the node provides it; EngineFeeds in
engine_feeds.py is the default, over the container engine and the log folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

__all__ = ["JobFeeds"]


class JobFeeds(Protocol):
    def owner(self, job: str) -> str | None:
        """The poster's address while `job` runs on this node; None otherwise (the API then
        refuses its logs and stats, and a followed log ends)."""

    def log_path(self, job: str) -> Path:
        """The job's log file (worker/logs.py `JobLog`), which may not exist yet."""

    async def stats(self, job: str) -> dict[str, dict[str, Any]]:
        """Per op id of the job's running containers: cpu_percent, memory_bytes,
        memory_limit, net_rx_bytes, net_tx_bytes, pids, gpus (a list, empty without)."""
