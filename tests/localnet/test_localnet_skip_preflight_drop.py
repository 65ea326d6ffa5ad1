"""sendTransaction with skipPreflight answers, as agave does, the signature of a transaction
that cannot land (here: its fee payer has no account), and drops it: it never lands, its
status stays null, nothing is charged, and a client confirming it with a lastValidBlockHeight
gets its expiry (solana-py's TransactionExpiredBlockheightExceededError). With preflight it
is refused (-32002, AccountNotFound), as agave's simulation refuses it. Over real HTTP."""

from __future__ import annotations

import base64
import time

import pytest
from solana.rpc.api import Client
from solana.rpc.commitment import Processed
from solana.rpc.core import TransactionExpiredBlockheightExceededError
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from .localnet_helpers import RENT_EXEMPT_0, rpc


def unfunded_transfer(url: str) -> tuple[Transaction, Keypair]:
    payer = Keypair()  # never funded
    blockhash = Hash.from_string(rpc(url, "getLatestBlockhash", [{"commitment": "processed"}])["result"]["value"]["blockhash"])
    message = Message.new_with_blockhash([transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=RENT_EXEMPT_0))],
                                         payer.pubkey(), blockhash)
    return Transaction([payer], message, blockhash), payer


def send(url: str, tx: Transaction, **config) -> dict:
    return rpc(url, "sendTransaction", [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64", **config}])


def test_an_unfunded_payer_is_refused_by_preflight(server):
    tx, _ = unfunded_transfer(server.url)
    reply = send(server.url, tx, preflightCommitment="processed")
    assert reply["error"]["code"] == -32002 and reply["error"]["data"]["err"] == "AccountNotFound", reply


def test_an_unfunded_payer_skipping_preflight_is_answered_and_never_lands(server):
    tx, payer = unfunded_transfer(server.url)
    signature = str(tx.signatures[0])
    reply = send(server.url, tx, skipPreflight=True)
    assert reply.get("result") == signature, reply
    assert send(server.url, tx, skipPreflight=True).get("result") == signature  # again: the same answer
    slot = rpc(server.url, "getSlot", [{"commitment": "processed"}])["result"]
    deadline = time.monotonic() + 10
    while rpc(server.url, "getSlot", [{"commitment": "confirmed"}])["result"] < slot + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    statuses = rpc(server.url, "getSignatureStatuses", [[signature], {"searchTransactionHistory": True}])["result"]["value"]
    assert statuses == [None]
    for commitment in ("confirmed", "finalized"):
        assert rpc(server.url, "getTransaction", [signature, {"commitment": commitment}])["result"] is None
    assert rpc(server.url, "getBalance", [str(payer.pubkey()), {"commitment": "processed"}])["result"]["value"] == 0
    assert rpc(server.url, "getSignaturesForAddress", [str(payer.pubkey()), {"commitment": "confirmed"}])["result"] == []


def test_confirming_a_dropped_transaction_reports_its_expiry(server):
    client = Client(server.url, commitment=Processed, timeout=20)
    tx, _ = unfunded_transfer(server.url)
    signature = Signature.from_string(send(server.url, tx, skipPreflight=True)["result"])
    # a lastValidBlockHeight a few blocks ahead: the status stays null until the height
    # passes it (one at or below the current height trips solana-py's sync client itself)
    height = client.get_block_height(Processed).value
    with pytest.raises(TransactionExpiredBlockheightExceededError):
        client.confirm_transaction(signature, Processed, sleep_seconds=0.05, last_valid_block_height=height + 3)
