"""The node's deadlines are on the chain's clock (the Clock sysvar), not this machine's.
The localnet's clock follows wall time exactly; a real cluster's need not (solana-test-
validator's runs 1-2 s behind, a drifting cluster's may run ahead). A chain clock that runs
ahead moves every deadline earlier; one that runs behind moves none later."""

from __future__ import annotations

import asyncio
import time

from solders.pubkey import Pubkey

from crowdcompute.client.crowd import CrowdClient
from crowdcompute.worker.job_task import JobTask, clock_lead
from crowdcompute.worker.recovery import settle_margin


def read(url: str, now_offset: float) -> tuple[int, float]:
    async def go():
        async with CrowdClient(url) as crowd:
            return await crowd.chain.clock(), await clock_lead(crowd.chain, now=time.time() + now_offset)

    return asyncio.run(go())


def test_the_clock_sysvar_over_rpc_and_the_lead(localnet):
    chain_now, lead = read(localnet.url, 0)
    assert abs(chain_now - time.time()) < 5 and lead == 0  # the localnet follows wall time
    # This machine 30 s behind the chain (the chain's clock runs ahead): a 29-30 s lead.
    _, lead = read(localnet.url, -30)
    assert 29 <= lead <= 30
    # This machine ahead of the chain (the chain lags, as solana-test-validator's): no lead.
    _, lead = read(localnet.url, +30)
    assert lead == 0


def test_a_lead_moves_every_deadline_earlier():
    task = JobTask(None, Pubkey.default(), 1_000_000, recovered=False)
    task.timeout = 60
    plain = (task.deadline(), task.hard_deadline())
    assert plain == (1_000_000 + 60 - settle_margin(60), 1_000_000 + 60 - 0.5)
    task.lead = 12.0
    assert (task.deadline(), task.hard_deadline()) == (plain[0] - 12, plain[1] - 12)
    assert task.start_here == 1_000_000 - 12


def test_an_unreadable_clock_is_no_lead():
    from tests.localnet.localnet_helpers import free_port_pair

    async def go():
        async with CrowdClient(f"http://127.0.0.1:{free_port_pair()}", timeout=2) as crowd:  # nothing listens there
            return await clock_lead(crowd.chain)

    assert asyncio.run(go()) == 0.0
