"""The one websocket subscription client (client/rpc/subscriptions.py) against the real localnet:
notifications of a changed and a closed account, unsubscribe, a dropped websocket and a
restarted server (re-subscribed, nothing of the final state lost), and the poll fallback
when the websocket cannot be reached. Polls are set far apart where an update must come by
notification, so a passing test cannot be the poll's doing."""

from __future__ import annotations

import asyncio

from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer

from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.rpc.subscriptions import AccountSubscriptions, AccountUpdate

from tests.localnet.localnet_helpers import ThreadServer, free_port_pair

from .ws_cutter import WsCutter

SOL = 1_000_000_000
FAR = 600.0  # no poll nor recheck within a test


async def next_update(subscriptions: AccountSubscriptions, timeout: float = 10) -> AccountUpdate:
    return await asyncio.wait_for(anext(subscriptions), timeout)


async def until(subscriptions: AccountSubscriptions, address: Pubkey, lamports: int, timeout: float = 15) -> AccountUpdate:
    """The first update of `address` with `lamports` (reads and rechecks may repeat a state)."""
    async def first() -> AccountUpdate:
        async for update in subscriptions:
            if update.address == address and update.lamports == lamports:
                return update
        raise AssertionError("the subscriptions closed")

    return await asyncio.wait_for(first(), timeout)


async def drain(crowd: CrowdClient, payer: Keypair, owner: Keypair) -> None:
    """Moves every lamport out of `owner`'s account: the runtime deletes it."""
    balance = await crowd.chain.lamports(owner.pubkey())
    message = await crowd.chain.message([transfer(TransferParams(from_pubkey=owner.pubkey(), to_pubkey=payer.pubkey(), lamports=balance))], payer.pubkey())
    await crowd.chain.send(message, [payer, owner])


def test_notifies_changes_and_a_closed_account(localnet, poster):
    payer = poster[0]
    owner = Keypair()

    async def go():
        async with CrowdClient(localnet.url, payer) as crowd, AccountSubscriptions.of(crowd, poll_s=FAR, recheck_s=FAR) as subscriptions:
            await subscriptions.subscribe(owner.pubkey())
            first = await next_update(subscriptions)  # the read once the subscription holds
            await asyncio.wait_for(subscriptions.connected.wait(), 5)
            await crowd.airdrop(SOL, owner.pubkey())
            funded = await next_update(subscriptions)
            await crowd.airdrop(SOL, owner.pubkey())
            more = await next_update(subscriptions)
            await drain(crowd, payer, owner)
            gone = await next_update(subscriptions)
            return first, funded, more, gone

    first, funded, more, gone = asyncio.run(go())
    assert (first.data, first.owner, first.exists) == (None, None, False)
    assert (funded.lamports, funded.data, str(funded.owner)) == (SOL, b"", "11111111111111111111111111111111")
    assert more.lamports == 2 * SOL and more.slot >= funded.slot >= first.slot
    assert (gone.data, gone.owner, gone.lamports, gone.exists) == (None, None, 0, False)


def test_unsubscribe_stops_updates_and_callbacks_see_each_in_order(localnet, poster):
    kept, dropped = Pubkey.new_unique(), Pubkey.new_unique()
    seen: list[AccountUpdate] = []

    async def go():
        arrived = asyncio.Event()

        async def on_update(update: AccountUpdate) -> None:
            seen.append(update)
            if update.address == kept and update.lamports == 2 * SOL:
                arrived.set()

        async with CrowdClient(localnet.url, poster[0]) as crowd:
            subscriptions = AccountSubscriptions.of(crowd, on_update=on_update, poll_s=FAR, recheck_s=FAR)
            runner = asyncio.create_task(subscriptions.run())
            for address in (kept, dropped):
                await subscriptions.subscribe(address)
            await asyncio.wait_for(subscriptions.connected.wait(), 5)
            await crowd.airdrop(SOL, dropped)
            await crowd.airdrop(SOL, kept)
            await subscriptions.unsubscribe(dropped)
            await crowd.airdrop(SOL, dropped)
            await crowd.airdrop(SOL, kept)
            await asyncio.wait_for(arrived.wait(), 10)
            await asyncio.sleep(0.3)  # room for a notification that should not come
            await subscriptions.close()
            await asyncio.wait_for(runner, 5)

    asyncio.run(go())
    assert [u.lamports for u in seen if u.address == kept][-2:] == [SOL, 2 * SOL]
    assert all(u.lamports <= SOL for u in seen if u.address == dropped)  # never the second airdrop


def test_a_cut_websocket_reconnects_resubscribes_and_reads_what_it_missed(localnet, poster):
    address = Pubkey.new_unique()

    async def go():
        cutter = WsCutter(localnet.port + 1)
        ws_url = await cutter.start()
        async with CrowdClient(localnet.url, poster[0], ws_url=ws_url) as crowd, \
                AccountSubscriptions.of(crowd, poll_s=FAR, recheck_s=FAR) as subscriptions:
            await subscriptions.subscribe(address)
            await next_update(subscriptions)
            await asyncio.wait_for(subscriptions.connected.wait(), 5)
            await crowd.airdrop(SOL, address)
            assert (await next_update(subscriptions)).lamports == SOL
            cutter.cut()
            await crowd.airdrop(SOL, address)  # while the websocket is down, with no poll due
            await crowd.airdrop(SOL, address)
            await asyncio.sleep(0.5)
            cutter.resume()
            missed = await until(subscriptions, address, 3 * SOL)  # read once the subscription holds again
            assert subscriptions.connected.is_set() and cutter.accepted >= 2
            await crowd.airdrop(SOL, address)  # by notification: the subscription was made again
            after = await until(subscriptions, address, 4 * SOL)
            await cutter.close()
            return missed, after

    missed, after = asyncio.run(go())
    assert after.slot >= missed.slot


def test_a_restarted_server_on_the_same_port_is_subscribed_again(tmp_path):
    ledger = tmp_path / "ledger"
    servers = [ThreadServer(ledger, slot_ms=50)]
    payer, address = Keypair(), Pubkey.new_unique()

    async def go() -> None:
        server = servers[0]
        async with CrowdClient(server.url, payer) as crowd, AccountSubscriptions.of(crowd, poll_s=FAR, recheck_s=FAR) as subscriptions:
            await subscriptions.subscribe(address)
            await next_update(subscriptions)
            await asyncio.wait_for(subscriptions.connected.wait(), 5)
            await crowd.airdrop(SOL, address)
            await until(subscriptions, address, SOL)
            await asyncio.to_thread(server.stop)
            for _ in range(100):  # the drop is seen
                if not subscriptions.connected.is_set():
                    break
                await asyncio.sleep(0.05)
            assert not subscriptions.connected.is_set()
            servers[0] = await asyncio.to_thread(ThreadServer, ledger, 50, port=server.port)
            await crowd.airdrop(SOL, address)  # before or after the reconnection: either way seen
            await until(subscriptions, address, 2 * SOL)
            await asyncio.wait_for(subscriptions.connected.wait(), 10)
            await crowd.airdrop(SOL, address)
            await until(subscriptions, address, 3 * SOL)

    try:
        asyncio.run(go())
    finally:
        servers[0].stop()


def test_polls_when_the_websocket_cannot_be_reached(localnet, poster):
    address = Pubkey.new_unique()
    dead_ws = f"ws://127.0.0.1:{free_port_pair()}"

    async def go():
        async with CrowdClient(localnet.url, poster[0], ws_url=dead_ws) as crowd, \
                AccountSubscriptions.of(crowd, poll_s=0.2, recheck_s=FAR) as subscriptions:
            await subscriptions.subscribe(address)
            first = await next_update(subscriptions)
            await crowd.airdrop(SOL, address)
            funded = await until(subscriptions, address, SOL, timeout=5)
            return first, funded, subscriptions.connected.is_set()

    first, funded, connected = asyncio.run(go())
    assert first.data is None and funded.data == b"" and not connected
