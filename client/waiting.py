"""Waiting for a job's status: account subscriptions (PubSub websocket) on the job and on its
market, since a job becomes running when a node's `work` changes only the market's queue.
Each notification triggers a fresh read of both accounts at the client's commitment, so
what is reported is what `get_job` would say. A missed notification costs at most
RECHECK_S; if the websocket cannot be opened or drops, the wait goes on by polling."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, Callable

from solders.pubkey import Pubkey

from .accounts import JobStatus
from .errors import JobNotFound, WaitTimeout

if TYPE_CHECKING:
    from .crowd import CrowdClient, JobView

__all__ = ["wait_for_status", "RECHECK_S"]

RECHECK_S = 10.0


async def wait_for_status(crowd: CrowdClient, job: Pubkey, wanted: set[str], *, timeout: float,
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
    market = view.job.market
    try:
        return await asyncio.wait_for(_subscribed(crowd, job, market, check, deadline), max(0.0, deadline - loop.time()))
    except asyncio.TimeoutError:
        raise WaitTimeout(f"job {job} to be {' or '.join(sorted(wanted))} (it is {last[0]})", timeout) from None
    except _WebsocketUnusable:
        pass
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise WaitTimeout(f"job {job} to be {' or '.join(sorted(wanted))} (it is {last[0]})", timeout)
        await asyncio.sleep(min(poll_interval, remaining))
        done, view = await check()
        if done:
            return view
        if view is None:
            raise JobNotFound(job)


class _WebsocketUnusable(Exception):
    pass


async def _subscribed(crowd: CrowdClient, job: Pubkey, market: Pubkey, check: Callable, deadline: float) -> Any:
    import websockets

    try:
        ws = await websockets.connect(crowd.cluster.ws_url, open_timeout=5, max_size=None)
    except (OSError, asyncio.TimeoutError, websockets.WebSocketException):
        raise _WebsocketUnusable from None
    try:
        for request_id, address in enumerate((job, market), start=1):
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "accountSubscribe",
                                      "params": [str(address), {"encoding": "base64", "commitment": crowd.commitment}]}))
        # A change between the first read and the subscriptions would be missed: read again.
        done, view = await check()
        while not done:
            if view is None:
                raise JobNotFound(job)
            try:
                await asyncio.wait_for(ws.recv(), RECHECK_S)
                # Several changes may arrive together: drain what is queued, then read once.
                while True:
                    await asyncio.wait_for(ws.recv(), 0.01)
            except asyncio.TimeoutError:
                pass
            done, view = await check()
        return view
    except websockets.ConnectionClosed:
        raise _WebsocketUnusable from None
    finally:
        await ws.close()
