"""Durable nonces through the real server (solana-py Client over HTTP): create a nonce
account, pay with its nonce in place of a recent blockhash, the nonce advancing (also when
the transaction fails), the old nonce refused, getFeeForMessage, and a restart."""

from __future__ import annotations

import base64

import pytest
from solana.rpc.api import Client
from solana.rpc.commitment import Confirmed
from solana.rpc.types import TxOpts
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import AdvanceNonceAccountParams, TransferParams, advance_nonce_account, create_nonce_account, transfer
from solders.transaction import Transaction

from crowdcompute.localnet.runtime.nonce import NONCE_ACCOUNT_SIZE, SYSTEM_PROGRAM_ID

from .localnet_helpers import RENT_EXEMPT_0, ThreadServer, funded, rpc, send

SLOT_MS = 25
FEE = 5000


class Nonced:
    """A payer and a nonce account whose authority is a keypair of its own (so a nonce
    transaction has two signers: payer and authority)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.payer = funded(client, 10_000_000_000)
        self.nonce, self.authority = Keypair(), Keypair()
        self.to = Keypair().pubkey()
        rent = client.get_minimum_balance_for_rent_exemption(NONCE_ACCOUNT_SIZE).value
        self.rent = rent
        ixs = list(create_nonce_account(self.payer.pubkey(), self.nonce.pubkey(), self.authority.pubkey(), rent))
        sig = send(client, ixs, [self.payer, self.nonce])
        status = client.get_signature_statuses([sig]).value[0]
        assert status is not None and status.err is None

    def data(self) -> bytes:
        info = self.client.get_account_info(self.nonce.pubkey(), Confirmed).value
        assert info is not None and info.owner == SYSTEM_PROGRAM_ID
        return bytes(info.data)

    def stored(self) -> Hash:
        return Hash(self.data()[40:72])

    def advance(self) -> Instruction:
        return advance_nonce_account(AdvanceNonceAccountParams(nonce_pubkey=self.nonce.pubkey(), authorized_pubkey=self.authority.pubkey()))

    def pay(self, lamports: int) -> Instruction:
        return transfer(TransferParams(from_pubkey=self.payer.pubkey(), to_pubkey=self.to, lamports=lamports))

    def message(self, lamports: int, nonce: Hash | None = None) -> Message:
        return Message.new_with_blockhash([self.advance(), self.pay(lamports)], self.payer.pubkey(), nonce or self.stored())

    def tx(self, lamports: int, nonce: Hash | None = None) -> Transaction:
        message = self.message(lamports, nonce)
        return Transaction([self.payer, self.authority], message, message.recent_blockhash)

    def balance(self, who=None) -> int:
        return self.client.get_balance(who or self.payer.pubkey(), Confirmed).value


def raw_send(url: str, tx: Transaction, **config) -> dict:
    return rpc(url, "sendTransaction", [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64", **config}], timeout=20)


def assert_blockhash_not_found(reply: dict) -> None:
    assert "result" not in reply, reply
    assert reply["error"]["code"] == -32002, reply
    assert reply["error"]["data"]["err"] == "BlockhashNotFound", reply
    assert "Blockhash not found" in reply["error"]["message"]


def assert_dropped(url: str, tx: Transaction) -> None:
    """skipPreflight: a transaction that cannot land is answered with its signature, as
    agave answers it, and dropped: no status."""
    signature = str(tx.signatures[0])
    reply = raw_send(url, tx, skipPreflight=True)
    assert reply.get("result") == signature, reply
    assert rpc(url, "getSignatureStatuses", [[signature], {"searchTransactionHistory": True}])["result"]["value"] == [None]


def fee_for(url: str, message: Message):
    return rpc(url, "getFeeForMessage", [base64.b64encode(bytes(message)).decode(), {"commitment": "confirmed"}])["result"]["value"]


@pytest.fixture
def server(tmp_path):
    srv = ThreadServer(tmp_path / "ledger", slot_ms=SLOT_MS, finality_lag=None)
    yield srv
    srv.stop()


def test_nonce_account_layout(server):
    client = Client(server.url, commitment=Confirmed, timeout=20)
    n = Nonced(client)
    data = n.data()
    assert len(data) == NONCE_ACCOUNT_SIZE == 80
    assert data[0:4] == (1).to_bytes(4, "little")  # Versions::Current
    assert data[4:8] == (1).to_bytes(4, "little")  # Initialized
    assert data[8:40] == bytes(n.authority.pubkey())
    assert int.from_bytes(data[72:80], "little") == FEE  # lamports_per_signature
    assert n.balance(n.nonce.pubkey()) == n.rent
    # the nonce is not a recent blockhash
    assert rpc(server.url, "isBlockhashValid", [str(n.stored()), {"commitment": "processed"}])["result"]["value"] is False


def test_durable_nonce_transaction_lands_and_advances(server):
    url = server.url
    client = Client(url, commitment=Confirmed, timeout=20)
    n = Nonced(client)
    first = n.stored()
    amount = RENT_EXEMPT_0 + 1000  # n.to is new: left rent-exempt

    # getFeeForMessage of a nonce message: 5000 per signer (payer + authority), not null.
    assert fee_for(url, n.message(amount, first)) == 2 * FEE
    assert client.get_fee_for_message(n.message(amount, first)).value == 2 * FEE

    payer_before = n.balance()
    tx = n.tx(amount, first)
    sig = client.send_raw_transaction(bytes(tx), TxOpts(preflight_commitment=Confirmed)).value
    assert sig == tx.signatures[0]
    raw = rpc(url, "getSignatureStatuses", [[str(sig)]])["result"]["value"][0]
    assert raw is not None and raw["err"] is None and raw["confirmationStatus"] in ("confirmed", "finalized")
    assert n.balance(n.to) == amount
    assert n.balance() == payer_before - amount - 2 * FEE
    assert n.balance(n.nonce.pubkey()) == n.rent
    second = n.stored()
    assert second != first
    assert n.data()[8:40] == bytes(n.authority.pubkey())  # still initialized, same authority
    got = rpc(url, "getTransaction", [str(sig), {"commitment": "confirmed"}])["result"]
    assert got["meta"]["err"] is None and got["meta"]["fee"] == 2 * FEE
    assert got["transaction"]["message"]["recentBlockhash"] == str(first)

    # Any other transaction on the old nonce: BlockhashNotFound with preflight, dropped without.
    stale = n.tx(2000, first)
    assert_blockhash_not_found(raw_send(url, stale))
    assert_dropped(url, stale)
    assert fee_for(url, n.message(2000, first)) is None  # no longer usable
    simulated = rpc(url, "simulateTransaction", [base64.b64encode(bytes(stale)).decode(), {"encoding": "base64", "sigVerify": True}])["result"]
    assert simulated["value"]["err"] == "BlockhashNotFound"
    assert rpc(url, "getSignatureStatuses", [[str(stale.signatures[0])], {"searchTransactionHistory": True}])["result"]["value"] == [None]
    # the same transaction again: already processed, not run twice
    again = raw_send(url, tx)
    assert "result" not in again and again["error"]["data"]["err"] == "AlreadyProcessed", again
    assert raw_send(url, tx, skipPreflight=True) == {"jsonrpc": "2.0", "result": str(sig), "id": 1}
    assert n.balance(n.to) == amount

    # The new nonce works, once.
    assert fee_for(url, n.message(3000, second)) == 2 * FEE
    assert raw_send(url, n.tx(3000, second))["result"]
    assert n.balance(n.to) == amount + 3000
    assert n.stored() not in (first, second)


def test_failed_nonce_transaction_still_advances(server):
    url = server.url
    client = Client(url, commitment=Confirmed, timeout=20)
    n = Nonced(client)
    nonce = n.stored()
    payer_before = n.balance()

    # Preflight refuses it (the transfer cannot succeed), and nothing changes.
    too_much = payer_before * 2
    refused = raw_send(url, n.tx(too_much, nonce))
    assert refused["error"]["code"] == -32002 and refused["error"]["data"]["err"] == {"InstructionError": [1, {"Custom": 1}]}, refused
    assert n.stored() == nonce and n.balance() == payer_before

    # Without preflight it lands with its error, pays its fee, and advances the nonce.
    failing = n.tx(too_much + 1, nonce)
    reply = raw_send(url, failing, skipPreflight=True)
    assert reply.get("result") == str(failing.signatures[0]), reply
    status = rpc(url, "getSignatureStatuses", [[reply["result"]]])["result"]["value"][0]
    assert status is not None and status["err"] == {"InstructionError": [1, {"Custom": 1}]}
    assert status["confirmationStatus"] in ("confirmed", "finalized")
    assert n.balance() == payer_before - 2 * FEE
    assert n.balance(n.to) == 0
    advanced = n.stored()
    assert advanced != nonce
    assert n.data()[:40] == (1).to_bytes(4, "little") + (1).to_bytes(4, "little") + bytes(n.authority.pubkey())
    assert n.balance(n.nonce.pubkey()) == n.rent
    got = rpc(url, "getTransaction", [reply["result"], {"commitment": "confirmed"}])["result"]
    assert got["meta"]["err"] == {"InstructionError": [1, {"Custom": 1}]} and got["meta"]["fee"] == 2 * FEE
    keys = got["transaction"]["message"]["accountKeys"]
    payer_index, nonce_index = keys.index(str(n.payer.pubkey())), keys.index(str(n.nonce.pubkey()))
    assert got["meta"]["preBalances"][payer_index] - got["meta"]["postBalances"][payer_index] == 2 * FEE
    assert got["meta"]["postBalances"][nonce_index] == n.rent

    # A retry on the old nonce (a different transaction): BlockhashNotFound, or dropped.
    assert_blockhash_not_found(raw_send(url, n.tx(1000, nonce)))
    assert_dropped(url, n.tx(1000, nonce))
    assert n.balance() == payer_before - 2 * FEE

    # The advanced nonce is current.
    assert raw_send(url, n.tx(RENT_EXEMPT_0 + 1000, advanced))["result"]  # n.to is new: left rent-exempt
    assert n.balance(n.to) == RENT_EXEMPT_0 + 1000


def test_nonce_survives_restart(tmp_path):
    ledger = tmp_path / "ledger"
    srv = ThreadServer(ledger, slot_ms=SLOT_MS, finality_lag=None)
    try:
        client = Client(srv.url, commitment=Confirmed, timeout=20)
        n = Nonced(client)
        used = n.stored()
        assert raw_send(srv.url, n.tx(RENT_EXEMPT_0 + 500, used))["result"]  # n.to is new: left rent-exempt
        # a failed one too, so the advance made after a failure is the one persisted
        middle = n.stored()
        assert raw_send(srv.url, n.tx(10**15, middle), skipPreflight=True)["result"]
        kept = n.stored()
        assert len({used, middle, kept}) == 3
        payer_balance, to_balance = n.balance(), n.balance(n.to)
    finally:
        srv.stop()

    again = ThreadServer(ledger, slot_ms=SLOT_MS, finality_lag=None)
    try:
        client = Client(again.url, commitment=Confirmed, timeout=20)
        n.client = client
        assert n.stored() == kept
        assert n.data()[8:40] == bytes(n.authority.pubkey())
        assert (n.balance(), n.balance(n.to)) == (payer_balance, to_balance)
        assert fee_for(again.url, n.message(1, kept)) == 2 * FEE
        for old in (used, middle):
            assert fee_for(again.url, n.message(1, old)) is None
            assert_blockhash_not_found(raw_send(again.url, n.tx(1, old)))
            assert_dropped(again.url, n.tx(1, old))
        assert raw_send(again.url, n.tx(700, kept))["result"]
        assert n.balance(n.to) == to_balance + 700
        assert n.stored() not in (used, middle, kept)
    finally:
        again.stop()
