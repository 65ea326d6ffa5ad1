"""A node's status, as `crowd node status` shows it: what the chain says (its queue entries,
running jobs, settled jobs and what they paid, its stake's admission, balances), what the
daemon last wrote (node.json in the state folder), its image cache (images.json there) and the health of this host, its disk
measured at the state folder.

    status = await node_status(crowd, market=None, state_dir=None)   # the wallet as the node
    status.earned, status.to_json()
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crowdcompute.client.jobs.accounts import ZERO_KEY
from crowdcompute.client.staking.admission import Admission, admission
from ..client.errors import InvalidInput
from .chain import MyEntries
from .health import probe_health
from .images.record import CACHE_FILE, cache_status
from .resources.cache import STATE_FILE as RESOURCE_FILE
from .resources.status import resource_status
from .recovery import LocalState
from .settings import state_dir as state_dir_of

if TYPE_CHECKING:
    from crowdcompute.client.jobs.accounts import Market
    from ..client.crowd import CrowdClient

__all__ = ["NodeStatus", "node_status"]


@dataclass(frozen=True)
class NodeStatus:
    node: str
    market: Market
    daemon: dict[str, Any]  # running (bool), and from node.json: pid, started_at, outcomes, last_problem
    queue_positions: list[int]  # 1-based places of the node's waiting entries
    waiting_entries: list[int]  # their indexes in the market's entry array
    running_jobs: list[dict[str, Any]]  # {"job", "started_at"}
    jobs_settled: int
    earned: int  # base units paid to this node by the jobs it settled
    admission: Admission
    sol: int  # lamports
    tokens: int  # base units of the market's mint
    health: dict[str, Any]  # {"summary": one line, **NodeReport.to_json()}
    images: dict[str, Any] | None = None  # the image cache (images/record.py cache_status); None: no record
    resources: dict[str, Any] | None = None  # the resource cache (resources/status.py); None: no record

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node, "market": str(self.market.address), "market_state": self.market.state.lower(),
            "daemon": self.daemon, "queue_positions": self.queue_positions, "waiting_entries": self.waiting_entries,
            "running_jobs": self.running_jobs, "jobs_settled": self.jobs_settled, "earned": self.earned,
            "admission": self.admission.to_json(), "sol": self.sol, "tokens": self.tokens, "health": self.health,
            "images": self.images, "resources": self.resources,
        }


async def node_status(crowd: CrowdClient, *, market: str | None = None, state_dir: str | os.PathLike[str] | None = None) -> NodeStatus:
    """The wallet's node in `market` (default: the one its daemon serves, from node.json)."""
    me = str(crowd.pubkey)
    folder = state_dir_of(state_dir, me)
    daemon = LocalState(folder).read_status() if folder.is_dir() else None
    market_address = market or (daemon or {}).get("market")
    if not market_address:
        raise InvalidInput("no market: give --market (no daemon status found in " + str(folder) + ")")
    found = await crowd.get_market(market_address)
    mine = MyEntries.of(found, crowd.pubkey)
    views = await crowd.list_jobs(market=found.address, node=crowd.pubkey)
    settled = [v.job for v in views if v.job.node != ZERO_KEY and not v.job.is_open]
    alive = bool(daemon) and not daemon.get("stopped") and _pid_alive(daemon.get("pid"))
    kept = {k: daemon[k] for k in ("pid", "started_at", "outcomes", "last_problem") if k in daemon} if daemon else {}
    return NodeStatus(
        node=me, market=found, daemon={"running": alive, **kept},
        queue_positions=await crowd.node_positions(found.address, crowd.pubkey),
        waiting_entries=[e.index for e in mine.waiting],
        running_jobs=[{"job": str(e.job), "started_at": e.since} for e in mine.running],
        jobs_settled=len(settled), earned=sum(j.paid for j in settled), admission=await admission(crowd, found),
        sol=await crowd.balance(), tokens=await crowd.token_balance(found.mint),
        health=await asyncio.to_thread(_health, folder),
        images=cache_status(folder / CACHE_FILE),
        resources=resource_status(folder / RESOURCE_FILE),
    )


def _health(folder: Path) -> dict[str, Any]:
    """The container engine and GPUs as the daemon checks them, the disk of the state folder."""
    report, summary = probe_health(folder)
    return {"summary": summary, **(report.to_json() if report is not None else {})}


def _pid_alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
        return True
    except (TypeError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
