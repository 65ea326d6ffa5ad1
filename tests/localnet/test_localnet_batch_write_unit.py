"""A batch's ledger write (intake.py: what landed in one batch is one Write) as the writer
applies it: every transaction and address row, each account once in its last state; and
the pipe framing the writer and verifier read (frames.py), whole frames only."""

from __future__ import annotations

import json
import pickle

from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction, VersionedTransaction

from crowdcompute.localnet.runtime.bank import Bank
from crowdcompute.localnet.ledger.frames import frame, take_frames
from crowdcompute.localnet.server import default_programs
from crowdcompute.localnet.ledger.store import Write
from crowdcompute.localnet.ledger.writer import SCHEMA, apply_frames, connect

from .localnet_helpers import RENT_EXEMPT_0


def test_one_write_for_a_batch_keeps_every_transaction_and_each_account_once(tmp_path):
    faucet, recipient = Keypair(), Keypair().pubkey()
    bank = Bank(default_programs(), genesis_hash=bytes(32), faucet=faucet)
    bank.genesis_accounts()
    write = Write()
    for lamports in (RENT_EXEMPT_0, 1, 2):  # the same payer and recipient three times
        message = Message.new_with_blockhash([transfer(TransferParams(from_pubkey=faucet.pubkey(), to_pubkey=recipient, lamports=lamports))], faucet.pubkey(), bank.blockhash())
        result = bank.process(VersionedTransaction.from_bytes(bytes(Transaction([faucet], message, bank.blockhash()))))
        assert result.err is None and result.record is not None
        write.accounts += result.accounts
        write.txs.append((result.record, [bytes(k) for k in dict.fromkeys(result.keys)]))
    accounts, txs, addresses, _, _ = write.frame()
    assert [key for key, _ in accounts] == [bytes(faucet.pubkey()), bytes(recipient)]  # once each
    assert dict(accounts)[bytes(recipient)][0] == RENT_EXEMPT_0 + 3  # its last state
    conn = connect(tmp_path / "ledger.sqlite3")
    conn.executescript(SCHEMA)
    conn.execute("BEGIN")
    apply_frames(conn, [pickle.loads(pickle.dumps(write.frame()))])
    conn.execute("COMMIT")
    assert [row[0] for row in conn.execute("SELECT signature FROM transactions ORDER BY id")] == [record.signature for record, _ in write.txs]
    assert conn.execute("SELECT count(*) FROM address_signatures").fetchone()[0] == len(addresses) == 9  # payer, recipient, System
    assert conn.execute("SELECT lamports FROM accounts WHERE pubkey = ?", (bytes(recipient),)).fetchone()[0] == RENT_EXEMPT_0 + 3
    assert len(txs) == 3


def test_frames_are_taken_whole():
    buffer = bytearray(frame(b"one") + frame(b"") + frame(b"three")[:5])
    assert take_frames(buffer) == [b"one", b""]
    assert take_frames(buffer) == []  # the third is not all there yet
    buffer += frame(b"three")[5:]
    assert take_frames(buffer) == [b"three"] and buffer == bytearray()


def test_the_ledger_keeps_the_meta_as_sent_and_reads_both_forms(tmp_path):
    """The writer stores the bank's pickled meta untouched (no JSON in its process) and the
    err apart; a row of an earlier ledger (JSON text meta) still reads the same."""
    from crowdcompute.localnet.rpc.history import _records_by_signature

    faucet = Keypair()
    bank = Bank(default_programs(), genesis_hash=bytes(32), faucet=faucet)
    bank.genesis_accounts()
    message = Message.new_with_blockhash([transfer(TransferParams(from_pubkey=faucet.pubkey(), to_pubkey=Keypair().pubkey(), lamports=1))],
                                         faucet.pubkey(), bank.blockhash())
    result = bank.process(VersionedTransaction.from_bytes(bytes(Transaction([faucet], message, bank.blockhash()))))
    assert result.err is not None and result.record is not None  # lands and fails: rent of a new 1-lamport account
    write = Write(txs=[(result.record, [bytes(k) for k in result.keys])])
    conn = connect(tmp_path / "ledger.sqlite3")
    conn.executescript(SCHEMA)
    conn.execute("BEGIN")
    apply_frames(conn, [write.frame()])
    conn.execute("COMMIT")
    meta, err = conn.execute("SELECT meta, err FROM transactions").fetchone()
    assert isinstance(meta, bytes) and pickle.loads(meta) == result.record.meta
    assert json.loads(err) == result.record.meta["err"] != None  # noqa: E711
    # an earlier ledger's row: the same meta as JSON text
    conn.execute("UPDATE transactions SET meta = ?", (json.dumps(result.record.meta),))
    (old,) = _records_by_signature(conn, [result.record.signature]).values()
    assert old.meta == result.record.meta and old.err == result.record.meta["err"]
