"""Assignment discovery: accountSubscribe (PubSub websocket, at the node's commitment) on the
market, whose queue entries record every match (`post` pops a waiting node, `work` pops a
waiting job: both change only the market), on each job the node runs (extend changes the
job's timeout, end and reclaim its state), and on other accounts whose changes only wake the
node (`watch_account`: its stake, in a market with a minimum stake).

Each notification carries the account's data, which is decoded and handed on as is: no
extra read between the match and the node's reaction. On (re)connection everything is read
once (a change between the read and the subscription would otherwise be missed). A missed
notification costs at most RECHECK_S (a read of the same accounts); while the websocket is
down the watcher polls every POLL_S and reconnects with backoff, logging both. Never a busy
poll.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
from typing import Awaitable, Callable

from solders.pubkey import Pubkey

from ..client.accounts import Job, Market, account_discriminator
from ..client.crowd import CrowdClient
from .chain import TRANSIENT, Backoff

__all__ = ["Watcher", "POLL_S", "RECHECK_S"]

log = logging.getLogger("crowdcompute.worker.watcher")

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
        self.accounts: set[Pubkey] = set()  # other accounts whose changes only wake the node (its stake)
        self.poll_s = poll_s
        self.recheck_s = recheck_s
        self.jobs: set[Pubkey] = set()
        self.connected = asyncio.Event()
        self._ws = None
        self._closed = False
        self._ids = itertools.count(1)
        self._pending: dict[int, Pubkey] = {}  # request id -> address
        self._subs: dict[int, Pubkey] = {}  # subscription id -> address
        self._by_address: dict[Pubkey, int] = {}
        self._market_disc = account_discriminator("Market")
        self._job_disc = account_discriminator("Job")

    # -- what to watch -------------------------------------------------------------------
    async def watch_job(self, job: Pubkey) -> None:
        if job in self.jobs:
            return
        self.jobs.add(job)
        if self._ws is not None:
            await self._subscribe(job)
            await self._read_job(job)  # a change before the subscription took effect

    async def watch_account(self, address: Pubkey) -> None:
        """Calls on_account(address) on each change of `address` (which may not exist yet:
        a stake the operator creates later). A missed change costs at most RECHECK_S, as
        the market's resync wakes the node too."""
        if address in self.accounts:
            return
        self.accounts.add(address)
        if self._ws is not None:
            await self._subscribe(address)
            if self.on_account is not None:
                await self.on_account(address)  # a change before the subscription took effect

    async def unwatch_job(self, job: Pubkey) -> None:
        self.jobs.discard(job)
        sub = self._by_address.pop(job, None)
        if sub is not None and self._ws is not None:
            self._subs.pop(sub, None)
            try:
                await self._ws.send(json.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": "accountUnsubscribe", "params": [sub]}))
            except Exception:  # the connection is going away: its subscriptions go with it
                pass

    # -- the loop ------------------------------------------------------------------------
    async def run(self) -> None:
        import websockets

        backoff = Backoff(first=0.2, cap=10.0)
        url = self.crowd.cluster.ws_url
        while not self._closed:
            try:
                async with websockets.connect(url, open_timeout=5, max_size=None, ping_interval=20, ping_timeout=20) as ws:
                    self._ws = ws
                    self._subs.clear()
                    self._by_address.clear()
                    self._pending.clear()
                    await self._subscribe(self.market)
                    for address in [*self.jobs, *self.accounts]:
                        await self._subscribe(address)
                    if backoff.delay != backoff.first:
                        log.info("websocket %s connected again: subscriptions restored", url)
                    backoff.reset()
                    self.connected.set()
                    await self.resync()
                    await self._receive(ws)
            except asyncio.CancelledError:
                raise
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException, *TRANSIENT) as exc:
                log.warning("websocket %s unusable (%s: %s); polling every %.0fs, reconnecting in %.1fs",
                            url, type(exc).__name__, " ".join(str(exc).split())[:200], self.poll_s, backoff.delay)
            finally:
                self._ws = None
                self.connected.clear()
            await self._poll_for(backoff.delay)
            backoff.delay = min(backoff.cap, backoff.delay * 2)

    async def close(self) -> None:
        """Stops run(): the flag ends its loop even if a cancellation is lost inside a
        wait_for (asyncio before 3.12 can swallow one)."""
        self._closed = True
        if self._ws is not None:
            await self._ws.close()

    async def _poll_for(self, seconds: float) -> None:
        """The fallback while disconnected: one read now, then one every poll_s."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while not self._closed:
            try:
                await self.resync()
            except TRANSIENT as exc:
                log.warning("poll failed too (%s: %s)", type(exc).__name__, " ".join(str(exc).split())[:200])
            left = end - loop.time()
            if left <= 0:
                return
            await asyncio.sleep(min(self.poll_s, left))

    async def resync(self) -> None:
        """Reads the market and every watched job now."""
        await self.on_market(await self.crowd.get_market(self.market))
        for job in list(self.jobs):
            await self._read_job(job)

    async def _read_job(self, job: Pubkey) -> None:
        from ..client.errors import JobNotFound

        try:
            found: Job | None = await self.crowd.get_job(job)
        except JobNotFound:
            found = None
        await self.on_job(job, found)

    async def _subscribe(self, address: Pubkey) -> None:
        request = next(self._ids)
        self._pending[request] = address
        await self._ws.send(json.dumps({"jsonrpc": "2.0", "id": request, "method": "accountSubscribe",
                                        "params": [str(address), {"encoding": "base64", "commitment": self.crowd.commitment}]}))

    async def _receive(self, ws) -> None:
        while not self._closed:
            try:
                raw = await asyncio.wait_for(ws.recv(), self.recheck_s)
            except asyncio.TimeoutError:
                await self.resync()
                continue
            message = json.loads(raw)
            if "id" in message:
                address = self._pending.pop(message["id"], None)
                if address is not None and "result" in message:
                    if address in self.jobs or address in self.accounts or address == self.market:
                        self._subs[message["result"]] = address
                        self._by_address[address] = message["result"]
                elif address is not None:
                    log.warning("accountSubscribe %s refused: %s", address, message.get("error"))
                continue
            params = message.get("params") or {}
            address = self._subs.get(params.get("subscription"))
            if address is None:
                continue
            value = (params.get("result") or {}).get("value")
            await self._notified(address, value)

    async def _notified(self, address: Pubkey, value: dict | None) -> None:
        if address in self.accounts:
            if self.on_account is not None:
                await self.on_account(address)
            return
        data = base64.b64decode(value["data"][0]) if value and value.get("data") else b""
        owner = value.get("owner") if value else None
        ours = owner == str(self.crowd.program.program_id)
        if address == self.market:
            if ours and data[:8] == self._market_disc:
                await self.on_market(Market.from_decoded(address, self.crowd.program.decode_market(data)))
            return
        job = Job.from_decoded(address, self.crowd.program.decode_job(data)) if ours and data[:8] == self._job_disc else None
        await self.on_job(address, job)
