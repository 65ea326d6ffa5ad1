"""`crowd job post --wait` on a job that settles without a result: exit 1 and one `error:`
line on stderr saying how it ended (ended by its poster, failed after timing out and being
reclaimed, or closed by a cancel); with --output json the document on stdout carries the
same text under "error". Another actor (a thread with its own client) does what ends the
job while the CLI waits, against the live localnet."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

from solders.pubkey import Pubkey

from crowdcompute.cli.job import how_it_ended
from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.errors import ProgramError
from crowdcompute.common.token import associated_token_address
from crowdcompute.sandbox import digest


def meanwhile(act) -> threading.Thread:
    """Runs `await act()` in a thread (its own loop) while the CLI waits in this one."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(act())
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's join
            failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.failures = failures
    thread.start()
    return thread


def joined(thread: threading.Thread) -> None:
    thread.join(60)
    assert not thread.is_alive() and not thread.failures, thread.failures


async def posted_job(crowd: CrowdClient, market: Pubkey) -> Pubkey:
    """The poster's job in `market` once it is on-chain (the CLI posts it)."""
    for _ in range(600):
        jobs = await crowd.list_jobs(market=market, poster=crowd.pubkey)
        if jobs:
            return jobs[0].job.address
        await asyncio.sleep(0.05)
    raise AssertionError("the CLI posted nothing")


async def reclaim_when_due(c: CrowdClient, ix) -> None:
    """Sends `reclaim` until the program takes it: the deadline is on the chain's clock,
    which need not be this machine's (solana-test-validator's runs a second or two behind)."""
    for _ in range(300):
        try:
            await c.send([ix], [c.wallet])
            return
        except ProgramError as exc:
            if exc.name != "TimeoutNotReached":
                raise
            await asyncio.sleep(0.2)
    raise AssertionError("the job never became reclaimable")


def wait_post(crowd, market, name: str, timeout: str = "60s"):
    return crowd("job", "post", "--market", str(market), "--digest", digest(name).hex(), "--timeout", timeout,
                 "--wait", "--wait-timeout", "60s", "--output", "json")


def test_ended_by_the_poster(crowd, localnet, market, poster, node):
    address, _ = market
    node.work(address)  # a waiting node: the job runs at once

    async def end():
        async with CrowdClient(localnet.url, poster[0]) as c:
            job = await posted_job(c, address)
            await c.wait_for(job, "running", timeout=30)
            await c.end(job)

    thread = meanwhile(end)
    result = wait_post(crowd, address, "ended")
    joined(thread)
    assert result.code == 1
    doc = result.json()
    assert doc["status"] == "ended"
    assert result.error_line == f"error: {doc['error']}"
    assert doc["error"].startswith(f"job {doc['job']} was ended by its poster before it finished (node {node.pubkey} paid ")


def test_failed_after_timing_out_and_being_reclaimed(crowd, localnet, market, poster, node, wallets):
    address, _ = market  # max_attempts 2: the second reclaim refunds and fails the job
    from .node_player import NodePlayer

    # a node never takes back a job it gave up: the second attempt is another node's
    second = NodePlayer(localnet.url, asyncio.run(wallets.fund()))

    async def silent_nodes_reclaimed_twice():
        async with CrowdClient(localnet.url, poster[0]) as c:
            job = await posted_job(c, address)
            for silent in (node, second):
                await asyncio.to_thread(silent.work, address)  # takes it, then stays silent
                j, m = await c.get_job(job), await c.get_market(address)
                ix = c.program.reclaim(job=job, market=address, payer_token=associated_token_address(j.payer, m.mint))
                await reclaim_when_due(c, ix)

    thread = meanwhile(silent_nodes_reclaimed_twice)
    result = wait_post(crowd, address, "failed", timeout="1s")
    joined(thread)
    assert result.code == 1
    doc = result.json()
    assert doc["status"] == "failed" and doc["attempts"] == 2
    assert result.error_line == (f"error: job {doc['job']} failed: it timed out and was reclaimed 2 times without a result "
                                 "(no node was paid, the deposit was refunded)")


def test_closed_by_a_cancel(crowd, localnet, market, poster):
    address, _ = market  # no node: the job stays queued until the poster cancels it

    async def cancel():
        async with CrowdClient(localnet.url, poster[0]) as c:
            await c.cancel(await posted_job(c, address))

    thread = meanwhile(cancel)
    result = wait_post(crowd, address, "cancelled")
    joined(thread)
    assert result.code == 1
    doc = result.json()
    assert doc["status"] == "closed"
    assert result.error_line == f"error: job {doc['job']} was closed before it ran to the end (cancelled: the deposit was refunded)"


def test_how_it_ended_names_each_ending():
    job = SimpleNamespace(node="N", paid=30, attempts=1)
    assert how_it_ended("J", None).startswith("job J was closed")
    assert how_it_ended("J", SimpleNamespace(status="ended", job=job)) == "job J was ended by its poster before it finished (node N paid 30, the rest refunded)"
    assert "reclaimed 1 time without" in how_it_ended("J", SimpleNamespace(status="failed", job=job))
