"""History older than the bank's in-memory windows (bank.py: full records of the last
RECORD_SLOTS slots, statuses and blocks of the last STATUS_SLOTS), read back from the
ledger through the real server over HTTP: transactions, statuses, blocks, an address's
signatures with paging, restarts, performance samples, the ledger lock, and the writer
process dying under the server."""

from __future__ import annotations

import base64
import os
import pickle
import signal
import time
from pathlib import Path

import pytest
from solana.rpc.api import Client
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from crowdcompute.localnet.runtime.bank import RECORD_SLOTS, STATUS_SLOTS
from crowdcompute.localnet.ledger.journal import records
from crowdcompute.localnet.server import Localnet
from crowdcompute.localnet.ledger.store import LedgerInUse

from .localnet_helpers import RENT_EXEMPT_0, ProcessServer, ThreadServer, funded, rpc, send

SLOT_MS = 20
PAST_WINDOWS = STATUS_SLOTS + 8  # 160: a record this many slots old has left BOTH windows
assert PAST_WINDOWS > max(STATUS_SLOTS, RECORD_SLOTS)


@pytest.fixture()
def live(tmp_path):
    """A server on a fresh ledger, stopped after the test (ThreadServer.stop bounds it)."""
    server = ThreadServer(tmp_path / "ledger", slot_ms=SLOT_MS, finality_lag=None)
    yield server
    server.stop()


def result(url: str, method: str, params: object = None) -> object:
    reply = rpc(url, method, params, timeout=20)
    assert "error" not in reply, (method, params, reply)
    return reply["result"]


def wait_slot(url: str, above: int, commitment: str = "finalized", timeout: float = 60) -> int:
    """Polls getSlot until it is above `above`; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        slot = result(url, "getSlot", [{"commitment": commitment}])
        if slot > above:
            return slot
        assert time.monotonic() < deadline, f"slot stuck at {slot}, waiting for > {above}"
        time.sleep(0.05)


def pay(client: Client, payer: Keypair, to, lamports: int, *, skip_preflight: bool = False) -> str:
    return str(send(client, [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))], [payer], skip_preflight=skip_preflight))


def tx_slot(url: str, sig: str) -> int:
    (status,) = result(url, "getSignatureStatuses", [[sig], {"searchTransactionHistory": True}])["value"]
    assert status is not None, sig
    return status["slot"]


def all_signatures(url: str, address, **config) -> list[dict]:
    return result(url, "getSignaturesForAddress", [str(address), config])


ENCODINGS = [
    {"encoding": "json"},
    {"encoding": "json", "maxSupportedTransactionVersion": 0},
    {"encoding": "base64"},
    {"encoding": "base64", "maxSupportedTransactionVersion": 0},
    {"encoding": "jsonParsed"},
    {"encoding": "base58"},
]


def test_transaction_older_than_both_windows(live):
    server = live
    url = server.url
    client = Client(url, commitment=Confirmed, timeout=20)
    payer = funded(client)
    to = Keypair().pubkey()
    # Capture the fresh answers while the full record is still in memory (bank.txs);
    # retried with a new transaction should a loaded machine let it leave too early.
    for attempt in range(5):
        sig = pay(client, payer, to, RENT_EXEMPT_0 + 1000 + attempt)
        fresh = {i: result(url, "getTransaction", [sig, {**cfg, "commitment": "confirmed"}]) for i, cfg in enumerate(ENCODINGS)}
        if sig in server.net.bank.txs:
            break
    else:
        pytest.fail("could not read a transaction while its record was in memory")
    slot = fresh[0]["slot"]
    assert all(r is not None and r["slot"] == slot for r in fresh.values())
    assert fresh[0]["transaction"]["signatures"] == [sig]
    assert fresh[0]["meta"]["err"] is None and fresh[0]["meta"]["fee"] == 5000
    assert "version" not in fresh[0] and fresh[1]["version"] == "legacy"
    assert fresh[2]["transaction"][1] == "base64"
    fresh_status = result(url, "getSignatureStatuses", [[sig]])["value"][0]
    assert fresh_status is not None and fresh_status["slot"] == slot

    # The block as it is answered while in memory (once finalized).
    wait_slot(url, slot)
    fresh_block = {d: result(url, "getBlock", [slot, {"transactionDetails": d}]) for d in ("full", "signatures")}
    fresh_time = result(url, "getBlockTime", [slot])

    wait_slot(url, slot + PAST_WINDOWS)
    bank = server.net.bank
    # White-box: it really is out of memory, so the ledger answers what follows.
    assert sig not in bank.txs and sig not in bank.status_cache and slot not in bank.blocks

    for i, cfg in enumerate(ENCODINGS):
        assert result(url, "getTransaction", [sig, cfg]) == fresh[i], cfg
        assert result(url, "getTransaction", [sig, {**cfg, "commitment": "confirmed"}]) == fresh[i], cfg

    # Statuses: outside the recent window only with searchTransactionHistory.
    assert result(url, "getSignatureStatuses", [[sig]])["value"] == [None]
    assert result(url, "getSignatureStatuses", [[sig], {"searchTransactionHistory": False}])["value"] == [None]
    old = result(url, "getSignatureStatuses", [[sig], {"searchTransactionHistory": True}])["value"]
    assert old == [{"slot": slot, "confirmations": None, "err": None, "status": {"Ok": None}, "confirmationStatus": "finalized"}]
    unknown = str(Keypair().sign_message(b"never sent"))
    assert result(url, "getSignatureStatuses", [[unknown, sig], {"searchTransactionHistory": True}])["value"] == [None, old[0]]

    # Its block, from the ledger, lists it and is what it was.
    full = result(url, "getBlock", [slot, {"transactionDetails": "full"}])
    # (the airdrop or an earlier attempt may share the slot: all of them are the payer's)
    listed = [t["transaction"]["signatures"][0] for t in full["transactions"]]
    assert sig in listed and set(listed) <= {e["signature"] for e in all_signatures(url, payer.pubkey())}
    assert full["transactions"][listed.index(sig)] == {k: v for k, v in fresh[0].items() if k not in ("slot", "blockTime")}
    assert full == fresh_block["full"]
    sigs_only = result(url, "getBlock", [slot, {"transactionDetails": "signatures"}])
    assert sigs_only["signatures"] == listed
    assert sigs_only == fresh_block["signatures"]
    assert full["parentSlot"] == slot - 1 and full["blockHeight"] == slot
    block_time = result(url, "getBlockTime", [slot])
    assert isinstance(block_time, int) and not isinstance(block_time, bool)
    assert block_time == fresh_time == fresh[0]["blockTime"] == full["blockTime"]


def test_signatures_for_address_across_memory_and_ledger(live):
    server = live
    url = server.url
    client = Client(url, commitment=Confirmed, timeout=20)
    payer = funded(client)
    poor = funded(client, 1_000_000)
    to = Keypair().pubkey()
    sent: list[str] = []  # oldest first
    first = [RENT_EXEMPT_0 + 1000 + i for i in range(12)]  # `to` is new: left rent-exempt
    for i in range(12):
        sent.append(pay(client, payer, to, first[i], skip_preflight=i % 2 == 1))
        if i % 4 == 3:
            time.sleep(SLOT_MS / 1000 * 3)  # a few different slots
    # A failed transaction naming `to` (the payer cannot afford the transfer): it lands
    # with its error and appears in the address's history with it.
    failed = pay(client, poor, to, 10**12, skip_preflight=True)
    sent.append(failed)
    wait_slot(url, tx_slot(url, failed) + PAST_WINDOWS)  # all of these are on disk only now
    for i in range(12):
        sent.append(pay(client, payer, to, 2000 + i))
    wait_slot(url, tx_slot(url, sent[-1]))  # every one finalized

    bank = server.net.bank
    assert sent[0] not in bank.txs and sent[0] not in bank.status_cache
    assert sent[-1] in bank.status_cache

    everything = all_signatures(url, to)
    assert [e["signature"] for e in everything] == sent[::-1]  # newest first, complete
    slots = [e["slot"] for e in everything]
    assert slots == sorted(slots, reverse=True)
    for entry in everything:
        assert set(entry) == {"signature", "slot", "err", "memo", "blockTime", "confirmationStatus"}
        assert entry["confirmationStatus"] == "finalized" and entry["memo"] is None
        assert isinstance(entry["blockTime"], int)
    by_sig = {e["signature"]: e for e in everything}
    assert by_sig[failed]["err"] == {"InstructionError": [0, {"Custom": 1}]}
    assert [s for s, e in by_sig.items() if e["err"] is not None] == [failed]
    assert all(by_sig[s]["slot"] == tx_slot(url, s) for s in (sent[0], failed, sent[-1]))
    tx = result(url, "getTransaction", [failed])
    assert tx["meta"]["err"] == {"InstructionError": [0, {"Custom": 1}]}
    assert tx["meta"]["status"] == {"Err": {"InstructionError": [0, {"Custom": 1}]}}
    assert tx["meta"]["fee"] == 5000
    assert tx["meta"]["preBalances"][0] - tx["meta"]["postBalances"][0] == 5000  # charged only the fee
    assert result(url, "getBalance", [str(poor.pubkey())])["value"] == 1_000_000 - 5000
    assert result(url, "getBalance", [str(to)])["value"] == sum(first) + sum(2000 + i for i in range(12))

    # Paging by 10 with `before` walks through all of them, no gap, no duplicate.
    pages, before = [], None
    while True:
        config = {"limit": 10, **({"before": before} if before else {})}
        page = all_signatures(url, to, **config)
        assert len(page) <= 10
        if not page:
            break
        pages.append(page)
        before = page[-1]["signature"]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [e for p in pages for e in p] == everything

    # `until` stops before it (exclusive); with `before`, a window strictly between.
    newest_first = [e["signature"] for e in everything]
    for k in (0, 1, 12, 13, 24):
        assert [e["signature"] for e in all_signatures(url, to, until=newest_first[k])] == newest_first[:k]
    assert [e["signature"] for e in all_signatures(url, to, before=newest_first[3], until=newest_first[20])] == newest_first[4:20]
    assert [e["signature"] for e in all_signatures(url, to, before=newest_first[3], until=newest_first[20], limit=5)] == newest_first[4:9]
    assert all_signatures(url, to, before=newest_first[-1]) == []
    # the poor payer: its airdrop, then the failure
    assert [e["signature"] for e in all_signatures(url, poor.pubkey())][0] == failed


def test_restart_keeps_history_and_counts(tmp_path):
    ledger = tmp_path / "ledger"
    server = ThreadServer(ledger, slot_ms=SLOT_MS, finality_lag=None)
    try:
        url = server.url
        client = Client(url, commitment=Confirmed, timeout=20)
        payer = funded(client)
        to = Keypair().pubkey()
        sent = [pay(client, payer, to, RENT_EXEMPT_0 + 100 + i) for i in range(3)]
        first_slot = tx_slot(url, sent[0])
        wait_slot(url, first_slot + PAST_WINDOWS)
        sent += [pay(client, payer, to, 200 + i) for i in range(3)]
        wait_slot(url, tx_slot(url, sent[-1]))
        old_tx = [result(url, "getTransaction", [sent[0], cfg]) for cfg in ENCODINGS]
        recent_tx = result(url, "getTransaction", [sent[-1]])
        history = all_signatures(url, to)
        assert [e["signature"] for e in history] == sent[::-1]
        count = result(url, "getTransactionCount")
        assert count == 1 + len(sent)  # the airdrop, then the transfers
        genesis = result(url, "getGenesisHash")
        old_slot = result(url, "getSlot", [{"commitment": "processed"}])
    finally:
        server.stop()
    last_slot = server.net.bank.slot  # the slot the stopped bank was in

    again = ThreadServer(ledger, slot_ms=SLOT_MS, finality_lag=None)
    try:
        url = again.url
        client = Client(url, commitment=Confirmed, timeout=20)
        assert result(url, "getGenesisHash") == genesis
        assert result(url, "getTransactionCount") == count
        new_slot = result(url, "getSlot", [{"commitment": "processed"}])
        assert new_slot > old_slot and new_slot > last_slot
        for cfg, before in zip(ENCODINGS, old_tx):
            assert result(url, "getTransaction", [sent[0], cfg]) == before, cfg
        assert result(url, "getTransaction", [sent[-1]]) == recent_tx
        assert all_signatures(url, to) == history
        statuses = result(url, "getSignatureStatuses", [sent, {"searchTransactionHistory": True}])["value"]
        assert all(s is not None and s["err"] is None and s["confirmationStatus"] == "finalized" for s in statuses)
        # the recent ones are in the restored window (no history search needed)
        assert result(url, "getSignatureStatuses", [[sent[-1]]])["value"] == [statuses[-1]]
        assert result(url, "getSignatureStatuses", [[sent[0]]])["value"] == [None]

        more = pay(client, payer, to, 1)
        assert result(url, "getTransactionCount") == count + 1
        assert [e["signature"] for e in all_signatures(url, to, commitment="confirmed")] == [more, *sent[::-1]]

        # Blocks: every slot before and across the restart has its block, chained.
        wait_slot(url, last_slot + 3)
        start = max(0, last_slot - 40)
        assert result(url, "getBlocks", [start, last_slot]) == list(range(start, last_slot + 1))
        assert result(url, "getBlocks", [first_slot, first_slot + 20]) == list(range(first_slot, first_slot + 21))
        assert result(url, "getBlocksWithLimit", [start, 10]) == list(range(start, start + 10))
        previous = None
        for slot in range(last_slot - 5, last_slot + 4):
            block = result(url, "getBlock", [slot, {"transactionDetails": "none"}])
            assert block["parentSlot"] == slot - 1 and block["blockHeight"] == slot
            if previous is not None:
                assert block["previousBlockhash"] == previous["blockhash"]
                assert block["blockTime"] >= previous["blockTime"]
            previous = block
        for sig in (sent[0], sent[-1]):
            slot = tx_slot(url, sig)
            assert sig in result(url, "getBlock", [slot, {"transactionDetails": "signatures"}])["signatures"]
    finally:
        again.stop()


def test_recent_performance_samples(live):
    server = live
    url = server.url
    client = Client(url, commitment=Confirmed, timeout=20)
    payer = funded(client)
    to = Keypair().pubkey()
    sent = [pay(client, payer, to, RENT_EXEMPT_0 + 10 + i) for i in range(5)]
    wait_slot(url, tx_slot(url, sent[-1]) + PAST_WINDOWS)  # these blocks: on disk only
    sent += [pay(client, payer, to, 20 + i) for i in range(4)]  # these: in memory
    wait_slot(url, tx_slot(url, sent[-1]))
    ours = 1 + len(sent)  # the airdrop and the transfers
    assert result(url, "getTransactionCount") == ours

    samples = result(url, "getRecentPerformanceSamples")
    assert len(samples) >= 1
    for sample in samples:
        assert set(sample) == {"slot", "numTransactions", "numNonVoteTransactions", "numSlots", "samplePeriodSecs"}
        assert sample["numSlots"] > 0 and sample["samplePeriodSecs"] == 60
        assert sample["numNonVoteTransactions"] == sample["numTransactions"]
    assert sum(s["numTransactions"] for s in samples) >= ours
    # A fresh ledger: every transaction since genesis is in some sample, exactly once.
    assert sum(s["numTransactions"] for s in samples) == ours
    assert [s["slot"] for s in samples] == sorted((s["slot"] for s in samples), reverse=True)
    assert samples[0]["slot"] >= tx_slot(url, sent[-1])
    assert sum(s["numSlots"] for s in samples) >= tx_slot(url, sent[-1]) + 1  # every slot since 0
    assert len(result(url, "getRecentPerformanceSamples", [1])) == 1


def test_second_localnet_on_a_ledger_in_use_is_refused(tmp_path):
    ledger = tmp_path / "ledger"
    server = ThreadServer(ledger, slot_ms=SLOT_MS, finality_lag=None)
    try:
        client = Client(server.url, commitment=Confirmed, timeout=20)
        funds = 2 * RENT_EXEMPT_0 + 123_456  # pays a new address the minimum, stays rent-exempt
        who = funded(client, funds)
        with pytest.raises(ValueError) as refused:
            Localnet(ledger, slot_ms=SLOT_MS)
        assert isinstance(refused.value, LedgerInUse)
        assert "in use" in str(refused.value) and str(ledger) in str(refused.value)
        with pytest.raises(LedgerInUse, match="in use"):  # refusing twice leaves nothing held
            Localnet(ledger, slot_ms=SLOT_MS)
        # the first is undisturbed
        assert result(server.url, "getBalance", [str(who.pubkey())])["value"] == funds
        assert pay(client, who, Keypair().pubkey(), RENT_EXEMPT_0)
    finally:
        server.stop()
    again = ThreadServer(ledger, slot_ms=SLOT_MS, finality_lag=None)
    try:
        assert result(again.url, "getBalance", [str(who.pubkey())])["value"] == funds - RENT_EXEMPT_0 - 5000
    finally:
        again.stop()


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def _signed_transfer(client: Client, payer: Keypair, lamports: int) -> str:
    blockhash = client.get_latest_blockhash(Confirmed).value.blockhash
    ixs = [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=lamports))]
    tx = Transaction([payer], Message.new_with_blockhash(ixs, payer.pubkey(), blockhash), blockhash)
    return base64.b64encode(bytes(tx)).decode()


def test_writer_death_in_a_thread_server(live):
    server = live
    url = server.url
    client = Client(url, commitment=Confirmed, timeout=20)
    payer = funded(client)
    assert not server.net.failed.is_set()
    writer = server.net.store._process
    os.kill(writer.pid, signal.SIGKILL)
    started = time.monotonic()
    reply = rpc(url, "sendTransaction", [_signed_transfer(client, payer, RENT_EXEMPT_0), {"encoding": "base64"}], timeout=10)
    assert time.monotonic() - started < 10
    if "result" in reply:
        # Sent before the server noticed the death: answered because it is in the journal
        # (the commit point), which the next start applies to SQLite.
        journaled = [tx[1] for _, payload in records(server.net.ledger, 0) for tx in pickle.loads(payload)[1]]
        assert reply["result"] in journaled
    else:
        assert reply["error"]["code"] == -32005, reply  # NodeUnhealthy, as Solana names it
        assert "writer exited" in reply["error"]["message"]
    assert _wait(server.net.failed.is_set, 5)
    assert server.net.store.failed is not None and "writer exited" in str(server.net.store.failed)
    # refused before execution once failed: nothing changes in memory either
    balance = rpc(url, "getBalance", [str(payer.pubkey())])["result"]["value"]
    reply = rpc(url, "sendTransaction", [_signed_transfer(client, payer, RENT_EXEMPT_0 + 2), {"encoding": "base64", "skipPreflight": True}], timeout=10)
    assert reply["error"]["code"] == -32005 and "writer exited" in reply["error"]["message"], reply
    assert rpc(url, "getBalance", [str(payer.pubkey())])["result"]["value"] == balance
    reply = rpc(url, "requestAirdrop", [str(Keypair().pubkey()), RENT_EXEMPT_0 + 1000], timeout=10)
    assert reply["error"]["code"] == -32005, reply
    assert rpc(url, "getHealth")["error"]["code"] == -32005


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return out


def test_writer_death_stops_the_server_process(tmp_path):
    ledger = tmp_path / "ledger"
    srv = ProcessServer(ledger, slot_ms=SLOT_MS, reset=True)
    srv.wait_ready()
    try:
        client = Client(srv.url, commitment=Confirmed, timeout=10)
        payer = funded(client)
        kept = pay(client, payer, Keypair().pubkey(), RENT_EXEMPT_0 + 5)
        writers = [c for c in _children(srv.proc.pid)
                   if b"crowdcompute.localnet.ledger.writer" in Path(f"/proc/{c}/cmdline").read_bytes()]
        assert len(writers) == 1, _children(srv.proc.pid)
        os.kill(writers[0], signal.SIGKILL)
        assert srv.proc.wait(10) == 1
        stderr = srv.proc.stderr.read().decode()
        assert "writer exited" in stderr and "Traceback" not in stderr, stderr
    finally:
        if srv.proc.poll() is None:
            srv.kill9()
    # What was acknowledged before is on the ledger; it opens again.
    again = ProcessServer(ledger, slot_ms=SLOT_MS)
    again.wait_ready()
    try:
        (status,) = rpc(again.url, "getSignatureStatuses", [[kept], {"searchTransactionHistory": True}])["result"]["value"]
        assert status is not None and status["err"] is None
    finally:
        assert again.terminate() == 0
