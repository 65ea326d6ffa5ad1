"""`why(job)`: why a job is not running yet, from the job and its market alone (no peer
offers it: the chain's queue is the whole truth of who waits for what)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .accounts import JobStatus
from ..durations import format_duration

if TYPE_CHECKING:
    from ..core import ClientCore

__all__ = ["Explanation", "why"]


@dataclass
class Explanation:
    job: str
    status: str
    reasons: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"job": self.job, "status": self.status, "reasons": self.reasons, **self.facts}


async def why(crowd: ClientCore, job: Any) -> Explanation:
    view = await crowd.view(job)
    j, m = view.job, view.market
    out = Explanation(str(j.address), view.status)
    if m is None:
        out.reasons.append(f"its market {j.market} no longer exists")
        return out
    if view.status in JobStatus.SETTLED:
        out.reasons.append(f"it is not waiting: it {_settled[view.status]}")
        return out
    if view.status == JobStatus.RUNNING:
        entry = j.entry(m)
        out.facts.update(node=str(entry.node), started_at=entry.since)
        out.reasons.append(f"it is running on node {entry.node} (for {format_duration(max(0, time.time() - entry.since))})")
        return out
    queue = m.queue()
    place = next((i for i, e in enumerate(queue, start=1) if e.job == j.address), None)
    running = len(m.running())
    waiting_nodes = len(m.waiting_nodes())
    out.facts.update(queue_position=place, jobs_waiting=m.queue_len if m.queue_side == "Jobs" else 0, nodes_waiting=waiting_nodes,
                     nodes_busy=running, market_state=m.state.lower(), price_per_second=j.price_per_second,
                     market_price_per_second=m.price_per_second, min_stake=m.min_stake)
    ahead = (place or 1) - 1
    if ahead:
        out.reasons.append(f"{ahead} job{'s' * (ahead != 1)} ahead of it in the queue (it is number {place} of {m.queue_len})")
    else:
        out.reasons.append(f"it is first in the queue (of {m.queue_len} waiting jobs)")
    if waiting_nodes == 0:
        busy = f"; {running} node{'s are' if running != 1 else ' is'} busy with other jobs" if running else ""
        out.reasons.append(f"no node is waiting for work in market {m.address}{busy}")
    if m.state == "Closing":
        out.reasons.append("the market is closing: no new node may queue, so only a node taking waiting jobs can run it")
    if m.min_stake:
        out.reasons.extend(await _stake_reasons(crowd, j, m, out))
    if m.price_per_second > j.price_per_second:
        out.reasons.append(f"the market's price rose to {m.price_per_second}/s since it was posted at {j.price_per_second}/s "
                           f"(the job keeps its price; nodes see the market's)")
    if j.attempts:
        out.reasons.append(f"it went back to the queue {j.attempts} time{'s' * (j.attempts != 1)} after a node went silent "
                           f"(refunded after {j.max_attempts})")
    return out


async def _stake_reasons(crowd: ClientCore, job: Any, market: Any, out: Explanation) -> list[str]:
    """The market's stake minimum, and, when the caller may be a node (it holds a stake
    under the market's config, or did not post this job), what its own stake lacks."""
    from ..staking.admission import admission, market_staking

    config, staking = await market_staking(crowd, market)
    out.facts["staking_config"] = str(config) if config is not None else None
    if staking is None:
        missing = f"its staking config {config} does not exist" if config is not None else "it names no staking config"
        return [f"the market admits only nodes with a stake weight of at least {market.min_stake:,}, but {missing}: "
                f"no node can be admitted until one exists"]
    reasons = [f"the market admits only nodes with a stake weight of at least {market.min_stake:,} (staking config {config}), "
               f"which limits who can serve it"]
    if crowd.keypair is None:
        return reasons
    mine = await admission(crowd, market, config=config)
    if mine.stake is None and crowd.pubkey in (job.poster, job.payer):
        return reasons  # the poster asking about its own job: no advice to stake
    out.facts["your_admission"] = mine.to_json()
    if not mine.admitted:
        reasons.append(f"your wallet {crowd.pubkey} is short of stake to serve it: {mine.summary}")
    elif crowd.pubkey not in market.waiting_nodes():
        reasons.append(f"your wallet {crowd.pubkey} has the stake (weight {mine.weight:,}) but no node of it waits in this market")
    return reasons


_settled = {JobStatus.DONE: "is done (a node finished it)", JobStatus.ENDED: "was ended by its poster",
            JobStatus.FAILED: "failed (reclaimed from silent nodes too often; refunded)"}
