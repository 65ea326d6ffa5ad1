"""The ledger's journal (localnet/ledger/journal.py): an answered transaction is durable once
journaled, before the writer process has put it into SQLite.

Over a real server: with its writer process stopped (SIGSTOP: it cannot commit anything),
transfers are still answered; kill -9 of the server and of the writer then loses none of
them. Ledger reads wait for the writer. And the journal's own format: rotation, deletion of
committed segments, a torn or corrupt tail.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from solana.rpc.api import Client
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair
from solders.system_program import TransferParams, transfer
from solders.transaction_status import TransactionConfirmationStatus

from crowdcompute.localnet.ledger import journal
from crowdcompute.localnet.ledger.journal import JOURNAL_DIR, Journal, records

from .localnet_helpers import RENT_EXEMPT_0, ProcessServer, funded, rpc, send


def _writer_pid(server_pid: int) -> int:
    """The server's ledger writer process (a child running crowdcompute.localnet.ledger.writer)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == server_pid and b"crowdcompute.localnet.ledger.writer" in cmdline:
            return int(entry)
    raise AssertionError("no writer process under the server")


def _transfers(client: Client, payer: Keypair, to, amounts: list[int]) -> list:
    return [send(client, [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=a))], [payer], skip_preflight=True)
            for a in amounts]


def test_answered_while_the_writer_is_stopped_survive_kill9_of_every_process(tmp_path):
    ledger = tmp_path / "ledger"
    srv = ProcessServer(ledger, slot_ms=50, reset=True)
    srv.wait_ready()
    client = Client(srv.url, commitment=Confirmed, timeout=10)
    payer = funded(client)
    to = Keypair().pubkey()
    writer = _writer_pid(srv.proc.pid)
    os.kill(writer, signal.SIGSTOP)  # from here on nothing reaches SQLite
    try:
        amounts = [RENT_EXEMPT_0 + i for i in range(1, 6)]
        sigs = _transfers(client, payer, to, amounts)
        statuses = client.get_signature_statuses(sigs).value
        assert all(s is not None and s.err is None and s.confirmation_status == TransactionConfirmationStatus.Confirmed for s in statuses)
        assert any((ledger / JOURNAL_DIR).glob("*.log"))
    finally:
        os.kill(writer, signal.SIGKILL)  # never committed what it was sent
        os.kill(writer, signal.SIGCONT)
        srv.kill9()

    again = ProcessServer(ledger, slot_ms=50, port=srv.port)
    again.wait_ready()
    try:
        client = Client(again.url, commitment=Confirmed, timeout=10)
        assert client.get_balance(to).value == sum(amounts)
        assert all(s is not None and s.err is None for s in client.get_signature_statuses(sigs).value)
        assert [h.signature for h in client.get_signatures_for_address(to).value] == sigs[::-1]  # read from SQLite
        tx = client.get_transaction(sigs[-1]).value
        assert tx is not None and tx.transaction.meta.post_balances[1] == sum(amounts)
        more = send(client, [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=1))], [payer])
        assert client.get_signature_statuses([more]).value[0] is not None
    finally:
        assert again.terminate() == 0
    assert not list((ledger / JOURNAL_DIR).glob("*.log"))  # a clean stop leaves nothing to apply


def test_ledger_reads_wait_for_the_writer(tmp_path):
    srv = ProcessServer(tmp_path / "ledger", slot_ms=50, reset=True)
    srv.wait_ready()
    client = Client(srv.url, commitment=Confirmed, timeout=10)
    payer = funded(client)
    to = Keypair().pubkey()
    writer = _writer_pid(srv.proc.pid)
    os.kill(writer, signal.SIGSTOP)
    try:
        (sig,) = _transfers(client, payer, to, [RENT_EXEMPT_0])
        answer: dict = {}
        reader = threading.Thread(target=lambda: answer.update(rpc(srv.url, "getSignaturesForAddress", [str(to), {"commitment": "confirmed"}], timeout=30)))
        reader.start()
        reader.join(0.5)
        assert reader.is_alive()  # SQLite does not hold it yet: the read waits
        os.kill(writer, signal.SIGCONT)
        reader.join(30)
        assert [row["signature"] for row in answer["result"]] == [str(sig)]
    finally:
        os.kill(writer, signal.SIGCONT)
        assert srv.terminate() == 0


# -- the journal's format --------------------------------------------------------------------
def test_segments_rotate_and_committed_ones_go(tmp_path, monkeypatch):
    monkeypatch.setattr(journal, "SEGMENT_BYTES", 100)
    j = Journal(tmp_path, 1)
    payloads = [bytes([i]) * 60 for i in range(6)]
    assert [j.append(p) for p in payloads] == [1, 2, 3, 4, 5, 6]
    folder = tmp_path / JOURNAL_DIR
    assert len(list(folder.glob("*.log"))) == 3  # two records a segment
    assert list(records(tmp_path, 0)) == list(zip(range(1, 7), payloads))
    assert [seq for seq, _ in records(tmp_path, 4)] == [5, 6]
    j.committed(3)  # the first segment (1-2) is wholly committed, the second (3-4) is not
    assert sorted(p.name for p in folder.glob("*.log")) == [f"{3:020d}.log", f"{5:020d}.log"]
    j.committed(6)
    assert sorted(p.name for p in folder.glob("*.log")) == [f"{5:020d}.log"]  # the open one stays
    j.close()
    journal.clear(tmp_path)
    assert not list(folder.glob("*.log"))


def test_a_torn_or_corrupt_tail_ends_the_replay(tmp_path):
    j = Journal(tmp_path, 10)
    for payload in (b"first", b"second", b"third"):
        j.append(payload)
    j.close()
    (segment,) = (tmp_path / JOURNAL_DIR).glob("*.log")
    data = segment.read_bytes()
    segment.write_bytes(data[:-2])  # killed mid-append of the third
    assert [p for _, p in records(tmp_path, 0)] == [b"first", b"second"]
    segment.write_bytes(data.replace(b"second", b"secOnd"))  # its checksum no longer matches
    assert [p for _, p in records(tmp_path, 0)] == [b"first"]


def test_a_missing_segment_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(journal, "SEGMENT_BYTES", 10)
    j = Journal(tmp_path, 1)
    for i in range(3):
        j.append(b"x" * 20)
    j.close()
    (tmp_path / JOURNAL_DIR / f"{2:020d}.log").unlink()
    with pytest.raises(ValueError, match="missing"):
        list(records(tmp_path, 0))


def test_a_refused_journal_write_answers_no_one_and_stops_the_server(tmp_path):
    """A journal append that fails (a full disk) commits nothing: the transfer is answered
    with an error, never as landed, and the server reports itself failed (it stops)."""
    from .localnet_helpers import ThreadServer

    server = ThreadServer(tmp_path / "ledger", slot_ms=50, finality_lag=None)
    try:
        client = Client(server.url, commitment=Confirmed, timeout=10)
        payer = funded(client)
        to = Keypair().pubkey()

        def full_disk(payload: bytes) -> int:
            raise OSError(28, "No space left on device")

        server.net.store.journal.append = full_disk
        reply = rpc(server.url, "requestAirdrop", [str(to), RENT_EXEMPT_0])
        assert reply["error"]["code"] == -32005 and "journal refused" in reply["error"]["message"], reply
        assert server.net.failed.is_set()
        assert client.get_balance(payer.pubkey()).value > 0  # reads still answer meanwhile
        assert rpc(server.url, "getHealth")["error"]["code"] == -32005
    finally:
        server.net.store.journal.append = lambda payload: 0  # let the stop's own writes pass
        server.stop()
