"""A transaction lands in a slot after the one whose blockhash it carries, as on agave (a
slot's blockhash exists once its bank is frozen): the localnet hands out the current slot's
blockhash at `processed`, and a transaction on it ends that slot first (intake.py). So once
a transaction is seen, the latest blockhash is another one, and the same transfer sent again
under it is a new transaction, not a repeat refused as AlreadyProcessed (solana-py's own
suite sends one transfer three times so, confirming each at processed). A transaction on an
older blockhash (confirmed, finalized) ends no slot, and a block of an early slot is
answered at finalized once rooted (solana-py's getBlock(2)). Over real HTTP."""

from __future__ import annotations

import base64
import time

import pytest
from solana.rpc.api import Client
from solana.rpc.commitment import Processed
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from crowdcompute.localnet.ledger.finality import FINALITY_LAG

from .localnet_helpers import RENT_EXEMPT_0, ThreadServer, funded, rpc


@pytest.fixture(scope="module")
def slow(tmp_path_factory) -> ThreadServer:
    """Slots of 1 s: a transaction lands in the slot it was sent in, unless it ends it."""
    srv = ThreadServer(tmp_path_factory.mktemp("slow-slots"), slot_ms=1000, finality_lag=None)
    yield srv
    srv.stop()


def latest(url: str, commitment: str) -> tuple[Hash, int]:
    reply = rpc(url, "getLatestBlockhash", [{"commitment": commitment}])["result"]
    return Hash.from_string(reply["value"]["blockhash"]), reply["context"]["slot"]


def send_transfer(url: str, payer: Keypair, to: Pubkey, lamports: int, blockhash: Hash) -> dict:
    message = Message.new_with_blockhash([transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))], payer.pubkey(), blockhash)
    tx = Transaction([payer], message, blockhash)
    return rpc(url, "sendTransaction", [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64", "preflightCommitment": "processed"}])


def status(url: str, signature: str) -> dict:
    return rpc(url, "getSignatureStatuses", [[signature]])["result"]["value"][0]


def test_the_same_transfer_under_each_latest_blockhash_lands_each_time(slow):
    client = Client(slow.url, commitment=Processed, timeout=20)
    payer, to = funded(client), Keypair().pubkey()
    before = client.get_balance(payer.pubkey()).value
    signatures = []
    for _ in range(3):  # as solana-py's suite: latest blockhash, send, confirm at processed
        blockhash, slot = latest(slow.url, "processed")
        reply = send_transfer(slow.url, payer, to, RENT_EXEMPT_0, blockhash)
        assert "result" in reply, reply  # not AlreadyProcessed
        landed = status(slow.url, reply["result"])
        assert landed is not None and landed["err"] is None  # seen at once: no slot to wait for
        assert landed["slot"] > slot  # after its blockhash's slot
        assert latest(slow.url, "processed")[0] != blockhash
        signatures.append(reply["result"])
    assert len(set(signatures)) == 3
    assert client.get_balance(to).value == 3 * RENT_EXEMPT_0
    assert client.get_balance(payer.pubkey()).value == before - 3 * (RENT_EXEMPT_0 + 5000)


def test_a_slot_ended_early_is_a_whole_block_and_the_chain_stays_unbroken(slow):
    client = Client(slow.url, commitment=Processed, timeout=20)
    payer = funded(client)
    blockhash, slot = latest(slow.url, "processed")
    reply = send_transfer(slow.url, payer, Keypair().pubkey(), RENT_EXEMPT_0, blockhash)
    landed = status(slow.url, reply["result"])["slot"]
    assert landed == slot + 1  # the slot of its blockhash ended, the next one took it
    deadline = time.monotonic() + 10
    while rpc(slow.url, "getSlot", [{"commitment": "confirmed"}])["result"] < landed and time.monotonic() < deadline:
        time.sleep(0.05)
    ended = rpc(slow.url, "getBlock", [slot, {"commitment": "confirmed", "transactionDetails": "signatures"}])["result"]
    after = rpc(slow.url, "getBlock", [landed, {"commitment": "confirmed", "transactionDetails": "signatures"}])["result"]
    assert ended["blockhash"] == str(blockhash)
    assert after["parentSlot"] == slot and after["previousBlockhash"] == str(blockhash)
    assert reply["result"] in after["signatures"] and reply["result"] not in ended["signatures"]
    # no slot skipped: every slot has its block, block height = slot
    assert rpc(slow.url, "getBlocks", [slot - 2, landed], )["result"] == list(range(slot - 2, landed + 1))
    assert rpc(slow.url, "getBlockHeight", [{"commitment": "confirmed"}])["result"] >= landed


def test_a_transaction_on_an_older_blockhash_ends_no_slot(slow):
    client = Client(slow.url, commitment=Processed, timeout=20)
    payer = funded(client)
    same_slot = []
    for _ in range(3):  # the 1 s slot timer may tick in between: once in three is plenty
        blockhash, _ = latest(slow.url, "confirmed")
        slot = rpc(slow.url, "getSlot", [{"commitment": "processed"}])["result"]
        reply = send_transfer(slow.url, payer, Keypair().pubkey(), RENT_EXEMPT_0, blockhash)
        landed = status(slow.url, reply["result"])
        assert landed is not None and landed["err"] is None
        same_slot.append(landed["slot"] == slot)
    assert any(same_slot), same_slot


def test_an_early_slot_s_block_is_refused_until_rooted_then_answered(tmp_path):
    """getBlock at its default commitment (finalized) of slot 2: refused while the root is
    below it, answered once it is rooted. Each airdrop (signed on the current blockhash)
    ends a slot, so FINALITY_LAG + 3 of them root slot 2 well before 31 slots of 400 ms."""
    srv = ThreadServer(tmp_path / "ledger", slot_ms=400, finality_lag=FINALITY_LAG)
    try:
        deadline = time.monotonic() + 10
        while rpc(srv.url, "getSlot", [{"commitment": "confirmed"}])["result"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        confirmed = rpc(srv.url, "getBlock", [2, {"commitment": "confirmed", "transactionDetails": "none"}])["result"]
        assert rpc(srv.url, "getBlock", [2, {"transactionDetails": "none"}])["error"]["code"] == -32004
        for _ in range(FINALITY_LAG + 3):
            assert "result" in rpc(srv.url, "requestAirdrop", [str(Keypair().pubkey()), 10**9])
        assert rpc(srv.url, "getSlot", [{"commitment": "finalized"}])["result"] >= 2
        block = rpc(srv.url, "getBlock", [2, {"transactionDetails": "none"}])["result"]
        assert block == confirmed and block["parentSlot"] == 1
    finally:
        srv.stop()


def test_early_ends_come_at_most_once_a_quarter_slot(tmp_path):
    """However fast a client sends on fresh processed blockhashes, a slot ends early only once
    it has lasted a quarter of a slot (the transaction waits until then), so a blockhash
    stays valid for at least 150 quarter slots. With 2 s slots: 4 sends, each on the latest
    blockhash and each ending a slot, cannot take less than about 3 quarters (1.5 s)."""
    srv = ThreadServer(tmp_path / "ledger", slot_ms=2000, finality_lag=None)
    try:
        client = Client(srv.url, commitment=Processed, timeout=20)
        payer = funded(client)
        first = rpc(srv.url, "getSlot", [{"commitment": "processed"}])["result"]
        started = time.monotonic()
        for _ in range(4):
            blockhash, slot = latest(srv.url, "processed")
            reply = send_transfer(srv.url, payer, Keypair().pubkey(), RENT_EXEMPT_0, blockhash)
            assert status(srv.url, reply["result"])["slot"] > slot
        elapsed = time.monotonic() - started
        slots = rpc(srv.url, "getSlot", [{"commitment": "processed"}])["result"] - first
        assert slots >= 4
        # early ends at most one a quarter slot, timer ticks one a slot, plus the one each may have been due
        assert slots <= elapsed / 0.5 + elapsed / 2 + 2, (slots, elapsed)
    finally:
        srv.stop()
