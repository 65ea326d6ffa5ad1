"""PubSub over real websockets with solana-py's websocket API (and raw `websockets`)."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed, Finalized, Processed
from solana.rpc.types import TxOpts
from solana.rpc.websocket_api import connect
from solders.keypair import Keypair
from solders.message import Message
from solders.rpc.config import RpcTransactionLogsFilterMentions
from solders.system_program import CreateAccountParams, TransferParams, create_account, transfer
from solders.transaction import Transaction

from .localnet_helpers import RENT_EXEMPT_0


async def funded(client: AsyncClient, lamports: int = 10 * 10**9) -> Keypair:
    keypair = Keypair()
    sig = (await client.request_airdrop(keypair.pubkey(), lamports)).value
    await client.confirm_transaction(sig, Confirmed, sleep_seconds=0.05)
    return keypair


async def signed(client: AsyncClient, ixs, signers) -> Transaction:
    blockhash = (await client.get_latest_blockhash(Confirmed)).value.blockhash
    return Transaction(signers, Message.new_with_blockhash(ixs, signers[0].pubkey(), blockhash), blockhash)


async def send(client: AsyncClient, tx: Transaction):
    return (await client.send_raw_transaction(bytes(tx), TxOpts(preflight_commitment=Confirmed))).value


async def subscribed(ws) -> int:
    message = (await asyncio.wait_for(ws.recv(), 5))[0]
    return message.result


async def drain(ws, quiet: float = 0.6) -> list:
    """Every message until none arrives for `quiet` seconds."""
    out = []
    while True:
        try:
            out += await asyncio.wait_for(ws.recv(), quiet)
        except asyncio.TimeoutError:
            return out


@pytest.mark.asyncio
async def test_account_notifications_once_per_level(server):
    async with AsyncClient(server.url) as client, connect(server.ws_url) as ws:
        payer = await funded(client)
        target = Keypair().pubkey()
        ids = {}
        for level in (Processed, Confirmed, Finalized):
            await ws.account_subscribe(target, commitment=level, encoding="base64")
            ids[await subscribed(ws)] = level
        assert len(ids) == 3
        await send(client, await signed(client, [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=target, lamports=RENT_EXEMPT_0 + 4242))], [payer]))
        messages = await drain(ws)
        assert sorted(m.subscription for m in messages) == sorted(ids)  # exactly one per subscription
        for m in messages:
            assert m.result.value.lamports == RENT_EXEMPT_0 + 4242 and m.result.context.slot >= 0
        # unsubscribe: no more notifications
        for sub in list(ids):
            await ws.account_unsubscribe(sub)
            assert (await asyncio.wait_for(ws.recv(), 5))[0].result is True
        await send(client, await signed(client, [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=target, lamports=1))], [payer]))
        assert await drain(ws, 0.4) == []


@pytest.mark.asyncio
async def test_signature_logs_program_subscriptions(server):
    async with AsyncClient(server.url) as client, connect(server.ws_url) as ws:
        payer = await funded(client)
        owner = Keypair().pubkey()
        small, big = Keypair(), Keypair()
        rent = (await client.get_minimum_balance_for_rent_exemption(16)).value
        tx = await signed(client, [
            create_account(CreateAccountParams(from_pubkey=payer.pubkey(), to_pubkey=small.pubkey(), lamports=rent, space=8, owner=owner)),
            create_account(CreateAccountParams(from_pubkey=payer.pubkey(), to_pubkey=big.pubkey(), lamports=rent, space=16, owner=owner)),
        ], [payer, small, big])
        sig = tx.signatures[0]
        await ws.signature_subscribe(sig, commitment=Confirmed)
        sig_sub = await subscribed(ws)
        await ws.logs_subscribe(RpcTransactionLogsFilterMentions(owner), commitment=Confirmed)
        await subscribed(ws)  # mentions `owner`: create_account names it only in data, so no logs expected
        await ws.logs_subscribe(RpcTransactionLogsFilterMentions(big.pubkey()), commitment=Confirmed)
        logs_sub = await subscribed(ws)
        await ws.program_subscribe(owner, commitment=Confirmed, encoding="base64", filters=[16])
        program_sub = await subscribed(ws)
        await send(client, tx)
        messages = await drain(ws)
        by_sub = {}
        for m in messages:
            by_sub.setdefault(m.subscription, []).append(m)
        assert set(by_sub) == {sig_sub, logs_sub, program_sub}, messages
        assert len(by_sub[sig_sub]) == 1 and by_sub[sig_sub][0].result.value.err is None
        assert len(by_sub[logs_sub]) == 1 and by_sub[logs_sub][0].result.value.signature == sig
        assert by_sub[logs_sub][0].result.value.logs
        assert len(by_sub[program_sub]) == 1 and by_sub[program_sub][0].result.value.pubkey == big.pubkey()
        # a signature that is already confirmed notifies at once
        await ws.signature_subscribe(sig, commitment=Confirmed)
        await subscribed(ws)
        again = await drain(ws, 0.4)
        assert len(again) == 1 and again[0].result.value.err is None


@pytest.mark.asyncio
async def test_slot_and_root(server):
    async with connect(server.ws_url) as ws:
        await ws.slot_subscribe()
        await subscribed(ws)
        slots = []
        while len(slots) < 3:
            slots += [m.result.slot for m in await asyncio.wait_for(ws.recv(), 5)]
        assert slots == sorted(slots) and len(set(slots)) == len(slots)
        await ws.root_subscribe()
        root_sub = await subscribed(ws)
        for _ in range(20):
            messages = await asyncio.wait_for(ws.recv(), 5)
            roots = [m.result for m in messages if m.subscription == root_sub]
            if roots:
                assert roots[0] <= slots[-1] + 20
                break
        else:
            pytest.fail("no root notification")


@pytest.mark.asyncio
async def test_many_subscribers_and_rude_clients(server):
    async with AsyncClient(server.url) as client:
        payer = await funded(client)
        target = Keypair().pubkey()
        request = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "accountSubscribe", "params": [str(target), {"commitment": "confirmed", "encoding": "base64"}]})
        good = [await websockets.connect(server.ws_url) for _ in range(150)]
        rude = [await websockets.connect(server.ws_url) for _ in range(20)]
        for ws in good + rude:
            await ws.send(request)
        for ws in good + rude:
            assert isinstance(json.loads(await asyncio.wait_for(ws.recv(), 5))["result"], int)
        # rude clients vanish without a close handshake; junk on another connection
        for ws in rude:
            ws.transport.abort()
        junk = await websockets.connect(server.ws_url)
        await junk.send("{not json")
        assert json.loads(await junk.recv())["error"]["code"] == -32700
        await junk.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "accountSubscribe", "params": ["nope"]}))
        assert json.loads(await junk.recv())["error"]["code"] == -32602
        await junk.send(json.dumps({"jsonrpc": "2.0", "id": 3, "method": "accountUnsubscribe", "params": [999999]}))
        assert json.loads(await junk.recv())["error"]["code"] == -32602
        await send(client, await signed(client, [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=target, lamports=RENT_EXEMPT_0 + 99))], [payer]))
        for ws in good:
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert message["method"] == "accountNotification"
            assert message["params"]["result"]["value"]["lamports"] == RENT_EXEMPT_0 + 99
        for ws in good + [junk]:
            await ws.close()


@pytest.mark.asyncio
async def test_block_subscribe_mentions(server):
    from solders.rpc.config import RpcBlockSubscribeFilterMentions

    async with AsyncClient(server.url) as client, connect(server.ws_url) as ws:
        payer = await funded(client)
        target = Keypair().pubkey()
        await ws.block_subscribe(RpcBlockSubscribeFilterMentions(target), commitment=Confirmed, max_supported_transaction_version=0)
        sub = await subscribed(ws)
        sig = await send(client, await signed(client, [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=target, lamports=RENT_EXEMPT_0 + 5))], [payer]))
        messages = await drain(ws)
        assert len(messages) == 1 and messages[0].subscription == sub
        value = messages[0].result.value
        assert value.err is None and [t.transaction.signatures[0] for t in value.block.transactions] == [sig]
        assert value.slot == (await client.get_signature_statuses([sig])).value[0].slot
        # processed is refused, as on Solana
        raw = await websockets.connect(server.ws_url)
        await raw.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "blockSubscribe", "params": ["all", {"commitment": "processed"}]}))
        assert json.loads(await raw.recv())["error"]["code"] == -32602
        await raw.close()
