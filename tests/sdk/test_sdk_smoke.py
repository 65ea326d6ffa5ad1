import asyncio
from crowdcompute.client.crowd import CrowdClient
from crowdcompute.sandbox import digest


def test_post_work_finish(localnet, wallets, poster, market):
    async def go():
        address, _ = market
        node = await wallets.fund()
        async with CrowdClient(localnet.url, poster[0]) as crowd, CrowdClient(localnet.url, node) as n:
            posted = await crowd.post(address, digest=digest("x"), timeout=60)
            v = await crowd.view(posted.job)
            assert v.status == "queued"
            assert await crowd.queue_position(posted.job) == 1
            await n.work(address)
            v = await crowd.view(posted.job)
            assert v.status == "running" and v.node == node.pubkey()
            await n.finish(posted.job, digest("r"))
            v = await crowd.wait_for(posted.job, "done", timeout=10)
            assert v.job.paid >= 0
    asyncio.run(go())
