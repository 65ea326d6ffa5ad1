"""Commitment over real HTTP and websockets on a localnet whose root trails the confirmed
slot by FINALITY_LAG slots, as solana-test-validator's does (40 ms slots keep the lag near
1.2 s): the levels' order at every instant, the lag, reads and simulation at finalized as
of the root, statuses, finalized subscriptions, slotsUpdates, voteSubscribe's refusal, getBlockTime above the root, batches, and
--finalize-immediately. The two-transfers scenario of a test-validator client (everything
at finalized) is scenario_finalized_transfers in test_validator_parity.py, run against two
localnets in every run and against solana-test-validator when present."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time

import pytest
import websockets
from solana.rpc.api import Client
from solana.rpc.commitment import Confirmed, Finalized
from solana.rpc.types import TxOpts
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from crowdcompute.common.token import MINT_LEN, associated_token_address, create_associated_token_account, create_mint_instructions, mint_to_instruction
from crowdcompute.localnet.__main__ import parse_args
from crowdcompute.localnet.ledger.finality import FINALITY_LAG

from .localnet_helpers import RENT_EXEMPT_0, ThreadServer, rpc

SLOT_MS = 40
LEVELS = ("finalized", "confirmed", "processed")


@pytest.fixture(scope="module")
def lagged(tmp_path_factory) -> ThreadServer:
    srv = ThreadServer(tmp_path_factory.mktemp("lagged"), slot_ms=SLOT_MS)
    yield srv
    srv.stop()


def result(url: str, method: str, params: object = None) -> object:
    reply = rpc(url, method, params)
    assert "result" in reply, reply
    return reply["result"]


def batch(url: str, calls: list[tuple[str, list]]) -> list[dict]:
    body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]).encode()
    replies = rpc(url, "", raw=body)
    return [r["result"] for r in sorted(replies, key=lambda r: r["id"])]


def wait_slot(url: str, above: int, commitment: str = "finalized", timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        slot = result(url, "getSlot", [{"commitment": commitment}])
        if slot > above:
            return slot
        time.sleep(SLOT_MS / 1000)
    raise TimeoutError(f"{commitment} slot stayed at or below {above}")


def wait_rooted(url: str, slot: int) -> None:
    wait_slot(url, slot - 1)


def status_of(url: str, sig) -> dict:
    return result(url, "getSignatureStatuses", [[str(sig)]])["value"][0]


def funded(client: Client, lamports: int = 10 * 10**9) -> Keypair:
    keypair = Keypair()
    sig = client.request_airdrop(keypair.pubkey(), lamports).value
    client.confirm_transaction(sig, Confirmed, sleep_seconds=0.02)
    return keypair


def signed(blockhash, instructions: list, signers: list[Keypair]) -> Transaction:
    return Transaction(signers, Message.new_with_blockhash(instructions, signers[0].pubkey(), blockhash), blockhash)


def send_confirmed(client: Client, instructions: list, signers: list[Keypair]):
    """Blockhash and preflight at confirmed: lands now, whatever the root holds."""
    tx = signed(client.get_latest_blockhash(Confirmed).value.blockhash, instructions, signers)
    return client.send_raw_transaction(bytes(tx), TxOpts(preflight_commitment=Confirmed)).value


# -- the order of the levels ------------------------------------------------------------------

def test_levels_are_ordered_at_every_instant(lagged):
    """Many methods sampled concurrently while transactions land: within one batch (one
    instant) finalized <= confirmed <= processed for every context slot and height, and the
    finalized blockhash is never newer than the confirmed one."""
    client = Client(lagged.url, timeout=20)
    payer = funded(client)
    stop = threading.Event()
    errors: list[BaseException] = []

    def traffic() -> None:
        try:
            while not stop.is_set():
                send_confirmed(client, [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=RENT_EXEMPT_0))], [payer])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def per_level(method: str, params: list) -> list[tuple[str, list]]:
        return [(method, params + [{"commitment": level}]) for level in LEVELS]

    calls = (per_level("getSlot", []) + per_level("getBlockHeight", []) + per_level("getLatestBlockhash", [])
             + per_level("getEpochInfo", []) + per_level("getBalance", [str(payer.pubkey())])
             + per_level("getAccountInfo", [str(payer.pubkey())]) + per_level("getTransactionCount", []))
    thread = threading.Thread(target=traffic)
    thread.start()
    samples = 0
    try:
        while samples < 40 or result(lagged.url, "getSlot", [{"commitment": "finalized"}]) < 2:
            r = batch(lagged.url, calls)
            slots, heights, hashes, epochs, balances, infos, counts = (r[i:i + 3] for i in range(0, 21, 3))
            for group in (slots, heights, [h["context"]["slot"] for h in hashes], [e["absoluteSlot"] for e in epochs],
                          [b["context"]["slot"] for b in balances], [i["context"]["slot"] for i in infos],
                          [h["value"]["lastValidBlockHeight"] for h in hashes], counts):
                assert group[0] <= group[1] <= group[2], (group, r)
            # each level's blockhash is its context slot's: equal slots give equal hashes
            if hashes[0]["context"]["slot"] == hashes[1]["context"]["slot"]:
                assert hashes[0]["value"]["blockhash"] == hashes[1]["value"]["blockhash"]
            else:
                assert hashes[0]["value"]["blockhash"] != hashes[1]["value"]["blockhash"]
            samples += 1
    finally:
        stop.set()
        thread.join(30)
    assert not errors, errors
    # and across calls: a later call never goes back
    before = [result(lagged.url, "getSlot", [{"commitment": level}]) for level in LEVELS]
    after = [result(lagged.url, "getSlot", [{"commitment": level}]) for level in LEVELS]
    assert all(a <= b for a, b in zip(before, after)) and before[0] <= before[1] <= before[2]


def test_root_trails_confirmed_by_the_lag(lagged):
    wait_slot(lagged.url, FINALITY_LAG + 5, "confirmed")
    finalized, confirmed = batch(lagged.url, [("getSlot", [{"commitment": "finalized"}]), ("getSlot", [{"commitment": "confirmed"}])])
    assert confirmed - finalized == FINALITY_LAG
    # blockhashes per level: the finalized one is valid at finalized, the processed one is not (yet)
    fin, proc = batch(lagged.url, [("getLatestBlockhash", [{"commitment": "finalized"}]), ("getLatestBlockhash", [{"commitment": "processed"}])])
    valid = batch(lagged.url, [("isBlockhashValid", [fin["value"]["blockhash"], {"commitment": "finalized"}]),
                               ("isBlockhashValid", [proc["value"]["blockhash"], {"commitment": "finalized"}]),
                               ("isBlockhashValid", [proc["value"]["blockhash"], {"commitment": "processed"}])])
    assert [v["value"] for v in valid] == [True, False, True]


# -- reads, statuses and simulation at finalized ----------------------------------------------

def test_reads_at_finalized_show_the_root(lagged):
    client = Client(lagged.url, commitment=Confirmed, timeout=20)
    who = Keypair()
    sig = client.request_airdrop(who.pubkey(), 3 * 10**9).value
    slot = status_of(lagged.url, sig)["slot"]
    fin, conf = batch(lagged.url, [("getBalance", [str(who.pubkey()), {"commitment": "finalized"}]),
                                   ("getBalance", [str(who.pubkey()), {"commitment": "confirmed"}])])
    assert fin["context"]["slot"] < slot and fin["value"] == 0  # the root is before the airdrop
    assert conf["value"] == 3 * 10**9
    assert result(lagged.url, "getAccountInfo", [str(who.pubkey())])["value"] is None  # default: finalized
    status = status_of(lagged.url, sig)
    assert status["confirmationStatus"] == "confirmed" and isinstance(status["confirmations"], int)
    assert result(lagged.url, "getTransaction", [str(sig), {"commitment": "finalized"}]) is None
    assert result(lagged.url, "getTransaction", [str(sig), {"commitment": "confirmed"}])["slot"] == slot
    assert rpc(lagged.url, "getBlock", [slot, {"commitment": "finalized"}])["error"]["code"] == -32004
    assert slot not in result(lagged.url, "getBlocks", [max(0, slot - 3), {"commitment": "finalized"}])
    # preflight at finalized (agave's default) runs on the root's accounts: no such payer there
    blockhash = client.get_latest_blockhash(Finalized).value.blockhash
    spend = signed(blockhash, [transfer(TransferParams(from_pubkey=who.pubkey(), to_pubkey=Keypair().pubkey(), lamports=RENT_EXEMPT_0))], [who])
    reply = rpc(lagged.url, "sendTransaction", [base64.b64encode(bytes(spend)).decode(), {"encoding": "base64"}])
    assert reply["error"]["code"] == -32002 and reply["error"]["data"]["err"] == "AccountNotFound"

    wait_rooted(lagged.url, slot)
    fin = result(lagged.url, "getBalance", [str(who.pubkey()), {"commitment": "finalized"}])
    assert fin["context"]["slot"] >= slot and fin["value"] == 3 * 10**9
    status = status_of(lagged.url, sig)
    assert status["confirmationStatus"] == "finalized" and status["confirmations"] is None
    assert result(lagged.url, "getTransaction", [str(sig), {"commitment": "finalized"}])["slot"] == slot
    assert result(lagged.url, "getBlock", [slot, {"commitment": "finalized", "transactionDetails": "signatures"}])["signatures"] == [str(sig)]

    # a later change: finalized keeps the root's value until its slot is rooted
    out = send_confirmed(client, [transfer(TransferParams(from_pubkey=who.pubkey(), to_pubkey=Keypair().pubkey(), lamports=10**9))], [who])
    out_slot = status_of(lagged.url, out)["slot"]
    fin, conf = batch(lagged.url, [("getMultipleAccounts", [[str(who.pubkey())], {"commitment": "finalized", "encoding": "base64"}]),
                                   ("getMultipleAccounts", [[str(who.pubkey())], {"commitment": "confirmed", "encoding": "base64"}])])
    assert fin["value"][0]["lamports"] == 3 * 10**9 and conf["value"][0]["lamports"] < 2 * 10**9 + 1
    wait_rooted(lagged.url, out_slot)
    assert result(lagged.url, "getBalance", [str(who.pubkey())])["value"] == conf["value"][0]["lamports"]


def test_token_and_program_reads_at_finalized(lagged):
    client = Client(lagged.url, commitment=Confirmed, timeout=20)
    payer, mint = funded(client), Keypair()
    rent = client.get_minimum_balance_for_rent_exemption(MINT_LEN).value
    ata = associated_token_address(payer.pubkey(), mint.pubkey())
    send_confirmed(client, create_mint_instructions(payer.pubkey(), mint.pubkey(), payer.pubkey(), decimals=2, lamports=rent), [payer, mint])
    sig = send_confirmed(client, [create_associated_token_account(payer.pubkey(), payer.pubkey(), mint.pubkey()),
                                  mint_to_instruction(mint.pubkey(), ata, payer.pubkey(), 500)], [payer])
    slot = status_of(lagged.url, sig)["slot"]
    assert rpc(lagged.url, "getTokenAccountBalance", [str(ata), {"commitment": "finalized"}])["error"]["code"] == -32602  # not there yet
    by_owner = [("getTokenAccountsByOwner", [str(payer.pubkey()), {"mint": str(mint.pubkey())}, {"commitment": level, "encoding": "base64"}]) for level in ("finalized", "confirmed")]
    fin, conf = batch(lagged.url, by_owner)
    assert fin["value"] == [] and [a["pubkey"] for a in conf["value"]] == [str(ata)]
    wait_rooted(lagged.url, slot)
    assert result(lagged.url, "getTokenAccountBalance", [str(ata)])["value"]["amount"] == "500"
    more = send_confirmed(client, [mint_to_instruction(mint.pubkey(), ata, payer.pubkey(), 250)], [payer])
    calls = [("getTokenAccountBalance", [str(ata), {"commitment": level}]) for level in ("finalized", "confirmed")]
    calls += [("getTokenSupply", [str(mint.pubkey()), {"commitment": level}]) for level in ("finalized", "confirmed")]
    calls += [("getTokenLargestAccounts", [str(mint.pubkey()), {"commitment": level}]) for level in ("finalized", "confirmed")]
    bal_f, bal_c, sup_f, sup_c, big_f, big_c = batch(lagged.url, calls)
    assert (bal_f["value"]["amount"], bal_c["value"]["amount"]) == ("500", "750")
    assert (sup_f["value"]["amount"], sup_c["value"]["amount"]) == ("500", "750")
    assert (big_f["value"][0]["amount"], big_c["value"][0]["amount"]) == ("500", "750")
    # the jsonParsed view at finalized parses the root's data (and the mint's, for decimals)
    parsed = result(lagged.url, "getAccountInfo", [str(ata), {"commitment": "finalized", "encoding": "jsonParsed"}])
    assert parsed["value"]["data"]["parsed"]["info"]["tokenAmount"]["amount"] == "500"
    wait_rooted(lagged.url, status_of(lagged.url, more)["slot"])
    assert result(lagged.url, "getTokenAccountBalance", [str(ata)])["value"]["amount"] == "750"


def test_restored_state_is_final(tmp_path):
    server = ThreadServer(tmp_path / "ledger", slot_ms=SLOT_MS)
    try:
        client = Client(server.url, commitment=Confirmed, timeout=20)
        who = Keypair()
        sig = client.request_airdrop(who.pubkey(), 10**9).value
        assert status_of(server.url, sig)["confirmationStatus"] == "confirmed"
    finally:
        server.stop()
    again = ThreadServer(tmp_path / "ledger", slot_ms=SLOT_MS)
    try:
        assert status_of(again.url, sig)["confirmationStatus"] == "finalized"
        assert result(again.url, "getBalance", [str(who.pubkey()), {"commitment": "finalized"}])["value"] == 10**9
        finalized, confirmed = batch(again.url, [("getSlot", [{"commitment": "finalized"}]), ("getSlot", [{"commitment": "confirmed"}])])
        assert finalized <= confirmed
    finally:
        again.stop()


# -- PubSub --------------------------------------------------------------------------------

async def frames(ws, until, timeout: float = 30) -> list[dict]:
    """Messages until `until(messages)` holds."""
    out: list[dict] = []
    deadline = time.monotonic() + timeout
    while not until(out):
        out.append(json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))))
    return out


def notes(messages: list[dict], sub: int) -> list:
    return [m["params"]["result"] for m in messages if m.get("params", {}).get("subscription") == sub]


@pytest.mark.asyncio
async def test_finalized_subscriptions_notify_when_rooted(lagged):
    client = Client(lagged.url, commitment=Confirmed, timeout=20)
    payer = funded(client)
    target = Keypair().pubkey()
    blockhash = client.get_latest_blockhash(Confirmed).value.blockhash
    tx = signed(blockhash, [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=target, lamports=RENT_EXEMPT_0 + 7))], [payer])
    sig = str(tx.signatures[0])
    async with websockets.connect(lagged.ws_url) as ws:
        requests = [("accountSubscribe", [str(target), {"commitment": "finalized", "encoding": "base64"}]),
                    ("signatureSubscribe", [sig, {"commitment": "finalized"}]),
                    ("logsSubscribe", [{"mentions": [str(target)]}, {"commitment": "finalized"}]),
                    ("rootSubscribe", []),
                    ("accountSubscribe", [str(target), {"commitment": "confirmed", "encoding": "base64"}])]
        await ws.send(json.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(requests)]))
        answers = json.loads(await asyncio.wait_for(ws.recv(), 5))
        account, signature, logs, root, confirmed = [a["result"] for a in sorted(answers, key=lambda a: a["id"])]
        await asyncio.to_thread(client.send_raw_transaction, bytes(tx), TxOpts(preflight_commitment=Confirmed))
        slot = status_of(lagged.url, sig)["slot"]
        messages = await frames(ws, lambda ms: notes(ms, account) and notes(ms, signature) and notes(ms, logs))
        # the confirmed one came first, the finalized ones once the root reached the slot
        order = [m["params"]["subscription"] for m in messages if "params" in m]
        assert order.index(confirmed) < order.index(account)
        roots = notes(messages, root)
        assert roots == list(range(roots[0], roots[-1] + 1)) and roots[-1] >= slot
        first_root = next(i for i, m in enumerate(messages) if m.get("params", {}).get("subscription") == root and m["params"]["result"] >= slot)
        assert first_root < order.index(account)  # agave: the root first, then its bank's notifications
        (acc,) = notes(messages, account)
        assert acc["context"]["slot"] == slot and acc["value"]["lamports"] == RENT_EXEMPT_0 + 7
        assert notes(messages, signature) == [{"context": {"slot": slot}, "value": {"err": None}}]
        (log,) = notes(messages, logs)
        assert log["context"]["slot"] == slot and log["value"]["signature"] == sig and log["value"]["logs"]
        assert result(lagged.url, "getSlot", [{"commitment": "finalized"}]) >= slot


@pytest.mark.asyncio
async def test_finalized_block_and_program_notifications(lagged):
    """blockSubscribe and programSubscribe at finalized: once, when the slot is rooted (the
    block's records are read by then from memory or the ledger), never before."""
    from solders.system_program import CreateAccountParams, create_account

    client = Client(lagged.url, commitment=Confirmed, timeout=20)
    payer, owner, new = funded(client), Keypair().pubkey(), Keypair()
    async with websockets.connect(lagged.ws_url) as ws:
        requests = [("blockSubscribe", [{"mentionsAccountOrProgram": str(new.pubkey())}, {"commitment": "finalized", "transactionDetails": "signatures"}]),
                    ("programSubscribe", [str(owner), {"commitment": "finalized", "encoding": "base64"}])]
        await ws.send(json.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(requests)]))
        block_sub, program_sub = [a["result"] for a in json.loads(await asyncio.wait_for(ws.recv(), 5))]
        rent = client.get_minimum_balance_for_rent_exemption(8).value
        sig = await asyncio.to_thread(send_confirmed, client, [create_account(CreateAccountParams(
            from_pubkey=payer.pubkey(), to_pubkey=new.pubkey(), lamports=rent, space=8, owner=owner))], [payer, new])
        slot = status_of(lagged.url, sig)["slot"]
        messages = await frames(ws, lambda ms: notes(ms, block_sub) and notes(ms, program_sub))
        assert result(lagged.url, "getSlot", [{"commitment": "finalized"}]) >= slot
        (block,) = notes(messages, block_sub)
        assert block["context"]["slot"] == slot and block["value"]["block"]["signatures"] == [str(sig)] and block["value"]["err"] is None
        (program,) = notes(messages, program_sub)
        assert program["context"]["slot"] == slot and program["value"]["pubkey"] == str(new.pubkey())
        assert program["value"]["account"]["space"] == 8


@pytest.mark.asyncio
async def test_pubsub_batches(lagged):
    async with websockets.connect(lagged.ws_url) as ws:
        await ws.send(json.dumps([
            {"jsonrpc": "2.0", "id": 1, "method": "slotSubscribe"},
            {"jsonrpc": "2.0", "id": 2, "method": "noSuchSubscribe"},
            7,
            {"jsonrpc": "2.0", "id": 4, "method": "rootUnsubscribe", "params": [987654]},
        ]))
        answers = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert isinstance(answers, list) and len(answers) == 4
        assert answers[0]["id"] == 1 and isinstance(answers[0]["result"], int)
        assert answers[1] == {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": 2}
        assert answers[2]["error"]["code"] == -32600 and answers[2]["id"] is None
        assert answers[3]["error"]["code"] == -32602 and answers[3]["id"] == 4
        await ws.send(json.dumps([{"jsonrpc": "2.0", "id": 9, "method": "slotUnsubscribe", "params": [answers[0]["result"]]}]))
        while True:  # slot notifications may come before the answer
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if isinstance(message, list):
                assert message == [{"jsonrpc": "2.0", "result": True, "id": 9}]
                break
        await ws.send("[]")
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["error"]["code"] == -32600


@pytest.mark.asyncio
async def test_slots_updates_shapes_and_order(lagged):
    client = Client(lagged.url, commitment=Confirmed, timeout=20)
    payer = funded(client)
    async with websockets.connect(lagged.ws_url) as ws:
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "slotsUpdatesSubscribe"}))
        sub = json.loads(await asyncio.wait_for(ws.recv(), 5))["result"]
        sig = await asyncio.to_thread(send_confirmed, client, [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=RENT_EXEMPT_0))], [payer])
        tx_slot = status_of(lagged.url, sig)["slot"]
        messages = await frames(ws, lambda ms: any(u["type"] == "root" and u["slot"] >= tx_slot for u in notes(ms, sub)))
        updates = notes(messages, sub)
        assert {m["method"] for m in messages} == {"slotsUpdatesNotification"}
        keys = {"createdBank": {"parent", "slot", "timestamp", "type"}, "completed": {"slot", "timestamp", "type"},
                "frozen": {"slot", "timestamp", "type", "stats"}, "optimisticConfirmation": {"slot", "timestamp", "type"},
                "root": {"slot", "timestamp", "type"}}
        for update in updates:
            assert set(update) == keys[update["type"]], update
            assert isinstance(update["timestamp"], int) and update["timestamp"] > 1_600_000_000_000  # milliseconds
        position = {(u["type"], u["slot"]): i for i, u in enumerate(updates)}
        created = [u for u in updates if u["type"] == "createdBank"]
        assert all(u["parent"] == u["slot"] - 1 for u in created)
        for u in created:
            s = u["slot"]
            chain = [position.get((kind, s)) for kind in ("createdBank", "completed", "frozen", "optimisticConfirmation", "root")]
            present = [p for p in chain if p is not None]
            assert present == sorted(present), (s, chain)
            if (("frozen", s)) in position and ("createdBank", s + 1) in position:
                assert position[("frozen", s)] < position[("createdBank", s + 1)]
        # a slot is rooted FINALITY_LAG confirmations after it is confirmed
        roots = [u["slot"] for u in updates if u["type"] == "root"]
        assert roots == list(range(roots[0], roots[-1] + 1))
        for r in roots:
            if ("optimisticConfirmation", r + FINALITY_LAG) in position:
                assert position[("optimisticConfirmation", r + FINALITY_LAG)] < position[("root", r)]
        frozen = next(u for u in updates if u["type"] == "frozen" and u["slot"] == tx_slot)
        assert frozen["stats"]["numSuccessfulTransactions"] >= 1 and frozen["stats"]["numFailedTransactions"] == 0
        assert set(frozen["stats"]) == {"numTransactionEntries", "numSuccessfulTransactions", "numFailedTransactions", "maxTransactionsPerEntry"}
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "slotsUpdatesUnsubscribe", "params": [sub]}))
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if message.get("id") == 2:
                assert message["result"] is True
                break


@pytest.mark.asyncio
async def test_vote_subscribe_is_refused(lagged):
    """agave refuses voteSubscribe and voteUnsubscribe with "Method not found" unless
    --rpc-pubsub-enable-vote-subscription; the localnet models no vote account, so it
    refuses them too, rather than accept a subscription that is never notified (a client
    waiting for the first vote would wait forever). The connection serves on."""
    assert result(lagged.url, "getVoteAccounts") == {"current": [], "delinquent": []}
    async with websockets.connect(lagged.ws_url) as ws:
        await ws.send(json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "voteSubscribe"},
                                  {"jsonrpc": "2.0", "id": 2, "method": "voteUnsubscribe", "params": [1]},
                                  {"jsonrpc": "2.0", "id": 3, "method": "slotSubscribe"}]))
        vote, unsubscribe, slots = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert vote == {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": 1}
        assert unsubscribe == {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": 2}
        assert isinstance(slots["result"], int)
        assert len(notes(await frames(ws, lambda ms: len(notes(ms, slots["result"])) >= 3), slots["result"])) >= 3


def test_block_time_of_slots_above_the_root(lagged):
    """getBlockTime as agave answers it: a slot above the root whose bank exists (confirmed,
    or the processed one being produced) has its clock's time, though getBlock at
    finalized (its default) refuses it until it is rooted; a slot ahead of the processed
    one is "Block not available". (solana-py's suite asks getBlockTime(5) of a node a few
    seconds old.)"""
    finalized, confirmed, processed = (result(lagged.url, "getSlot", [{"commitment": c}]) for c in LEVELS)
    above_root = max(confirmed, finalized + 1)
    wait_slot(lagged.url, above_root - 1, "confirmed")
    now = time.time()
    for slot in (above_root, processed):
        block_time = result(lagged.url, "getBlockTime", [slot])
        assert isinstance(block_time, int) and abs(block_time - now) < 60
    body = json.dumps([{"jsonrpc": "2.0", "id": 0, "method": "getSlot", "params": [{"commitment": "finalized"}]},
                       {"jsonrpc": "2.0", "id": 1, "method": "getBlock", "params": [above_root, {"transactionDetails": "none"}]}]).encode()
    root, block = sorted(rpc(lagged.url, "", raw=body), key=lambda r: r["id"])  # one instant
    assert ("result" in block) == (root["result"] >= above_root), (root, block)
    if root["result"] < above_root:
        assert block["error"] == {"code": -32004, "message": f"Block not available for slot {above_root}"}
    assert result(lagged.url, "getBlock", [above_root, {"commitment": "confirmed", "transactionDetails": "none"}])["blockTime"] == \
        result(lagged.url, "getBlockTime", [above_root])
    ahead = result(lagged.url, "getSlot", [{"commitment": "processed"}]) + 1000
    assert rpc(lagged.url, "getBlockTime", [ahead])["error"] == {"code": -32004, "message": f"Block not available for slot {ahead}"}


# -- finalize immediately -------------------------------------------------------------------

def test_finalize_immediately(tmp_path):
    args = parse_args(["--finalize-immediately"])
    assert args.finalize_immediately and not parse_args([]).finalize_immediately
    server = ThreadServer(tmp_path / "ledger", slot_ms=SLOT_MS, finality_lag=None)
    try:
        client = Client(server.url, commitment=Confirmed, timeout=20)
        who = Keypair()
        sig = client.request_airdrop(who.pubkey(), 10**9).value
        # reads at finalized see the latest state, as confirmed ones do
        assert result(server.url, "getBalance", [str(who.pubkey()), {"commitment": "finalized"}])["value"] == 10**9
        wait_slot(server.url, status_of(server.url, sig)["slot"], "confirmed")
        for _ in range(10):
            finalized, confirmed = batch(server.url, [("getSlot", [{"commitment": "finalized"}]), ("getSlot", [{"commitment": "confirmed"}])])
            assert finalized == confirmed
        client.confirm_transaction(sig, Finalized, sleep_seconds=0.02)
        assert status_of(server.url, sig)["confirmationStatus"] == "finalized"
    finally:
        server.stop()
