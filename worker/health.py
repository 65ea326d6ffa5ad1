"""The node's report: container engine, GPUs, free disk (and, from the node daemon, its
key and balances). One plain dataclass with to_json(), for `crowd node health` and the
node's own checks before it enters a market or accepts a job (requirements.py).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .nvml import GpuReading, read_gpus


@dataclass(frozen=True)
class EngineStatus:
    """EngineInfo's shape without the SDK (health works when the docker package is missing)."""

    reachable: bool
    base_url: str | None
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return {"reachable": self.reachable, "base_url": self.base_url, "error": self.error}


@dataclass(frozen=True)
class NodeReport:
    engine: Any  # EngineInfo, or EngineStatus when the SDK is missing
    gpu: GpuReading
    work_dir: str
    disk_free: int | None  # bytes free on the work folder's file system
    disk_total: int | None
    checked_at: str
    node: str | None = None  # the node's address: filled in by the node daemon
    balances: dict[str, int] = field(default_factory=dict)  # ditto: lamports, token units

    @property
    def can_run(self) -> bool:
        return bool(self.engine.reachable)

    def to_json(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at,
            "node": self.node,
            "balances": dict(self.balances),
            "engine": self.engine.to_json(),
            "gpu": self.gpu.to_json(),
            "disk": {"work_dir": self.work_dir, "free": self.disk_free, "total": self.disk_total},
        }


def disk_usage(path: Path) -> tuple[int | None, int | None]:
    """(free, total) of the file system that holds `path`, or of its nearest existing parent."""
    probe = Path(os.path.abspath(path))
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError:
        return None, None
    return usage.free, usage.total


async def node_report(engine: Any = None, *, work_dir: Path, nvml: Any = None) -> NodeReport:
    """Everything at once. `engine`: an Engine (default: one from the environment); `nvml`:
    pynvml or something presenting its functions (default: the real module)."""
    import asyncio

    engine_info = await _engine_info(engine)
    gpu = await asyncio.get_running_loop().run_in_executor(None, read_gpus, nvml)  # NVML blocks too
    free, total = disk_usage(work_dir)
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    return NodeReport(engine_info, gpu, str(work_dir), free, total, now)


async def _engine_info(engine: Any) -> Any:
    try:
        from .engine import Engine
    except ImportError as exc:
        return EngineStatus(False, None, f"the docker package is not installed ({exc.name}): pip install 'crowdcompute[worker]'")
    own = engine is None
    engine = engine or Engine(retries=0)
    try:
        return await engine.info()
    finally:
        if own:
            engine.close()


def probe_health(state_dir: Path) -> tuple[NodeReport | None, str]:
    """(the report or None, one line): the engine, the GPUs, the state folder's disk. For the
    daemon's checks before joining and `crowd node status`; blocking (run it off the loop)."""
    import asyncio

    try:
        report = asyncio.run(node_report(work_dir=state_dir))
    except Exception as exc:  # the report itself failing is a health finding
        return None, f"health report failed: {type(exc).__name__}: {exc}"
    engine = report.engine
    gpus = report.gpu.gpus
    summary = (f"container engine {'reachable' if engine.reachable else 'NOT reachable'}, {len(gpus)} GPU(s)"
               + (f" ({', '.join(g.name for g in gpus)})" if gpus else "")
               + (f", {report.disk_free / 2**30:.1f} GiB free in {report.work_dir}" if report.disk_free is not None else ""))
    return report, summary

