"""`EngineFeeds`: the default JobFeeds, over the container engine and the node's log folder.

Stats come from the engine's one-off stats of each running container labelled with the
job (`crowdcompute.job`, `crowdcompute.role=op`; containers.py), one op per container
(the newest try when an op restarted). GPU figures come from NVML, read once per call,
only for ops whose container asked for GPUs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable

from ..containers import LABEL_JOB, LABEL_NODE, LABEL_OP, LABEL_ROLE
from ..engine import Engine
from ..nvml import read_gpus
from .stats import container_stats, gpu_stats

__all__ = ["EngineFeeds"]


class EngineFeeds:
    def __init__(self, engine: Engine, log_dir: Path, owners: Callable[[str], str | None], *,
                 node: str | None = None, nvml: Any = None) -> None:
        """`owners(job)`: the poster of a job running here, else None (the node's table).
        `node`: only this node's containers (nodes may share an engine). `nvml`: what
        `read_gpus` reads (tests hand a recording); by default pynvml."""
        self.engine = engine
        self.log_dir = Path(log_dir)
        self._owners = owners
        self.node = node
        self.nvml = nvml

    def owner(self, job: str) -> str | None:
        return self._owners(job)

    def log_path(self, job: str) -> Path:
        if "/" in job or "\0" in job or job in ("", ".", ".."):
            raise ValueError(f"job {job[:80]!r} is not an address")
        return self.log_dir / f"{job}.log"

    async def stats(self, job: str) -> dict[str, dict[str, Any]]:
        filters = [f"{LABEL_JOB}={job}", f"{LABEL_ROLE}=op"]
        if self.node:
            filters.append(f"{LABEL_NODE}={self.node}")
        listed = await self.engine.call(lambda api: api.containers(filters={"label": filters, "status": "running"}),
                                        what=f"containers of job {job}")
        newest: dict[str, dict[str, Any]] = {}
        for container in listed:
            op = (container.get("Labels") or {}).get(LABEL_OP)
            if op and (op not in newest or container.get("Created", 0) > newest[op].get("Created", 0)):
                newest[op] = container
        if not newest:
            return {}
        wants_gpu = await asyncio.gather(*(self._gpu_op(c["Id"]) for c in newest.values()))
        reading = None
        if any(wants_gpu):
            reading = await asyncio.to_thread(read_gpus, self.nvml)
        raws = await asyncio.gather(*(self._raw(c["Id"]) for c in newest.values()), return_exceptions=True)
        out: dict[str, dict[str, Any]] = {}
        for (op, _), raw, gpu in zip(newest.items(), raws, wants_gpu):
            if isinstance(raw, BaseException):
                continue  # the container ended between the listing and its stats
            out[op] = container_stats(raw) | {"gpus": gpu_stats(reading) if gpu and reading else []}
        return out

    async def _raw(self, container: str) -> dict[str, Any]:
        # stream=False: the engine samples twice (about a second apart) so CPU has a delta
        return await self.engine.call(lambda api: api.stats(container, stream=False), what="container stats")

    async def _gpu_op(self, container: str) -> bool:
        info = await self.engine.call(lambda api: api.inspect_container(container), what="inspect container")
        requests = (info.get("HostConfig") or {}).get("DeviceRequests") or []
        return any("gpu" in caps for r in requests for caps in (r.get("Capabilities") or []))  # [["gpu"]]
