"""The node's chain writes and reads: work, leave, finish and quit, each checking chain state
first so that a restart or a retry never queues, pays or quits twice.

Built on the SDK's `CrowdClient` (its `RpcChain` sends and names program errors); the accounts of
each instruction, the node's own verbs that the SDK does not offer (leave, quit) included,
come from the client's `instruction_plan`.

Rules:
- `finish` is sent only while the job's queue entry is Running with this node; a job already
  Done with this node's result is success (a previous attempt landed).
- `quit` only while running by this node; `leave` only for an entry this node waits at.
- A race lost on-chain (the poster ended the job, someone reclaimed it) comes back as
  `Lost`, which the caller treats as "not ours any more", never as a crash.
- Transient failures (the RPC does not answer, a transaction not confirmed in time) are
  retried with backoff; after each failure the state is read again before resending.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from solders.pubkey import Pubkey

from crowdcompute.client.jobs import instruction_plan as plan
from crowdcompute.client.jobs.accounts import Job, Market, QueueEntry
from ..client.crowd import CrowdClient
from ..client.errors import CrowdError, JobNotFound, ProgramError, TransactionFailed, Transient

__all__ = ["NodeChain", "Lost", "MyEntries", "Backoff", "TRANSIENT"]

log = logging.getLogger("crowdcompute.worker.chain")

# Failures worth retrying: ours marked `Transient` (the cluster or the storage did not answer,
# or answered oddly), and the stdlib's connection failures and timeouts that the libraries
# under us raise (a transaction not seen confirmed in time may still land: the state is read
# again before resending).
TRANSIENT = (Transient, OSError, asyncio.TimeoutError)
# Program errors that mean "someone else settled or moved this job first".
_LOST = {"JobNotRunning", "NodeNotAssigned", "JobNotOpen", "NodeNotQueued", "SlotInvalid"}


class Lost(CrowdError):
    """The job (or queue entry) is no longer this node's: ended, reclaimed, or already settled."""


class Backoff:
    """Exponential backoff with a cap: 0.2, 0.4, ... up to `cap` seconds."""

    def __init__(self, first: float = 0.2, cap: float = 10.0) -> None:
        self.first, self.cap = first, cap
        self.delay = first

    def reset(self) -> None:
        self.delay = self.first

    async def wait(self) -> None:
        await asyncio.sleep(self.delay)
        self.delay = min(self.cap, self.delay * 2)


@dataclass(frozen=True)
class MyEntries:
    """This node's entries in one market snapshot."""

    running: tuple[QueueEntry, ...]  # jobs it runs (entry.job, entry.since = start time)
    waiting: tuple[QueueEntry, ...]  # entries where it waits for a job

    @classmethod
    def of(cls, market: Market, node: Pubkey) -> MyEntries:
        running = tuple(e for e in market.entries if e.state == "Running" and e.node == node)
        waiting = tuple(e for e in market.entries if e.state == "QueuedNode" and e.node == node)
        return cls(running, waiting)


class NodeChain:
    def __init__(self, crowd: CrowdClient, market: Pubkey) -> None:
        self.crowd = crowd
        self.market_address = market
        self.node = crowd.pubkey
        self.program = crowd.program

    # -- reads -------------------------------------------------------------------------
    async def market(self) -> Market:
        return await self.crowd.get_market(self.market_address)

    async def job(self, job: Pubkey) -> Job | None:
        try:
            return await self.crowd.get_job(job)
        except JobNotFound:
            return None

    async def mine(self) -> tuple[Market, MyEntries]:
        market = await self.market()
        return market, MyEntries.of(market, self.node)

    async def running_entry(self, job: Pubkey) -> tuple[Job | None, QueueEntry | None]:
        """The job and its entry when this node runs it (entry None otherwise)."""
        found = await self.job(job)
        if found is None or not found.is_open:
            return found, None
        market = await self.market()
        entry = found.entry(market)
        if entry is None or entry.state != "Running" or entry.node != self.node:
            return found, None
        return found, entry

    # -- writes ------------------------------------------------------------------------
    async def work(self) -> bool:
        """Enters the queue once (takes the oldest waiting job it did not give up, if there is
        one), with the node's stake when the market asks a minimum or has a slash penalty.
        False when every waiting job was last given up by this node (it takes none again)."""
        market = await self.market()
        try:
            await self._send(plan.work(self.program, market, self.node))
        except ProgramError as exc:
            if exc.name == "JobsExcludeNode":
                return False
            raise
        return True

    async def leave(self, slot: int) -> bool:
        """Leaves the queue entry `slot` if this node still waits there; False if it does not."""
        market = await self.market()
        entry = market.entries[slot] if slot < market.capacity else None
        if entry is None or entry.state != "QueuedNode" or entry.node != self.node:
            return False
        try:
            await self._send(plan.leave(self.program, market, node=self.node, slot=slot))
        except Lost:
            return False  # matched to a job in between: the market notification will say which
        return True

    async def finish(self, job: Pubkey, result: bytes) -> str:
        """Settles a job with its result digest. Returns "finished", or "already" when a
        previous attempt landed. Raises Lost when the job is no longer this node's."""
        found, entry = await self.running_entry(job)
        if entry is None:
            if found is not None and found.state == "Done" and found.node == self.node and bytes(found.result) == bytes(result):
                return "already"
            raise Lost(f"job {job} is no longer running on this node ({_state(found)})")
        market = await self.market()
        await self._send(plan.finish(self.program, market, found, node=self.node, result=bytes(result)))
        return "finished"

    async def attach_result(self, job: Pubkey, result: bytes) -> str:
        """Records the bundle's digest on a job its poster ended (a service stopped by
        `end`). Returns "attached", or "already" when an earlier attempt landed; raises Lost
        when the job is gone (cleaned) or was not ended with this node."""
        found = await self.job(job)
        if found is None:
            raise Lost(f"job {job} is gone: its result cannot be recorded")
        if found.state != "Ended" or found.node != self.node:
            raise Lost(f"job {job} was not ended with this node ({_state(found)})")
        if any(bytes(found.result)):
            if bytes(found.result) == bytes(result):
                return "already"
            raise Lost(f"job {job} already holds another result")
        await self._send(plan.attach_result(self.program, found, node=self.node, result=bytes(result)))
        return "attached"

    async def quit(self, job: Pubkey) -> str:
        """Gives a running job back (unpaid; it goes to the front of the queue, never back to
        this node, or is refunded at its last attempt: a quit counts as one). At or past
        the deadline, a quit is slashed as a reclaim (markets with a penalty)."""
        found, entry = await self.running_entry(job)
        if entry is None:
            raise Lost(f"job {job} is no longer running on this node ({_state(found)})")
        market = await self.market()
        destination = await self.crowd.slash_destination(plan.slash_config(market))
        await self._send(plan.quit(self.program, market, found, node=self.node, slash_destination=destination))
        return "quit"

    async def _send(self, instructions: list) -> None:
        chain = self.crowd.chain
        message = await chain.message(instructions, self.node)
        try:
            await chain.send(message, [self.crowd.wallet])
        except ProgramError as exc:
            if exc.name in _LOST:
                raise Lost(str(exc)) from None
            raise


async def retrying(what: str, attempt: Callable[[], Awaitable[Any]], *, deadline: float | None = None,
                   backoff: Backoff | None = None, logger: logging.Logger = log) -> Any:
    """Runs `attempt` until it succeeds, retrying transient failures with backoff (logged),
    until `deadline` (loop time) when given. `Lost` and program errors are not retried."""
    backoff = backoff or Backoff()
    loop = asyncio.get_running_loop()
    while True:
        try:
            return await attempt()
        except (Lost, ProgramError):
            raise
        except (*TRANSIENT, TransactionFailed) as exc:
            if deadline is not None and loop.time() + backoff.delay > deadline:
                raise
            logger.warning("%s failed (%s: %s); retrying in %.1fs", what, type(exc).__name__, _one_line(exc), backoff.delay)
            await backoff.wait()


def _state(job: Job | None) -> str:
    return "gone" if job is None else job.state.lower()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
