"""CrowdClient's node profile calls against a live localnet (real HTTP JSON-RPC): a node
publishes, updates and closes its profile; a poster reads one node's URL, lists every
profile, and gets a clear NodeProfileMissing (never a hang) for a node that published none
or, with `max_age`, one whose profile is older than it accepts. The sync facade does the same."""

from __future__ import annotations

import asyncio

import pytest
from solders.keypair import Keypair

from crowdcompute.client import SyncCrowdClient
from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.errors import InvalidInput, NodeProfileMissing, NotFound
from crowdcompute.client.jobs.layout import NODE_PROFILE_SIZE
from crowdcompute.client.storage import Cid
from crowdcompute.sandbox import digest
from tests.localnet.localnet_helpers import ThreadServer

SOL = 1_000_000_000
HARDWARE = digest("hardware summary")


@pytest.fixture(scope="module")
def localnet(tmp_path_factory) -> ThreadServer:
    srv = ThreadServer(tmp_path_factory.mktemp("profile-ledger"), slot_ms=50)
    yield srv
    srv.stop()


async def funded(url: str) -> Keypair:
    keypair = Keypair()
    async with CrowdClient(url, keypair) as crowd:
        await crowd.airdrop(2 * SOL)
    return keypair


def test_set_read_update_list_and_close(localnet):
    async def go():
        node_a, node_b, poster = await funded(localnet.url), await funded(localnet.url), Keypair()
        async with CrowdClient(localnet.url, node_a) as a, CrowdClient(localnet.url, node_b) as b, CrowdClient(localnet.url, poster) as p:
            assert await p.node_profile(node_a.pubkey()) is None
            before = await a.balance()
            signature = await a.set_node_profile("https://a.example:8443", HARDWARE)
            assert signature is not None
            profile = await p.node_profile(str(node_a.pubkey()))
            assert (profile.node, profile.url, profile.hardware) == (node_a.pubkey(), "https://a.example:8443", HARDWARE)
            assert profile.address == a.program.node_profile(node_a.pubkey())
            assert profile.hardware_cid == str(Cid(HARDWARE)) and profile.hardware_cid.startswith("Qm")
            assert abs(profile.updated_at - await a.chain.clock()) <= 5
            rent = await a.chain.rent_exempt(NODE_PROFILE_SIZE)
            assert before - await a.balance() >= rent
            [event] = await a.events(signature)
            assert (event.name, event.data["created"]) == ("NodeProfileSet", 1)

            # The same URL and digest again: nothing sent.
            assert await a.set_node_profile("https://a.example:8443", HARDWARE) is None
            # A new URL: overwritten in place.
            assert await a.set_node_profile("http://10.1.2.3:9000", HARDWARE) is not None
            assert await p.node_url(node_a.pubkey()) == "http://10.1.2.3:9000"

            await b.set_node_profile("https://b.example", digest("b's hardware"))
            listed = await p.node_profiles()
            mine = {x.node: x.url for x in listed if x.node in (node_a.pubkey(), node_b.pubkey())}
            assert mine == {node_a.pubkey(): "http://10.1.2.3:9000", node_b.pubkey(): "https://b.example"}
            assert [str(x.node) for x in listed] == sorted(str(x.node) for x in listed)

            have = await a.balance()
            assert await a.close_node_profile() is not None
            assert await p.node_profile(node_a.pubkey()) is None
            assert await a.balance() > have  # the rent came back
            assert await a.close_node_profile() is None  # nothing left to close
            assert node_a.pubkey() not in {x.node for x in await p.node_profiles()}
            with pytest.raises(NodeProfileMissing):
                await p.node_url(node_a.pubkey())

    asyncio.run(go())


def test_a_node_without_a_profile_is_a_clear_error(localnet):
    async def go():
        node = Keypair().pubkey()
        async with CrowdClient(localnet.url) as p:
            with pytest.raises(NodeProfileMissing) as caught:
                await asyncio.wait_for(p.node_url(node), 30)
        return node, caught.value

    node, error = asyncio.run(go())
    assert str(error) == f"node {node} has published no profile; it serves no endpoints"
    assert isinstance(error, NotFound) and error.node == node


def test_a_stale_profile_is_refused_when_the_poster_asks_for_a_fresh_one(localnet):
    async def go():
        node = await funded(localnet.url)
        async with CrowdClient(localnet.url, node) as crowd:
            await crowd.set_node_profile("https://stale.example", HARDWARE)
            assert await crowd.node_url(node.pubkey(), max_age=3600) == "https://stale.example"
            await asyncio.sleep(2.5)
            with pytest.raises(NodeProfileMissing, match="may be stale"):
                await crowd.node_url(node.pubkey(), max_age=1)

    asyncio.run(go())


def test_bad_inputs_are_refused_before_anything_is_sent(localnet):
    async def go():
        node = await funded(localnet.url)
        async with CrowdClient(localnet.url, node) as crowd:
            before = await crowd.balance()
            with pytest.raises(InvalidInput, match="^url: "):
                await crowd.set_node_profile("ftp://node.example", HARDWARE)
            with pytest.raises(InvalidInput, match="^hardware_digest: "):
                await crowd.set_node_profile("https://node.example", bytes(32))
            with pytest.raises(InvalidInput, match="^hardware_digest: "):
                await crowd.set_node_profile("https://node.example", b"short")
            assert await crowd.balance() == before
            assert await crowd.node_profile(node.pubkey()) is None

    asyncio.run(go())


def test_the_sync_facade_has_the_same_calls(localnet):
    node = asyncio.run(funded(localnet.url))
    with SyncCrowdClient(localnet.url, node) as crowd:
        assert crowd.set_node_profile("https://sync.example", HARDWARE) is not None
        assert crowd.node_url(node.pubkey()) == "https://sync.example"
        assert crowd.node_profile(node.pubkey()).url == "https://sync.example"
        assert node.pubkey() in {x.node for x in crowd.node_profiles()}
        assert crowd.close_node_profile() is not None
        assert crowd.node_profile(node.pubkey()) is None
