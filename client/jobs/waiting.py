"""Waiting for a job's status: subscriptions (subscriptions.py) to the job and to its market,
since a job becomes running when a node's `work` changes only the market's queue. Each batch
of updates triggers a fresh read of both accounts at the client's commitment, so what is
reported is what `get_job` would say. The subscriptions read both accounts once they hold (a
change between the first read and them is not missed); a missed notification costs at most
RECHECK_S; while the websocket cannot be reached or is down, they are polled every
`poll_interval`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from solders.pubkey import Pubkey

from .accounts import JobStatus
from ..errors import JobNotFound, WaitTimeout
from ..rpc.subscriptions import AccountSubscriptions

if TYPE_CHECKING:
    from .accounts import JobView
    from ..core import ClientCore

__all__ = ["wait_for_status", "RECHECK_S"]

RECHECK_S = 10.0


async def wait_for_status(crowd: ClientCore, job: Pubkey, wanted: set[str], *, timeout: float,
                          on_change: Callable[[Any], None] | None, poll_interval: float) -> JobView | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: list[str | None] = [None]

    async def check() -> tuple[bool, Any]:
        try:
            view = await crowd.view(job)
            status = view.status
        except JobNotFound:
            view, status = None, JobStatus.CLOSED
        if status != last[0]:
            last[0] = status
            if on_change is not None:
                on_change(view)
        return status in wanted, view

    done, view = await check()
    if done:
        return view
    if view is None:  # closed and not what we wait for: it will never change again
        raise JobNotFound(job)
    try:
        return await asyncio.wait_for(_until_done(crowd, job, view.job.market, check, poll_interval), max(0.0, deadline - loop.time()))
    except asyncio.TimeoutError:
        raise WaitTimeout(f"job {job} to be {' or '.join(sorted(wanted))} (it is {last[0]})", timeout) from None


async def _until_done(crowd: ClientCore, job: Pubkey, market: Pubkey, check: Callable[[], Awaitable[tuple[bool, Any]]],
                      poll_interval: float) -> Any:
    async with AccountSubscriptions.of(crowd, poll_s=poll_interval, recheck_s=RECHECK_S) as subscriptions:
        await subscriptions.subscribe(job)
        await subscriptions.subscribe(market)
        while True:
            await subscriptions.changes()  # several changes may come together: one read for all
            done, view = await check()
            if done:
                return view
            if view is None:
                raise JobNotFound(job)
