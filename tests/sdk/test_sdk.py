"""The SDK itself: program errors named from the IDL, waits (websocket and poll fallback),
queue positions, events, the sync facade, clusters, durations and keypair files."""

from __future__ import annotations

import asyncio
import json

import pytest
from solders.keypair import Keypair

from crowdcompute.client import Cluster, ProgramError, SyncCrowdClient, parse_duration
from crowdcompute.client.jobs.accounts import job_field_offset
from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.errors import InvalidInput, JobNotFound, WaitTimeout
from crowdcompute.client.keypair import load_keypair, write_keypair
from crowdcompute.client.jobs.layout import JOB_SIZE
from crowdcompute.common.token import associated_token_address
from crowdcompute.sandbox import digest

from tests.localnet.localnet_helpers import free_port_pair


def test_program_error_carries_the_idl_name_and_logs(localnet, poster, market, node):
    """A transaction the SDK's own checks would stop, built by hand: the program's refusal
    comes back as ProgramError(code, name, message, logs)."""
    address, _ = market

    async def go():
        async with CrowdClient(localnet.url, poster[0]) as crowd:
            posted = await crowd.post(address, digest=digest("pe"), timeout=60)
            await asyncio.to_thread(node.work, address)
            m = await crowd.get_market(address)
            ix = crowd.program.cancel(poster=crowd.pubkey, job=posted.job, market=address,
                                      payer_token=associated_token_address(crowd.pubkey, m.mint), payer=crowd.pubkey)
            with pytest.raises(ProgramError) as caught:
                await crowd.send([ix], [poster[0]])
            return caught.value

    error = asyncio.run(go())
    assert (error.code, error.name, error.message) == (6023, "JobNotQueued", "Job is not waiting in the queue")
    assert str(error) == "JobNotQueued (6023): Job is not waiting in the queue"
    assert any(f"custom program error: {6023:#x}" in line for line in error.logs)


def test_price_above_maximum_is_refused_before_sending(localnet, poster, market):
    address, _ = market

    async def go():
        async with CrowdClient(localnet.url, poster[0]) as crowd:
            with pytest.raises(InvalidInput, match="asks 10 per second, above your maximum of 9"):
                await crowd.post(address, digest=digest("p"), timeout=60, max_price_per_second=9)
            return await crowd.list_jobs(market=address)

    assert asyncio.run(go()) == []


def test_wait_for_by_polling_when_the_websocket_is_down(localnet, poster, market, node):
    address, _ = market
    dead_ws = f"ws://127.0.0.1:{free_port_pair()}"

    async def go():
        async with CrowdClient(localnet.url, poster[0], ws_url=dead_ws) as crowd:
            posted = await crowd.post(address, digest=digest("poll"), timeout=60)
            seen: list[str] = []
            waiter = asyncio.create_task(crowd.wait_for(posted.job, "running", timeout=20, poll_interval=0.1,
                                                        on_change=lambda v: seen.append(v.status)))
            await asyncio.sleep(0.3)
            await asyncio.to_thread(node.work, address)
            view = await waiter
            return view, seen

    view, seen = asyncio.run(go())
    assert view.status == "running" and view.node == node.pubkey and seen == ["queued", "running"]


def test_wait_for_times_out_and_sees_a_cancel(localnet, poster, market):
    address, _ = market

    async def go():
        async with CrowdClient(localnet.url, poster[0]) as crowd:
            posted = await crowd.post(address, digest=digest("t"), timeout=60)
            with pytest.raises(WaitTimeout, match=r"timed out after 0.5s waiting for job .* to be done \(it is queued\)"):
                await crowd.wait_for(posted.job, "done", timeout=0.5)
            waiter = asyncio.create_task(crowd.wait_for(posted.job, "closed", timeout=20))
            await asyncio.sleep(0.2)
            await crowd.cancel(posted.job)
            assert await waiter is None
            with pytest.raises(JobNotFound):
                await crowd.wait_for(posted.job, "done", timeout=5)
            with pytest.raises(InvalidInput, match="unknown job state: finished"):
                await crowd.wait_for(posted.job, "finished")

    asyncio.run(go())


def test_queue_positions_of_jobs_and_nodes(localnet, wallets, poster, market):
    address, _ = market

    async def go():
        async with CrowdClient(localnet.url, poster[0]) as crowd:
            jobs = [(await crowd.post(address, digest=digest(f"q{i}"), timeout=60)).job for i in range(3)]
            places = [await crowd.queue_position(j) for j in jobs]
            await crowd.cancel(jobs[0])
            after = [await crowd.queue_position(j) for j in jobs[1:]]
            return places, after

    assert asyncio.run(go()) == ([1, 2, 3], [1, 2])

    from crowdcompute.client import MarketSettings

    empty, _ = asyncio.run(wallets.market(MarketSettings(price_per_second=1, max_timeout=60)))
    n1, n2 = asyncio.run(wallets.fund()), asyncio.run(wallets.fund())

    async def nodes():
        async with CrowdClient(localnet.url, n1) as a, CrowdClient(localnet.url, n2) as b:
            await a.work(empty)
            await b.work(empty)
            await a.work(empty)
            return await a.node_positions(empty, n1.pubkey()), await a.node_positions(empty, n2.pubkey())

    assert asyncio.run(nodes()) == ([1, 3], [2])


def test_job_field_offsets_match_the_layout():
    # The IDL's Job layout: 8-byte discriminator, 3 keys, 2 digests, the node, then the terms.
    assert [job_field_offset(n) for n in ("market", "poster", "payer", "definition", "result", "node")] == [8, 40, 72, 104, 136, 168]
    assert job_field_offset("state") == JOB_SIZE - 1


def test_sync_facade(localnet, poster, market):
    address, _ = market
    with SyncCrowdClient(localnet.url, poster[0]) as crowd:
        posted = crowd.post(address, digest=digest("sync"), timeout=30)
        assert crowd.get_job(posted.job).deposit == 300
        assert crowd.why(posted.job).status == "queued"
        assert [v.job.address for v in crowd.list_jobs(market=address)] == [posted.job]
        assert crowd.token_balance(crowd.get_market(address).mint) == 1_000_000 - 300


def test_clusters():
    assert Cluster.resolve("localnet") == Cluster("http://127.0.0.1:8899", "ws://127.0.0.1:8900")
    assert Cluster.resolve("devnet") == Cluster("https://api.devnet.solana.com", "wss://api.devnet.solana.com")
    assert Cluster.resolve("m").url == "https://api.mainnet-beta.solana.com"
    assert Cluster.resolve("http://10.0.0.5:7000/rpc").ws_url == "ws://10.0.0.5:7001/rpc"
    assert Cluster.resolve("https://rpc.example.org").ws_url == "wss://rpc.example.org"
    with pytest.raises(ValueError, match="not a cluster URL or moniker: 'ftp://x'"):
        Cluster.resolve("ftp://x")


def test_durations():
    assert [parse_duration(t) for t in ("90s", "10m", "1h", "1h30m", "2d", "45", " 5M ")] == [90, 600, 3600, 5400, 172_800, 45, 300]
    for bad in ("", "10x", "m10", "0s", "1.5h", "-5"):
        with pytest.raises(InvalidInput):
            parse_duration(bad)


def test_keypair_files_round_trip(tmp_path):
    keypair = Keypair()
    path = write_keypair(keypair, tmp_path / "sub" / "id.json")
    assert load_keypair(path) == keypair
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert len(json.loads(path.read_text())) == 64


def test_events_of_a_transaction(localnet, poster, market, node):
    address, _ = market

    async def go():
        async with CrowdClient(localnet.url, poster[0]) as crowd:
            posted = await crowd.post(address, digest=digest("ev"), timeout=60)
            posted_events = await crowd.events(posted.signature)
            await asyncio.to_thread(node.work, address)
            sig = await crowd.extend(posted.job, 30)
            return posted, posted_events, await crowd.events(str(sig))

    posted, at_post, at_extend = asyncio.run(go())
    assert [e.name for e in at_post] == ["JobPosted"]
    assert at_post[0].data == {"job": posted.job, "deposit": 600, "timeout": 60, "slot": at_post[0].data["slot"], "queued": 1}
    assert [(e.name, e.data["extra"], e.data["timeout"], e.data["deposit"]) for e in at_extend] == [("JobExtended", 30, 90, 900)]
