"""Assignment discovery: subscriptions (client/rpc/subscriptions.py, at the node's commitment) to
the market, whose queue entries record every match (`post` pops a waiting node, `work` pops a
waiting job: both change only the market), to each job the node runs (extend changes the
job's timeout, end and reclaim its state), and to other accounts whose changes only wake the
node (`watch_account`: its stake, in a market with a minimum stake).

Each update carries the account's data, which is decoded and handed on as is: no extra read
between the match and the node's reaction. The subscriptions read every account once each
subscription holds, recheck every RECHECK_S while the websocket is up, and poll every POLL_S
while it is down, reconnecting with backoff (and logging both). Never a busy poll.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from solders.pubkey import Pubkey

from crowdcompute.client.jobs.accounts import Job, Market, account_discriminator
from ..client.crowd import CrowdClient
from crowdcompute.client.rpc.subscriptions import AccountSubscriptions, AccountUpdate

__all__ = ["Watcher", "POLL_S", "RECHECK_S"]

POLL_S = 5.0  # while the websocket is down
RECHECK_S = 30.0  # while it is up: a safety net for a notification lost on the way

OnMarket = Callable[[Market], Awaitable[None]]
OnJob = Callable[[Pubkey, "Job | None"], Awaitable[None]]
OnAccount = Callable[[Pubkey], Awaitable[None]]


class Watcher:
    def __init__(self, crowd: CrowdClient, market: Pubkey, on_market: OnMarket, on_job: OnJob, *,
                 on_account: OnAccount | None = None, poll_s: float = POLL_S, recheck_s: float = RECHECK_S) -> None:
        self.crowd = crowd
        self.market = market
        self.on_market = on_market
        self.on_job = on_job
        self.on_account = on_account
        self.jobs: set[Pubkey] = set()
        self.accounts: set[Pubkey] = set()  # other accounts whose changes only wake the node (its stake)
        self.subscriptions = AccountSubscriptions.of(crowd, on_update=self._updated, poll_s=poll_s, recheck_s=recheck_s)
        self.connected = self.subscriptions.connected
        self._program = crowd.program.program_id
        self._market_disc = account_discriminator("Market")
        self._job_disc = account_discriminator("Job")

    # -- what to watch -------------------------------------------------------------------
    async def watch_job(self, job: Pubkey) -> None:
        self.jobs.add(job)
        await self.subscriptions.subscribe(job)

    async def watch_account(self, address: Pubkey) -> None:
        """Calls on_account(address) on each change of `address` (which may not exist yet:
        a stake the operator creates later)."""
        self.accounts.add(address)
        await self.subscriptions.subscribe(address)

    async def unwatch_job(self, job: Pubkey) -> None:
        self.jobs.discard(job)
        await self.subscriptions.unsubscribe(job)

    # -- the loop ------------------------------------------------------------------------
    async def run(self) -> None:
        await self.subscriptions.subscribe(self.market)
        await self.subscriptions.run()

    async def close(self) -> None:
        await self.subscriptions.close()

    async def _updated(self, update: AccountUpdate) -> None:
        address = update.address
        if address in self.accounts:
            if self.on_account is not None:
                await self.on_account(address)
            return
        data = update.data or b""
        ours = update.owner == self._program
        if address == self.market:
            if ours and data[:8] == self._market_disc:
                await self.on_market(Market.from_decoded(address, self.crowd.program.decode_market(data)))
            return
        if address in self.jobs:
            job = Job.from_decoded(address, self.crowd.program.decode_job(data)) if ours and data[:8] == self._job_disc else None
            await self.on_job(address, job)
