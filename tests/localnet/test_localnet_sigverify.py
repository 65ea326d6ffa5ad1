"""Signature verification, done once per transaction (sigverify.py; the bank's LiteSVM runs
with its own check off), on the verifier process for what clients send (verifier.py,
intake.py): no way in lets a bad signature land or charge anything (with preflight it is
refused, -32003; with skipPreflight it is answered with its signature and dropped, as agave
drops it: its status stays null), and a good one still lands; the process gives sigverify's verdicts, and a server
whose verifier process died checks on its event loop. The process is what runs without the
native check (or with CROWDCOMPUTE_LOCALNET_VERIFIER=process, as these tests of it ask);
test_localnet_native_sigverify.py tests the native one."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import time

from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction, VersionedTransaction

from crowdcompute.localnet.runtime.sigverify import verify

from crowdcompute.localnet.runtime.verifier import MODE_ENV, Verifier

from .localnet_helpers import RENT_EXEMPT_0, ThreadServer, funded, rpc


def _tampered(tx: Transaction | VersionedTransaction, index: int = 0) -> bytes:
    """`tx` with signature `index` replaced by another key's signature of the same message."""
    raw = bytearray(bytes(tx))
    other = Keypair().sign_message(b"not this message")
    raw[1 + 64 * index:1 + 64 * (index + 1)] = bytes(other)
    return bytes(raw)


def _transfer(payer: Keypair, blockhash: Hash, lamports: int, *, cosigner: Keypair | None = None) -> Transaction:
    ixs = [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=RENT_EXEMPT_0 + lamports))]
    signers = [payer]
    if cosigner is not None:  # a second required signer (it moves 0 lamports of its own)
        ixs.append(transfer(TransferParams(from_pubkey=cosigner.pubkey(), to_pubkey=payer.pubkey(), lamports=0)))
        signers.append(cosigner)
    return Transaction(signers, Message.new_with_blockhash(ixs, payer.pubkey(), blockhash), blockhash)


def _send(url: str, raw: bytes, **config) -> dict:
    return rpc(url, "sendTransaction", [base64.b64encode(raw).decode(), {"encoding": "base64", **config}])


def test_verify_unit_legacy_v0_and_every_signer():
    payer, cosigner, blockhash = Keypair(), Keypair(), Hash.new_unique()
    legacy = _transfer(payer, blockhash, 1, cosigner=cosigner)
    assert verify(VersionedTransaction.from_bytes(bytes(legacy)))
    assert not verify(VersionedTransaction.from_bytes(_tampered(legacy, 0)))
    assert not verify(VersionedTransaction.from_bytes(_tampered(legacy, 1)))  # the second signer counts too
    v0 = VersionedTransaction(MessageV0.try_compile(payer.pubkey(), [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=5))], [], blockhash), [payer])
    assert verify(v0)  # a v0 message is signed with its version prefix
    assert not verify(VersionedTransaction.from_bytes(_tampered(v0)))
    unsigned = VersionedTransaction.populate(v0.message, [Signature.default()])
    assert not verify(unsigned)


def _assert_dropped(url: str, answer: dict, raw: bytes) -> None:
    """skipPreflight's answer to a transaction that cannot land: its signature (as agave
    answers it), and no status, then or later."""
    signature = str(VersionedTransaction.from_bytes(raw).signatures[0])
    assert answer.get("result") == signature, answer
    statuses = rpc(url, "getSignatureStatuses", [[signature], {"searchTransactionHistory": True}])["result"]["value"]
    assert statuses == [None]


def test_bad_signature_never_lands_on_any_path_and_charges_nothing(server, client):
    payer = funded(client)
    blockhash = Hash.from_string(rpc(server.url, "getLatestBlockhash")["result"]["value"]["blockhash"])
    before = rpc(server.url, "getBalance", [str(payer.pubkey()), {"commitment": "processed"}])["result"]["value"]
    bad = _tampered(_transfer(payer, blockhash, 10))
    answer = _send(server.url, bad, skipPreflight=False)
    assert answer["error"]["code"] == -32003, answer
    assert "signature verification" in answer["error"]["message"]
    _assert_dropped(server.url, _send(server.url, bad, skipPreflight=True), bad)
    cosigned_bad = _tampered(_transfer(payer, blockhash, 20, cosigner=Keypair()), 1)
    _assert_dropped(server.url, _send(server.url, cosigned_bad, skipPreflight=True), cosigned_bad)
    assert _send(server.url, cosigned_bad)["error"]["code"] == -32003
    simulated = rpc(server.url, "simulateTransaction", [base64.b64encode(_tampered(_transfer(payer, blockhash, 30))).decode(), {"encoding": "base64", "sigVerify": True}])
    assert simulated["error"]["code"] == -32003
    after = rpc(server.url, "getBalance", [str(payer.pubkey()), {"commitment": "processed"}])["result"]["value"]
    assert after == before  # no fee for a refused transaction
    good = _transfer(payer, blockhash, 40)
    answer = _send(server.url, bytes(good), skipPreflight=True)
    assert answer["result"] == str(good.signatures[0])
    status = rpc(server.url, "getSignatureStatuses", [[answer["result"]]])["result"]["value"][0]
    assert status["err"] is None and status["confirmationStatus"] in ("confirmed", "finalized")


def test_bank_process_verifies_unless_told(server):
    """Bank.process is the one place that executes: without `verified=True` it checks."""
    from crowdcompute.localnet.runtime.bank import Bank
    from crowdcompute.localnet.server import default_programs

    faucet = Keypair()
    bank = Bank(default_programs(), genesis_hash=bytes(32), faucet=faucet)
    bank.genesis_accounts()
    tx = VersionedTransaction.from_bytes(_tampered(_transfer(faucet, bank.blockhash(), 1)))
    result = bank.process(tx)
    assert result.record is None and "SignatureFailure" in str(result.err)
    good = VersionedTransaction.from_bytes(bytes(_transfer(faucet, bank.blockhash(), 2)))
    assert bank.process(good).record is not None


def _batch_of_every_kind() -> tuple[list[VersionedTransaction], list[bool]]:
    payer, cosigner, blockhash = Keypair(), Keypair(), Hash.new_unique()
    legacy = _transfer(payer, blockhash, 1, cosigner=cosigner)
    v0 = VersionedTransaction(MessageV0.try_compile(payer.pubkey(), [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=5))], [], blockhash), [payer])
    txs = [VersionedTransaction.from_bytes(raw) for raw in (bytes(legacy), _tampered(legacy, 0), _tampered(legacy, 1), bytes(v0), _tampered(v0))]
    txs.append(VersionedTransaction.populate(v0.message, [Signature.default()]))
    return txs, [True, False, False, True, False, False]


def test_verifier_process_gives_sigverifys_verdicts_batch_by_batch(monkeypatch):
    monkeypatch.setenv(MODE_ENV, "process")
    txs, expected = _batch_of_every_kind()
    assert [verify(tx) for tx in txs] == expected

    async def run() -> list[list[bool]]:
        verifier = Verifier()
        verifier.start()
        answers: list[list[bool]] = []
        done = asyncio.Event()

        def got(verdicts: list[bool]) -> None:
            answers.append(verdicts)
            if len(answers) == 3:
                done.set()

        try:
            verifier.check(txs, got)
            verifier.check(txs[:2], got)
            verifier.check(list(reversed(txs)), got)
            await asyncio.wait_for(done.wait(), 30)
            assert verifier.process is not None and verifier.process.poll() is None  # answered by the process
        finally:
            await verifier.close()
        return answers

    assert asyncio.run(run()) == [expected, expected[:2], list(reversed(expected))]


def test_a_dead_verifier_leaves_the_checks_to_the_event_loop(tmp_path, monkeypatch):
    monkeypatch.setenv(MODE_ENV, "process")
    server = ThreadServer(tmp_path / "ledger", slot_ms=50, finality_lag=None)
    try:
        verifier = server.net.verifier.process
        os.kill(verifier.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while server.net.verifier.process is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.net.verifier.process is None
        payer = Keypair()
        signature = rpc(server.url, "requestAirdrop", [str(payer.pubkey()), 10**9])["result"]
        blockhash = Hash.from_string(rpc(server.url, "getLatestBlockhash")["result"]["value"]["blockhash"])
        bad = _tampered(_transfer(payer, blockhash, 10))
        assert _send(server.url, bad)["error"]["code"] == -32003
        _assert_dropped(server.url, _send(server.url, bad, skipPreflight=True), bad)
        good = _transfer(payer, blockhash, 20)
        assert _send(server.url, bytes(good), skipPreflight=True)["result"] == str(good.signatures[0])
        statuses = rpc(server.url, "getSignatureStatuses", [[signature, str(good.signatures[0])]])["result"]["value"]
        assert all(s["err"] is None and s["confirmationStatus"] in ("confirmed", "finalized") for s in statuses), statuses
        assert not server.net.failed.is_set()  # the writer, not the verifier, is what durability needs
    finally:
        server.stop()
