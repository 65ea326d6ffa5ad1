"""The node's stake check before `work`: a market with `min_stake` > 0 admits only nodes whose
stake weight reaches it (the jobs program refuses a `work` below it), so a node short of it
sends no `work` at all. It says once what is missing, and waits: the node watches its
stake account (it may not exist yet), so staking later (`crowd stake create|topup|extend
--market M`) lets it join at the next notification, without a restart.

The figures and the staking config are client/staking/admission.py's (the same as `crowd node
status`, `crowd node start --stake` and `crowd job why` show).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from solders.pubkey import Pubkey

from crowdcompute.client.jobs.accounts import Market
from crowdcompute.client.staking.admission import Admission, admission
from ..client.crowd import CrowdClient

__all__ = ["StakeGate"]

log = logging.getLogger("crowdcompute.worker.stake")


class StakeGate:
    def __init__(self, crowd: CrowdClient, watch: Callable[[Pubkey], Any], problem: Callable[[str], None]) -> None:
        """`watch(address)`: subscribe to the node's stake account; `problem(text)`: report
        (log and keep for node.json) what keeps the node out."""
        self.crowd = crowd
        self.watch = watch
        self.problem = problem
        self.config: Pubkey | None = None  # resolved once: a market's staking config never changes
        self.last: Admission | None = None

    async def admits(self, market: Market) -> bool:
        """Whether the node may send `work` to `market` now (a fresh read of its stake)."""
        node = self.crowd.pubkey
        if market.min_stake == 0:
            self.last = Admission(market.address, node, 0)
            return True
        found = await admission(self.crowd, market, config=self.config)
        if found.config is not None and self.config is None:
            self.config = found.config
            await self.watch(self.crowd.stakes.program.stake(found.config, node))
        before, self.last = self.last, found
        if found.admitted:
            if before is None or not before.admitted or before.min_stake != found.min_stake:
                log.info("node=%s event=stake-admitted weight=%d min_stake=%d config=%s", node, found.weight, found.min_stake, found.config)
            return True
        if before is None or before.admitted or before.summary != found.summary:
            how = f": {found.remedies[0].command(market.address)}" if found.remedies else ""
            self.problem(f"event=stake-short market={market.address}: {found.summary}; not entering the queue until the stake "
                         f"reaches the minimum{how}")
        return False

    def to_json(self) -> dict[str, Any] | None:
        return self.last.to_json() if self.last is not None else None
